"""EngineListeners: every listener hears every notice, in order; the first song answered is the answer; one
listener that raises does not keep a notice from the others."""

from __future__ import annotations

import logging

from moodsic_desktop.audio.listener import EngineListener, EngineListeners
from moodsic_desktop.core.song import Song, SongMood
from tests.audio.engine_rig import Recorder

A, B = Song("a", SongMood(0.0, 0.0)), Song("b", SongMood(0.0, 0.0))


class Broken(EngineListener):
    def song_started(self, song: Song) -> None:
        raise RuntimeError("a listener bug")

    def next_song(self, after: Song | None, remaining_s: float) -> Song | None:
        raise RuntimeError("a listener bug")


def test_every_listener_hears_every_notice_and_the_first_answer_counts():
    silent, answering, also = Recorder(), Recorder([B]), Recorder([A])
    listeners = EngineListeners(silent, answering, also)
    assert listeners.next_song(A, 2.0) is B  # the first song answered; every listener was asked
    listeners.song_started(B)
    listeners.song_failed(A, "not audio")
    listeners.playback_stopped()
    listeners.status_changed("Playing through the speakers")
    expected_tail = [
        ("song_started", "b"),
        ("song_failed", "a", "not audio"),
        ("playback_stopped",),
        ("status_changed", "Playing through the speakers"),
    ]
    assert silent.events == [("next_song", "a", 2.0, None), *expected_tail]
    assert answering.events == [("next_song", "a", 2.0, "b"), *expected_tail]
    assert also.events == [("next_song", "a", 2.0, "a"), *expected_tail]


def test_a_listener_that_raises_is_logged_and_the_others_still_hear(caplog):
    after = Recorder([B])
    listeners = EngineListeners(Broken(), after)
    with caplog.at_level(logging.ERROR, logger="moodsic_desktop.audio.listener"):
        assert listeners.next_song(A, 1.0) is B
        listeners.song_started(A)
    assert after.events == [("next_song", "a", 1.0, "b"), ("song_started", "a")]
    assert len(caplog.records) == 2 and "a listener bug" in caplog.text
