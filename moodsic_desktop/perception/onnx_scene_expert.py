r"""Scene expert on two ONNX graphs: a backbone (CLIP ViT-B/32 or DINOv3 ViT-S/16 / B/16 image features) and a
small head that runs Monte Carlo dropout. onnxruntime only (no PyTorch).

Per call: the frame is prepared as the backbone's metadata says (:func:`prepare_image`: letterbox or
centre-crop to its input size, RGB, ``(pixel / 255 - mean) / std``), the backbone runs ONCE, then the head
runs :math:`N` dropout samples in ONE batched call: its inputs are the features (1 x d) and :math:`N`
dropout masks (1 x N x d, each element 0 with probability :math:`p`, else :math:`1/(1-p)`, drawn here),
its output (1 x N x 2) is (valence, arousal) in [0, 1] units.

Scales: a unit output :math:`u` is FindingEmo's scale normalised to [0, 1] — valence :math:`6u - 3` in
[-3, 3], arousal :math:`6u` in [0, 6] — and goes to reference space with
``EmotionScaleAligner.findingemo_to_reference`` (so :math:`x_{ref} = 2u - 1`), then through the model's
affine calibration (``moodsic.calibration``: per dimension ``[slope, intercept]`` in reference space,
fitted on validation data; identity when absent), clipped to [-1, 1].

Reading and uncertainty: the mean over the :math:`N` samples; the variance is the samples' variance
(the model's uncertainty) plus the squared residual standard deviation measured on validation data
(``moodsic.residual_std``, reference units; 0.25 when absent), floored at :math:`0.05^2`.

Threads: an expert holds two sessions and a random generator; call it from the capture/pipeline thread,
one call at a time. :func:`prepare_image` is pure, any thread.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from moodsic_desktop.core.choices import FixedChoice
from moodsic_desktop.core.scales import EmotionScaleAligner
from moodsic_desktop.core.types import Estimate
from moodsic_desktop.perception.faces import as_rgb_image
from moodsic_desktop.perception.model_store import META_PREFIX
from moodsic_desktop.perception.onnx_runtime import OnnxModel, RuntimeConfig, create_session, joint_terms

__all__ = [
    "FIT_MODES",
    "OnnxSceneExpert",
    "SceneModelMismatchError",
    "SceneReading",
    "dropout_masks",
    "prepare_image",
    "units_to_reference",
    "validate_fit",
]

FIT_MODES = ("letterbox", "crop", "stretch")
validate_fit = FixedChoice("fit", FIT_MODES)  # a backbone's ``moodsic.input`` fit; ValueError for any other
DEFAULT_RESIDUAL_STD = 0.25
STD_FLOOR = 0.05


class SceneModelMismatchError(ValueError):
    """The backbone/head files are not a scene model pair this expert can run."""


def prepare_image(frame: np.ndarray, spec: Mapping[str, Any]) -> np.ndarray:
    """The backbone input (1 x 3 x H x W float32) for an RGB uint8 frame.

    ``spec`` (the backbone's ``moodsic.input``): ``size`` [H, W] in pixels; ``fit`` — ``letterbox`` (whole
    frame scaled to fit, centred, the rest filled with the mean colour, i.e. 0 after normalisation),
    ``crop`` (shorter side scaled to fit, centre cut) or ``stretch``; ``mean`` and ``std`` per RGB channel
    on the [0, 1] scale. Area interpolation when shrinking, bilinear when enlarging. Pure; any thread.
    """
    image = as_rgb_image(frame)
    height, width = (int(s) for s in spec["size"])
    fit = validate_fit(spec.get("fit", "letterbox"))
    mean = np.asarray(spec.get("mean", (0.0, 0.0, 0.0)), dtype=np.float32)
    std = np.asarray(spec.get("std", (1.0, 1.0, 1.0)), dtype=np.float32)
    h, w = image.shape[:2]
    if fit == "stretch":
        new_w, new_h = width, height
    else:
        scale = min(width / w, height / h) if fit == "letterbox" else max(width / w, height / h)
        new_w, new_h = max(round(w * scale), 1), max(round(h * scale), 1)
    interpolation = cv2.INTER_AREA if new_w < w else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation) if (new_w, new_h) != (w, h) else image
    if fit == "crop":
        y0, x0 = (new_h - height) // 2, (new_w - width) // 2
        resized = resized[y0 : y0 + height, x0 : x0 + width]
    normalised = (resized.astype(np.float32) / np.float32(255.0) - mean) / std
    if fit == "letterbox":
        canvas = np.zeros((height, width, 3), dtype=np.float32)  # the mean colour, normalised
        y0, x0 = (height - new_h) // 2, (width - new_w) // 2
        canvas[y0 : y0 + new_h, x0 : x0 + new_w] = normalised
        normalised = canvas
    return np.ascontiguousarray(normalised.transpose(2, 0, 1)[None])


def dropout_masks(rng: np.random.Generator, batch: int, samples: int, dim: int, p: float) -> np.ndarray:
    """Inverted-dropout masks (batch x samples x dim, float32): 0 with probability ``p``, else
    ``1 / (1 - p)``; all ones when ``p`` is 0. Pure given ``rng``."""
    if p <= 0:
        return np.ones((batch, samples, dim), dtype=np.float32)
    keep = rng.random((batch, samples, dim)) >= p
    return keep.astype(np.float32) / np.float32(1.0 - p)


def units_to_reference(units: np.ndarray, calibration: Mapping[str, Sequence[float]] | None = None) -> np.ndarray:
    """Head outputs in [0, 1] units (… x 2: valence, arousal) → reference space [-1, 1], through FindingEmo's
    scale (v = 6u - 3, a = 6u) and ``EmotionScaleAligner``, then the affine ``calibration``. Pure."""
    u = np.clip(np.asarray(units, dtype=np.float64), 0.0, 1.0)
    v, a = EmotionScaleAligner().findingemo_to_reference(6.0 * u[..., 0] - 3.0, 6.0 * u[..., 1])
    if calibration:
        v = calibration["valence"][0] * v + calibration["valence"][1]
        a = calibration["arousal"][0] * a + calibration["arousal"][1]
    return np.clip(np.stack([v, a], axis=-1), -1.0, 1.0)


@dataclass(frozen=True)
class SceneReading:
    """One call's reading: V-A in [-1, 1], their standard deviations, the MC spread alone (reference units)
    and the number of head samples."""

    valence: float
    arousal: float
    std_valence: float
    std_arousal: float
    mc_std_valence: float
    mc_std_arousal: float
    samples: int


class OnnxSceneExpert:
    """SceneExpert on an ONNX backbone + MC-dropout head pair (see the module docstring).

    ``backbone``/``head``: paths or open :class:`OnnxModel` s. ``samples``: head samples per call (default
    from the head's metadata, else 16); ``seed`` for the dropout masks (None: fresh entropy). Raises
    :class:`SceneModelMismatchError` for files that do not fit together and ``OnnxRuntimeError`` for files
    onnxruntime cannot open. Call from the capture/pipeline thread, one call at a time.
    """

    is_fallback = False

    def __init__(
        self,
        backbone: str | os.PathLike[str] | OnnxModel,
        head: str | os.PathLike[str] | OnnxModel,
        *,
        runtime: RuntimeConfig | None = None,
        samples: int | None = None,
        seed: int | None = None,
        label: str | None = None,
    ) -> None:
        self.backbone = backbone if isinstance(backbone, OnnxModel) else create_session(backbone, runtime)
        self.head = head if isinstance(head, OnnxModel) else create_session(head, runtime)
        bmeta, hmeta = self.backbone.metadata, self.head.metadata
        if bmeta.get(META_PREFIX + "kind") != "scene-backbone" or hmeta.get(META_PREFIX + "kind") != "scene-head":
            raise SceneModelMismatchError(
                f"expected a scene-backbone and a scene-head, got {bmeta.get(META_PREFIX + 'kind')} and "
                f"{hmeta.get(META_PREFIX + 'kind')}"
            )
        if {"features", "mask"} != set(self.head.input_names) or self.head.output_names != ["va"]:
            raise SceneModelMismatchError(f"{self.head.path}: the head must take features and mask and return va")
        self.input_spec: dict[str, Any] = json.loads(bmeta.get(META_PREFIX + "input", "{}"))
        if "size" not in self.input_spec:
            raise SceneModelMismatchError(f"{self.backbone.path}: no input size in its metadata")
        self.feature_dim = int(hmeta.get(META_PREFIX + "feature_dim", "0"))
        if self.feature_dim != int(bmeta.get(META_PREFIX + "feature_dim", "-1")):
            raise SceneModelMismatchError("the head and the backbone disagree on the feature size")
        self.dropout = float(hmeta.get(META_PREFIX + "dropout", "0.0"))
        self.samples = int(samples if samples is not None else hmeta.get(META_PREFIX + "samples", "16"))
        if self.samples < 2:
            raise ValueError(f"need at least 2 head samples for a spread, got {self.samples}")
        calibration = hmeta.get(META_PREFIX + "calibration")
        self.calibration = json.loads(calibration) if calibration else None
        residual = hmeta.get(META_PREFIX + "residual_std")
        self.residual_std = tuple(json.loads(residual)) if residual else (DEFAULT_RESIDUAL_STD, DEFAULT_RESIDUAL_STD)
        self.backbone_name = bmeta.get(META_PREFIX + "backbone", "backbone")
        self.name = f"{label or hmeta.get(META_PREFIX + 'name') or 'scene-' + self.backbone_name} (ONNX)"
        self.terms = joint_terms(self.head.terms, self.backbone.terms)  # the head's licence first
        devices = dict.fromkeys((self.backbone.device, self.head.device))
        self.device = " + ".join(devices)
        self._seed = seed
        self._rng = np.random.default_rng(seed)
        self.last_reading: SceneReading | None = None

    def reset(self) -> None:
        """Restart the dropout masks' random sequence (same seed: same masks again)."""
        self._rng = np.random.default_rng(self._seed)
        self.last_reading = None

    def features(self, frame: np.ndarray) -> np.ndarray:
        """The backbone's features (1 x d float32) of an RGB uint8 frame."""
        (features,) = self.backbone.run({"pixel_values": prepare_image(frame, self.input_spec)}, ["features"])
        return features

    def head_samples(self, features: np.ndarray) -> np.ndarray:
        """``samples`` MC-dropout readings (batch x samples x 2) in reference space for ``features``."""
        masks = dropout_masks(self._rng, features.shape[0], self.samples, features.shape[1], self.dropout)
        (units,) = self.head.run({"features": features.astype(np.float32), "mask": masks}, ["va"])
        return units_to_reference(units, self.calibration)

    def estimate(self, frame: np.ndarray, now: float) -> Estimate | None:
        """V-A of the whole RGB uint8 frame at time ``now`` (seconds, unused: the reading is per frame)."""
        del now
        values = self.head_samples(self.features(frame))[0]
        valence, arousal = (float(x) for x in values.mean(axis=0))
        mc_v, mc_a = (float(x) for x in values.std(axis=0, ddof=1))
        res_v, res_a = self.residual_std
        std_v = min(max(math.sqrt(mc_v**2 + res_v**2), STD_FLOOR), 1.0)
        std_a = min(max(math.sqrt(mc_a**2 + res_a**2), STD_FLOOR), 1.0)
        self.last_reading = SceneReading(valence, arousal, std_v, std_a, mc_v, mc_a, self.samples)
        return Estimate(valence, arousal, std_v**2, std_a**2, self.name)

    def close(self) -> None:
        """Forget the last reading (the sessions are freed with the expert)."""
        self.last_reading = None
