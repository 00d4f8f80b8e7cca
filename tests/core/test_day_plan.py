"""The day plan's rules (core/day_plan.py): opening hours with and without wrapping past midnight, parts of
the day that never overlap, the target bent into a part's range with the reading inside it, the mood when
nothing can be read, and the JSON round trip with plain-word refusals."""

from __future__ import annotations

import datetime
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moodsic_desktop.core.day_plan import (
    FOLLOW_THE_ROOM,
    MINUTES_PER_DAY,
    MOOD_LEANS,
    DayPlan,
    MoodLean,
    PlanState,
    Span,
    TimeBlock,
    format_hhmm,
    minute_of_day,
    parse_hhmm,
)

unit = st.floats(-1.0, 1.0)
minute = st.floats(0.0, MINUTES_PER_DAY, exclude_max=True)


def test_minutes_of_the_day_and_hhmm():
    assert minute_of_day(datetime.time(7, 30, 30)) == 450.5
    assert minute_of_day(datetime.datetime(2026, 12, 7, 23, 59)) == 1439
    assert parse_hhmm("7:05") == 425 and parse_hhmm("24:00") == 1440 and format_hhmm(1440) == "24:00"
    for bad in ("25:00", "12:60", "noon", "12", "12:5", 720, None, "24:01"):
        with pytest.raises(ValueError, match="time"):
            parse_hhmm(bad)


def test_opening_hours_may_wrap_past_midnight():
    bar = DayPlan(Span(parse_hhmm("18:00"), parse_hhmm("02:00")))
    assert bar.is_open(18 * 60) and bar.is_open(23 * 60 + 59.9) and bar.is_open(0) and bar.is_open(119.9)
    assert not bar.is_open(120) and not bar.is_open(17 * 60 + 59.9)
    assert bar.state_at(12 * 60) == PlanState(open=False, block=None, opens_at=18 * 60)
    assert DayPlan().is_open(0) and DayPlan().is_default


@given(start=st.integers(0, 1439), length=st.integers(1, 1439), at=minute)
def test_a_span_holds_exactly_its_minutes(start, length, at):
    span = Span(start, (start + length) % MINUTES_PER_DAY or MINUTES_PER_DAY)
    assert span.length == length
    inside = (at - start) % MINUTES_PER_DAY < length
    assert span.contains(at) == inside
    assert sum(span.contains(m) for m in range(MINUTES_PER_DAY)) == length


def test_spans_refuse_empty_and_out_of_day_times():
    for start, end in ((600, 600), (0, 1440), (-1, 10), (10, 1441), (1.5, 10), (True, 10)):
        with pytest.raises(ValueError):
            Span(start, end)


def test_overlapping_parts_are_refused_naming_both():
    a = TimeBlock("Morning", Span(480, 660))
    b = TimeBlock("Brunch", Span(600, 720))
    with pytest.raises(ValueError, match=r"“Morning” .* and “Brunch” .* overlap"):
        DayPlan(None, (b, a))
    night = TimeBlock("Night", Span(1380, 60))
    early = TimeBlock("Early", Span(30, 90))
    with pytest.raises(ValueError, match="overlap"):
        DayPlan(None, (night, early))
    plan = DayPlan(None, (b, TimeBlock("Morning", Span(480, 600))))  # touching is fine; kept in order
    assert [block.name for block in plan.blocks] == ["Morning", "Brunch"]


@given(v=unit, a=unit, at=minute)
def test_outside_parts_the_target_is_the_reading_untouched(v, a, at):
    plan = DayPlan(None, (TimeBlock("Follow", Span(600, 700)),))
    assert plan.target(v, a, at) == (v, a)
    assert DayPlan().target(v, a, at) == (v, a) and DayPlan().mood_when_unread(at) == (0.0, 0.0)


@given(v=unit, a=unit, lean=st.sampled_from(sorted(MOOD_LEANS)))
def test_a_part_keeps_the_target_in_its_range_and_moves_with_the_room(v, a, lean):
    mood = MOOD_LEANS[lean]
    plan = DayPlan(None, (TimeBlock("Part", Span(0, 1440 - 1), 0.5, mood),))
    tv, ta = plan.target(v, a, 100)
    assert mood.valence[0] <= tv <= mood.valence[1] and mood.arousal[0] <= ta <= mood.arousal[1]
    assert tv == min(mood.valence[1], max(mood.valence[0], v + mood.valence_shift))
    assert ta == min(mood.arousal[1], max(mood.arousal[0], a + mood.arousal_shift))
    # monotone: a happier, busier room never gives a sadder, calmer target
    tv2, ta2 = plan.target(min(1.0, v + 0.3), min(1.0, a + 0.3), 100)
    assert tv2 >= tv and ta2 >= ta
    middle = plan.mood_when_unread(100)
    assert mood.valence[0] <= middle[0] <= mood.valence[1] and mood.arousal[0] <= middle[1] <= mood.arousal[1]


