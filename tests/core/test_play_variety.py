"""The variety figures of the session metrics (core/metrics.py ``PlayVariety``): distinct songs per hour,
repeat gaps, A-B-A-B returns; flat memory over a long run."""

from __future__ import annotations

import tracemalloc

import pytest

from moodsic_desktop.core.metrics import MAX_HOURS, PlayVariety, SessionMetrics


def test_the_figures_of_a_small_run_by_hand():
    variety = PlayVariety()
    assert variety.summary() == {
        "plays": 0,
        "distinct_songs": 0,
        "distinct_songs_per_hour": None,
        "repeat_gap_s": None,
        "ping_pongs": 0,
    }
    # hour 0: a b a b c (one A-B-A-B), hour 1: c d, hour 2 (not complete): a
    for time, song in [(0, "a"), (600, "b"), (1200, "a"), (1800, "b"), (2400, "c"), (3700, "c"), (4000, "d")]:
        variety.add(song, float(time))
    variety.add("a", 7300.0)
    summary = variety.summary()
    assert summary["plays"] == 8 and summary["distinct_songs"] == 4
    assert summary["distinct_songs_per_hour"] == {"hours": 2, "min": 2, "mean": 2.5}
    # gaps: a 1200, b 1200, c 1300, a 6100
    assert summary["repeat_gap_s"] == {"count": 4, "min": 1200.0, "mean": pytest.approx(9800 / 4), "max": 6100.0}
    assert summary["ping_pongs"] == 1


def test_an_hour_without_music_counts_as_zero_songs():
    variety = PlayVariety()
    variety.add("a", 0.0)
    variety.add("b", 3 * 3600.0 + 1.0)
    assert variety.summary()["distinct_songs_per_hour"] == {"hours": 3, "min": 0, "mean": 1 / 3}


def test_session_metrics_report_the_plays_they_are_given():
    metrics = SessionMetrics()
    metrics.add_play("x", 10.0)
    metrics.add_play("y", 70.0)
    metrics.add_play("x", 130.0)
    variety = metrics.summary()["variety"]
    assert variety["plays"] == 3 and variety["repeat_gap_s"]["max"] == 120.0


def test_memory_stays_flat_over_weeks_of_plays():
    """Three weeks of a song a minute from 40 songs: the memory after the first day does not grow."""
    variety = PlayVariety()
    tracemalloc.start()
    try:
        minute = 0
        for day in range(21):
            for _ in range(24 * 60):
                variety.add(f"song{minute % 40}", minute * 60.0)
                minute += 1
            if day == 0:
                after_first_day = tracemalloc.get_traced_memory()[0]
        growth = tracemalloc.get_traced_memory()[0] - after_first_day
    finally:
        tracemalloc.stop()
    assert growth < 200_000, growth  # 20 days of hourly counts: 480 small ints, well under MAX_HOURS
    assert variety.summary()["distinct_songs_per_hour"]["hours"] == min(21 * 24 - 1, MAX_HOURS)
