"""Issue 21 (10): the report told as a story: each song with its time span, the room's moods meanwhile in
words, and why it plays."""

from __future__ import annotations

from moodsic_desktop.core.report_story import clock, mood_runs, story_lines


def row(time: float, valence: float, arousal: float) -> dict:
    return {"time": time, "stabilized": {"valence": valence, "arousal": arousal}}


def test_each_song_is_told_with_its_span_the_moods_meanwhile_and_why():
    timeline = [row(t / 2, -0.5, -0.5) for t in range(40)] + [row(20 + t / 2, 0.6, 0.6) for t in range(80)]
    timeline.insert(5, {"time": 2.6, "stabilized": None})  # a step with nothing read is left out
    switches = [
        {"time": 0.0, "song_id": "1", "title": "Long Shadows", "station": "Downcast", "why": "The closest song"},
        {"time": 30.0, "song_id": "2", "title": "", "station": None, "why": "You skipped the last song"},
    ]
    lines = story_lines(timeline, switches)
    assert lines == [
        "0:00–0:30  Low and quiet, then cheerful and lively → “Long Shadows” (Downcast). Why: The closest song",
        "0:30–1:00  Cheerful and lively → “song 2”. Why: You skipped the last song",
    ]


def test_a_passing_mood_is_left_out_unless_it_is_the_only_one():
    timeline = [row(t, 0.6, 0.6) for t in range(10)] + [row(10 + t / 4, -0.7, 0.0) for t in range(4)]
    timeline += [row(11 + t, 0.6, 0.6) for t in range(10)]
    assert mood_runs(timeline, 0.0, 21.0) == ["Cheerful and lively"]
    assert mood_runs(timeline, 10.0, 11.0) == ["Unhappy"]
    assert mood_runs(timeline, 100.0, 200.0) == []
    assert clock(65.4) == "1:05" and clock(-1) == "0:00"
