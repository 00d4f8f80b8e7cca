r"""Face expert on an exported ONNX face model (EmoNet): V-A in [-1, 1], 8 expression probabilities, and an
uncertainty from test-time augmentation. onnxruntime only (no PyTorch).

Crop
----
As EmoNet was trained (AffectNet face crops): a square around the detector's box, its side
:math:`s = \max(w, h)(1 + 2m)` with margin :math:`m` = 0.15 (the geometry of
:func:`~moodsic_desktop.perception.faces.crop_face`), black outside the frame, resized to 256 x 256, RGB,
values pixel / 255 in [0, 1], NCHW. An augmentation moves the square's centre by :math:`(d_x, d_y)\,s`,
scales its side by :math:`k`, and may mirror it. Each crop is one bilinear warp of the frame (the
identity warp reproduces ``crop_face``); when a crop would shrink the frame by more than 1.5 x, the area
around the face is first reduced with area interpolation, so small details do not alias.

Alignment (``align=``): ``"landmarks"`` (default) turns the square by the face's roll, the angle of the
line between the eyes that MediaPipe's detector already found (``FaceBox.landmarks``), so a tilted head
reaches the model upright; ``"none"`` keeps the square upright. A box without landmarks is not turned.

Uncertainty (``uncertainty=``)
------------------------------
- ``"tta"``: every call runs :math:`n` augmentations (identity, mirror, then mirrored/unmirrored shifts
  of ±4 % and scales of ±6 %) as ONE batched session call. The reading is their mean; the variance is
  their sample variance.
- ``"window"`` (cheaper; default): one pass per call, the augmentation cycling through the same set
  from call to call; the reading is this call's, the variance the sample variance of the readings of
  the last ``window_s`` seconds (at least 3 readings; before that a prior :math:`\sigma` = 0.5). Each
  face in view keeps its own window: a reading joins the window of the face last seen within its width
  of this box less than ``window_s`` ago; otherwise it starts a new one (someone else). ``reset()``
  forgets every window.

Either variance is then widened for small faces and floored:
:math:`\sigma^2 = f_{size}^2\,(\sigma_{aug}^2 + 0.08^2)`, :math:`f_{size} = \sqrt{1 + (48\,px / w)^2}`
for a box :math:`w` pixels wide, clipped to :math:`\sigma \le 1`. Expression probabilities are the mean
softmax of the augmentations run this call.

V-A are clamped to [-1, 1] (EmoNet's own scale is the reference space; ``EmotionScaleAligner``
checks and clips).

Licence and other face models
-----------------------------
The expert exposes the model's licence and commercial use as ``terms`` (``onnx_runtime.ModelTerms``): EmoNet is
CC BY-NC-ND 4.0, non-commercial. :class:`OnnxFaceExpert` works for any ONNX face model with an ``image``
input (N x 3 x S x S, RGB in [0, 1]) and ``valence``/``arousal``/``expression`` outputs, so a model with a
licence that allows use in a shop can take EmoNet's place under its own ``moodsic.kind``.

Threads: an expert holds an onnxruntime session and per-face state; call it from the capture/pipeline
thread, one call at a time (creating it on another thread first is fine). :func:`face_crops` and
:func:`augmentation_set` are pure, any thread.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import cv2
import numpy as np

from moodsic_desktop.core.choices import FixedChoice
from moodsic_desktop.core.scales import EmotionScaleAligner
from moodsic_desktop.core.types import Estimate, FaceBox
from moodsic_desktop.perception.faces import as_rgb_image, crop_face
from moodsic_desktop.perception.model_store import META_PREFIX
from moodsic_desktop.perception.onnx_runtime import OnnxModel, RuntimeConfig, create_session

__all__ = [
    "UNCERTAINTY_MODES",
    "Augmentation",
    "EmoNetExpert",
    "FaceReading",
    "FaceUncertainty",
    "ModelMismatchError",
    "OnnxFaceExpert",
    "augmentation_set",
    "face_crops",
    "validate_face_uncertainty",
]

log = logging.getLogger(__name__)

FaceUncertainty = Literal["window", "tta"]
"""How a face model's uncertainty is measured (module docstring); the strings are what settings carry."""
UNCERTAINTY_MODES: tuple[FaceUncertainty, ...] = get_args(FaceUncertainty)
ALIGN_MODES = ("landmarks", "none")
validate_alignment = FixedChoice("alignment", ALIGN_MODES)  # how a face is aligned before it is read
CROP_MARGIN = 0.15
SHIFT = 0.04
SCALE_STEP = 0.06
STD_FLOOR = 0.08
PRIOR_STD = 0.5
REFERENCE_FACE_WIDTH_PX = 48.0
MIN_WINDOW_READINGS = 3


