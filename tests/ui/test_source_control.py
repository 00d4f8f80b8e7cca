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
