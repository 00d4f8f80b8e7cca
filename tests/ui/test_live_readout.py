"""Issue 21 (1, 3): the mood line's "what the music does" is about the song that plays."""

from __future__ import annotations

from moodsic_desktop.core.library import Song
from moodsic_desktop.core.matcher import Decision
from moodsic_desktop.core.pipeline import StepRecord
from moodsic_desktop.core.stabilizer import Stabilized
from moodsic_desktop.core.types import Estimate
from moodsic_desktop.ui.live_readout import LiveReadout

PLAYING, NEXT = Song("1", 0.5, 0.5, title="Open Window"), Song("2", 0.6, 0.5, title="Bright Market")


def step_on(song: Song, started: float, now: float) -> StepRecord:
    decision = Decision(song, False, "dwell: 2 s of 25 s played", "Joyful", song_started_at=started, cause="dwell")
    fused = Estimate(0.5, 0.5, 0.01, 0.01, "test")
    return StepRecord(now, 1, None, None, False, fused, True, fused, Stabilized(0.5, 0.5, False, False, 0.3), decision)


def test_the_dwell_is_the_playing_songs_and_a_lined_up_song_is_said_so():
    readout = LiveReadout()
    readout.take_step(step_on(PLAYING, 100.0, 105.0))
    line = readout.mood_words(0.4, "match", 25.0, 110.0, PLAYING)
    assert line.detail.endswith("holding this song for 15 s more")  # counted to ``now``, not the step's time
    readout.take_step(step_on(NEXT, 118.0, 118.0))  # the matcher lined up the next song at the "ending" notice
    line = readout.mood_words(0.4, "match", 25.0, 119.0, PLAYING)
    assert line.detail.endswith("this song plays to its end, the next one is lined up")
    assert readout.dwell_left_s(PLAYING, 25.0, 121.0) == 4.0  # the panel's countdown goes on for the song playing
