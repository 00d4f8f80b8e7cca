"""Session metrics, accumulated step by step in constant memory (so a whole shop day costs nothing).

Definitions (distances Euclidean in reference V-A space, times in seconds):

- face_detection_rate: share of face-detection runs that found a primary face.
- faces_read_mean / faces_read_max: faces read per face-detection run (every face in view, up to the cap).
  These count the detector's boxes of one frame, not the people the tracker followed: one person gives one
  box (the detector merges a box lying inside another, ``perception.faces.merge_boxes``), and a second box on
  a face would be followed as a person of its own for as long as it comes back, so counting people would
  not have hidden it.
- gating_rate: share of stabiliser updates in which at least one dimension was held (sigma > tau).
- jitter_raw / jitter_stabilized: mean distance between consecutive fused / stabilised points;
  jitter_reduction = 1 - jitter_stabilized / jitter_raw. How to read it: for pure noise in readings that
  the stabiliser weighs by k each (k = 1 - (1 - alpha_eff)^interval), the reduction is 1 - k / sqrt(2 - k)
  (tested); real mood changes count as movement in both paths and pull it down. With the defaults (alpha
  0.3 per second) the generated clips give 70–80 % with halfway times of 2 s (face) to 5 s (scene only).
  A reduction of 40–60 % needs k of 0.5–0.7 per reading, i.e. halfway times under a second: hardly any
  smoothing. So the reduction is read together with the halfway times, never alone.
- switches: number of song changes after the first pick (the mood's, song ends, skips, the library
  switching); mean_dwell_s: mean time a song played before the next one started (completed songs only).
- mean_target_distance: mean distance between the matcher's target and the playing song.
- mean_scene_face_divergence: mean distance between the scene and face estimates when both were fused.
- switches_per_hour: switches / duration x 3600; dwell_s: min, quartiles and max of the completed dwells.
- mood_steps (only when the clip's mood-step times are known, e.g. the generated demo clip): for each step,
  the seconds from the step until the stabilised output crosses halfway to the new mood
  (:func:`halfway_times`), and the share of updates after it that the stabiliser held (:func:`held_shares`).
  With sure readings the halfway time is the smoothing's own: ln 2 / -ln(1 - alpha_eff) seconds, about 2 s
  with faces and 4.3 s from the scene alone at the default alpha 0.3 (the scene counts half); while the
  reading is unsure the stabiliser holds, and the halfway time grows with the held share (the generated
  demo's flickering third part: 18 s with about two thirds held).
- variety (:class:`PlayVariety`, from the songs handed to the audio, ``add_play``): plays; distinct songs;
  distinct songs per hour (hours counted from the first play; min and mean over complete hours, None
  before the first hour is complete); repeat gaps (seconds between two starts of one song: count, min,
  mean, max); ping_pongs (A-B-A-B: four plays in a row that alternate two songs).

Agreement with labels (the evaluations; any one scale, the caller converts with ``EmotionScaleAligner``):
MAE, Spearman rank correlation ρ, and Lin's concordance correlation
``CCC = 2 cov(x, y) / (var x + var y + (mean x - mean y)²)`` (population moments); see
:func:`agreement_metrics`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from moodsic_desktop.core.pipeline import StepRecord

MAX_DWELLS = 100_000  # a shop day at the shortest dwell holds ~1,000; the bound only guards odd settings
MAX_HOURS = 24 * 92  # hours of distinct-song counts kept (a quarter of a year of round-the-clock running)
MIN_STEP_CHANGE = 0.05  # reference units: a "mood step" smaller than this has no halfway point to cross


def ccc(x: ArrayLike, y: ArrayLike) -> float | None:
    """Lin's concordance correlation coefficient; ``None`` for fewer than 2 values or zero variance."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < 2:
        return None
    denominator = x.var() + y.var() + (x.mean() - y.mean()) ** 2
    return None if denominator <= 0 else float(2.0 * np.mean((x - x.mean()) * (y - y.mean())) / denominator)


