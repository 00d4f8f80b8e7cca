"""``DayPlanFollower``: the day plan (``core.day_plan``) read against the local wall clock, step by step, and
what the session must do about it: open or close, the part of the day in force, the volume to set.

The rules are in ``core.day_plan``; this class only remembers what it told the session last, so that each
change is told once: ``opened``/``closed`` when the opening hours begin or end, ``volume`` when a part of
the day begins (its own volume) or ends (the owner's volume again). The owner's volume (0..1) comes from
the window's Volume slider (``set_owner_volume``); a block's volume holds until the next change, so the
owner may still turn the sound up or down by hand in between.

Threads: not thread-safe; the session's owner thread calls it. The wall clock is injected
(``wall_clock``, default ``datetime.datetime.now``: local time), so tests run a day in milliseconds.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from moodsic_desktop.core.day_plan import DayPlan, PlanState, minute_of_day


@dataclass(frozen=True)
class PlanChange:
    """What the plan says now (``state``) and what changed since the last ``follow``: ``opened``,
    ``closed``, ``volume`` (0..1) to set now or None, and ``changed`` (the state differs at all)."""

    state: PlanState
    changed: bool = False
    opened: bool = False
    closed: bool = False
    volume: float | None = None


class DayPlanFollower:
    """Follows ``plan`` (default: the default plan, which never changes anything) by ``wall_clock``."""

    def __init__(
        self, plan: DayPlan | None = None, wall_clock: Callable[[], datetime.datetime] = datetime.datetime.now
    ) -> None:
        self.wall_clock = wall_clock
        self._plan = plan if plan is not None else DayPlan()
        self._state: PlanState | None = None  # what was told last; None: nothing yet
        self._new_plan = False  # the plan was replaced: the next follow tells its state as a change
        self._owner_volume: float | None = None
        self._volume_set: float | None = None  # the last volume this follower asked for

    @property
    def plan(self) -> DayPlan:
        return self._plan

    @plan.setter
    def plan(self, plan: DayPlan) -> None:
        """A new plan: the next ``follow`` tells what it changes, as if its state were new."""
        self._plan = plan
        self._new_plan = True
        self._volume_set = None  # the new plan's volume (or the owner's) is set again

    @property
    def state(self) -> PlanState:
        """What the plan says now (without telling a change)."""
        return self._plan.state_at(self.minute())

    def minute(self) -> float:
        """Minutes since local midnight now, by the wall clock."""
        return minute_of_day(self.wall_clock())

    @property
    def owner_volume(self) -> float | None:
        """The owner's volume (0..1) as last told, or None before the window told it."""
        return self._owner_volume

    def set_owner_volume(self, volume: float) -> float | None:
        """The owner's volume (0..1): what plays outside parts of the day that have their own. Returns the
        volume to set now, or None: the first owner's volume (the window pushing its slider at start, after
        it set the engine) does not override the part of the day in force; later ones do (a hand on the
        slider)."""
        first = self._owner_volume is None
        self._owner_volume = volume
        self._volume_set = volume  # the window has set the engine to it
        state = self._state
        if first and state is not None and state.open and state.volume is not None:
            self._volume_set = state.volume
            return state.volume
        return None

    def mood_when_unread(self) -> tuple[float, float]:
        """The plan's mood now for when nothing can be read (``DayPlan.mood_when_unread``), reference V-A."""
        return self._plan.mood_when_unread(self.minute())

    def follow(self) -> PlanChange:
        """What the plan says now and what changed since the last call."""
        state = self.state
        last, self._state = self._state, state
        if last == state and not self._new_plan:
            return PlanChange(state)
        self._new_plan = False
        was_open = last.open if last is not None else True
        volume = None
        if state.open:
            wanted = state.volume if state.volume is not None else self._owner_volume
            if wanted is not None and wanted != self._volume_set:
                volume = self._volume_set = wanted
        return PlanChange(
            state, changed=True, opened=state.open and not was_open, closed=was_open and not state.open, volume=volume
        )
