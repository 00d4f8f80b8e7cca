"""Issue 21 (1, 3): the mood line's "what the music does" is about the song that plays."""

from __future__ import annotations

from dataclasses import replace

from moodsic_desktop.core.matcher import Decision
from moodsic_desktop.core.pipeline import StepRecord
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stabilizer import Stabilized
from moodsic_desktop.core.types import Estimate
from moodsic_desktop.session.snapshot import LibraryView, SessionSnapshot
from moodsic_desktop.ui.mood_words_panel import mood_line_of
from moodsic_desktop.ui.song_memory import SongMemory

PLAYING, NEXT = Song("1", SongMood(0.5, 0.5), title="Open Window"), Song("2", SongMood(0.6, 0.5), title="Bright Market")
NO_EVENTS = SessionSnapshot(0.0, None, LibraryView("test", (), None, None), False, None, None, 25.0)


def step_on(song: Song, started: float, now: float) -> StepRecord:
    decision = Decision(song, False, "dwell: 2 s of 25 s played", "Joyful", song_started_at=started, cause="dwell")
    fused = Estimate(0.5, 0.5, 0.01, 0.01, "test")
    return StepRecord(now, 1, None, None, False, fused, True, fused, Stabilized(0.5, 0.5, False, False, 0.3), decision)


def test_the_dwell_is_the_playing_songs_and_a_lined_up_song_is_said_so():
    songs = SongMemory()
    step = step_on(PLAYING, 100.0, 105.0)
    songs.take(replace(NO_EVENTS, step=step))
    line = mood_line_of(step, 0.4, "match", songs, 110.0, PLAYING)
    assert line.detail.endswith("holding this song for 15 s more")  # counted to ``now``, not the step's time
    step = step_on(NEXT, 118.0, 118.0)  # the matcher lined up the next song at the "ending" notice
    songs.take(replace(NO_EVENTS, step=step))
    line = mood_line_of(step, 0.4, "match", songs, 119.0, PLAYING)
    assert line.detail.endswith("this song plays to its end, the next one is lined up")
    assert songs.dwell_left_s(PLAYING, 121.0) == 4.0  # the panel's countdown goes on for the song playing


def test_a_step_left_out_does_not_move_a_songs_start():
    """A step read after the source stopped is not drawn: its decision's start time is not taken either."""
    songs = SongMemory()
    songs.take(replace(NO_EVENTS, step=step_on(PLAYING, 100.0, 101.0)))
    songs.take(replace(NO_EVENTS, step=step_on(PLAYING, 110.0, 111.0)), with_step=False)
    assert songs.dwell_left_s(PLAYING, 120.0) == 5.0
    assert songs.dwell_left_s(NEXT, 120.0) is None
