"""Session metrics, accumulated step by step in constant memory (so a whole shop day costs nothing).

Definitions (distances Euclidean in reference V-A space, times in seconds):

- face_detection_rate: share of face-detection runs that found a primary face.
- gating_rate: share of stabiliser updates in which at least one dimension was held (sigma > tau).
- jitter_raw / jitter_stabilized: mean distance between consecutive fused / stabilised points;
  jitter_reduction = 1 - jitter_stabilized / jitter_raw.
- switches: number of song changes after the first pick; mean_dwell_s: mean time a song played before
  the next one started (completed songs only).
- mean_target_distance: mean distance between the matcher's target and the playing song.
- mean_scene_face_divergence: mean distance between the scene and face estimates when both were fused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from moodsic_desktop.core.pipeline import StepRecord


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
    """Running metrics over ``StepRecord``s (definitions in the module docstring). One owner thread."""

    def __init__(self) -> None:
        self.steps = 0
        self._face_runs = 0
        self._face_hits = 0
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

    def add(self, step: StepRecord) -> None:
        """Account for one pipeline step."""
        self.steps += 1
        self.first_time = step.time if self.first_time is None else self.first_time
        self.last_time = step.time
        if step.face_fresh:
            self._face_runs += 1
            self._face_hits += step.face_box is not None
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
                if self._song_started is not None:
                    self.switches += 1
                    self._dwell.add(step.time - self._song_started)
                self._song_started = step.time

    def summary(self) -> dict[str, Any]:
        """The metrics as a JSON-ready dict (None where there was nothing to measure)."""
        raw, stabilized = self._jitter_raw.value, self._jitter_stabilized.value
        reduction = 1.0 - stabilized / raw if raw and stabilized is not None else None
        duration = (self.last_time - self.first_time) if self.first_time is not None else 0.0
        return {
            "steps": self.steps,
            "duration_s": duration,
            "face_detection_rate": self._face_hits / self._face_runs if self._face_runs else None,
            "gating_rate": self._held / self._updates if self._updates else None,
            "jitter_raw": raw,
            "jitter_stabilized": stabilized,
            "jitter_reduction": reduction,
            "switches": self.switches,
            "mean_dwell_s": self._dwell.value,
            "mean_target_distance": self._distance.value,
            "mean_scene_face_divergence": self._divergence.value,
        }
