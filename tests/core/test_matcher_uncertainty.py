"""The matcher counts an estimated mood point with its uncertainty, and says so in its reason."""

import math

import pytest

from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.song import Song, SongMood


def test_a_well_placed_song_beats_a_vague_guess_at_the_same_distance():
    guess = Song("guess", SongMood(0.3, 0.0, "estimated", 0.25, 0.25))
    rated = Song("rated", SongMood(-0.3, 0.0))
    for order in ([guess, rated], [rated, guess]):  # not decided by the order of the library
        decision = Matcher(order).recommend(0.0, 0.0, now=0.0)
        assert decision.song.song_id == "rated"
        assert [s.song_id for s in decision.candidates] == ["rated", "guess"]
        assert "estimated" not in decision.reason


def test_a_guess_that_is_clearly_closer_still_wins_and_the_reason_says_it_was_estimated():
    guess = Song("guess", SongMood(0.05, 0.0, "estimated", 0.1**2, 0.1**2))
    rated = Song("rated", SongMood(0.6, 0.0))
    decision = Matcher([rated, guess]).recommend(0.0, 0.0, now=0.0)
    assert decision.song.song_id == "guess"
    assert "estimated from the audio (±0.10)" in decision.reason
    assert decision.distance == pytest.approx(0.05)  # the reported distance is the point's own


def test_ranking_follows_the_expected_distance():
    # Expected distance sqrt(d² + variance): 0.5 for both, then 0.1 more for the third.
    songs = [
        Song("far-exact", SongMood(0.5, 0.0)),
        Song("near-vague", SongMood(0.3, 0.0, "estimated", 0.08, 0.08)),
        Song("worse", SongMood(0.0, math.sqrt(0.6**2 - 0.09), "estimated", 0.045, 0.045)),
    ]
    decision = Matcher(songs, top_k=3).recommend(0.0, 0.0, now=0.0)
    assert [s.song_id for s in decision.candidates] == ["far-exact", "near-vague", "worse"]


def test_hysteresis_compares_expected_distances():
    current = Song("current", SongMood(0.0, 0.0))
    vague = Song("vague", SongMood(0.5, 0.0, "estimated", 0.15, 0.15))
    m = Matcher([current, vague], min_dwell_s=0.0, hysteresis=0.15, recent_k=0)
    assert m.recommend(0.0, 0.0, 0.0).song.song_id == "current"
    # At 0.5 the guess sits on the target, but its expected distance sqrt(0.3) = 0.55 is no better than 0.5.
    decision = m.recommend(0.5, 0.0, 1.0)
    assert not decision.switched and decision.song.song_id == "current"
    decision = m.recommend(0.9, 0.0, 2.0)  # 0.9 from current, sqrt(0.16 + 0.3) = 0.68 from the guess
    assert decision.switched and decision.song.song_id == "vague" and "estimated" in decision.reason
