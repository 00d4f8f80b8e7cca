"""Series shaping for the mood charts, Qt-free: pipeline steps, readings and songs into point arrays.

The timeline keeps one row of floats per pipeline step (``step_row``) in a bounded ``StepBuffer``: time in
seconds, then per dimension (valence, arousal) the scene, face and fused readings, the fused sigma, the
stabilised value and a held flag (1.0 held, 0.0 not). ``timeline_points`` turns the rows of the shown window
into the x/y arrays of every series: x in seconds relative to the newest step (≤ 0, "now" = 0), long runs
averaged into time bins, missing readings (NaN) as gaps, the uncertainty band (fused ± sigma) and the held
periods as area outlines. ``time_ticks`` labels the time axis.

The plane groups songs by station (``station_groups``, labelled for the legend by ``legend_label``), turns
songs into (valence, arousal) points (``song_points``) and cuts the recent trail into fading segments
(``trail_segments``).

Every value is in reference space [-1, 1]. Imports numpy and the core types only (no PySide6): any thread,
testable without a display.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from moodsic_desktop.core.pipeline import StepRecord
from moodsic_desktop.core.song import Song

DIMENSIONS = ("valence", "arousal")

# --------------------------------------------------------------------------------------------------------------
# Time series

# Row columns: time, then per dimension (scene, face, fused, fused sigma, stabilised, held).
T = 0
PER_DIMENSION = 6
SCENE, FACE, FUSED, SIGMA, STABLE, HELD = range(PER_DIMENSION)
# the legend in plain words: the room's look, the faces, the two combined (fused), and the stabilised
# reading the music follows
LEGEND_NAMES = {"scene": "room", "face": "faces", "fused": "combined", "stabilised": "music follows"}
LINE_FIELDS = {"scene": SCENE, "face": FACE, "fused": FUSED, "stabilised": STABLE}
COLUMNS = 1 + PER_DIMENSION * len(DIMENSIONS)
STOPPED_GAP_S = 2.0  # steps further apart than this (seconds): no source ran between them; a gap, not a line


def gap_row(time: float) -> list[float]:
    """A row with no reading at ``time`` (seconds): it breaks every line there (a stopped period)."""
    row = [math.nan] * COLUMNS
    row[T] = time
    for dimension in range(len(DIMENSIONS)):
        row[column(dimension, HELD)] = 0.0
    return row


def column(dimension: int, field: int) -> int:
    """The row column of ``field`` (``SCENE`` … ``HELD``) of dimension ``dimension`` (index in ``DIMENSIONS``)."""
    return 1 + dimension * PER_DIMENSION + field


class StepBuffer:
    """Rows of floats in time order (column 0, seconds), appended at the end and dropped from the front.

    Appending is amortised O(1): rows live in one array that is compacted (and grown only when mostly live)
    when its end is reached. When it is, rows older than ``keep_s`` seconds before the newest are dropped
    first, and at most ``max_rows`` are kept (the oldest go), so memory stays bounded even if nobody
    redraws."""

    def __init__(self, columns: int, keep_s: float = math.inf, capacity: int = 1024, max_rows: int = 400_000) -> None:
        self._data = np.empty((capacity, columns), dtype=np.float64)
        self._start = 0
        self._end = 0
        self.keep_s = keep_s
        self._max_rows = max_rows

    def __len__(self) -> int:
        return self._end - self._start

    @property
    def capacity(self) -> int:
        return len(self._data)

    def append(self, row: Sequence[float]) -> None:
        if self._end == len(self._data):
            self._make_room()
        self._data[self._end] = row
        self._end += 1

    def _make_room(self) -> None:
        if len(self):
            self.drop_before(self._data[self._end - 1, 0] - self.keep_s)
        if len(self) >= self._max_rows:
            self._start = self._end - self._max_rows + 1
        size = len(self)
        capacity = len(self._data)
        if size > capacity // 2:  # mostly live rows: grow (at most to 2 × max_rows)
            capacity = min(capacity * 2, 2 * self._max_rows)
            data = np.empty((capacity, self._data.shape[1]), dtype=np.float64)
        else:
            data = self._data
        data[:size] = self._data[self._start : self._end]
        self._data, self._start, self._end = data, 0, size

    def drop_before(self, time: float) -> None:
        """Forget the rows older than ``time`` (seconds)."""
        times = self._data[self._start : self._end, 0]
        self._start += int(np.searchsorted(times, time, side="left"))

    def rows(self) -> np.ndarray:
        """The live rows, oldest first (a view: do not keep it across appends)."""
        return self._data[self._start : self._end]

    def last_time(self) -> float | None:
        return float(self._data[self._end - 1, 0]) if len(self) else None

    def clear(self) -> None:
        self._start = self._end = 0


class ContinuousTime:
    """Step times (seconds) that keep increasing when the source's times jump backwards (a looping video
    file, a new source): each backward jump is added to an offset, so the timeline keeps scrolling."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._last_raw: float | None = None

    def advance(self, raw: float) -> float:
        """The continuous time of a step whose source time is ``raw`` seconds (finite)."""
        if self._last_raw is not None and raw < self._last_raw:
            self.offset += self._last_raw - raw  # a new or looping source: continue from here
        self._last_raw = raw
        return raw + self.offset

    def reset(self) -> None:
        self.offset = 0.0
        self._last_raw = None


