"""Issue 21 (1, 5, 6): the matcher's reasons in the owner's words, one entry per kind of reason."""

from __future__ import annotations

from moodsic_desktop.core.decision_words import REASON_WORDS, ReasonWords, doing_words, reason_kind, why_words
from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.song import Song, SongMood


def test_each_reason_the_matcher_gives_has_plain_words_without_engineering_terms():
    songs = [
        Song(f"s{i}", SongMood(v, a), duration_s=40.0)
        for i, (v, a) in enumerate([(0.5, 0.5), (-0.5, -0.5), (0.4, 0.6)])
    ]
    matcher = Matcher(songs, min_dwell_s=10.0)
    reasons = [
        matcher.recommend(0.5, 0.5, 0.0).reason,  # first pick
        matcher.recommend(0.5, 0.5, 5.0).reason,  # dwell
        matcher.recommend(0.45, 0.55, 20.0).reason,  # still the best fit
        matcher.recommend(-0.5, -0.5, 40.0).reason,  # mood moved
        matcher.song_ended(50.0).reason,
        matcher.skip(60.0).reason,
    ]
    kinds = [reason_kind(reason) for reason in reasons]
    assert kinds == ["first pick", "dwell", "still the best fit", "mood moved", "song ended", "skipped by the user"]
    for reason in reasons:
        words = why_words(reason, "Calm & quiet")
        for jargon in ("hysteresis", "dwell", "nearest", ":", "0."):
            assert jargon not in words, (jargon, words)
    moved = "The room's mood changed, and this song fits it better among Calm & quiet"
    assert why_words(reasons[3], "Calm & quiet") == moved


def test_a_song_whose_mood_was_estimated_says_so_plainly():
    reason = "song ended: nearest other song in X; its mood was estimated from the audio (±0.21)"
    assert why_words(reason) == "The last song ended; this one fits the mood best; its mood was guessed from its sound"


def test_a_new_kind_of_reason_is_one_new_entry(monkeypatch):
    reason = "variety: a song from the next station over"
    assert reason_kind(reason) is None and doing_words(reason, "match") == "the music is matching the mood"
    assert why_words(reason) == "Variety: a song from the next station over"  # shown as it is until worded
    monkeypatch.setitem(REASON_WORDS, "variety", ReasonWords("reaching past the mood for variety", "for variety"))
    assert doing_words(reason, "match") == "reaching past the mood for variety"
    assert why_words(reason) == "For variety"


def test_holding_counts_down_then_follows_the_mode():
    assert doing_words("dwell: 3 s of 30 s played", "uplift", 27.4) == "holding this song for 27 s more"
    assert doing_words("dwell: 3 s of 30 s played", "uplift", None) == "the music is lifting it"
    assert doing_words(None, "calm") == "the music is calming it"


def test_variety_the_day_plan_and_no_picture_are_said_plainly():
    """The reasons the café-day work adds (variety, the day plan, no picture) read in plain words, not as the
    matcher's text."""
    past = why_words(
        "song ended: nearest song in Joyful; reached past Joyful for variety: its songs near the mood played in "
        "the last 12 min; the day plan keeps it calm (Morning)",
        "Warm & Relaxed",
    )
    assert past == (
        "The last song ended; this one fits the mood best among Warm & Relaxed; a little past the mood, for "
        "variety: the songs closest to it played lately; the day plan keeps it calm (Morning)"
    )
    held = why_words("no picture: for the last mood read: song ended: nearest song in Joyful (dwell 25 s)", "Joyful")
    assert held == "There is no picture now; it fits the last mood read among Joyful"
    assert why_words("no picture: for a calm mood: nearest song", None).endswith("it fits a calm, relaxed mood")
    assert why_words("no picture: for the day plan's mood: nearest song").endswith("the day plan's mood")
    assert why_words("opening time: the nearest song for the day plan's mood").startswith("The café opened")
    assert doing_words("no picture: for a calm mood: nearest song", "match") == "the music plays on without a picture"