def test_the_words_of_a_calm_morning():
    calm = MOOD_LEANS["calm"]
    plan = DayPlan(Span(420, 1320), (TimeBlock("Morning", Span(480, 660), 0.4, calm),))
    assert plan.target(0.5, 0.6, 500) == (0.5, 0.0)
    assert plan.target(-0.5, -0.6, 500) == (-0.5, pytest.approx(-0.8))
    assert plan.mood_when_unread(500) == (0.0, -0.7)
    assert plan.state_at(500).words() == "Morning: the day plan keeps it calm, volume 40 %"
    assert plan.state_at(700).words() == ""
    assert plan.state_at(1400).words() == "Closed until 07:00: the music is off"
    assert plan.describe() == ["Opening hours: open 07:00–22:00", "  Morning, 08:00–11:00: calm, volume 40 %"]
    assert FOLLOW_THE_ROOM.follows_the_room and not calm.follows_the_room


def test_mood_leans_and_blocks_validate_their_numbers():
    with pytest.raises(ValueError, match="valence range"):
        MoodLean("x", "y", valence=(0.5, 0.2))
    with pytest.raises(ValueError, match="arousal range"):
        MoodLean("x", "y", arousal=(-1.5, 0.0))
    with pytest.raises(ValueError, match="shift"):
        MoodLean("x", "y", valence_shift=math.nan)
    with pytest.raises(ValueError, match="volume"):
        TimeBlock("Loud", Span(0, 60), 1.5)
    with pytest.raises(ValueError, match="name"):
        TimeBlock("  ", Span(0, 60))


blocks = st.lists(
    st.builds(
        lambda n, start, length, volume, lean: TimeBlock(
            f"Part {n}", Span(start, min(start + length, 1440)), volume, MOOD_LEANS[lean]
        ),
        st.integers(1, 99),
        st.integers(0, 1430),
        st.integers(1, 300),
        st.none() | st.floats(0.0, 1.0),
        st.sampled_from(sorted(MOOD_LEANS)),
    ),
    max_size=4,
)


@given(blocks=blocks, opens=st.none() | st.tuples(st.integers(0, 1439), st.integers(1, 1439)))
def test_json_round_trip(blocks, opens):
    hours = None if opens is None else Span(opens[0], (opens[0] + opens[1]) % 1440)
    try:
        plan = DayPlan(hours, tuple(blocks))
    except ValueError:
        return  # overlapping parts: refused, tested above
    assert DayPlan.from_json(plan.to_json()) == plan


def test_a_custom_range_round_trips_and_a_named_one_is_found_by_its_numbers():
    custom = {"valence": [0.2, 0.8], "arousal": [-0.5, 0.5], "shift": [0.1, 0]}
    plan = DayPlan.from_json({"blocks": [{"name": "Tea", "start": "15:00", "end": "17:00", "mood": custom}]})
    block = plan.blocks[0]
    assert block.mood.name == "custom" and block.mood.valence == (0.2, 0.8) and block.volume is None
    assert DayPlan.from_json(plan.to_json()) == plan
    calm = {"arousal": [-1, 0], "shift": [0, -0.2]}
    named = DayPlan.from_json({"blocks": [{"name": "Tea", "start": "15:00", "end": "17:00", "mood": calm}]})
    assert named.blocks[0].mood is MOOD_LEANS["calm"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be an object"),
        ({"opening_hours": {"opens": "08:00"}}, "opening hours must be"),
        ({"opening_hours": {"opens": "08:00", "closes": "08:00"}}, "are empty"),
        ({"opening_hours": {"opens": "8am", "closes": "22:00"}}, "opening time"),
        ({"blocks": {}}, "must be a list"),
        ({"blocks": [{"name": "Lunch", "start": "12:00"}]}, "part 1 of the day has no end"),
        ({"blocks": [{"name": "Lunch", "start": "12:00", "end": "13:00", "volume": "loud"}]}, "“Lunch”: the volume"),
        ({"blocks": [{"name": "Lunch", "start": "12:00", "end": "13:00", "volume": 2}]}, "“Lunch”: the volume"),
        ({"blocks": [{"name": "Lunch", "start": "12:00", "end": "13:00", "mood": "sad"}]}, "“Lunch”: the mood 'sad'"),
        ({"blocks": [{"name": "Lunch", "start": "12:00", "end": "13:00", "mood": {"valence": [1, 0]}}]}, "valence"),
        ({"blocks": [{"name": "Lunch", "start": "12:00", "end": "13:00", "colour": 1}]}, "unknown fields"),
        ({"blocks": [{"name": "Lunch", "start": "12:00", "end": "12:00"}]}, "empty"),
        ({"holiday": True}, "unknown fields"),
    ],
)
def test_damaged_plans_are_refused_in_plain_words(data, message):
    with pytest.raises(ValueError, match=message):
        DayPlan.from_json(data)
