"""Each face followed over time: a small tracker and a per-person smoother.

:class:`FaceTracker` gives every detected face the number of the person it belongs to (``FaceBox.track``),
so that what is learnt about a person (their mouth movements, their head movement, their smoothed reading)
stays theirs from frame to frame. Matching a new frame's boxes to the people seen before, greedily, best
pair first, by a score that joins box overlap and position::

    score = IoU(box, last box) + 0.5 · max(0, 1 - d / W)

where ``d`` is the distance between the box centres and ``W`` the larger of the two widths (pixels). A pair
is allowed when the boxes overlap (IoU > 0) or the centres are less than one width apart (a face that
moved fast between two frames); the best-scoring pairs are taken first, each person and box once. A box
left over starts a new person (numbers count up from 1 and are never reused within a source); a person
not matched for ``max_gap_s`` seconds (default 1.0) is forgotten.

:class:`PersonSmoother` smooths each person's reading on its own: a time-based exponential average per
person, time constant ``time_constant_s`` (default 0.3 s: it takes the flicker out of one person's
reading; the stabiliser does the room's slow smoothing, and a longer one here made a smile on the real
``face_noface.mov`` show a second late), on valence and arousal, its variance the weighted mean of the
readings' variances. A face read once and never again stays a single reading of
little weight in the room (its variance is not reduced); a person read for seconds has a steady reading.
The room's reading is then made from people (``core.fusion.combine_people``), not from detections.

Times are seconds on one clock (the frames' timestamps); boxes are in frame pixels. Pure Python; one
thread (the pipeline's) owns an instance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from moodsic_desktop.core.types import Estimate, FaceBox

__all__ = ["FaceTracker", "PersonSmoother", "box_overlap", "match_score"]

DEFAULT_MAX_GAP_S = 1.0
DEFAULT_SMOOTHING_S = 0.3
POSITION_WEIGHT = 0.5


def box_overlap(a: FaceBox, b: FaceBox) -> float:
    """Intersection over union of two boxes, in [0, 1]."""
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.width, b.x + b.width), min(a.y + a.height, b.y + b.height)
    inter = max(x1 - x0, 0.0) * max(y1 - y0, 0.0)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def match_score(previous: FaceBox, current: FaceBox) -> float | None:
    """How well ``current`` continues ``previous`` (module docstring), or ``None`` when it cannot: no
    overlap and the centres at least one box width apart."""
    overlap = box_overlap(previous, current)
    (x0, y0), (x1, y1) = previous.center, current.center
    width = max(previous.width, current.width, 1.0)
    closeness = 1.0 - math.hypot(x1 - x0, y1 - y0) / width
    if overlap <= 0.0 and closeness <= 0.0:
        return None
    return overlap + POSITION_WEIGHT * max(closeness, 0.0)


@dataclass
class _Track:
    box: FaceBox
    last_seen: float
    first_seen: float


class FaceTracker:
    """Numbers each face with the person it belongs to (module docstring). Owner thread only."""

    def __init__(self, max_gap_s: float = DEFAULT_MAX_GAP_S) -> None:
        if not max_gap_s > 0:
            raise ValueError(f"max_gap_s must be > 0, got {max_gap_s}")
        self.max_gap_s = float(max_gap_s)
        self._tracks: dict[int, _Track] = {}
        self._next = 1
        self._last_time: float | None = None

    def reset(self) -> None:
        """Forget everyone (a new source)."""
        self._tracks.clear()
        self._next = 1
        self._last_time = None

    @property
    def people(self) -> int:
        """How many people are followed now (seen within the last ``max_gap_s``)."""
        return len(self._tracks)

    def seen_for(self, track: int, now: float) -> float:
        """Seconds since person ``track`` was first seen (0 for an unknown number)."""
        known = self._tracks.get(track)
        return max(now - known.first_seen, 0.0) if known is not None else 0.0

    def update(self, boxes: list[FaceBox], now: float) -> list[FaceBox]:
        """The boxes of the frame at ``now`` seconds, each with its person's number in ``track``, in the
        order given. Time going backwards starts over."""
        if self._last_time is not None and now < self._last_time:
            self.reset()
        self._last_time = now
        self._tracks = {k: t for k, t in self._tracks.items() if now - t.last_seen <= self.max_gap_s}
        pairs = []
        for index, box in enumerate(boxes):
            for number, track in self._tracks.items():
                score = match_score(track.box, box)
                if score is not None:
                    pairs.append((score, index, number))
        assigned: dict[int, int] = {}
        taken: set[int] = set()
        for _, index, number in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
            if index in assigned or number in taken:
                continue
            assigned[index] = number
            taken.add(number)
        result = []
        for index, box in enumerate(boxes):
            known = assigned.get(index)
            if known is None:
                number = self._next
                self._next += 1
                self._tracks[number] = _Track(box, now, now)
            else:
                number = known
                self._tracks[number].box = box
                self._tracks[number].last_seen = now
            result.append(replace(box, track=number))
        return result


@dataclass
class _Smoothed:
    valence: float
    arousal: float
    var_valence: float
    var_arousal: float
    time: float


class PersonSmoother:
    """Each person's reading smoothed on its own (module docstring). Owner thread only."""

    def __init__(self, time_constant_s: float = DEFAULT_SMOOTHING_S, max_gap_s: float = DEFAULT_MAX_GAP_S) -> None:
        if not time_constant_s >= 0:
            raise ValueError(f"time_constant_s must be >= 0, got {time_constant_s}")
        self.time_constant_s = float(time_constant_s)
        self.max_gap_s = float(max_gap_s)
        self._people: dict[int, _Smoothed] = {}

    def reset(self) -> None:
        """Forget everyone."""
        self._people.clear()

    def update(self, track: int | None, estimate: Estimate, now: float) -> Estimate:
        """Blend ``estimate`` (person ``track``, time ``now`` in seconds) into that person's reading and return
        it; a face without a number, or a person not seen for ``max_gap_s``, starts from this reading."""
        if track is None:
            return estimate
        self._people = {k: p for k, p in self._people.items() if 0.0 <= now - p.time <= self.max_gap_s}
        known = self._people.get(track)
        if known is None or self.time_constant_s == 0.0:
            self._people[track] = _Smoothed(
                estimate.valence, estimate.arousal, estimate.var_valence, estimate.var_arousal, now
            )
            return estimate
        alpha = 1.0 - math.exp(-max(now - known.time, 0.0) / self.time_constant_s)
        known.valence += alpha * (estimate.valence - known.valence)
        known.arousal += alpha * (estimate.arousal - known.arousal)
        known.var_valence += alpha * (estimate.var_valence - known.var_valence)
        known.var_arousal += alpha * (estimate.var_arousal - known.var_arousal)
        known.time = now
        return Estimate(known.valence, known.arousal, known.var_valence, known.var_arousal, estimate.source)
