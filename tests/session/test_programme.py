"""Programme without a session: the one owner of what plays switches to the built-in station when the library
is lost, back to the library's own matcher (its history, bans and the settings of now) when its files return,
and to a new version after a reload, in its place or parked while the library is lost."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.pipeline import Pipeline
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.session.programme import Programme, Switch

BUILT_IN = MusicLibrary(
    songs=[Song(f"builtin-0{i}", SongMood(0.2 * i - 0.4, 0.0), duration_s=60.0) for i in range(5)],
    origin="built-in station",
    stations=None,
)


def library_on(folder: Path, count: int = 9) -> MusicLibrary:
    folder.mkdir(parents=True)
    songs = []
    for i in range(count):
        path = folder / f"{i}.mp3"
        path.write_bytes(b"\0")
        v = -0.8 + 1.6 * i / (count - 1)
        songs.append(Song(str(i), SongMood(v, v), title=f"Song {i}", path=path, duration_s=60.0))
    return MusicLibrary(songs=songs, origin="library index", stations=None)


@pytest.fixture
def made(tmp_path):
    """(programme, its pipeline, the library, the times the fallback was made) over a library on a "drive"."""
    library = library_on(tmp_path / "drive" / "music")
    pipeline = Pipeline(None, None, None, Stabilizer(), Matcher(library.songs, min_dwell_s=0.0))
    fallbacks: list[MusicLibrary] = []

    def fallback() -> MusicLibrary:
        fallbacks.append(BUILT_IN)
        return BUILT_IN

    return Programme(pipeline, library, fallback, check_every_s=10.0), pipeline, library, fallbacks


def unplug(tmp_path: Path) -> None:
    shutil.move(tmp_path / "drive", tmp_path / "unplugged")


def plug_in(tmp_path: Path) -> None:
    shutil.move(tmp_path / "unplugged", tmp_path / "drive")


def test_a_song_that_fails_alone_is_banned_and_nothing_switches(made):
    programme, pipeline, library, fallbacks = made
    matcher = pipeline.matcher
    assert programme.song_failed(library.songs[3], now=0.0) is None
    assert programme.matcher is matcher and matcher.is_banned("3")
    assert programme.playing is library and not programme.lost and fallbacks == []  # not even made


def test_a_lost_library_switches_to_the_built_in_station_with_the_matcher_parked(made, tmp_path):
    programme, pipeline, library, fallbacks = made
    own = pipeline.matcher
    own.recommend(0.0, 0.0, now=0.0)
    unplug(tmp_path)
    switch = programme.song_failed(library.songs[4], now=1.0)
    assert isinstance(switch, Switch) and switch.start == "now"
    assert (switch.cause, switch.detail) == ("the library is lost", "the built-in station")
    assert "is gone" in switch.message and "The built-in station plays until they are back" in switch.message
    assert programme.lost and programme.playing is BUILT_IN and fallbacks == [BUILT_IN]
    assert pipeline.matcher is programme.matcher and programme.matcher is not own  # the pipeline plays it
    assert {s.song_id for s in programme.matcher.songs} == {s.song_id for s in BUILT_IN.songs}
    assert programme.matcher.current is None  # the session chooses the first piece for the mood now
    assert programme.library_matcher is own and own.is_banned("4") and own.plays  # history and bans kept
    assert programme.song_failed(library.songs[5], now=2.0) is None  # told once
    assert programme.owns(library.songs[0]) and not programme.owns(BUILT_IN.songs[0])


def test_the_library_back_plays_its_own_matcher_with_the_settings_of_now(made, tmp_path):
    programme, pipeline, library, _ = made
    own = pipeline.matcher
    programme.song_failed(library.songs[2], now=0.0)  # not audio: banned for this session
    unplug(tmp_path)
    assert programme.song_failed(library.songs[4], now=1.0) is not None
    station = programme.matcher
    station.recommend(0.0, 0.0, now=1.0)
    station.min_dwell_s, station.mode = 45.0, "calm"  # the sliders move while the station plays
    assert programme.look_for_library(now=20.0) is None  # still gone
    plug_in(tmp_path)
    assert programme.look_for_library(now=25.0) is None  # looked at 20.0: not again before 30.0
    switch = programme.look_for_library(now=30.0)
    back = "The music library is back: playing from the library index again."
    assert switch == Switch(back, "the library is back", "now")
    assert not programme.lost and programme.playing is library
    assert pipeline.matcher is own and own.current is None
    assert (own.min_dwell_s, own.mode) == (45.0, "calm")
    assert not own.is_banned("4")  # only its file was missing: it may play again
    assert own.is_banned("2")  # it failed with its file there: not this session


def test_a_reload_replaces_the_matcher_and_keeps_the_song_playing(made):
    programme, pipeline, library, _ = made
    old = pipeline.matcher
    old.min_dwell_s = 60.0
    playing = old.recommend(0.0, 0.0, now=0.0).song
    assert programme.reload(dataclasses.replace(library)) is None and pipeline.matcher is old  # nothing changed
    new = Song("new", SongMood(0.5, 0.5), duration_s=60.0)
    switch = programme.reload(dataclasses.replace(library, songs=[*library.songs, new], banned=frozenset({"8"})))
    assert switch is not None and switch.start is None and switch.cause == "the library changed"
    assert "1 song added" in switch.message and "1 song set to never play" in switch.message
    matcher = programme.matcher
    assert pipeline.matcher is matcher and matcher is not old and matcher.has_song("new") and matcher.is_banned("8")
    assert matcher.current == playing and matcher.min_dwell_s == 60.0
    assert programme.library.songs[-1] == new and programme.guard.library is programme.library


def test_a_reload_without_the_song_playing_asks_for_the_next_after_it(made):
    programme, pipeline, library, _ = made
    playing = pipeline.matcher.recommend(0.0, 0.0, now=0.0).song
    switch = programme.reload(dataclasses.replace(library, songs=[s for s in library.songs if s != playing]))
    assert switch is not None and switch.start == "after_current" and "1 song taken out" in switch.message
    assert programme.matcher.current is None and not programme.matcher.has_song(playing.song_id)


def test_a_reload_while_lost_is_parked_and_plays_when_the_files_are_back(made, tmp_path):
    programme, pipeline, library, _ = made
    unplug(tmp_path)
    programme.song_failed(library.songs[0], now=0.0)
    station = programme.matcher
    new = Song("new", SongMood(0.5, 0.5), path=tmp_path / "drive" / "music" / "0.mp3", duration_s=60.0)
    switch = programme.reload(dataclasses.replace(library, songs=[*library.songs, new]))
    assert switch is not None and switch.start is None  # the station plays on
    assert programme.lost and programme.matcher is station and programme.playing is BUILT_IN
    parked = programme.library_matcher
    assert parked is not station and parked.has_song("new")
    plug_in(tmp_path)
    back = programme.look_for_library(now=1.0)  # a new version is looked at at once
    assert back is not None and back.start == "now" and pipeline.matcher is parked
