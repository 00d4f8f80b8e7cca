"""Issue 21 (1, 5, 6): the matcher's reasons in the owner's words, one entry per kind of reason; issue 24 (5):
the words come from the decision's facts (its cause, its song's mood source, the variety rule, the day plan),
never from searching the reason's text."""

from __future__ import annotations

from dataclasses import replace

from moodsic_desktop.core.decision_words import REASON_WORDS, ReasonWords, doing_words, why_words
from moodsic_desktop.core.matcher import Decision, Matcher
from moodsic_desktop.core.song import Song, SongMood

SONG = Song("s", SongMood(0.2, 0.3), title="Open Window")


def test_each_reason_the_matcher_gives_has_plain_words_without_engineering_terms():
    songs = [
        Song(f"s{i}", SongMood(v, a), duration_s=40.0)
        for i, (v, a) in enumerate([(0.5, 0.5), (-0.5, -0.5), (0.4, 0.6)])
    ]
    matcher = Matcher(songs, min_dwell_s=10.0)
    decisions = [
        matcher.recommend(0.5, 0.5, 0.0),  # first pick
        matcher.recommend(0.5, 0.5, 5.0),  # dwell
        matcher.recommend(0.45, 0.55, 20.0),  # still the best fit
        matcher.recommend(-0.5, -0.5, 40.0),  # mood moved
        matcher.song_ended(50.0),
        matcher.skip(60.0),
    ]
    causes = [decision.cause for decision in decisions]
    assert causes == ["first pick", "dwell", "still the best fit", "mood moved", "song ended", "skipped by the user"]
    for decision in decisions:
        assert decision.reason.startswith(decision.cause)  # the engineer's words begin with the same kind
        words = why_words(replace(decision, station="Calm & quiet"))
        for jargon in ("hysteresis", "dwell", "nearest", ":", "0."):
            assert jargon not in words, (jargon, words)
    moved = "The room's mood changed, and this song fits it better among Calm & quiet"
    assert why_words(replace(decisions[3], station="Calm & quiet")) == moved


def test_a_song_whose_mood_was_estimated_says_so_plainly():
    estimated = Song("e", SongMood(0.0, 0.0, "estimated", 0.045, 0.045))
    decision = Matcher([estimated, SONG]).song_ended(0.0, 0.0, 0.0)
    assert decision.song is estimated and decision.station is None
    assert "its mood was estimated from the audio" in decision.reason
    said = "The last song ended; this one fits the mood best; its mood was guessed from its sound"
    assert why_words(decision) == said


def test_the_words_come_from_the_facts_not_from_the_reasons_text():
    """A reason that happens to hold another kind's words, "for variety" or "; the day plan " is not read."""
    tricky = "song ended: nearest song in Dwell for variety; the day plan said nothing"
    decision = Decision(SONG, True, tricky, None, cause="song ended")
    assert why_words(decision) == "The last song ended; this one fits the mood best"
    assert doing_words("dwell", "match", 12.0) == "holding this song for 12 s more"
    assert doing_words("song ended", "match", 12.0) == "the music is matching the mood"


def test_a_new_kind_of_reason_is_one_new_entry(monkeypatch):
    decision = Decision(SONG, True, "variety: a song from the next station over", None, cause="variety")
    assert doing_words(decision.cause, "match") == "the music is matching the mood"
    assert why_words(decision) == "Variety: a song from the next station over"  # shown as it is until worded
    monkeypatch.setitem(REASON_WORDS, "variety", ReasonWords("reaching past the mood for variety", "for variety"))
    assert doing_words(decision.cause, "match") == "reaching past the mood for variety"
    assert why_words(decision) == "For variety"


def test_holding_counts_down_then_follows_the_mode():
    assert doing_words("dwell", "uplift", 27.4) == "holding this song for 27 s more"
    assert doing_words("dwell", "uplift", None) == "the music is lifting it"
    assert doing_words(None, "calm") == "the music is calming it"


def test_variety_the_day_plan_and_no_picture_are_said_plainly():
    """The reasons the café-day work adds (variety, the day plan, no picture) read in plain words, not as the
    matcher's text."""
    ended = Decision(SONG, True, "nearest song in Joyful", "Warm & Relaxed", variety="past_station", cause="song ended")
    past = why_words(ended.with_day_plan("keeps it calm (Morning)"))
    assert past == (
        "The last song ended; this one fits the mood best among Warm & Relaxed; a little past the mood, for "
        "variety: the songs closest to it played lately; the day plan keeps it calm (Morning)"
    )
    oldest = why_words(replace(ended, variety="least_recent", station=None))
    assert oldest.endswith("fits the mood best; every song close to the mood played lately; this one longest ago")
    held = Decision(SONG, True, "song ended: nearest song in Joyful (dwell 25 s)", "Joyful", cause="song ended")
    held = held.because("no picture: for the last mood read", held.reason)
    assert held.reason == "no picture: for the last mood read: song ended: nearest song in Joyful (dwell 25 s)"
    assert why_words(held) == "There is no picture now; it fits the last mood read among Joyful"
    calm = Decision(SONG, True, "", None).because("no picture: for a calm mood", "nearest song")
    assert why_words(calm).endswith("it fits a calm, relaxed mood")
    planned = Decision(SONG, True, "", None).because("no picture: for the day plan's mood", "nearest song")
    assert why_words(planned).endswith("the day plan's mood")
    opening = Decision(SONG, True, "", None).because("opening time", "the nearest song for the day plan's mood")
    assert why_words(opening).startswith("The café opened")
    assert doing_words(calm.cause, "match") == "the music plays on without a picture"
