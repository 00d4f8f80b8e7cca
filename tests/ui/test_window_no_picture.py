"""The window without a picture (offscreen, real workers, the engine on a null output): started with its
last source missing, it plays music and says why, and reads the room again by itself once the source is
there; "Start Moodsic when this computer starts" writes and removes the real (temporary) XDG entry."""

from __future__ import annotations

import shutil

import pytest

from moodsic_desktop.core.backoff import RetryBackoff
from moodsic_desktop.ui import workers
from moodsic_desktop.ui.preview import ENDED_TEXT
from moodsic_desktop.ui.settings import UserSettings
from tests.ui.conftest import WAIT_MS, write_mood_video


@pytest.fixture
def quick_retries(monkeypatch):
    """Tries again after 0.2 s, 0.4 s … at most 1 s: a short test."""
    monkeypatch.setattr(workers, "RetryBackoff", lambda: RetryBackoff(0.2, 1.0))


def test_a_missing_last_source_still_plays_music_says_why_and_is_read_once_it_is_back(
    open_window, mood_video, tmp_path, qtbot, quick_retries
):
    on_the_stick = tmp_path / "usb-stick" / "shop.mp4"  # the stick is not plugged in
    window = open_window(None, UserSettings(last_source=str(on_the_stick), loop_video=True))
    assert window.running  # the last source resumed, without a click
    qtbot.waitUntil(lambda: window.banners.text("camera") is not None, timeout=WAIT_MS)
    banner = window.banners.text("camera")
    assert banner.startswith("No picture: video file not found") and "shop.mp4" in banner
    assert "The music plays on" in banner and window.banners.level("camera") == "warning"
    qtbot.waitUntil(lambda: window.engine.current_song is not None, timeout=WAIT_MS)  # not 30 s after the start
    first = window.engine.current_song
    shown = first.title or f"Song {first.song_id}"
    qtbot.waitUntil(lambda: window.now_playing.title.text() == shown, timeout=WAIT_MS)
    assert window.now_playing.reason.text().startswith("Why: There is no picture now; it fits a calm, relaxed mood")
    assert not window.preview.has_image

    on_the_stick.parent.mkdir()
    shutil.copy(mood_video, on_the_stick)  # plugged in: the worker finds it on its next try
    qtbot.waitUntil(lambda: window.banners.text("camera") is None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.preview.has_image, timeout=WAIT_MS)
    steps = window.report.metrics.steps
    qtbot.waitUntil(lambda: window.report.metrics.steps > steps + 10, timeout=WAIT_MS)  # the room is read
    assert window.engine.current_song is not None  # and the music never stopped


def test_the_settings_menu_starts_moodsic_with_the_computer(open_window, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    entry = tmp_path / "xdg" / "autostart" / "moodsic.desktop"
    window = open_window()
    action = window.menus.autostart_action
    assert action.text() == "&Start Moodsic when this computer starts" and not action.isChecked()
    action.trigger()
    assert action.isChecked() and entry.is_file()
    assert "--autostart" in entry.read_text() and window.banners.text("autostart") is None
    action.trigger()
    assert not action.isChecked() and not entry.exists()

    entry.write_text("[Desktop Entry]\nName=the owner's own\nExec=true\n")  # not ours: kept
    window.menus.settings_menu.aboutToShow.emit()
    assert not action.isChecked()
    action.trigger()
    assert not action.isChecked() and entry.read_text() == "[Desktop Entry]\nName=the owner's own\nExec=true\n"
    message = window.banners.text("autostart")
    assert message.startswith("Moodsic could not be set to start with this computer")
    assert "was not written by Moodsic" in message


def test_a_video_that_ends_leaves_the_music_playing(open_window, tmp_path, qtbot):
    video = write_mood_video(tmp_path / "short.mp4", seconds_per_mood=1.0)  # 2 s, played once
    window = open_window(str(video), UserSettings(loop_video=False))
    qtbot.waitUntil(lambda: window.banners.text("source") is not None, timeout=WAIT_MS)
    assert window.banners.text("source") == "The video has ended. The music plays on for the last mood read."
    assert window.banners.level("source") == "info"
    qtbot.waitUntil(lambda: not window.running, timeout=WAIT_MS)
    assert window.preview._message == ENDED_TEXT  # not "No camera or video yet."
    assert window.engine.current_song is not None  # chosen from the video's reading, playing on after its end
    qtbot.wait(1500)
    assert window.engine.current_song is not None
