"""Conversions between dataset V-A scales and the program's reference space [-1, 1].

Everything inside Moodsic lives in reference space; datasets are converted only at the edges:

- FindingEmo: valence [-3, 3], arousal [0, 6]:  v_ref = v / 3,  a_ref = a / 3 - 1
- DEAM static (song level): both on [1, 9]:     x_ref = (x - 5) / 4
- EmoNet: already [-1, 1]                          x_ref = x
- VEATIC per-frame ratings: [-1, 1]               x_ref = x  (range checked on loading)

Chained conversions (FindingEmo <-> DEAM) go through reference space.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Pair = tuple[NDArray[np.float64], NDArray[np.float64]]

REFERENCE_RANGE = (-1.0, 1.0)
VEATIC_RANGE = (-1.0, 1.0)
FINDINGEMO_VALENCE_RANGE = (-3.0, 3.0)
FINDINGEMO_AROUSAL_RANGE = (0.0, 6.0)
DEAM_STATIC_RANGE = (1.0, 9.0)

_TOLERANCE = 1e-9


class EmotionScaleAligner:
    """Converts (valence, arousal) pairs between dataset scales and reference space.

    Every method takes floats or array-likes and returns a pair of float64 numpy arrays, clipped to the
    target range. With ``strict=True`` an input outside its source range (or NaN) raises ``ValueError``;
    otherwise it is clipped. Stateless and safe to call from any thread.
    """

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict

    def _check(self, values: ArrayLike, source_range: tuple[float, float], what: str) -> NDArray[np.float64]:
        array = np.asarray(values, dtype=np.float64)
        if self.strict:
            low, high = source_range
            bad = ~((array >= low - _TOLERANCE) & (array <= high + _TOLERANCE))
            if np.any(bad):
                first = array[bad].flat[0]
                raise ValueError(f"{what} {first!r} is outside its source range [{low:g}, {high:g}]")
        return array

    @staticmethod
    def _clip(values: NDArray[np.float64], target_range: tuple[float, float]) -> NDArray[np.float64]:
        return np.asarray(np.clip(values, *target_range), dtype=np.float64)

    def findingemo_to_reference(self, valence: ArrayLike, arousal: ArrayLike) -> Pair:
        """FindingEmo (v in [-3, 3], a in [0, 6]) → reference [-1, 1]."""
        v = self._check(valence, FINDINGEMO_VALENCE_RANGE, "FindingEmo valence")
        a = self._check(arousal, FINDINGEMO_AROUSAL_RANGE, "FindingEmo arousal")
        return self._clip(v / 3.0, REFERENCE_RANGE), self._clip(a / 3.0 - 1.0, REFERENCE_RANGE)

    def reference_to_findingemo(self, valence: ArrayLike, arousal: ArrayLike) -> Pair:
        """Reference [-1, 1] → FindingEmo (v in [-3, 3], a in [0, 6])."""
        v = self._check(valence, REFERENCE_RANGE, "reference valence")
        a = self._check(arousal, REFERENCE_RANGE, "reference arousal")
        return (
            self._clip(v * 3.0, FINDINGEMO_VALENCE_RANGE),
            self._clip((a + 1.0) * 3.0, FINDINGEMO_AROUSAL_RANGE),
        )

    def deam_static_to_reference(self, valence: ArrayLike, arousal: ArrayLike) -> Pair:
        """DEAM static song-level ratings [1, 9] → reference [-1, 1]."""
        v = self._check(valence, DEAM_STATIC_RANGE, "DEAM valence")
        a = self._check(arousal, DEAM_STATIC_RANGE, "DEAM arousal")
        return self._clip((v - 5.0) / 4.0, REFERENCE_RANGE), self._clip((a - 5.0) / 4.0, REFERENCE_RANGE)

    def reference_to_deam_static(self, valence: ArrayLike, arousal: ArrayLike) -> Pair:
        """Reference [-1, 1] → DEAM static [1, 9]."""
        v = self._check(valence, REFERENCE_RANGE, "reference valence")
        a = self._check(arousal, REFERENCE_RANGE, "reference arousal")
        return self._clip(v * 4.0 + 5.0, DEAM_STATIC_RANGE), self._clip(a * 4.0 + 5.0, DEAM_STATIC_RANGE)

    def findingemo_to_deam_static(self, valence: ArrayLike, arousal: ArrayLike) -> Pair:
        """FindingEmo → DEAM static, through reference space."""
        return self.reference_to_deam_static(*self.findingemo_to_reference(valence, arousal))

    def deam_static_to_findingemo(self, valence: ArrayLike, arousal: ArrayLike) -> Pair:
        """DEAM static → FindingEmo, through reference space."""
        return self.reference_to_findingemo(*self.deam_static_to_reference(valence, arousal))

    def emonet_to_reference(self, valence: ArrayLike, arousal: ArrayLike) -> Pair:
        """EmoNet outputs (already [-1, 1]) → reference [-1, 1]; only checked and clipped."""
        v = self._check(valence, REFERENCE_RANGE, "EmoNet valence")
        a = self._check(arousal, REFERENCE_RANGE, "EmoNet arousal")
        return self._clip(v, REFERENCE_RANGE), self._clip(a, REFERENCE_RANGE)

    def veatic_to_reference(self, valence: ArrayLike, arousal: ArrayLike) -> Pair:
        """VEATIC continuous ratings (both on [-1, 1]) → reference [-1, 1]: the identity, checked and clipped."""
        v = self._check(valence, VEATIC_RANGE, "VEATIC valence")
        a = self._check(arousal, VEATIC_RANGE, "VEATIC arousal")
        return self._clip(v, REFERENCE_RANGE), self._clip(a, REFERENCE_RANGE)
