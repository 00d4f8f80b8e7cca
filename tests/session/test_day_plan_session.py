"""The session follows the day plan by an injected wall clock: silent outside opening hours and back at
opening, each part of the day's volume as it begins and the owner's after it, the target bent into the
part's range with the room's reading inside it, and the default plan changing nothing."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from moodsic_desktop.core.day_plan import MOOD_LEANS, DayPlan, Span, TimeBlock, minute_of_day
from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.pipeline import Pipeline
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.session.playback import CLOSING_FADE_S, PlaybackSession
from tests.session.test_playback import FRAME, FakeAudio, SceneReader, make_songs

DAY = datetime.date(2026, 12, 7)


class WallClock:
    """Local date and time, set by the test."""

    def __init__(self, hour: int, minute: int = 0) -> None:
        self.now = datetime.datetime.combine(DAY, datetime.time(hour, minute))

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += datetime.timedelta(minutes=minutes)


def hhmm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


CAFE = DayPlan(
    Span(hhmm("07:00"), hhmm("22:00")),
    (
        TimeBlock("Morning", Span(hhmm("08:00"), hhmm("11:00")), 0.4, MOOD_LEANS["calm"]),
        TimeBlock("Lunch", Span(hhmm("12:00"), hhmm("14:00")), None, MOOD_LEANS["lively"]),
    ),
)


def make(plan: DayPlan | None, wall: WallClock, scene: SceneReader | None = None):
    library = MusicLibrary(songs=make_songs(None), origin="test songs", stations=None)
    pipeline = Pipeline(None, None, scene or SceneReader(0.5, 0.5), Stabilizer(1.0, 1.0), Matcher(library.songs))
    audio = FakeAudio()
    session = PlaybackSession(
        pipeline, library, audio=audio, clock=lambda: 0.0, day_plan=plan, wall_clock=wall, fallback=lambda: library
    )
    return session, audio


class Runner:
    """Steps the session once per simulated second while the wall clock runs on with it."""

    def __init__(self, session: PlaybackSession, wall: WallClock) -> None:
        self.session, self.wall, self.t = session, wall, 0.0

    def run(self, minutes: float, step_s: float = 30.0):
        snapshots = []
        for _ in range(round(minutes * 60 / step_s)):
            self.t += step_s
            self.wall.advance(step_s / 60)
            snapshots.append(self.session.step(FRAME, self.t))
        return snapshots


def test_no_sound_outside_opening_hours_and_the_music_is_back_at_opening():
    wall = WallClock(21, 50)
    session, audio = make(CAFE, wall)
    runner = Runner(session, wall)
    open_snapshots = runner.run(9.5)
    assert (
        open_snapshots[-1].day_plan.open and ("crossfade", open_snapshots[0].decisions[0].song.song_id) in audio.calls
    )
    audio.calls.clear()
    closed = runner.run(60)  # 21:59:30 → 22:59:30
    assert audio.calls[0] == ("stop", f"{CLOSING_FADE_S}")
    assert audio.calls == [("stop", f"{CLOSING_FADE_S}")], "nothing plays once closed"
    assert all(not s.day_plan.open and s.step is None and not s.decisions for s in closed[1:])
    assert closed[-1].day_plan.words() == "Closed until 07:00: the music is off"
    session.skip()  # a skip in the night plays nothing
    session.song_ending(None)
    assert audio.calls == [("stop", f"{CLOSING_FADE_S}")] and not session.snapshot().decisions

    audio.calls.clear()
    wall.now = datetime.datetime.combine(DAY + datetime.timedelta(days=1), datetime.time(6, 59, 59))
    session.idle()
    assert audio.calls == []
    wall.advance(1 / 60)  # 07:00:00: the café opens; no picture is needed for the music to start
    session.idle()
    assert session.has_events
    snapshot = session.snapshot()
    assert snapshot.day_plan.open and [c[0] for c in audio.calls] == ["crossfade"]
    assert snapshot.decisions[0].reason.startswith("opening time:")
    assert runner.run(5)[-1].step is not None  # the reading runs again


def test_each_part_of_the_day_sets_its_volume_and_the_owner_volume_comes_back_after_it():
    wall = WallClock(7, 50)
    session, audio = make(CAFE, wall)
    audio.volume = 0.8  # the window sets the engine from its slider, then tells the session
    session.apply({"volume": 0.8})
    runner = Runner(session, wall)
    runner.run(5)
    assert audio.volume == 0.8
    runner.run(10)  # 08:05
    assert audio.volume == 0.4
    audio.volume = 0.55  # the owner turns it by hand during the morning: it holds
    runner.run(60)
    assert audio.volume == 0.55
    runner.run(120)  # 11:05: the morning is over
    assert audio.volume == 0.8
    runner.run(60)  # 12:05: lunch has no volume of its own
    assert audio.volume == 0.8


def test_a_part_of_the_day_bends_the_target_with_the_room_inside_its_range():
    wall = WallClock(7, 30)
    scene = SceneReader(0.5, 0.5)
    session, _ = make(CAFE, wall, scene)
    runner = Runner(session, wall)
    before = runner.run(10)[-1]
    assert before.day_plan.block is None and before.step.decision.target == (0.5, 0.5)
    morning = runner.run(30)  # 08:10
    decision = morning[-1].step.decision
    assert morning[-1].day_plan.block.name == "Morning"
    assert decision.target == (0.5, 0.0), "calm: arousal clipped to at most 0; valence follows the room"
    in_morning = [s for s in morning if s.day_plan.block is not None]
    assert len(in_morning) == 21 and all(s.step.decision.target[1] <= 0.0 for s in in_morning)
    scene.mood = (-0.6, -0.4)  # the room changes: the music follows inside the range
    moved = runner.run(2)
    assert moved[-1].step.decision.target == pytest.approx((-0.6, -0.6))
    plays = [d for s in moved for d in s.decisions]
    assert plays and all("the day plan keeps it calm (Morning)" in d.reason for d in plays)
    words = morning[-1].day_plan.words()
    assert words == "Morning: the day plan keeps it calm, volume 40 %"


def test_the_default_plan_changes_nothing_at_any_hour():
    def decisions(plan: DayPlan | None, hour: int):
        wall = WallClock(hour)
        session, audio = make(plan, wall, SceneReader(0.3, -0.2))
        runner = Runner(session, wall)
        snapshots = runner.run(30)
        return [(s.step.decision.song.song_id, s.step.decision.reason, s.step.decision.target) for s in snapshots], [
            c for c in audio.calls if c[0] != "crossfade"
        ]

    baseline, _ = decisions(None, 3)
    for hour in (0, 8, 23):
        same, other_calls = decisions(DayPlan(), hour)
        assert same == baseline and other_calls == []


def test_a_new_plan_applies_at_once():
    wall = WallClock(9)
    session, audio = make(DayPlan(), wall)
    audio.volume = 0.7
    session.apply({"volume": 0.7})
    Runner(session, wall).run(1)
    assert audio.calls and audio.volume == 0.7
    session.apply({"day_plan": CAFE})
    assert audio.volume == 0.4 and session.snapshot().day_plan.block.name == "Morning"
    session.apply({"day_plan": DayPlan(Span(hhmm("10:00"), hhmm("18:00")))})  # closed now, until 10:00
    assert audio.calls[-1][0] == "stop"
    assert not session.snapshot().day_plan.open


def test_the_plan_mood_when_nothing_can_be_read():
    wall = WallClock(9)
    session, _ = make(CAFE, wall)
    assert session.plan.mood_when_unread() == MOOD_LEANS["calm"].middle() == (0.0, -0.7)
    wall.now = wall.now.replace(hour=15)
    assert session.plan.mood_when_unread() == (0.0, 0.0)


class RecordingAudio(FakeAudio):
    """Notes the wall-clock minute of every call that makes sound."""

    def __init__(self, wall: WallClock) -> None:
        super().__init__()
        self.wall = wall
        self.sounding: list[float] = []

    def crossfade_to(self, song) -> None:
        super().crossfade_to(song)
        self.sounding.append(minute_of_day(self.wall.now))

    def queue_next(self, song) -> None:
        super().queue_next(song)
        self.sounding.append(minute_of_day(self.wall.now))


@settings(max_examples=15, deadline=None)
@given(
    opens=st.integers(0, 1439),
    hours=st.integers(1, 1439),
    moods=st.lists(st.tuples(st.floats(-1, 1), st.floats(-1, 1)), min_size=1, max_size=6),
    endings=st.lists(st.integers(0, 287), max_size=10),
)
@example(opens=656, hours=1435, moods=[(0.0, 0.0)], endings=[131])  # a song ends just as the café closes
def test_sound_only_inside_opening_hours_over_a_whole_day(opens, hours, moods, endings):
    plan = DayPlan(Span(opens, (opens + hours) % 1440 or 1440), CAFE.blocks)
    wall = WallClock(0)
    scene = SceneReader()
    library = MusicLibrary(songs=make_songs(None), origin="test songs", stations=None)
    pipeline = Pipeline(None, None, scene, Stabilizer(1.0, 1.0), Matcher(library.songs, min_dwell_s=0.0))
    audio = RecordingAudio(wall)
    session = PlaybackSession(pipeline, library, audio=audio, clock=lambda: 0.0, day_plan=plan, wall_clock=wall)
    opened = 0
    for n in range(288):  # every five minutes of one day
        scene.mood = moods[n % len(moods)]
        if n in endings:
            session.song_ending(session.pipeline.matcher.current)
        session.step(FRAME, n * 300.0)
        opened += session.snapshot().day_plan.open
        wall.advance(5)
    assert opened == sum(plan.is_open(n * 5) for n in range(288))
    assert bool(audio.sounding) == (opened > 0), "the music plays while open"
    assert all(plan.is_open(minute) for minute in audio.sounding)


def test_the_window_pushing_its_volume_at_start_does_not_override_the_part_of_the_day():
    wall = WallClock(9)
    session, audio = make(CAFE, wall)
    session.idle()  # the worker's first round: the morning's volume
    assert audio.volume == 0.4
    audio.volume = 0.8  # the window sets the engine from its slider at start…
    session.apply({"volume": 0.8})  # …and then tells the session
    assert audio.volume == 0.4
    audio.volume = 0.7  # a hand on the slider later holds
    session.apply({"volume": 0.7})
    assert audio.volume == 0.7
    wall.now = wall.now.replace(hour=11, minute=30)
    session.idle()
    assert audio.volume == 0.7  # after the morning: the owner's


def test_a_part_sets_its_volume_as_it_begins_even_after_a_hand_on_the_slider():
    same_volume = DayPlan(
        None,
        (
            TimeBlock("Morning", Span(hhmm("08:00"), hhmm("11:00")), 0.4),
            TimeBlock("Brunch", Span(hhmm("11:00"), hhmm("13:00")), 0.4),
        ),
    )
    wall = WallClock(9)
    session, audio = make(same_volume, wall)
    audio.volume = 0.8
    session.apply({"volume": 0.8})
    session.idle()
    assert audio.volume == 0.4
    audio.volume = 0.55  # the owner turns it up during the morning
    session.apply({"volume": 0.55})
    wall.now = wall.now.replace(hour=11, minute=1)
    session.idle()
    assert audio.volume == 0.4  # brunch begins: its own volume
    wall.now = wall.now.replace(hour=13, minute=1)
    session.idle()
    assert audio.volume == 0.55  # the owner's after it