def step_row(step: StepRecord, time: float) -> list[float]:
    """One buffer row (``COLUMNS`` floats) for ``step`` at ``time`` seconds: per dimension the scene, face and
    fused readings, the fused sigma (the square root of its variance, negative variances read as 0), the
    stabilised value and its held flag. A reading that is absent is NaN; held is 0.0 without a stabilised
    reading."""
    row = [time]
    stabilised = step.stabilized
    for name in DIMENSIONS:
        scene = getattr(step.scene, name) if step.scene is not None else math.nan
        face = getattr(step.face, name) if step.face is not None else math.nan
        if step.fused is not None:
            fused = getattr(step.fused, name)
            sigma = math.sqrt(max(getattr(step.fused, f"var_{name}"), 0.0))
        else:
            fused = sigma = math.nan
        if stabilised is not None:
            stable = getattr(stabilised, name)
            held = 1.0 if getattr(stabilised, f"held_{name}") else 0.0
        else:
            stable, held = math.nan, 0.0
        row += (scene, face, fused, sigma, stable, held)
    return row


def bin_rows(rows: np.ndarray, bin_s: float) -> np.ndarray:
    """Average rows into time bins of ``bin_s`` seconds aligned on absolute time (so bins do not shimmer as
    the window scrolls). Missing values (NaN) are left out of each mean; a bin where a value is missing
    throughout stays missing. Held flags become 1 when any row of the bin was held."""
    index = np.floor(rows[:, T] / bin_s)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(index)) + 1))
    valid = np.isfinite(rows)
    sums = np.add.reduceat(np.where(valid, rows, 0.0), starts, axis=0)
    counts = np.add.reduceat(valid, starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        binned = np.where(counts > 0, sums / counts, np.nan)
    for dimension in range(len(DIMENSIONS)):
        held = column(dimension, HELD)
        binned[:, held] = np.maximum.reduceat(np.nan_to_num(rows[:, held]), starts) > 0
    return binned


def gapped(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points of a line with missing values (NaN): valid points are kept; each run of missing values
    becomes one (x, NaN) point, which QtCharts draws as a break in a solid line. Leading and trailing
    missing values are dropped."""
    valid = np.isfinite(y)
    if valid.all():
        return x, y
    if not valid.any():
        return x[:0], y[:0]
    previous_valid = np.concatenate(([False], valid[:-1]))
    keep = valid | previous_valid
    last = int(np.flatnonzero(valid)[-1])
    keep[last + 1 :] = False
    return x[keep], y[keep]


def band(x: np.ndarray, centre: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper and lower edges of centre ± sigma over the valid points: returns (x, upper, lower).

    Across a gap both edges run along the centre line from the last point before to the first point after
    it, so the filled area there has zero width (no band is drawn over missing data)."""
    valid = np.flatnonzero(np.isfinite(centre) & np.isfinite(sigma))
    xs, cs, ss = x[valid], centre[valid], sigma[valid]
    upper, lower = cs + ss, cs - ss
    gaps = np.flatnonzero(np.diff(valid) > 1)
    if len(gaps):
        where = np.repeat(gaps + 1, 2)
        gx = np.column_stack((xs[gaps], xs[gaps + 1])).ravel()
        gc = np.column_stack((cs[gaps], cs[gaps + 1])).ravel()
        xs = np.insert(xs, where, gx)
        upper = np.insert(upper, where, gc)
        lower = np.insert(lower, where, gc)
    return xs, upper, lower


def held_area(x: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The outline of the held periods as one polyline along the bottom edge (y = -1) that rises to +1 over
    each held period. A held step covers the time until the next step."""
    flags = held > 0
    if not flags.any():
        return x[:0], x[:0]
    x_end = np.concatenate((x[1:], x[-1:]))
    before = np.concatenate(([False], flags[:-1]))
    after = np.concatenate((flags[1:], [False]))
    starts = x[flags & ~before]
    ends = x_end[flags & ~after]
    xs = np.column_stack((starts, starts, ends, ends)).ravel()
    ys = np.tile([-1.0, 1.0, 1.0, -1.0], len(starts))
    return xs, ys


Points = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class DimensionPoints:
    """The point arrays of one dimension's timeline chart; x in seconds relative to the newest step (≤ 0).

    ``lines`` maps "scene", "face", "fused", "stabilised" to (x, y) with NaN break points (``gapped``);
    ``band`` is (x, upper, lower) of fused ± sigma; ``held_upper`` outlines the held periods and
    ``held_lower`` is the straight bottom edge (y = -1) under them (empty when nothing was held)."""

    lines: dict[str, Points]
    band: tuple[np.ndarray, np.ndarray, np.ndarray]
    held_upper: Points
    held_lower: Points


def timeline_points(rows: np.ndarray, window_s: float, max_points: int, area_points: int) -> list[DimensionPoints]:
    """The series of both dimensions (``DIMENSIONS`` order) from buffer ``rows`` (oldest first) of the shown
    ``window_s`` seconds. Beyond ``max_points`` rows the lines are averaged into time bins of
    ``window_s / max_points`` seconds; the band and the held shading, filled polygons and the costliest things
    to paint, into coarser bins beyond ``area_points`` rows."""
    now = float(rows[-1, T]) if len(rows) else 0.0
    lines = bin_rows(rows, window_s / max_points) if len(rows) > max_points else rows
    x = lines[:, T] - now
    areas = bin_rows(rows, window_s / area_points) if len(rows) > area_points else rows
    area_x = areas[:, T] - now
    out = []
    for index in range(len(DIMENSIONS)):
        hx, hy = held_area(area_x, areas[:, column(index, HELD)])
        out.append(
            DimensionPoints(
                lines={name: gapped(x, lines[:, column(index, field)]) for name, field in LINE_FIELDS.items()},
                band=band(area_x, areas[:, column(index, FUSED)], areas[:, column(index, SIGMA)]),
                held_upper=(hx, hy),
                held_lower=(hx[[0, -1]] if len(hx) else hx, np.full(min(len(hx), 2), -1.0)),
            )
        )
    return out


NICE_STEPS_S = (5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)


def time_label(seconds_ago: float) -> str:
    """A time axis label: "now" within half a second, else "−m:ss" or "−h:mm:ss" ago."""
    if seconds_ago < 0.5:
        return "now"
    total = round(seconds_ago)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"−{hours}:{minutes:02d}:{seconds:02d}" if hours else f"−{minutes}:{seconds:02d}"


def time_ticks(window_s: float) -> list[tuple[str, float]]:
    """(label, x in seconds ≤ 0) of the time axis of a ``window_s``-second window: the left edge, then every
    multiple of the smallest ``NICE_STEPS_S`` step that gives at most six intervals, up to "now" (0)."""
    step = next((s for s in NICE_STEPS_S if window_s / s <= 6), NICE_STEPS_S[-1])
    ticks = [-window_s] + [-k * step for k in range(int(window_s // step), -1, -1) if k * step < window_s - 1e-9]
    return [(time_label(-value), value) for value in ticks]


# --------------------------------------------------------------------------------------------------------------
# Valence-arousal plane


def song_points(songs: Iterable[Song]) -> np.ndarray:
    """The songs' (valence, arousal) as a float64 array of shape (n, 2)."""
    return np.array([(s.valence, s.arousal) for s in songs], dtype=np.float64).reshape(-1, 2)


def station_groups(
    songs: Sequence[Song],
    station_of: Sequence[int] | None = None,
    station_names: Sequence[str] | None = None,
) -> list[tuple[str, list[Song]]]:
    """(legend label, songs) per station, in station order: ``station_of[i]`` is the station index of
    ``songs[i]`` and ``station_names[k]`` the name of station k (default "Station k+1"); labels carry the
    song count, e.g. "Calm (12)". Stations without songs are kept (up to the highest index or the number
    of names). Without ``station_of`` all songs form one "Library" group (none for no songs).
    ``ValueError`` when ``station_of`` has the wrong length or a negative index."""
    songs = list(songs)
    if station_of is None:
        return [("Library", songs)] if songs else []
    stations = np.asarray(station_of, dtype=np.int64).ravel()
    if len(stations) != len(songs):
        raise ValueError(f"station_of has {len(stations)} entries for {len(songs)} songs")
    if len(stations) and stations.min() < 0:
        raise ValueError("station indices must not be negative")
    count = max(int(stations.max()) + 1 if len(stations) else 0, len(station_names or ()))
    groups: list[list[Song]] = [[] for _ in range(count)]
    for song, station in zip(songs, stations, strict=True):
        groups[station].append(song)
    names = [
        station_names[k] if station_names is not None and k < len(station_names) else f"Station {k + 1}"
        for k in range(count)
    ]
    return [(legend_label(names[k], len(group)), group) for k, group in enumerate(groups)]


LEGEND_LINE_CHARS = 30  # a legend line longer than this is shortened with "…" (its end, the count, stays)


def legend_label(name: str, count: int) -> str:
    """The legend's words for a station of ``count`` songs: "Calm (12)". A name told apart by its music or
    place after a comma ("Downcast & Low-energy, like “Rainy Window”", ``core.stations.station_names``) goes on
    two lines, what tells it apart and the count on the second, that part shortened with "…" past
    ``LEGEND_LINE_CHARS``: Qt Charts cuts a legend line too wide for it at its end, which took the count and
    the song's title away and left two stations reading the same. Two lines are rich text (``<br>``; the
    words escaped), one line is the plain words."""
    feel, comma, qualifier = name.partition(", ")
    if not comma:
        return f"{name} ({count})"
    if len(qualifier) > LEGEND_LINE_CHARS:
        quote = "”" if qualifier.endswith("”") else ""
        qualifier = qualifier[: LEGEND_LINE_CHARS - 1 - len(quote)].rstrip() + "…" + quote
    return f"{html.escape(feel, quote=False)},<br>{html.escape(qualifier, quote=False)} ({count})"


def trail_segments(trail: np.ndarray, segments: int) -> list[np.ndarray]:
    """Cut the trail (an (n, 2) array of points, oldest first) into ``segments`` consecutive parts that share
    their end points, oldest first; a part too short to draw (a trail of fewer points than parts) is empty
    (shape (0, 2))."""
    empty = trail[:0]
    if len(trail) < 2:
        return [empty] * segments
    bounds = np.linspace(0, len(trail) - 1, segments + 1).round().astype(int)
    return [trail[bounds[k] : bounds[k + 1] + 1] if bounds[k + 1] > bounds[k] else empty for k in range(segments)]


def nearest_point(points: np.ndarray, x: float, y: float) -> int:
    """The row of ``points`` ((n, 2), n ≥ 1) nearest to (x, y) in the plane."""
    return int(np.argmin((points[:, 0] - x) ** 2 + (points[:, 1] - y) ** 2))


__all__ = [
    "COLUMNS",
    "DIMENSIONS",
    "LEGEND_NAMES",
    "NICE_STEPS_S",
    "ContinuousTime",
    "DimensionPoints",
    "StepBuffer",
    "band",
    "bin_rows",
    "column",
    "gapped",
    "held_area",
    "legend_label",
    "nearest_point",
    "song_points",
    "station_groups",
    "step_row",
    "time_label",
    "time_ticks",
    "timeline_points",
    "trail_segments",
]
