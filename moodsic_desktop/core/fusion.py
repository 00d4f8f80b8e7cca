"""Fusion of the scene and face experts into one estimate.

What is estimated: the mood of the people in view when a face is read, else the mood of the place (its
light, colour and movement). The scene expert's variance is its error about the place; about the
people it is further off by the gap between a room's look and its people's mood, so when a face reading
is fused the scene's variance grows by ``SCENE_PEOPLE_GAP_VAR`` (valence, arousal) before weighting::

    var_scene' = var_scene + gap      (only while a face reading is fused)

The gap is measured: on the labelled real faces of ``../shared/fixtures/real`` (posed happy, angry,
disgust and surprise, a smiling face, a smiling group) the built-in scene expert's squared error about
the people's mood averages 0.42 (valence) and 0.46 (arousal), of which its own variance claims 0.20 and
0.15; the rest, 0.22 and 0.31, rounded to (0.25, 0.30), is the gap (README, "How sure the readings
are"; ``tests/perception/test_calibration.py`` recomputes it). A confident face (variance 0.02-0.1)
then carries 80-95 % of the weight, and with no face the scene speaks alone.

Inverse-variance weighting, per dimension (valence and arousal separately)::

    w_i = 1 / (var_i + 1e-6)
    x   = Σ w_i · x_i / Σ w_i
    var = 1 / Σ w_i

``mode="fixed"`` uses fixed weights (default 0.6 scene, 0.4 face)::

    x   = w_scene · x_scene + w_face · x_face
    var = w_scene · var_scene + w_face · var_face

``mode="scene"`` / ``mode="face"`` use one expert only. When one input is ``None`` the other is returned
unchanged; when both are ``None`` the result is ``None``. Values in reference space [-1, 1].

The room's face reading (:func:`combine_faces`) joins the estimates of every face read, per dimension,
with weights that trust a confident detection of a large face most::

    w_i = score_i · size_i / var_i,   size_i = W_i² / (W_i² + 40 px²)   (W_i: box width in pixels)
    x   = Σ w_i · x_i / Σ w_i
    var = Σ w_i² · var_i / (Σ w_i)²

The variance is that of a weighted mean of independent errors: for equal scores and sizes it is the
inverse-variance result 1 / Σ (1/var_i). A face 40 px wide counts half as much as a large one with the
same variance; one 20 px wide a fifth. What it estimates is the mean mood of the people in view.

People, not detections: the pipeline follows each face (``core.tracking``) and hands ``combine_faces`` one
smoothed reading per person, with ``between_people_var`` τ² = ``PEOPLE_SPREAD_VAR`` (0.05 on each
dimension: people in one room differ by a standard deviation of about 0.22). What is estimated is the mean
mood of the n people in view; with normalised weights ŵ_i its error is ``Σ ŵ_i e_i`` (the readings'
errors) plus ``Σ (ŵ_i - 1/n) μ_i`` (leaning towards some people), so::

    w_i = score_i · size_i / (var_i + τ²)
    var = Σ ŵ_i² var_i + τ² Σ (ŵ_i - 1/n)²

With one person the variance is that person's; with several, one very sure and expressive face no
longer carries nearly all the weight: of four people, a face of variance 0.01 among three of 0.1 takes
77 % of the weight as detections, 45 % as people (``tests/core/test_fusion.py``).

The room's energy (``perception/room_energy.py``: people in view and how much they move) reads arousal
only; :func:`with_room_energy` joins it to the fused estimate's arousal by inverse variance, its valence
untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

from moodsic_desktop.core.choices import FixedChoice
from moodsic_desktop.core.types import Estimate, FaceRead, RoomEnergy

FusionMode = Literal["inverse_variance", "fixed", "scene", "face"]
"""How ``fuse`` combines the experts; the strings are what settings files, reports and the CLI carry."""
FUSION_MODES: tuple[FusionMode, ...] = get_args(FusionMode)
_EPSILON = 1e-6
FACE_SIZE_REFERENCE_PX = 40.0
SCENE_PEOPLE_GAP_VAR = (0.25, 0.30)  # valence, arousal; see the module docstring
PEOPLE_SPREAD_VAR = 0.05  # how much people in one room differ (variance, each dimension); module docstring


def face_weights(reads: Sequence[FaceRead], dimension: str, between_people_var: float = 0.0) -> list[float]:
    """The unnormalised weight of each read face on ``dimension`` ("valence" or "arousal"); 0 for a face
    without an estimate. ``between_people_var`` >= 0 is added to each face's variance (module docstring)."""
    weights = []
    for read in reads:
        if read.estimate is None:
            weights.append(0.0)
            continue
        variance = read.estimate.var_valence if dimension == "valence" else read.estimate.var_arousal
        width = max(read.box.width, 0.0)
        size = width * width / (width * width + FACE_SIZE_REFERENCE_PX**2)
        weights.append(max(read.box.score, 0.0) * size / (variance + between_people_var + _EPSILON))
    return weights


