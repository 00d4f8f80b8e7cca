"""The music never stops for lack of a picture: without frames the session starts the music for a calm mood,
holds the last mood read at each song's end, and falls back to the calm mood when that is old. No Qt."""

from __future__ import annotations

import itertools
import math

from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.song import Song
from moodsic_desktop.session.playback import (
    CALM_MOOD,
    HOLD_LAST_MOOD_S,
    NO_PICTURE_AFTER_S,
    SOURCE_GRACE_S,
    START_GRACE_S,
    PlaybackSession,
)
from tests.session.test_playback import FRAME, Clock, FakeAudio, SceneReader, make_session, make_songs


def nearest(songs: list[Song], mood: tuple[float, float], but: set[str] = frozenset()) -> str:
    """The id of the song nearest to ``mood`` (reference V-A), leaving out ``but``."""
    others = [song for song in songs if song.song_id not in but]
    return min(others, key=lambda s: math.hypot(s.valence - mood[0], s.arousal - mood[1])).song_id


def end_of_song(session: PlaybackSession, audio: FakeAudio, song_id: str, songs: list[Song]) -> str:
    """The engine's "song ending" notice for ``song_id``, then the queued song starting; its id."""
    session.song_ending(next(s for s in songs if s.song_id == song_id))
    kind, queued = audio.calls[-1]
    assert kind == "queue"
    session.song_played(next(s for s in songs if s.song_id == queued))
    return queued


def test_without_any_picture_the_music_starts_for_a_calm_mood_and_goes_on_at_each_song_end():
    songs = make_songs(None)
    library = MusicLibrary(songs=songs, origin="test", stations=None)
    audio, clock = FakeAudio(), Clock()
    session = make_session(library, audio, clock)
    start = clock.now

    session.step_without_picture(start + START_GRACE_S / 2)
    assert audio.calls == [] and not session.has_picture  # a moment for a first reading to come
    session.step_without_picture(start + START_GRACE_S)
    assert audio.calls == [("crossfade", nearest(songs, CALM_MOOD))]
    (decision,) = session.snapshot().decisions
    assert decision.reason.startswith("no picture: for a calm mood")
    session.step_without_picture(start + START_GRACE_S + 1.0)
    assert len(audio.calls) == 1  # started once, not at every call

    playing = audio.calls[0][1]
    session.song_played(songs[int(playing) - 1])
    played = [playing]
    for n in range(1, 6):  # an hour's worth of song ends, still without a picture
        session.step_without_picture(start + START_GRACE_S + 60.0 * n)
        played.append(end_of_song(session, audio, played[-1], songs))
        (decision,) = session.snapshot().decisions
        assert decision.reason.startswith("no picture: for a calm mood: song ended")
    assert all(a != b for a, b in itertools.pairwise(played))  # a new song at each end
    assert played[1] == nearest(songs, CALM_MOOD, but={played[0]})  # chosen for the calm mood


def test_a_lost_picture_holds_the_last_mood_read_then_turns_calm():
    songs = make_songs(None)
    library = MusicLibrary(songs=songs, origin="test", stations=None)
    audio, clock = FakeAudio(), Clock()
    session = make_session(library, audio, clock, scene=SceneReader(0.8, 0.8))
    for i in range(10):  # a lively room, read for a second
        session.step(FRAME, clock.now + i / 10)
    assert session.has_picture and session.mood_without_picture() == (0.8, 0.8)
    first = audio.calls[-1][1]
    assert first == nearest(songs, (0.8, 0.8))
    session.song_played(songs[int(first) - 1])

    lost_at = clock.now + 1.0
    session.step_without_picture(lost_at + NO_PICTURE_AFTER_S + 0.5)  # the camera is gone
    assert not session.has_picture
    assert audio.calls[-1] == ("crossfade", first)  # the music plays on: nothing new started
    second = end_of_song(session, audio, first, songs)
    assert second == nearest(songs, (0.8, 0.8), but={first})  # the last mood read still chooses
    (decision,) = session.snapshot().decisions
    assert decision.reason.startswith("no picture: for the last mood read")

    session.step_without_picture(lost_at + HOLD_LAST_MOOD_S + 1.0)  # long without a picture
    assert session.mood_without_picture() == CALM_MOOD
    third = end_of_song(session, audio, second, songs)
    assert third == nearest(songs, CALM_MOOD, but={second})
    (decision,) = session.snapshot().decisions
    assert decision.reason.startswith("no picture: for a calm mood")


def test_with_a_picture_a_song_end_follows_the_reading_as_before():
    songs = make_songs(None)
    library = MusicLibrary(songs=songs, origin="test", stations=None)
    audio, clock = FakeAudio(), Clock()
    session = make_session(library, audio, clock, scene=SceneReader(-0.8, -0.8))
    session.step(FRAME, clock.now)
    first = audio.calls[-1][1]
    session.song_played(songs[int(first) - 1])
    session.step(FRAME, clock.now + 1.0)
    second = end_of_song(session, audio, first, songs)
    assert second == nearest(songs, (-0.8, -0.8), but={first})
    (decision,) = session.snapshot().decisions
    assert not decision.reason.startswith("no picture")
    session.step_without_picture(clock.now + 1.0 + START_GRACE_S)
    assert audio.calls[-1] == ("queue", second)  # a session already playing is not restarted


def test_a_closing_session_starts_no_music_on_its_own():
    library = MusicLibrary(songs=make_songs(None), origin="test", stations=None)
    audio, clock = FakeAudio(), Clock()
    session = make_session(library, audio, clock)
    session.closing()
    session.step_without_picture(clock.now + START_GRACE_S + 1.0)
    assert audio.calls == [] and session.snapshot().decisions == ()


def test_a_starting_source_gets_time_for_its_first_reading_unless_it_says_there_is_no_picture():
    songs = make_songs(None)
    library = MusicLibrary(songs=songs, origin="test", stations=None)
    audio, clock = FakeAudio(), Clock()
    session = make_session(library, audio, clock)
    start = clock.now
    session.new_source("camera 0")  # opening a camera, loading the models: slow on a busy computer
    session.step_without_picture(start + SOURCE_GRACE_S - 1.0)
    assert audio.calls == []
    session.step_without_picture(start + SOURCE_GRACE_S)
    assert audio.calls == [("crossfade", nearest(songs, CALM_MOOD))]

    audio, clock = FakeAudio(), Clock()
    session = make_session(library, audio, clock)
    session.new_source("camera 0")
    session.step_without_picture(clock.now + 1.0)
    session.picture_lost()  # the camera cannot be opened: no reading is coming
    assert audio.calls == []
    session.step_without_picture(clock.now + 1.05)
    assert audio.calls == [("crossfade", nearest(songs, CALM_MOOD))]
