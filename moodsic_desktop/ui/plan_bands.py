"""The day plan's parts of the day on the mood timeline, Qt-free: while a part bends the target, its range
on each dimension (``MoodLean.valence``/``arousal``, reference units) is shaded over the time it was in force.

``PlanBands`` keeps one run per stretch of steps under the same part of the day, on the timeline's own
continuous clock (seconds), and drops runs that left the shown window. ``points`` gives, per dimension,
the upper and lower outline of a filled area: the range's edges inside each run and zero width between
runs, x relative to the newest step (≤ 0), as ``timeline_chart`` draws every band. GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moodsic_desktop.core.day_plan import TimeBlock

Outline = tuple[np.ndarray, np.ndarray, np.ndarray]  # x, upper, lower


@dataclass
class _Run:
    block: TimeBlock
    start: float
    end: float
    open: bool = True  # the newest step is still in it


class PlanBands:
    """The parts of the day shown on the timeline (see the module docstring)."""

    def __init__(self) -> None:
        self._runs: list[_Run] = []
        self._last: float | None = None  # the newest step's time

    def __len__(self) -> int:
        return len(self._runs)

    def add(self, time: float, block: TimeBlock | None) -> None:
        """The step at ``time`` (continuous seconds) ran under ``block`` (None: no part, or one that follows
        the room). A step covers the time until the next one."""
        bends = block is not None and not block.mood.follows_the_room
        self._last = time
        last_run = self._runs[-1] if self._runs else None
        if last_run is not None and last_run.open:
            last_run.end = time  # the run lasts until this step
            last_run.open = bends and last_run.block == block
            if last_run.open:
                return  # the same part goes on
        if bends:
            assert block is not None
            self._runs.append(_Run(block, time, time))

    def clear(self) -> None:
        self._runs.clear()
        self._last = None

    def drop_before(self, time: float) -> None:
        """Forget runs that ended before ``time``."""
        self._runs = [run for run in self._runs if run.end >= time]

    def points(self, dimension: str, window_s: float) -> Outline:
        """The outline of ``dimension``'s ("valence" or "arousal") bands over the last ``window_s`` seconds,
        x relative to the newest step; empty arrays when no part bent the target."""
        if self._last is None or not self._runs:
            empty = np.zeros(0)
            return empty, empty, empty
        xs: list[float] = []
        upper: list[float] = []
        lower: list[float] = []
        for run in self._runs:
            start, end = max(run.start, self._last - window_s) - self._last, run.end - self._last
            if end < start:
                continue
            low, high = getattr(run.block.mood, dimension)
            xs += [start, start, end, end]
            upper += [low, high, high, low]
            lower += [low, low, low, low]
        return np.array(xs), np.array(upper), np.array(lower)