def combine_faces(reads: Sequence[FaceRead], source: str = "faces", between_people_var: float = 0.0) -> Estimate | None:
    """The room's face reading from every face read (see the module docstring); ``None`` when no face has
    an estimate or every weight is 0. ``source`` names it (the pipeline adds the expert and the count);
    ``between_people_var`` >= 0 when each read is a different person (module docstring)."""
    result: dict[str, tuple[float, float]] = {}
    for dimension in ("valence", "arousal"):
        weights = face_weights(reads, dimension, between_people_var)
        total = sum(weights)
        if total <= 0.0:
            return None
        mean = variance = 0.0
        people = sum(weight > 0.0 for weight in weights)
        for weight, read in zip(weights, reads, strict=True):
            if weight > 0.0 and read.estimate is not None:
                value = read.estimate.valence if dimension == "valence" else read.estimate.arousal
                var = read.estimate.var_valence if dimension == "valence" else read.estimate.var_arousal
                share = weight / total
                mean += share * value
                variance += share * share * var + between_people_var * (share - 1.0 / people) ** 2
        result[dimension] = (mean, variance)
    (valence, var_valence), (arousal, var_arousal) = result["valence"], result["arousal"]
    return Estimate(valence, arousal, var_valence, var_arousal, source)


def with_room_energy(estimate: Estimate | None, room: RoomEnergy | None) -> Estimate | None:
    """``estimate`` with the room's energy joined to its arousal by inverse variance (module docstring);
    unchanged when either is ``None``. The source says so."""
    if estimate is None or room is None:
        return estimate
    arousal, var_arousal = _inverse_variance(room.arousal, room.var_arousal, estimate.arousal, estimate.var_arousal)
    source = f"{estimate.source} + room energy"
    return Estimate(estimate.valence, arousal, estimate.var_valence, var_arousal, source)


def fuse_step(
    scene: Estimate | None, face: Estimate | None, room: RoomEnergy | None, mode: FusionMode
) -> Estimate | None:
    """What the pipeline fuses at one step, in one place (``core.pipeline`` and the evaluations' replays):
    ``fuse(scene, face, mode)``, then the room's energy joined to arousal (``with_room_energy``) in the modes
    that weigh the experts together ("inverse_variance", "fixed"); "scene" and "face" keep one expert alone."""
    fused = fuse(scene, face, mode=mode)
    return with_room_energy(fused, room) if mode in ("inverse_variance", "fixed") else fused


validate_fusion_mode = FixedChoice("fusion mode", FUSION_MODES)
"""``mode`` as a :data:`FusionMode`; ``ValueError`` when it is not one (a settings file, a command line)."""


def _inverse_variance(x_scene: float, var_scene: float, x_face: float, var_face: float) -> tuple[float, float]:
    w_scene = 1.0 / (var_scene + _EPSILON)
    w_face = 1.0 / (var_face + _EPSILON)
    total = w_scene + w_face
    return (w_scene * x_scene + w_face * x_face) / total, 1.0 / total


def fuse(
    scene: Estimate | None,
    face: Estimate | None,
    mode: FusionMode = "inverse_variance",
    weights: tuple[float, float] = (0.6, 0.4),
) -> Estimate | None:
    """Fuse the scene and face estimates (see the module docstring for the equations)."""
    mode = validate_fusion_mode(mode)  # callers may hold an unchecked str at run time
    if mode == "scene":
        return scene
    if mode == "face":
        return face
    if scene is None or face is None:
        return scene if face is None else face
    gap_v, gap_a = SCENE_PEOPLE_GAP_VAR
    scene = Estimate(scene.valence, scene.arousal, scene.var_valence + gap_v, scene.var_arousal + gap_a, scene.source)
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
