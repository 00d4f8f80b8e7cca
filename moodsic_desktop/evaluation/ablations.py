"""Ablations for the evaluations: perceive once, then fuse and stabilise per ablation.

The experts' readings do not depend on the fusion mode or on tau, so an evaluation runs the pipeline once
per frame and keeps, per step, the scene and face estimates it fused (:class:`Reading`). Each ablation then
replays exactly what ``Pipeline.process`` does after perceiving — ``fuse_step(scene, face, room, mode)`` and, when that
gives an estimate, ``Stabilizer.update(fused, time, scene_only=face is None or mode == "scene")`` — with its
own stabiliser:

=================  ================  =================================================
ablation           fusion mode       stabiliser tau
=================  ================  =================================================
scene_only         scene             the engine's tau
face_only          face              the engine's tau
fusion             inverse_variance  infinite (gating off: nothing is ever held)
fusion_gated       inverse_variance  the engine's tau (the program as it runs: headline)
=================  ================  =================================================

Outputs per step: ``raw`` (the fused estimate, NaN where the ablation has none) and ``stabilized`` (the
stabiliser's state, NaN before its first estimate). V-A in reference space [-1, 1], times in seconds.
Pure numpy; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from moodsic_desktop.core.choices import FixedChoice
from moodsic_desktop.core.fusion import FusionMode, fuse_step
from moodsic_desktop.core.settings_schema import ALPHA, TAU
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.core.types import Estimate, RoomEnergy

OUTPUTS = ("raw", "stabilized")
validate_output = FixedChoice("output", OUTPUTS)


@dataclass(frozen=True)
class Ablation:
    """One variant of the engine: a fusion mode and whether uncertainty gating is on."""

    name: str
    fusion_mode: FusionMode
    gating: bool
    description: str


ABLATIONS: tuple[Ablation, ...] = (
    Ablation("scene_only", "scene", True, "scene expert only"),
    Ablation("face_only", "face", True, "face expert only"),
    Ablation("fusion", "inverse_variance", False, "inverse-variance fusion, gating off (tau infinite)"),
    Ablation("fusion_gated", "inverse_variance", True, "inverse-variance fusion with gating (headline)"),
)


@dataclass(frozen=True)
class Reading:
    """What the experts gave at one pipeline step: ``time`` in seconds, ``index`` the frame index, the
    scene and face estimates that were fused (None where silent), whether a face was found, and the room's
    energy joined to arousal (None without a reader)."""

    time: float
    index: int
    scene: Estimate | None
    face: Estimate | None
    face_found: bool
    room: RoomEnergy | None = None


@dataclass(frozen=True)
class AblationTrace:
    """One ablation replayed over readings: per step, ``raw`` and ``stabilized`` (n x 2, NaN where none),
    ``held`` (n, bool: a dimension was held) and the frame ``indices`` and ``times`` of the steps."""

    ablation: Ablation
    indices: NDArray[np.int64]
    times: NDArray[np.float64]
    raw: NDArray[np.float64]
    stabilized: NDArray[np.float64]
    held: NDArray[np.bool_]

    def output(self, name: str) -> NDArray[np.float64]:
        """``raw`` or ``stabilized``."""
        return self.raw if validate_output(name) == "raw" else self.stabilized


def replay(
    readings: Sequence[Reading],
    ablation: Ablation,
    alpha: float = ALPHA.default,
    tau: float = TAU.default,
    scene_only_alpha_factor: float = 0.5,
) -> AblationTrace:
    """Fuse and stabilise ``readings`` as the pipeline would under ``ablation`` (see the module docstring).
    ``alpha`` and ``scene_only_alpha_factor`` as in :class:`Stabilizer`; ``tau`` in reference units (ignored
    when the ablation has gating off)."""
    stabilizer = Stabilizer(alpha, tau if ablation.gating else math.inf, scene_only_alpha_factor)
    n = len(readings)
    raw = np.full((n, 2), np.nan)
    stabilized = np.full((n, 2), np.nan)
    held = np.zeros(n, dtype=bool)
    for i, reading in enumerate(readings):
        fused = fuse_step(reading.scene, reading.face, reading.room, ablation.fusion_mode)
        if fused is not None:
            raw[i] = fused.valence, fused.arousal
            scene_only = reading.face is None or ablation.fusion_mode == "scene"
            state = stabilizer.update(fused, reading.time, scene_only=scene_only)
            held[i] = state.held
        if stabilizer.value is not None:
            stabilized[i] = stabilizer.value
    return AblationTrace(
        ablation,
        np.array([r.index for r in readings], dtype=np.int64),
        np.array([r.time for r in readings], dtype=np.float64),
        raw,
        stabilized,
        held,
    )


def align_to_frames(
    step_indices: ArrayLike, values: ArrayLike, rated_indices: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The value in force at each rated frame: the row of the last step whose frame index is at or before
    it (steps sorted by index). Returns (m x 2 values, NaN where none, and a mask of rated frames that have
    a finite value)."""
    steps = np.asarray(step_indices, dtype=np.int64)
    rows = np.asarray(values, dtype=np.float64).reshape(-1, 2)
    rated = np.asarray(rated_indices, dtype=np.int64)
    position = np.searchsorted(steps, rated, side="right") - 1
    aligned = np.full((len(rated), 2), np.nan)
    valid = position >= 0
    aligned[valid] = rows[position[valid]]
    return aligned, np.isfinite(aligned).all(axis=1)