@dataclass
class _FaceTrack:
    """One face's recent readings for the ``"window"`` uncertainty: its last box and time (seconds) and the
    window of (time, valence, arousal)."""

    box: FaceBox
    time: float
    window: deque[tuple[float, float, float]]


MAX_TRACKS = 16


validate_face_uncertainty = FixedChoice("uncertainty mode", UNCERTAINTY_MODES)
"""``mode`` as a :data:`FaceUncertainty`; ``ValueError`` when it is not one (a settings file)."""


class ModelMismatchError(ValueError):
    """The ONNX file is not the kind of model this expert runs (wrong kind, inputs or outputs)."""


@dataclass(frozen=True)
class Augmentation:
    """A crop variation: centre shift ``dx``, ``dy`` (fractions of the crop side), side ``scale`` factor,
    and ``flip`` (mirror left-right)."""

    dx: float = 0.0
    dy: float = 0.0
    scale: float = 1.0
    flip: bool = False


def augmentation_set(n: int) -> tuple[Augmentation, ...]:
    """The first ``n`` (≥ 1) augmentations of the fixed sequence: identity, mirror, then shifts of ±4 % and
    scales of ±6 %, mirrored and not, in alternation (deterministic). Pure."""
    if n < 1:
        raise ValueError(f"need at least one augmentation, got {n}")
    s, k = SHIFT, SCALE_STEP
    sequence = [
        Augmentation(),
        Augmentation(flip=True),
        Augmentation(dx=s, scale=1 + k),
        Augmentation(dx=-s, scale=1 - k, flip=True),
        Augmentation(dy=s, scale=1 - k),
        Augmentation(dy=-s, scale=1 + k, flip=True),
        Augmentation(dx=-s, dy=s),
        Augmentation(dx=s, dy=-s, flip=True),
    ]
    while len(sequence) < n:  # beyond 8: the six moves again, half as far (then a quarter …), mirrored
        extra = len(sequence) - 8
        base, factor = sequence[2 + extra % 6], 0.5 ** (1 + extra // 6)
        sequence.append(Augmentation(base.dx * factor, base.dy * factor, 1 + (base.scale - 1) * factor, not base.flip))
    return tuple(sequence[:n])


def face_crops(
    frame: np.ndarray,
    face: FaceBox,
    augmentations: Sequence[Augmentation],
    size: int = 256,
    margin: float = CROP_MARGIN,
    roll: float = 0.0,
) -> np.ndarray:
    """RGB uint8 crops (N x size x size x 3), one per augmentation, of the square of side
    ``max(w, h) (1 + 2 margin)`` centred on ``face`` — the square of :func:`crop_face`, black outside the
    frame — turned by ``roll`` radians (the crop's x axis along that direction in the frame; 0: upright).
    Each crop is one bilinear warp; when a crop would shrink the frame by more than 1.5 x, the area
    around the face is first reduced with area interpolation (no aliasing). Pure; any thread.
    """
    image = as_rgb_image(frame)
    # The square of crop_face, rounded to whole pixels as it does: side, then its top-left corner.
    side = max(round(max(face.width, face.height) * (1.0 + 2.0 * margin)), 1)
    cx = round(face.center[0] - side / 2.0) + side / 2.0
    cy = round(face.center[1] - side / 2.0) + side / 2.0
    source, offset_x, offset_y, zoom = image, 0.0, 0.0, 1.0  # source pixel = (frame pixel - offset) * zoom
    largest = max(a.scale for a in augmentations) * side / size  # frame pixels per crop pixel
    if largest > 1.5:
        reach = max(max(abs(a.dx), abs(a.dy)) * 2.0 + a.scale for a in augmentations)
        turned = abs(math.cos(roll)) + abs(math.sin(roll))  # a turned square reaches further out
        half = math.ceil(reach * turned * side / 2.0) + 2
        ix, iy = round(cx), round(cy)
        window = crop_face(image, FaceBox(ix - half, iy - half, 2 * half, 2 * half, 1.0), margin=0.0)
        target = max(round(2 * half / largest), 1)
        source = cv2.resize(window, (target, target), interpolation=cv2.INTER_AREA)
        offset_x, offset_y, zoom = float(ix - half), float(iy - half), target / (2 * half)
    crops = np.empty((len(augmentations), size, size, 3), dtype=np.uint8)
    cos, sin = math.cos(roll), math.sin(roll)
    for i, aug in enumerate(augmentations):
        step = side * aug.scale / size  # frame pixels per crop pixel
        ax = -step if aug.flip else step
        # crop pixel (u, v) → offset from the crop centre (ax (u + 1/2 - size/2), step (v + 1/2 - size/2)),
        # turned by roll → frame point (pixel centres at integers) → source point.
        ox, oy = ax * (0.5 - size / 2.0), step * (0.5 - size / 2.0)
        fx = cx + aug.dx * side + cos * ox - sin * oy - 0.5
        fy = cy + aug.dy * side + sin * ox + cos * oy - 0.5
        matrix = np.array(
            [
                [cos * ax * zoom, -sin * step * zoom, (fx - offset_x + 0.5) * zoom - 0.5],
                [sin * ax * zoom, cos * step * zoom, (fy - offset_y + 0.5) * zoom - 0.5],
            ]
        )
        crops[i] = cv2.warpAffine(
            source,
            matrix,
            (size, size),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0),
        )
    return crops


