"""The session and the variety rule: the song at a song's end is chosen for the mood of that moment, every
song handed to the audio (a switch, a song's end, a skip) counts in the report's variety figures, and the
owner's repeat window reaches the matcher."""

from __future__ import annotations

from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.pipeline import Pipeline
from moodsic_desktop.core.report import SessionReport
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.session.playback import PlaybackSession
from tests.session.test_playback import FRAME, Clock, FakeAudio, SceneReader

SONGS = [Song(f"s{i}", SongMood(-0.8 + 0.2 * i, -0.8 + 0.2 * i), title=f"Song {i}", duration_s=60.0) for i in range(9)]


def session_with(scene: SceneReader, audio: FakeAudio, dwell_s: float) -> PlaybackSession:
    library = MusicLibrary(songs=SONGS, origin="test library", stations=None)
    pipeline = Pipeline(None, None, scene, Stabilizer(alpha=1.0, tau=1.0), Matcher(SONGS, min_dwell_s=dwell_s))
    return PlaybackSession(pipeline, library, audio=audio, report=SessionReport({}), clock=Clock())


def test_the_song_at_a_songs_end_follows_the_mood_of_that_moment():
    scene, audio = SceneReader(-0.8, -0.8), FakeAudio()
    session = session_with(scene, audio, dwell_s=1000.0)
    playing = session.step(FRAME, 0.0).decisions[0].song
    assert playing.song_id == "s0"
    scene.mood = (0.8, 0.8)  # the room brightens within the dwell: the song plays on
    for t in range(1, 50):
        assert not session.step(FRAME, float(t)).decisions
    session.song_ending(playing)
    queued = session.snapshot().decisions[0]
    assert queued.song.song_id == "s8" and audio.calls[-1] == ("queue", "s8")


def test_every_song_handed_to_the_audio_counts_in_the_variety_figures():
    scene, audio = SceneReader(0.0, 0.0), FakeAudio()
    session = session_with(scene, audio, dwell_s=0.0)
    first = session.step(FRAME, 0.0).decisions[0].song  # a step's first pick
    session.song_ending(first)  # a song's end
    session.step(FRAME, 61.0)
    session.skip()  # a skip
    handed = [song_id for _, song_id in audio.calls]
    variety = session.report.metrics.summary()["variety"]
    assert len(handed) == 3 and variety["plays"] == 3
    assert variety["distinct_songs"] == len(set(handed)) == 3


def test_the_repeat_window_reaches_the_matcher_and_the_report():
    session = session_with(SceneReader(), FakeAudio(), dwell_s=0.0)
    session.apply({"repeat_window_min": 20.0})
    assert session.pipeline.matcher.repeat_window_s == 1200.0
    assert session.pipeline.matcher.effective_repeat_window_s == min(1200.0, 9 * 60.0)
    decision = session.step(FRAME, 0.0).decisions[0]
    assert decision.repeat_window_s == 9 * 60.0  # 9 songs of a minute: the window shortened by itself
