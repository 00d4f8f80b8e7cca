"""LibraryGuard: it tells when the library is lost (files gone, or songs failing in a row) and when it is back
(its files are there again). What plays meanwhile is the programme's (tests/session/test_programme.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.session.library_guard import FAILURES_IN_ROW, SAMPLE_SIZE, LibraryGuard, LibraryLoss


def make_library(folder: Path, count: int) -> MusicLibrary:
    folder.mkdir(parents=True)
    songs = []
    for i in range(count):
        path = folder / f"{i}.mp3"
        path.write_bytes(b"not really audio; the guard only looks whether files are there")
        songs.append(Song(str(i), SongMood(0.0, 0.0), title=f"Song {i}", path=path))
    return MusicLibrary(songs=songs, origin=f"DEAM folder {folder}", stations=None)


@pytest.fixture
def guard_for(tmp_path):
    def make(count: int = 100) -> tuple[LibraryGuard, MusicLibrary]:
        library = make_library(tmp_path / "music", count)
        return LibraryGuard(library, check_every_s=10.0), library

    return make


def test_one_missing_file_is_only_that_song(guard_for):
    guard, library = guard_for()
    library.songs[3].path.unlink()
    assert guard.song_failed(library.songs[3], now=0.0) is None
    assert not guard.lost


def test_a_vanished_folder_is_a_lost_library_and_comes_back(guard_for, tmp_path):
    guard, library = guard_for()
    shutil.move(tmp_path / "music", tmp_path / "unplugged")
    loss = guard.song_failed(library.songs[5], now=100.0)
    assert loss == LibraryLoss(tmp_path / "music", 1, "Song 5")
    message = loss.words("built-in station")
    assert f"{tmp_path / 'music'} is gone" in message and "built-in station plays" in message
    assert "kept" in message  # the user is told nothing of theirs is lost
    assert guard.lost
    assert guard.song_failed(library.songs[6], now=101.0) is None  # told once, not per song

    assert not guard.check_back(now=105.0)  # still gone (and not looked at before check_every_s)
    shutil.move(tmp_path / "unplugged", tmp_path / "music")
    assert not guard.check_back(now=109.0)  # not looked at yet: 10 s after the loss
    assert guard.check_back(now=110.0)
    assert not guard.lost
    assert guard.files_back() == ["5"]  # the song skipped because it was missing may play again
    assert guard.files_back() == []


def test_a_folder_still_gone_is_looked_at_again_later(guard_for, tmp_path):
    guard, library = guard_for()
    shutil.rmtree(tmp_path / "music")
    guard.song_failed(library.songs[0], now=0.0)
    assert not guard.check_back(now=10.0)
    assert not guard.check_back(now=15.0)  # looked at 10.0: the next look is at 20.0
    make_library(tmp_path / "music", 100)
    assert not guard.check_back(now=19.9)
    assert guard.check_back(now=20.0)


def test_songs_failing_in_a_row_are_a_lost_library_for_good(guard_for):
    guard, library = guard_for()
    for i in range(FAILURES_IN_ROW - 1):
        assert guard.song_failed(library.songs[i], now=float(i)) is None
    guard.song_started()  # a song played: the run starts over
    for i in range(FAILURES_IN_ROW - 1):
        assert guard.song_failed(library.songs[i], now=float(i)) is None
    loss = guard.song_failed(library.songs[9], now=9.0)
    assert loss == LibraryLoss(None, FAILURES_IN_ROW, "Song 9")
    message = loss.words("built-in station")
    assert f"{FAILURES_IN_ROW} songs in a row" in message and "(the last: Song 9)" in message
    assert "The built-in station plays instead" in message and "moodsic library check" in message
    assert guard.lost
    assert not guard.check_back(now=1000.0)  # the files are there: nothing to wait for


def test_a_failing_fallback_is_given_up_until_a_song_plays(guard_for, tmp_path):
    guard, library = guard_for()
    shutil.rmtree(tmp_path / "music")
    guard.song_failed(library.songs[0], now=0.0)
    built_in = Song("builtin-01", SongMood(0.1, 0.1))  # the fallback's song, failing too
    for _ in range(FAILURES_IN_ROW - 1):
        guard.song_failed(built_in, now=1.0)
        assert not guard.given_up
    guard.song_failed(built_in, now=1.0)
    assert guard.given_up
    guard.song_started()
    assert not guard.given_up


def test_the_check_looks_at_a_bounded_sample(guard_for, tmp_path, monkeypatch):
    guard, library = guard_for(count=2000)
    looked = []
    real_exists = Path.exists
    monkeypatch.setattr(Path, "exists", lambda self: looked.append(self) or real_exists(self))
    library.songs[0].path.unlink()
    assert guard.song_failed(library.songs[0], now=0.0) is None
    assert len(looked) <= SAMPLE_SIZE + 1


def test_songs_of_the_library_are_told_from_the_fallback(guard_for):
    guard, library = guard_for()
    assert guard.owns(library.songs[0])
    assert not guard.owns(Song("builtin-01", SongMood(0.1, 0.1)))
