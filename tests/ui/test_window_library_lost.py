"""A library that stops playing in a running window, end to end: real workers, real MediaPipe, the real
audio engine decoding real files (on a null output), a real library index.

A folder that vanishes (a USB drive unplugged): the music goes on from the built-in station, the user is
told once, the library comes back by itself when its folder does, and nothing is lost: the index (songs,
plays, bans) and the settings stay intact. Files that turn unplayable one after another: after a few
skips the built-in station plays, with one message saying what to check.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from moodsic_desktop.audio.library.importers import RatedImporter
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.output import NullBackend
from moodsic_desktop.ui.app import create_window
from moodsic_desktop.ui.settings import SettingsStore, UserSettings

WAIT_MS = 60_000


def chart_songs(window) -> int:
    return sum(series.count() for series in window.plane_chart.station_series)


def playing(window) -> str | None:
    song = window.engine.current_song
    return song.song_id if song is not None else None


@pytest.fixture
def library_on_a_drive(tmp_path, monkeypatch, playable_library) -> tuple[Path, Path, set[str]]:
    """A library index (one song banned) of songs on a "drive" folder: (drive, index path, song ids)."""
    monkeypatch.setenv("MOODSIC_HOME", str(tmp_path / "home"))
    drive = tmp_path / "usb" / "library"
    shutil.copytree(playable_library, drive)
    index_path = tmp_path / "home" / "music" / "library.sqlite"
    index_path.parent.mkdir(parents=True)
    with LibraryIndex(index_path) as index:
        RatedImporter(index).import_deam(drive)
        index.ban("24")
        return drive, index_path, {song.song_id for song in index.songs()}


def test_a_vanished_library_folder_hands_over_to_the_built_in_station_and_back(
    qtbot, tmp_path, library_on_a_drive, mood_video
):
    drive, index_path, songs_before = library_on_a_drive
    settings = UserSettings(alpha=0.42, loop_video=True, last_source=str(mood_video))
    SettingsStore().save(settings)

    window = create_window(str(mood_video), None, backend=NullBackend(), close_fade_s=0.1)
    try:
        window.session.programme.guard.check_every_s = 0.5  # look for the drive often, to keep the test short
        qtbot.waitUntil(lambda: playing(window) is not None, timeout=WAIT_MS)
        first = playing(window)
        assert not first.startswith("builtin-")

        shutil.move(drive.parent, tmp_path / "unplugged")  # the drive goes
        window.controls.skip_button.click()  # the next song's file is gone
        qtbot.waitUntil(lambda: (playing(window) or "").startswith("builtin-"), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: window.banners.text("library") is not None, timeout=WAIT_MS)  # the next snapshot
        message = window.banners.text("library")
        assert window.banners.level("library") == "warning"
        assert f"{drive.parent} is gone" in message and "built-in station" in message and "kept" in message
        assert window.banners.text("audio-file") is None  # told once, by the library banner only
        assert window.banners.text("pipeline") is None  # no "could not record the play" either
        qtbot.waitUntil(lambda: "Why: Your music library cannot be found" in window.now_playing.reason.text())
        assert chart_songs(window) == 12  # the chart shows the station that plays

        window.controls.dwell_slider.setValue(60)  # the owner moves a slider meanwhile
        qtbot.waitUntil(lambda: window.session.pipeline.matcher.min_dwell_s == 60.0, timeout=WAIT_MS)
        qtbot.wait(1500)  # a while on the built-in station: still lost, still playing, no new messages
        assert (playing(window) or "").startswith("builtin-")
        assert window.banners.text("library") == message

        shutil.move(tmp_path / "unplugged", drive.parent)  # the drive is back
        qtbot.waitUntil(lambda: window.banners.level("library") == "info", timeout=WAIT_MS)
        assert "back" in window.banners.text("library")
        qtbot.waitUntil(lambda: not (playing(window) or "builtin-").startswith("builtin-"), timeout=WAIT_MS)
        back = playing(window)
        qtbot.waitUntil(lambda: window.now_playing.reason.text().startswith("Why: Your music library is back"))
        assert back in songs_before and back != "24"  # the ban held through it all
        assert window.session.pipeline.matcher.min_dwell_s == 60.0  # and the slider's setting
        assert chart_songs(window) == len(songs_before)
    finally:
        window.close()
        qtbot.waitUntil(lambda: window.closed_down, timeout=WAIT_MS)
        window.deleteLater()

    with LibraryIndex(index_path, create=False) as index:
        assert {song.song_id for song in index.songs()} == songs_before
        assert index.banned_ids() == {"24"}
        plays = [play.song_id for play in index.recent_plays(50)]
        assert first in plays and back in plays
        assert not [song_id for song_id in plays if song_id.startswith("builtin-")]
    assert SettingsStore().load() == (replace(settings, min_dwell_s=60.0), None)  # as the owner left them


def test_songs_that_fail_one_after_another_hand_over_to_the_built_in_station(
    qtbot, tmp_path, monkeypatch, playable_library, mood_video
):
    monkeypatch.setenv("MOODSIC_HOME", str(tmp_path / "home"))
    folder = tmp_path / "library"
    shutil.copytree(playable_library, folder)
    window = create_window(str(mood_video), folder, backend=NullBackend(), close_fade_s=0.1)
    try:
        qtbot.waitUntil(lambda: playing(window) is not None, timeout=WAIT_MS)
        first = playing(window)
        for audio in (folder / "MEMD_audio").iterdir():
            if audio.stem != first:
                audio.write_bytes(b"ID3" + bytes(range(256)) * 40)  # there, but not audio any more
        window.controls.skip_button.click()
        qtbot.waitUntil(lambda: (playing(window) or "").startswith("builtin-"), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: window.banners.text("library") is not None, timeout=WAIT_MS)  # the next snapshot
        message = window.banners.text("library")
        assert window.banners.level("library") == "warning"
        assert "5 songs in a row could not be played" in message and "moodsic library check" in message
        assert window.banners.text("audio-file") is None  # the skips that led to it are not left behind
        assert window.banners.text("pipeline") is None
    finally:
        window.close()
        qtbot.waitUntil(lambda: window.closed_down, timeout=WAIT_MS)
        window.deleteLater()
