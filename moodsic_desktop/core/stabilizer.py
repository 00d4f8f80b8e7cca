"""Temporal smoothing with uncertainty gating: a time-based EMA that holds while the reading is unsure.

For each dimension d (valence, arousal) and a new estimate x_d with variance var_d arriving ``dt`` seconds
after the previous estimate::

    alpha_eff = alpha · scene_only_alpha_factor   if only the scene spoke this step, else alpha
    k         = 1 - (1 - alpha_eff) ** dt         (alpha is the weight of an estimate 1 s after the last)
    held_d    = sqrt(var_d) > tau
    y_d       = y_d                               if held_d  (the uncertain value is ignored)
              = y_d + k · (x_d - y_d)             otherwise

The first estimate initialises y (nothing is held on that step). Because ``k`` depends on ``dt``, the
smoothing is the same at 5 or 30 frames per second. ``alpha`` in (0, 1], ``tau`` in reference units
(a standard deviation), times in seconds. Not thread-safe: one owner thread calls ``update``; ``alpha``,
``tau`` and ``scene_only_alpha_factor`` are plain attributes that may be set between updates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from moodsic_desktop.core.settings_schema import ALPHA, TAU
from moodsic_desktop.core.types import Estimate


@dataclass(frozen=True)
class Stabilized:
    """The stabilised V-A (reference space) after one update, with which dimensions were held."""

    valence: float
    arousal: float
    held_valence: bool
    held_arousal: bool
    weight: float  # k, the weight the new estimate had (0 when both dimensions were held)

    @property
    def held(self) -> bool:
        """True when at least one dimension was held."""
        return self.held_valence or self.held_arousal


class Stabilizer:
    """Uncertainty-gated, frame-rate-independent EMA (equations in the module docstring)."""

    def __init__(
        self, alpha: float = ALPHA.default, tau: float = TAU.default, scene_only_alpha_factor: float = 0.5
    ) -> None:
        self.alpha = alpha
        self.tau = tau
        self.scene_only_alpha_factor = scene_only_alpha_factor
        self._state: tuple[float, float] | None = None
        self._last_time: float | None = None

    @property
    def alpha(self) -> float:
        return self._alpha

    @alpha.setter
    def alpha(self, value: float) -> None:
        """The EMA's weight per second, in the range of the owner's setting (``ALPHA``: (0, 1])."""
        self._alpha = ALPHA.check(value)

    @property
    def tau(self) -> float:
        return self._tau

    @tau.setter
    def tau(self, value: float) -> None:
        """Any threshold >= 0, wider than the owner's setting (``TAU``): ``math.inf`` never holds (an ablation)."""
        if value < 0.0:
            raise ValueError(f"tau must be >= 0, got {value}")
        self._tau = float(value)

    @property
    def scene_only_alpha_factor(self) -> float:
        return self._scene_only_alpha_factor

    @scene_only_alpha_factor.setter
    def scene_only_alpha_factor(self, value: float) -> None:
        if not 0.0 < value <= 1.0:
            raise ValueError(f"scene_only_alpha_factor must be in (0, 1], got {value}")
        self._scene_only_alpha_factor = float(value)

    @property
    def value(self) -> tuple[float, float] | None:
        """The current stabilised (valence, arousal), or None before the first estimate."""
        return self._state

    def reset(self) -> None:
        """Forget the state: the next estimate initialises it again."""
        self._state = None
        self._last_time = None

    def update(self, estimate: Estimate, now: float, scene_only: bool = False) -> Stabilized:
        """Feed one estimate taken at ``now`` (seconds, any monotonic clock)."""
        if self._state is None or self._last_time is None:
            self._state = (float(estimate.valence), float(estimate.arousal))
            self._last_time = now
            return Stabilized(self._state[0], self._state[1], False, False, 1.0)
        dt = max(now - self._last_time, 0.0)
        self._last_time = now
        alpha = self._alpha * (self._scene_only_alpha_factor if scene_only else 1.0)
        weight = 1.0 - (1.0 - alpha) ** dt
        held_valence = not (estimate.std_valence <= self._tau)  # NaN counts as too uncertain
        held_arousal = not (estimate.std_arousal <= self._tau)
        valence, arousal = self._state
        if not held_valence and math.isfinite(estimate.valence):
            valence += weight * (estimate.valence - valence)
        if not held_arousal and math.isfinite(estimate.arousal):
            arousal += weight * (estimate.arousal - arousal)
        self._state = (valence, arousal)
        applied = 0.0 if (held_valence and held_arousal) else weight
        return Stabilized(valence, arousal, held_valence, held_arousal, applied)
