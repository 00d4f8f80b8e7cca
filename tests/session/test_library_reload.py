"""PlaybackSession.reload_library without Qt: what the library tools change in the index plays at once, the
song playing plays on, and a lost library or the built-in station take the new version consistently."""

from __future__ import annotations

import dataclasses
import shutil

from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.session.snapshot import LibraryView
from tests.session.test_playback import BUILT_IN, FRAME, SONG_IDS, Clock, FakeAudio, indexed, make_session

__all__ = ["indexed"]  # the fixture, shared with test_playback


def with_songs(library: MusicLibrary, *songs: Song, **changes) -> MusicLibrary:
    return dataclasses.replace(library, songs=[*library.songs, *songs], **changes)


def chosen_after_skips(session, skips: int = 12) -> set[str]:
    chosen = set()
    for _ in range(skips):
        session.skip()
        chosen |= {d.song.song_id for d in session.snapshot().decisions}
    return chosen


def test_songs_added_can_be_chosen_at_once_and_the_song_playing_plays_on(indexed):
    library, _ = indexed
    audio = FakeAudio()
    session = make_session(library, audio)
    session.apply({"min_dwell_s": 60.0})
    first = session.step(FRAME, 0.0).decisions[0].song
    started = session.pipeline.matcher.current_started_at
    calls = list(audio.calls)
    new = Song("new", SongMood(0.5, 0.5), title="New", duration_s=60.0)  # right where the room is (0.5, 0.5)
    session.reload_library(with_songs(library, new))
    snapshot = session.snapshot()
    change = snapshot.library_change
    assert change is not None and not change.lost
    assert change.message == "The music library changed: 1 song added; it can play now."
    assert snapshot.library.songs[-1] == new and change.library == snapshot.library
    assert audio.calls == calls and snapshot.decisions == ()  # nothing cut, nothing queued
    matcher = session.pipeline.matcher
    assert matcher.current == first and matcher.current_started_at == started and matcher.min_dwell_s == 60.0
    assert not session.step(FRAME, 1.0).decisions  # the dwell goes on
    session.skip()
    assert session.snapshot().decisions[0].song.song_id == "new"


def test_a_ban_and_a_placed_point_count_after_a_reload(indexed):
    library, _ = indexed
    session = make_session(library, FakeAudio())
    first = session.step(FRAME, 0.0).decisions[0].song.song_id
    near = session.pipeline.matcher.successor(library.songs).song_ended(0.0).song.song_id  # the next best
    placed = next(i for i in SONG_IDS if i not in (first, near))
    songs = [
        dataclasses.replace(s, mood=dataclasses.replace(s.mood, valence=0.5, arousal=0.5)) if s.song_id == placed else s
        for s in library.songs
    ]
    session.reload_library(dataclasses.replace(library, songs=songs, banned=frozenset({near})))
    change = session.snapshot().library_change
    assert change is not None and change.message == (
        "The music library changed: 1 song put elsewhere on the mood plane, 1 song set to never play; "
        "this counts from now on."
    )
    session.skip()
    assert session.snapshot().decisions[0].song.song_id == placed  # its new point, right on the room's mood
    assert near not in chosen_after_skips(session)


def test_a_reload_that_changes_nothing_says_nothing_and_a_damaged_index_changes_nothing(indexed):
    library, _ = indexed
    session = make_session(library, FakeAudio())
    session.step(FRAME, 0.0)
    matcher = session.pipeline.matcher
    session.reload_library(dataclasses.replace(library))
    assert not session.has_events and session.pipeline.matcher is matcher
    session.reload_library(
        dataclasses.replace(BUILT_IN, problem="the index is damaged; the built-in station plays instead.")
    )
    snapshot = session.snapshot()
    assert snapshot.library_change is None and session.pipeline.matcher is matcher
    assert snapshot.problems == (
        "The music library could not be read again (the index is damaged); the music goes on as before.",
    )


def test_a_song_taken_out_plays_to_its_end_then_the_library_goes_on(indexed):
    library, _ = indexed
    audio = FakeAudio()
    session = make_session(library, audio)
    first = session.step(FRAME, 0.0).decisions[0].song
    session.reload_library(dataclasses.replace(library, songs=[s for s in library.songs if s != first]))
    snapshot = session.snapshot()
    assert "1 song taken out" in snapshot.library_change.message
    queued = snapshot.decisions[0].song
    assert audio.calls[-1] == ("queue", queued.song_id) and queued != first  # queued, not crossfaded
    assert snapshot.decisions[0].reason.startswith("the library changed: ")
    session.song_ending(first)  # the engine's notice for the old song: the next one is on its way already
    assert audio.calls[-1] == ("queue", queued.song_id) and len(audio.calls) == 2


def test_a_reload_while_the_library_is_lost_waits_for_its_files(indexed, tmp_path):
    library, _ = indexed
    audio = FakeAudio()
    clock = Clock()
    session = make_session(library, audio, clock)
    first = session.step(FRAME, 0.0).decisions[0].song
    shutil.move(tmp_path / "drive", tmp_path / "unplugged")
    session.song_failed(first, "file not found")
    assert session.snapshot().library_lost
    calls = list(audio.calls)
    new = Song("new", SongMood(0.5, 0.5), path=tmp_path / "elsewhere" / "new.mp3", duration_s=60.0)
    session.reload_library(with_songs(library, new, banned=frozenset({"9"})))
    snapshot = session.snapshot()
    assert snapshot.library_lost and snapshot.library == LibraryView.of(BUILT_IN)  # the station plays on
    assert snapshot.library_change is not None and snapshot.library_change.lost
    assert "1 song added" in snapshot.library_change.message and audio.calls == calls
    assert session.pipeline.matcher.current.song_id.startswith("builtin-")
    parked = session.programme.library_matcher
    assert parked is not session.pipeline.matcher and parked.has_song("new") and parked.is_banned("9")
    assert session.programme.library.songs[-1] == new
    shutil.move(tmp_path / "unplugged", tmp_path / "drive")
    clock.now += 0.5  # sooner than check_every_s: a new version is looked at at once
    snapshot = session.step(FRAME, 1.0)
    assert snapshot.library_change is not None and not snapshot.library_lost
    assert session.pipeline.matcher is parked and snapshot.decisions[0].song.song_id == "new"


def test_the_first_songs_added_take_over_from_the_built_in_station(indexed):
    library, index_path = indexed
    audio = FakeAudio()
    session = make_session(BUILT_IN, audio)
    piece = session.step(FRAME, 0.0).decisions[0].song
    assert session.index_path is None and session.programme.follows_index
    session.reload_library(library)
    snapshot = session.snapshot()
    change = snapshot.library_change
    assert change is not None and change.message.startswith("Your own music plays now: 9 songs")
    assert snapshot.library == LibraryView.of(library) and not snapshot.library_lost
    queued = snapshot.decisions[0].song
    assert queued.song_id in SONG_IDS and audio.calls[-1] == ("queue", queued.song_id)  # after the piece
    session.song_played(queued)
    session.close()
    with LibraryIndex(index_path, create=False) as index:  # the session writes to the new library's index
        assert [play.song_id for play in index.recent_plays(5)] == [queued.song_id]
    assert piece.song_id.startswith("builtin-")


def test_a_deam_folder_given_at_start_does_not_follow_the_index(indexed):
    library, index_path = indexed
    session = make_session(dataclasses.replace(library, index_path=None, origin="DEAM folder x"), FakeAudio())
    assert not session.programme.follows_index
    session.reload_from_index(index_path)
    assert not session.has_events and session.programme.library.origin == "DEAM folder x"