@dataclass(frozen=True)
class FaceReading:
    """What one call read: V-A in [-1, 1], their standard deviations, the expression probabilities
    (class name → probability, summing to 1) and how many network passes the call ran."""

    valence: float
    arousal: float
    std_valence: float
    std_arousal: float
    expression: dict[str, float]
    passes: int


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


class OnnxFaceExpert:
    """FaceExpert on an ONNX face model (see the module docstring for crop, uncertainty and licence).

    ``model``: a path to the ONNX file or an :class:`OnnxModel` already open. ``uncertainty``: ``"window"``
    or ``"tta"``; ``tta_samples``: augmentations per call in ``"tta"`` mode (and the cycle length in
    ``"window"`` mode); ``window_s``: the window in seconds. Raises :class:`ModelMismatchError` when the
    file is not a face model of ``expected_kind``, and ``OnnxRuntimeError`` when it cannot be opened.
    Call from the capture/pipeline thread, one call at a time.
    """

    is_fallback = False
    expected_kind: str | None = None
    display_name = "ONNX face model"

    def __init__(
        self,
        model: str | os.PathLike[str] | OnnxModel,
        *,
        runtime: RuntimeConfig | None = None,
        uncertainty: FaceUncertainty | str = "window",
        tta_samples: int = 6,
        window_s: float = 2.0,
        margin: float = CROP_MARGIN,
        label: str | None = None,
        align: str = "landmarks",
    ) -> None:
        validate_alignment(align)
        uncertainty_mode = validate_face_uncertainty(uncertainty)
        if window_s <= 0:
            raise ValueError(f"window_s must be > 0, got {window_s}")
        self.model = model if isinstance(model, OnnxModel) else create_session(model, runtime)
        self._check_model()
        meta = self.model.metadata
        self.classes: tuple[str, ...] = tuple(json.loads(meta.get(META_PREFIX + "classes", "[]")))
        input_spec = json.loads(meta.get(META_PREFIX + "input", "{}"))
        self.input_size = int(input_spec.get("size", [256, 256])[0])
        self.terms = self.model.terms
        self.uncertainty = uncertainty_mode
        self.augmentations = augmentation_set(tta_samples)
        self.window_s = float(window_s)
        self.margin = float(margin)
        self.align = align
        model_name = label or meta.get(META_PREFIX + "name") or self.display_name
        self.name = f"{model_name} (ONNX)"
        self.device = self.model.device
        self._aligner = EmotionScaleAligner()
        self._tracks: list[_FaceTrack] = []
        self._cycle = 0
        self.last_reading: FaceReading | None = None

    def _check_model(self) -> None:
        meta = self.model.metadata
        kind = meta.get(META_PREFIX + "kind")
        if self.expected_kind is not None and kind != self.expected_kind:
            raise ModelMismatchError(f"{self.model.path}: a {kind or 'foreign'} model, not {self.expected_kind}")
        inputs = self.model.session.get_inputs()
        outputs = set(self.model.output_names)
        if len(inputs) != 1 or inputs[0].name != "image" or not {"valence", "arousal", "expression"} <= outputs:
            raise ModelMismatchError(
                f"{self.model.path}: expected input 'image' and outputs valence, arousal, expression; "
                f"found inputs {[i.name for i in inputs]} and outputs {sorted(outputs)}"
            )
        shape = list(inputs[0].shape)
        size = json.loads(meta.get(META_PREFIX + "input", "{}")).get("size", [256, 256])
        fixed = [d for d in shape[1:] if isinstance(d, int)]
        if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3) or (len(fixed) == 3 and fixed[1:] != size):
            raise ModelMismatchError(
                f"{self.model.path}: expected an 'image' input of shape N x 3 x {size[0]} x {size[1]}, found {shape}"
            )

    def reset(self) -> None:
        """Forget every face's window of readings (new source)."""
        self._tracks.clear()
        self._cycle = 0
        self.last_reading = None

    def _run(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        batch = np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32) * np.float32(1.0 / 255.0)
        valence, arousal, expression = self.model.run({"image": batch}, ["valence", "arousal", "expression"])
        v, a = self._aligner.emonet_to_reference(np.clip(valence, -1, 1), np.clip(arousal, -1, 1))
        return v.reshape(-1), a.reshape(-1), _softmax(np.asarray(expression, dtype=np.float64))

    def _track(self, face: FaceBox, now: float) -> _FaceTrack:
        """The window of the face last seen near ``face`` (within its width, less than ``window_s`` ago), or
        a new one; windows of faces gone longer than ``window_s`` are dropped."""
        self._tracks = [t for t in self._tracks if 0.0 <= now - t.time <= self.window_s]
        (x1, y1) = face.center
        for track in self._tracks:
            x0, y0 = track.box.center
            if math.hypot(x1 - x0, y1 - y0) <= max(track.box.width, face.width, 1.0):
                return track
        track = _FaceTrack(face, now, deque())
        self._tracks = [*self._tracks[-(MAX_TRACKS - 1) :], track]
        return track

    def estimate(self, frame: np.ndarray, face: FaceBox, now: float) -> Estimate | None:
        """V-A of ``face`` in the RGB uint8 ``frame`` at time ``now`` (seconds); ``None`` for an empty box."""
        if face.width < 1 or face.height < 1:
            return None
        now = float(now)
        if self.uncertainty == "tta":
            augmentations: Sequence[Augmentation] = self.augmentations
        else:
            track = self._track(face, now)
            augmentations = (self.augmentations[self._cycle % len(self.augmentations)],)
            self._cycle += 1
        roll = face.roll if self.align == "landmarks" else 0.0
        crops = face_crops(frame, face, augmentations, size=self.input_size, margin=self.margin, roll=roll)
        values_v, values_a, probabilities = self._run(crops)
        if self.uncertainty == "tta":
            valence, arousal = float(values_v.mean()), float(values_a.mean())
            n = len(values_v)
            var_v = float(values_v.var(ddof=1)) if n > 1 else PRIOR_STD**2
            var_a = float(values_a.var(ddof=1)) if n > 1 else PRIOR_STD**2
        else:
            valence, arousal = float(values_v[0]), float(values_a[0])
            track.box, track.time = face, now
            track.window.append((now, valence, arousal))
            while track.window and now - track.window[0][0] > self.window_s:
                track.window.popleft()
            if len(track.window) >= MIN_WINDOW_READINGS:
                recent = np.array([(v, a) for _, v, a in track.window])
                var_v, var_a = (float(x) for x in recent.var(axis=0, ddof=1))
            else:
                var_v = var_a = PRIOR_STD**2
        f_size = math.sqrt(1.0 + (REFERENCE_FACE_WIDTH_PX / max(face.width, 1.0)) ** 2)
        std_v = min(f_size * math.sqrt(var_v + STD_FLOOR**2), 1.0)
        std_a = min(f_size * math.sqrt(var_a + STD_FLOOR**2), 1.0)
        mean_probabilities = probabilities.mean(axis=0)
        names = self.classes if len(self.classes) == len(mean_probabilities) else range(len(mean_probabilities))
        expression = {str(name): float(p) for name, p in zip(names, mean_probabilities, strict=True)}
        self.last_reading = FaceReading(valence, arousal, std_v, std_a, expression, len(augmentations))
        return Estimate(valence, arousal, std_v**2, std_a**2, self.name)

    def close(self) -> None:
        """Forget the per-face state; the session is freed with the expert."""
        self.reset()


class EmoNetExpert(OnnxFaceExpert):
    """:class:`OnnxFaceExpert` for an exported EmoNet (``moodsic.kind`` = ``emonet``): 256 x 256 input,
    8 (or 5) expression classes. CC BY-NC-ND 4.0: non-commercial use only."""

    expected_kind = "emonet"
    display_name = "EmoNet"
