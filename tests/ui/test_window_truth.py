"""Issue 21 in the real window (offscreen, 1366 x 768): what the window says is what happens."""

from __future__ import annotations

import sys
from dataclasses import replace

from moodsic_desktop.core.mood_words import WAITING_WORDS
from moodsic_desktop.ui import camera_list
from moodsic_desktop.ui.settings import UserSettings
from tests.ui.conftest import WAIT_MS


def shown(window) -> str:
    return window.mood_words.text()


def test_after_a_bad_file_stops_the_video_nothing_stale_is_shown_and_the_dwell_counts_on(
    open_window, mood_video, tmp_path, qtbot
):
    """Issue 21 (3): the headline no longer says "Sure · reading 1 person" from the last video's frames, and
    "Stays at least … s more" counts down while the song plays on."""
    window = open_window(str(mood_video), UserSettings(min_dwell_s=120.0, crossfade_s=0.0))
    window.resize(1366, 768)
    published = []  # what the pipeline worker publishes (appended on its thread)
    window.pipeline_worker.snapshot_ready.connect(published.append)
    qtbot.waitUntil(lambda: window.now_playing.dwell.text().startswith("Stays at least"), timeout=WAIT_MS)
    drawn = window.mood_words
    qtbot.waitUntil(lambda: drawn.last_step is not None and drawn.last_step.decision is not None)
    late = replace(published[-1], step=drawn.last_step, decisions=())  # one of the last frames' steps
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video")
    window.start_source(str(bad))
    qtbot.waitUntil(lambda: window.banners.text("source") is not None and not window.running, timeout=WAIT_MS)
    window.pipeline_worker.snapshot_ready.emit(late)  # published just before the worker heard of the stop
    assert window.mood_words.headline.text() == WAITING_WORDS
    assert "reading" not in shown(window) and "Sure" not in shown(window)
    before = window.now_playing.dwell.text()
    qtbot.wait(2300)
    window.now_playing.refresh()
    after = window.now_playing.dwell.text()
    assert before.startswith("Stays at least") and after.startswith("Stays at least")
    assert int(after.split()[3]) < int(before.split()[3])  # it counts down with the song


def test_no_camera_is_said_and_the_open_dialog_offers_photos_shown_as_photos(open_window, tmp_path, qtbot, monkeypatch):
    """Issue 21 (8): with no camera the list says so; the open dialog offers photos, and one shows as
    "Photo: x.jpg" (not "Video: …")."""
    import cv2
    import numpy as np
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(camera_list, "system_cameras", lambda platform=sys.platform: [])  # no camera
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


def test_no_jargon_in_the_window_the_detail_is_in_diagnostics(open_window, qtbot, tmp_path, monkeypatch):
    """Issue 21 (6): plain words in the window; the technical detail in View → Diagnostics."""
    from moodsic_desktop.core.matcher import Decision
    from moodsic_desktop.core.song import Song, SongMood

    monkeypatch.setenv("MOODSIC_HOME", str(tmp_path / "home"))  # no models folder: the readers in the box read
    window = open_window()
    window.resize(1366, 768)
    status = (
        "No sound: no audio output works (default device: Error querying device -1). Playing silently; "
        "Moodsic keeps trying to open it (first after 5 s)."
    )
    window._audio_status(status)
    shown_text = window.banners.text("audio")
    assert "querying" not in shown_text and "-1" not in shown_text and shown_text.startswith("No sound")
    window.banners.show_banner("audio-file", "Skipped “Rain”: [Errno -2] No such file or directory", "warning")
    assert window.banners.text("audio-file") == "Skipped “Rain”: the file is not there"
    window.menus.diagnostics_action.setChecked(True)
    details = window.diagnostics.details_label.text()
    assert "Error querying device -1" in details and "[Errno -2]" in details
    experts = window.diagnostics.experts_label.text()
    assert "fer2013" in experts and "built-in experts are used" not in experts
    song = Song("1", SongMood(0.5, 0.5), title="Open Window")
    reason = "mood moved: 0.23 closer than the last song (hysteresis 0.15)"
    moved = Decision(song, True, reason, "Joyful & Upbeat", cause="mood moved")
    window.now_playing.show_song(song, moved)
    assert "hysteresis" not in window.now_playing.reason.text() and "0.15" not in window.now_playing.reason.text()
    assert "hysteresis 0.15" in window.now_playing.reason.toolTip()


def test_the_song_panel_reads_whole_at_1366_by_768(open_window, qtbot):
    """Issue 21 (5): the station, the dwell and the why are not cut off, Diagnostics on or off."""
    from moodsic_desktop.core.matcher import Decision
    from moodsic_desktop.core.song import Song, SongMood

    window = open_window()
    window.resize(1366, 768)
    window.now_playing.timer.stop()  # nothing plays here: the panel shows what this test gives it
    mood = SongMood(-0.6, -0.6, "estimated")
    song = Song("1", mood, title="Long Shadows (built-in)", artist="Moodsic built-in station")
    why = "song ended: nearest other song in X; its mood was estimated from the audio (±0.21)"
    decision = Decision(song, True, why, "Downcast & Low-energy, like “Long Shadows”", cause="song ended")
    for diagnostics in (False, True):
        window.menus.diagnostics_action.setChecked(diagnostics)
        window.now_playing.show_song(song, decision)
        window.now_playing.show_progress(24.0, 60.0, -1.0, None)
        qtbot.wait(50)
        panel = window.now_playing
        for label in (panel.station, panel.dwell, panel.elapsed):
            assert label.shown_text() == label.text(), label.text()  # nothing elided
        assert panel.dwell.text() == "Free to change with the mood"
        reason = panel.reason
        needed = reason.fontMetrics().boundingRect(0, 0, reason.width(), 1000, 0x1000, reason.text()).height()
        assert needed <= reason.height(), (needed, reason.height())  # the whole why fits its two lines


def test_a_why_longer_than_its_two_lines_ends_in_an_ellipsis_and_is_whole_in_its_tooltip(open_window, qtbot):
    """A real library at 1366x768: an estimated song, chosen for variety, of a station told apart by its music,
    needs three lines; the third was drawn half cut off under the second."""
    from moodsic_desktop.core.decision_words import why_words
    from moodsic_desktop.core.matcher import Decision
    from moodsic_desktop.core.song import Song, SongMood

    window = open_window()
    window.resize(1366, 768)
    window.now_playing.timer.stop()  # nothing plays here: the panel shows what this test gives it
    song = Song("7", SongMood(-0.7, 0.6, "estimated"), title="Angry Drums")
    station = "Downcast & Low-energy, like “Rainy Window”"
    decision = Decision(song, True, "song ended: x", station, variety="least_recent", cause="song ended")
    window.now_playing.show_song(song, decision)
    qtbot.wait(50)
    reason = window.now_playing.reason
    whole = f"Why: {why_words(decision)}"
    assert reason.text() == whole and whole in reason.toolTip() and "song ended: x" in reason.toolTip()
    shown = reason.shown_text()
    assert shown.endswith("…") and whole.startswith(shown[:-1].rstrip())
    needed = reason.fontMetrics().boundingRect(0, 0, reason.width(), 1000, 0x1000, shown).height()
    assert needed <= reason.height(), (needed, reason.height())  # what is drawn fits its two lines
