"""Fusion of the scene and face experts into one estimate.

Inverse-variance weighting, per dimension (valence and arousal separately)::

    w_i = 1 / (var_i + 1e-6)
    x   = Σ w_i · x_i / Σ w_i
    var = 1 / Σ w_i

``mode="fixed"`` uses fixed weights (default 0.6 scene, 0.4 face)::

    x   = w_scene · x_scene + w_face · x_face
    var = w_scene · var_scene + w_face · var_face

``mode="scene"`` / ``mode="face"`` use one expert only. When one input is ``None`` the other is returned
unchanged; when both are ``None`` the result is ``None``. Values in reference space [-1, 1].
"""

from __future__ import annotations

from typing import Literal

from moodsic_desktop.core.types import Estimate

FusionMode = Literal["inverse_variance", "fixed", "scene", "face"]
FUSION_MODES: tuple[str, ...] = ("inverse_variance", "fixed", "scene", "face")
_EPSILON = 1e-6


def _inverse_variance(x_scene: float, var_scene: float, x_face: float, var_face: float) -> tuple[float, float]:
    w_scene = 1.0 / (var_scene + _EPSILON)
    w_face = 1.0 / (var_face + _EPSILON)
    total = w_scene + w_face
    return (w_scene * x_scene + w_face * x_face) / total, 1.0 / total


def fuse(
    scene: Estimate | None,
    face: Estimate | None,
    mode: FusionMode | str = "inverse_variance",
    weights: tuple[float, float] = (0.6, 0.4),
) -> Estimate | None:
    """Fuse the scene and face estimates (see the module docstring for the equations)."""
    if mode not in FUSION_MODES:
        raise ValueError(f"unknown fusion mode {mode!r}; expected one of {', '.join(FUSION_MODES)}")
    if mode == "scene":
        return scene
    if mode == "face":
        return face
    if scene is None or face is None:
        return scene if face is None else face
    if mode == "fixed":
        w_scene, w_face = weights
        return Estimate(
            valence=w_scene * scene.valence + w_face * face.valence,
            arousal=w_scene * scene.arousal + w_face * face.arousal,
            var_valence=w_scene * scene.var_valence + w_face * face.var_valence,
            var_arousal=w_scene * scene.var_arousal + w_face * face.var_arousal,
            source="fusion:fixed",
        )
    valence, var_valence = _inverse_variance(scene.valence, scene.var_valence, face.valence, face.var_valence)
    arousal, var_arousal = _inverse_variance(scene.arousal, scene.var_arousal, face.arousal, face.var_arousal)
    return Estimate(valence, arousal, var_valence, var_arousal, source="fusion:inverse_variance")
