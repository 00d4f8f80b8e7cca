"""The source row drives ``ui/source_control.py`` in the real window (offscreen): Start / Stop, picking a
source in the list, the privacy switch over the preview, and the source remembered for the next start."""

from __future__ import annotations

from moodsic_desktop.ui.preview import EMPTY_TEXT, PRIVACY_TEXT
from moodsic_desktop.ui.settings import SettingsStore
from tests.ui.conftest import WAIT_MS, write_mood_video


def test_the_source_row_starts_stops_and_switches_the_source(open_window, mood_video, tmp_path, qtbot):
    window = open_window()
    bar = window.source_bar
    assert not window.running and bar.start_button.text() == "Start"

    # the privacy switch: the preview says so while hidden, and shows the empty state again when nothing runs
    window.controls.privacy_check.setChecked(True)
    assert window.preview._message == PRIVACY_TEXT
    window.controls.privacy_check.setChecked(False)
    assert window.preview._message == EMPTY_TEXT

    window.start_source(str(mood_video))
    assert window.running and bar.start_button.text() == "Stop"
    qtbot.waitUntil(lambda: window.preview.has_image, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: SettingsStore().load()[0].last_source == str(mood_video), timeout=WAIT_MS)

    bar.start_button.click()  # Stop: no frames are read any more; the music is not the source's business
    assert not window.running and bar.start_button.text() == "Start"
    assert window.preview._message == EMPTY_TEXT and not window.preview.has_image

    bar.start_button.click()  # Start: the source shown in the row again
    assert window.running and bar.current_spec() == str(mood_video)
    qtbot.waitUntil(lambda: window.preview.has_image, timeout=WAIT_MS)

    other = write_mood_video(tmp_path / "other.mp4")
    index = bar.add_file(str(other))
    bar.source_combo.setCurrentIndex(index)
    bar.source_combo.activated.emit(index)  # what picking it with the mouse sends
    assert window.running and bar.current_spec() == str(other)
    qtbot.waitUntil(lambda: SettingsStore().load()[0].last_source == str(other), timeout=WAIT_MS)


def test_a_photo_is_read_until_stopped_even_with_loop_video_off(open_window, tmp_path, qtbot):
    import cv2
    import numpy as np

    from moodsic_desktop.ui.settings import UserSettings

    photo = tmp_path / "room.jpg"
    assert cv2.imwrite(str(photo), np.full((240, 320, 3), (40, 200, 255), np.uint8))
    window = open_window(settings=UserSettings(loop_video=False))
    window.start_source(str(photo))
    qtbot.waitUntil(lambda: window.preview.has_image, timeout=WAIT_MS)
    shown = window.preview.frames_shown
    qtbot.waitUntil(lambda: window.preview.frames_shown > shown + 5, timeout=WAIT_MS)
    # still read, again and again: not "The video has ended" after its one frame
    assert window.running and window.banners.text("source") is None and window.preview.has_image


def test_the_lists_first_line_opens_the_file_dialog(open_window, mood_video, tmp_path, qtbot, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    answers = [""]
    asked = []

    def choose(*args, **kwargs):
        asked.append(args)
        return answers[0], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(choose))
    window = open_window(str(mood_video))
    bar = window.source_bar
    assert window.running and bar.current_spec() == str(mood_video)

    bar.source_combo.setCurrentIndex(0)  # "No camera found: open a video or a photo…" (or "Choose a camera…")
    bar.source_combo.activated.emit(0)
    assert len(asked) == 1  # the file dialog opened; cancelled, the row shows the video still read
    assert window.running and bar.current_spec() == str(mood_video)

    other = write_mood_video(tmp_path / "other.mp4")
    answers[0] = str(other)
    bar.source_combo.setCurrentIndex(0)
    bar.source_combo.activated.emit(0)
    assert len(asked) == 2 and window.running and bar.current_spec() == str(other)
    qtbot.waitUntil(lambda: SettingsStore().load()[0].last_source == str(other), timeout=WAIT_MS)


def test_loop_video_turned_while_a_video_plays_applies_to_it(open_window, tmp_path, qtbot):
    from moodsic_desktop.ui.settings import UserSettings

    video = write_mood_video(tmp_path / "short.mp4", seconds_per_mood=1.0, fps=15.0)  # 30 frames, 2 s
    window = open_window(str(video), UserSettings(loop_video=False))
    qtbot.waitUntil(lambda: window.preview.has_image, timeout=WAIT_MS)
    window.source_bar.loop_check.setChecked(True)  # while its first pass plays: it starts again at its end
    qtbot.waitUntil(lambda: window.preview.frames_shown > 45, timeout=WAIT_MS)
    assert window.running and window.banners.text("source") is None

    window.source_bar.loop_check.setChecked(False)  # this pass is its last
    qtbot.waitUntil(lambda: not window.running, timeout=WAIT_MS)
    assert window.banners.text("source") == "The video has ended. The music plays on for the last mood read."


def test_a_file_that_cannot_be_read_is_not_resumed_at_the_next_start(open_window, mood_video, tmp_path, qtbot):
    window = open_window(str(mood_video))
    qtbot.waitUntil(lambda: SettingsStore().load()[0].last_source == str(mood_video), timeout=WAIT_MS)
    bad = tmp_path / "holiday.mp4"
    bad.write_text("not a video")
    window.start_source(str(bad))
    qtbot.waitUntil(lambda: not window.running, timeout=WAIT_MS)
    assert "holiday.mp4" in window.banners.text("source")
    qtbot.wait(800)  # longer than the settings' save delay
    # the video that worked is still the one the program starts with (with the computer, every morning)
    assert window.settings.last_source == str(mood_video)
    assert SettingsStore().load()[0].last_source == str(mood_video)