def spearman(x: ArrayLike, y: ArrayLike) -> float | None:
    """Spearman's rank correlation ρ; ``None`` (undefined) for fewer than 2 values or a constant series."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)


def agreement_metrics(pred: ArrayLike, truth: ArrayLike) -> dict[str, Any]:
    """MAE of valence and arousal and their mean, Spearman ρ and CCC of predictions (n x 2: valence,
    arousal) against labels (n x 2), in whatever one scale both are given. ``{"n": 0}`` when empty;
    a correlation that is undefined (constant series) is ``None``."""
    p, t = np.asarray(pred, dtype=np.float64).reshape(-1, 2), np.asarray(truth, dtype=np.float64).reshape(-1, 2)
    if len(t) == 0:
        return {"n": 0}
    mae_v, mae_a = (float(np.abs(p[:, i] - t[:, i]).mean()) for i in (0, 1))
    return {
        "n": len(t),
        "mae_valence": mae_v,
        "mae_arousal": mae_a,
        "mae_mean": (mae_v + mae_a) / 2.0,
        "spearman_valence": spearman(p[:, 0], t[:, 0]),
        "spearman_arousal": spearman(p[:, 1], t[:, 1]),
        "ccc_valence": ccc(p[:, 0], t[:, 0]),
        "ccc_arousal": ccc(p[:, 1], t[:, 1]),
    }


def halfway_times(
    times: ArrayLike, stabilized: ArrayLike, raw: ArrayLike, step_times: Sequence[float]
) -> list[float | None]:
    """Seconds from each known mood step until the stabilised output crosses halfway to the new mood.

    ``times`` (n, seconds), ``stabilized`` and ``raw`` (n x 2, reference V-A; NaN rows where there was
    none). For the step at ``s`` (segment up to the next step or the end): start = the last stabilised point
    before ``s``; target = the median raw reading over the second half of the segment (where the new mood
    has settled); crossed at the first time ``t >= s`` with ``(y(t) - start) · d >= |d|² / 2``,
    ``d = target - start``. ``None`` when the step is smaller than ``MIN_STEP_CHANGE``, lacks data, or is not
    crossed before the segment ends."""
    t = np.asarray(times, dtype=np.float64)
    y = np.asarray(stabilized, dtype=np.float64).reshape(-1, 2)
    x = np.asarray(raw, dtype=np.float64).reshape(-1, 2)
    steps = sorted(float(s) for s in step_times)
    result: list[float | None] = []
    for k, start_time in enumerate(steps):
        end = steps[k + 1] if k + 1 < len(steps) else (float(t[-1]) + 1e-9 if len(t) else start_time)
        before = np.flatnonzero((t < start_time) & np.isfinite(y).all(axis=1))
        settled = (t >= start_time + (end - start_time) / 2.0) & (t < end) & np.isfinite(x).all(axis=1)
        if not len(before) or not settled.any():
            result.append(None)
            continue
        origin = y[before[-1]]
        direction = np.median(x[settled], axis=0) - origin
        size = float(direction @ direction)
        if math.sqrt(size) < MIN_STEP_CHANGE:
            result.append(None)
            continue
        inside = np.flatnonzero((t >= start_time) & (t < end) & np.isfinite(y).all(axis=1))
        crossed = inside[(y[inside] - origin) @ direction >= size / 2.0]
        result.append(float(t[crossed[0]] - start_time) if len(crossed) else None)
    return result


def held_shares(times: ArrayLike, held: ArrayLike, step_times: Sequence[float]) -> list[float | None]:
    """For each known mood step, the share of the stabiliser's updates from the step to the next one (or
    the end) in which it held a dimension (the reading was unsure: sigma > tau). ``held``: 1, 0, or NaN
    where there was no update. A halfway time well beyond the smoothing's own (about 2 s with faces, 4 s
    from the scene alone at the default alpha) goes with a large share: the program waited to be sure."""
    t, h = np.asarray(times, dtype=np.float64), np.asarray(held, dtype=np.float64)
    steps = sorted(float(s) for s in step_times)
    shares: list[float | None] = []
    for k, start in enumerate(steps):
        end = steps[k + 1] if k + 1 < len(steps) else math.inf
        inside = (t >= start) & (t < end) & np.isfinite(h)
        shares.append(float(h[inside].mean()) if inside.any() else None)
    return shares


def song_switches(count: int) -> str:
    """``count`` song changes after the first pick, said the one way every report says it: "1 song switch",
    "3 song switches"."""
    return f"{count} song switch" if count == 1 else f"{count} song switches"


def dwell_distribution(dwells: Sequence[float]) -> dict[str, float | int] | None:
    """Count, min, quartiles and max of dwell times (seconds); ``None`` when there is none."""
    if not dwells:
        return None
    q = np.quantile(np.asarray(dwells, dtype=np.float64), [0.0, 0.25, 0.5, 0.75, 1.0])
    return {"count": len(dwells), "min": q[0], "p25": q[1], "median": q[2], "p75": q[3], "max": q[4]}


class PlayVariety:
    """How varied the music was (definitions in the module docstring, "variety"), from each song's start.

    Memory: one start time per song played (at most the library's songs), the current hour's songs and one
    count per past hour (the last ``MAX_HOURS``): flat over a day or a month. One owner thread."""

    def __init__(self) -> None:
        self.plays = 0
        self._last_start: dict[str, float] = {}
        self._last_four: deque[str] = deque(maxlen=4)
        self._first: float | None = None
        self._hour = 0
        self._this_hour: set[str] = set()
        self._per_hour: deque[int] = deque(maxlen=MAX_HOURS)
        self._gaps = _Mean()
        self._gap_min = math.inf
        self._gap_max = 0.0
        self.ping_pongs = 0

    def add(self, song_id: str, time: float) -> None:
        """``song_id`` started at ``time`` (seconds, non-decreasing over the calls)."""
        if self._first is None:
            self._first = time
        hour = int((time - self._first) // 3600.0)
        while self._hour < hour:  # complete hours, the empty ones too
            self._per_hour.append(len(self._this_hour))
            self._this_hour = set()
            self._hour += 1
        self._this_hour.add(song_id)
        previous = self._last_start.get(song_id)
        if previous is not None:
            gap = time - previous
            self._gaps.add(gap)
            self._gap_min, self._gap_max = min(self._gap_min, gap), max(self._gap_max, gap)
        self._last_start[song_id] = time
        self._last_four.append(song_id)
        if len(self._last_four) == 4:
            a, b, c, d = self._last_four
            self.ping_pongs += a == c and b == d and a != b
        self.plays += 1

    def summary(self) -> dict[str, Any]:
        """The figures as a JSON-ready dict (None where there is nothing to measure yet)."""
        hours = list(self._per_hour)
        gaps = self._gaps
        return {
            "plays": self.plays,
            "distinct_songs": len(self._last_start),
            "distinct_songs_per_hour": {"hours": len(hours), "min": min(hours), "mean": sum(hours) / len(hours)}
            if hours
            else None,
            "repeat_gap_s": {"count": gaps.count, "min": self._gap_min, "mean": gaps.value, "max": self._gap_max}
            if gaps.count
            else None,
            "ping_pongs": self.ping_pongs,
        }


@dataclass
class _Mean:
    total: float = 0.0
    count: int = 0

    def add(self, value: float) -> None:
        self.total += value
        self.count += 1

    @property
    def value(self) -> float | None:
        return self.total / self.count if self.count else None


class SessionMetrics:
    """Running metrics over ``StepRecord``s (definitions in the module docstring). One owner thread.

    ``step_times``: the known mood-step times of the clip (seconds, on the steps' clock), if any; only then
    are the raw and stabilised points kept (one small row per step, for :func:`halfway_times`), so a live
    session still runs in constant memory."""

    def __init__(self, step_times: Sequence[float] = ()) -> None:
        self.step_times = tuple(float(s) for s in step_times)
        self._trace: list[tuple[float, float, float, float, float, float]] = []
        self._dwells: deque[float] = deque(maxlen=MAX_DWELLS)
        self.steps = 0
        self._face_runs = 0
        self._face_hits = 0
        self._faces_read = 0
        self._faces_read_max = 0
        self._updates = 0
        self._held = 0
        self._jitter_raw = _Mean()
        self._jitter_stabilized = _Mean()
        self._last_raw: tuple[float, float] | None = None
        self._last_stabilized: tuple[float, float] | None = None
        self._distance = _Mean()
        self._divergence = _Mean()
        self._dwell = _Mean()
        self._song_started: float | None = None
        self.switches = 0
        self.first_time: float | None = None
        self.last_time: float | None = None
        self.variety = PlayVariety()

    def add_play(self, song_id: str, time: float) -> None:
        """A song handed to the audio at ``time`` (seconds): for the variety figures. The session calls it for
        every song it plays, whether a step's switch, a song's end or a skip chose it."""
        self.variety.add(song_id, time)

    def add(self, step: StepRecord) -> None:
        """Account for one pipeline step."""
        self.steps += 1
        self.first_time = step.time if self.first_time is None else self.first_time
        self.last_time = step.time
        if step.face_fresh:
            self._face_runs += 1
            self._face_hits += step.face_box is not None
            self._faces_read += step.faces_read
            self._faces_read_max = max(self._faces_read_max, step.faces_read)
        if step.fused is not None:
            raw = (step.fused.valence, step.fused.arousal)
            if self._last_raw is not None:
                self._jitter_raw.add(math.dist(raw, self._last_raw))
            self._last_raw = raw
        if step.stabilized is not None:
            self._updates += 1
            self._held += step.stabilized.held
            point = (step.stabilized.valence, step.stabilized.arousal)
            if self._last_stabilized is not None:
                self._jitter_stabilized.add(math.dist(point, self._last_stabilized))
            self._last_stabilized = point
        if step.scene is not None and step.face is not None:
            self._divergence.add(
                math.dist((step.scene.valence, step.scene.arousal), (step.face.valence, step.face.arousal))
            )
        if step.decision is not None:
            self._distance.add(step.decision.distance)
            if step.decision.switched:
                self.song_changed(step.time)
        if self.step_times:
            nan = math.nan
            raw = (step.fused.valence, step.fused.arousal) if step.fused is not None else (nan, nan)
            stab = (step.stabilized.valence, step.stabilized.arousal) if step.stabilized is not None else (nan, nan)
            held = float(step.stabilized.held) if step.stabilized is not None else nan
            self._trace.append((step.time, *stab, *raw, held))

    def song_changed(self, time: float) -> None:
        """A song started at ``time`` (seconds, the steps' clock): a step's switch (``add`` calls this), or a
        change outside the steps (a song's end, a skip, the library switching). The song before it, if
        any, counts as a switch and its dwell as a completed one."""
        if self._song_started is not None:
            dwell = max(time - self._song_started, 0.0)
            self.switches += 1
            self._dwell.add(dwell)
            self._dwells.append(dwell)
        self._song_started = time

    def mood_steps(self) -> dict[str, Any] | None:
        """Step times and the seconds to halfway after each (None entries: not measurable); None without
        known steps."""
        if not self.step_times:
            return None
        trace = np.asarray(self._trace, dtype=np.float64).reshape(-1, 6)
        halfway = halfway_times(trace[:, 0], trace[:, 1:3], trace[:, 3:5], self.step_times)
        measured = [h for h in halfway if h is not None]
        return {
            "step_times_s": list(self.step_times),
            "halfway_s": halfway,
            "mean_halfway_s": float(np.mean(measured)) if measured else None,
            "held_share": held_shares(trace[:, 0], trace[:, 5], self.step_times),
        }

    def summary(self) -> dict[str, Any]:
        """The metrics as a JSON-ready dict (None where there was nothing to measure)."""
        raw, stabilized = self._jitter_raw.value, self._jitter_stabilized.value
        reduction = 1.0 - stabilized / raw if raw and stabilized is not None else None
        first, last = self.first_time, self.last_time  # both set by the first step, or neither
        duration = last - first if first is not None and last is not None else 0.0
        return {
            "steps": self.steps,
            "duration_s": duration,
            "face_detection_rate": self._face_hits / self._face_runs if self._face_runs else None,
            "faces_read_mean": self._faces_read / self._face_runs if self._face_runs else None,
            "faces_read_max": self._faces_read_max,
            "gating_rate": self._held / self._updates if self._updates else None,
            "jitter_raw": raw,
            "jitter_stabilized": stabilized,
            "jitter_reduction": reduction,
            "switches": self.switches,
            "mean_dwell_s": self._dwell.value,
            "mean_target_distance": self._distance.value,
            "mean_scene_face_divergence": self._divergence.value,
            "switches_per_hour": self.switches / duration * 3600.0 if duration > 0 else None,
            "dwell_s": dwell_distribution(list(self._dwells)),
            "mood_steps": self.mood_steps(),
            "variety": self.variety.summary(),
        }
