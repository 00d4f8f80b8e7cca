"""Issue 21 in the real window (offscreen, 1366 x 768): what the window says is what happens."""

from __future__ import annotations

from dataclasses import replace

from moodsic_desktop.core.mood_words import WAITING_WORDS
from moodsic_desktop.ui.settings import UserSettings
from tests.ui.conftest import WAIT_MS


def shown(window) -> str:
    return window.mood_words.text()


def test_after_a_bad_file_stops_the_video_nothing_stale_is_shown_and_the_dwell_counts_on(
    open_window, mood_video, tmp_path, qtbot
):
    """Issue 21 (3): the headline no longer says "Sure · reading 1 person" from the last video's frames, and
    "Stays at least … s more" counts down while the song plays on."""
    window = open_window(str(mood_video), UserSettings(dwell_s=120.0, crossfade_s=0.0))
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.now_playing.dwell.text().startswith("Stays at least"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window._last_step is not None and window._last_step.decision is not None)
    late = replace(window.live.snapshot, step=window._last_step, decisions=())  # one of the last frames' steps
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video")
    window.start_source(str(bad))
    qtbot.waitUntil(lambda: window.banners.text("source") is not None and not window.running, timeout=WAIT_MS)
    window._show_snapshot(late)  # the pipeline worker published it just before it heard of the stop
    assert window.mood_words.headline.text() == WAITING_WORDS
    assert "reading" not in shown(window) and "Sure" not in shown(window)
    before = window.now_playing.dwell.text()
    qtbot.wait(2300)
    window._update_now_playing()
    after = window.now_playing.dwell.text()
    assert before.startswith("Stays at least") and after.startswith("Stays at least")
    assert int(after.split()[3]) < int(before.split()[3])  # it counts down with the song


def test_no_camera_is_said_and_the_open_dialog_offers_photos_shown_as_photos(open_window, tmp_path, qtbot, monkeypatch):
    """Issue 21 (8): with no camera the list says so; the open dialog offers photos, and one shows as
    "Photo: x.jpg" (not "Video: …")."""
    import cv2
    import numpy as np
    from PySide6.QtMultimedia import QMediaDevices
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QMediaDevices, "videoInputs", staticmethod(lambda: []))
    photo = tmp_path / "multi_face.jpg"
    cv2.imwrite(str(photo), np.full((120, 160, 3), 90, np.uint8))
    asked = []

    def choose(parent, caption, folder, filters):
        asked.append(filters)
        return str(photo), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(choose))
    window = open_window()
    window.resize(1366, 768)
    assert "No camera found" in window.source_bar.source_combo.itemText(0)
    window.source_bar.open_button.click()
    assert "*.jpg" in asked[0] and "*.png" in asked[0] and "*.mp4" in asked[0]
    assert window.source_bar.source_combo.currentText() == "Photo: multi_face.jpg"
    qtbot.waitUntil(lambda: window.running and window.report.metrics.steps > 0, timeout=WAIT_MS)
