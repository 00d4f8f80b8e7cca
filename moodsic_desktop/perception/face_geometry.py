r"""Built-in face expert: valence/arousal from face-mesh geometry (a fallback until EmoNet is installed).

Pipeline per call: ``crop_face`` (margin 0.25, resized to 256 x 256) → MediaPipe face mesh (468
landmarks, static-image mode) → four scale-free measures → deviation from a slowly adapting neutral
baseline, blended with deviation from a fixed population prior → V-A in [-1, 1] with tanh, and a
standard deviation that grows with everything that makes the reading less trustworthy.

Measures (face-aligned coordinates)
-----------------------------------
Let :math:`e_R, e_L` be the eye centres (mean of the corner landmarks 33/133 and 263/362) and
:math:`d = \lVert e_L - e_R \rVert` the inter-ocular distance (IOD). Landmarks are expressed in a frame
centred between the eyes, with x along :math:`e_L - e_R` and y perpendicular to it pointing down (towards
the mouth), divided by :math:`d`; so every measure is in IOD units (dimensionless), independent of face
size and in-plane rotation (roll).

- smile  :math:`s = (\bar y_{lip} - \bar y_{corners}) + \tfrac12\, w_{mouth}`, where
  :math:`\bar y_{lip}` is the mean y of the inner lip centres (13, 14), :math:`\bar y_{corners}` the mean y
  of the mouth corners (61, 291) and :math:`w_{mouth}` the corner-to-corner distance. Corners lifted above
  the lip centre and a widened mouth both raise it.
- mouth opening  :math:`m = y_{14} - y_{13}` (inner-lip gap).
- brow raise  :math:`b` = mean over both sides of (y of the upper eyelid centre 159/386) − (mean y of the
  upper brow contour 70, 63, 105, 66, 107 / 300, 293, 334, 296, 336).
- eye opening  :math:`o` = mean over both eyes of the lid gap :math:`y_{145} - y_{159}`,
  :math:`y_{374} - y_{386}`.

Population prior :math:`p` (neutral, frontal, mouth closed; from facial anthropometry — mouth width about
0.85 IOD, palpebral fissure about 0.17 IOD) and typical spread :math:`\sigma_f` per measure are in
``POPULATION_PRIOR`` and ``FEATURE_SCALE`` (IOD units). They are reasoned starting values, not fitted to
a labelled data set; for reference, the broadly smiling ``skimage.data.astronaut()`` measures
s = 0.66, m = 0.18, b = 0.22, o = 0.165 and reads V ≈ 0.7, A ≈ 0.4.

Baseline and deviations
-----------------------
The neutral baseline :math:`\beta` is a time-based EMA of the measures with time constant
:math:`\tau` = 30 s: :math:`\beta \leftarrow \beta + (1 - e^{-\Delta t/\tau})(f - \beta)`, started at the first
measurement. Its age :math:`t_\beta` is the time since it started; it restarts when ``now`` goes backwards
or after a gap longer than :math:`\tau` without a face (probably someone else). The deviation of a
measure, in units of its typical spread, blends baseline and prior:

.. math::  z = w\,\frac{f - \beta}{\sigma_f} + (1 - w)\,\frac{f - p}{\sigma_f},\qquad
           w = w_{max}\,(1 - e^{-t_\beta/\tau}),\ w_{max} = 0.65

so a young baseline defers to the prior, and a constant smiler still reads positive (the prior part
never vanishes). Each :math:`z` is clipped to [-4, 4]. Then

.. math::  V = \tanh(0.6\,z_s + 0.3\,\min(z_b, 0)),\qquad
           A = \tanh(0.45\,z_m + 0.35\,z_o + 0.25\,z_b)

(brow lowering lowers valence; mouth opening, wide eyes and raised brows raise arousal). This mapping is
the pure function :func:`features_to_va`.

Uncertainty
-----------
.. math::  \sigma_{V,A} = \mathrm{clip}\big(\sigma_{0;V,A}\, f_{size}\, f_{yaw}\, f_{stab}\, f_{young},\
           0.08,\ 0.9\big)

with :math:`\sigma_{0} = (0.22, 0.28)` (the geometry heuristic is weak, arousal weaker),
:math:`f_{size} = \sqrt{1 + (64\,\mathrm{px}/W)^2}` for a face box :math:`W` pixels wide,
:math:`f_{yaw} = 1 + 3\,\psi^2` with the yaw index
:math:`\psi = \mathrm{clip}\big((x_{nose} - \tfrac12(x_{33} + x_{263})) / (\tfrac12(x_{263} - x_{33})), -1, 1\big)`
(nose tip 1 against the outer eye corners; 0 frontal, ±1 profile),
:math:`f_{stab} = 1 + \min(u, 3)` with the instability :math:`u`, a short EMA (time constant 2 s) of
:math:`\tfrac12\lVert\Delta z\rVert_{rms} + \mathrm{rms}(\Delta\ell)/0.05` between consecutive calls less than
1 s apart (:math:`\Delta z`: change of the four deviations; :math:`\Delta\ell`: displacement of the aligned
landmarks in IOD units; a still face under sensor noise of 3 grey levels gives :math:`u \approx 0.1`),
and :math:`f_{young} = 1 + \tfrac12 e^{-t_\beta/\tau}`. The estimate carries variances :math:`\sigma^2`.
This is the pure function :func:`face_uncertainty`.

Several faces
-------------
The baseline belongs to one face: the first one read, followed from call to call while its box stays
within its width of the last one. Another face read in the same second (the pipeline reads every face
in view, largest first) is measured against the population prior alone (:math:`w` = 0, as a face just
arrived) and changes neither the baseline nor the instability.

Threads: an expert holds a MediaPipe graph and per-face state, neither thread-safe: call it from the
capture/pipeline thread, one call at a time (creating it on another thread first is fine).
The pure functions are safe on any thread.
"""

from __future__ import annotations

import functools
import math
from dataclasses import astuple, dataclass

import numpy as np
from mediapipe.python.solutions import face_mesh as _mp_face_mesh

from moodsic_desktop.closing import ClosesOnExit
from moodsic_desktop.core.types import Estimate, FaceBox
from moodsic_desktop.perception.faces import as_rgb_image, crop_face
from moodsic_desktop.perception.mediapipe_quiet import face_picture, started_quietly

__all__ = [
    "FEATURE_SCALE",
    "POPULATION_PRIOR",
    "FaceFeatures",
    "FaceGeometryExpert",
    "FaceMeasurement",
    "NeutralBaseline",
    "face_uncertainty",
    "feature_deviations",
    "features_to_va",
    "measure_face",
]

# Landmark indices of the 468-point MediaPipe face mesh (subject's right = image left).
RIGHT_EYE_CORNERS = (33, 133)
LEFT_EYE_CORNERS = (263, 362)
OUTER_EYE_CORNERS = (33, 263)
RIGHT_EYE_LIDS = (159, 145)  # upper, lower
LEFT_EYE_LIDS = (386, 374)
RIGHT_BROW = (70, 63, 105, 66, 107)
LEFT_BROW = (300, 293, 334, 296, 336)
MOUTH_CORNERS = (61, 291)
INNER_LIPS = (13, 14)  # upper, lower
NOSE_TIP = 1

CROP_SIZE = 256
CROP_MARGIN = 0.25
BASELINE_TIME_CONSTANT_S = 30.0
MAX_BASELINE_WEIGHT = 0.65
STD_RANGE = (0.08, 0.9)
BASE_STD = (0.22, 0.28)
REFERENCE_FACE_WIDTH_PX = 64.0
Z_CLIP = 4.0
_JITTER_MAX_GAP_S = 1.0
_INSTABILITY_TIME_CONSTANT_S = 2.0
_LANDMARK_JITTER_SCALE = 0.05


@dataclass(frozen=True)
class FaceFeatures:
    """The four scale-free measures, in inter-ocular-distance units (see the module docstring)."""

    smile: float
    mouth_open: float
    brow_raise: float
    eye_open: float

    def as_array(self) -> np.ndarray:
        return np.array(astuple(self), dtype=np.float64)

    @classmethod
    def from_array(cls, values: np.ndarray) -> FaceFeatures:
        return cls(*(float(v) for v in np.asarray(values, dtype=np.float64).reshape(4)))


POPULATION_PRIOR = FaceFeatures(smile=0.425, mouth_open=0.02, brow_raise=0.22, eye_open=0.17)
FEATURE_SCALE = FaceFeatures(smile=0.15, mouth_open=0.15, brow_raise=0.06, eye_open=0.05)


@dataclass(frozen=True)
class FaceMeasurement:
    """What :func:`measure_face` reads from one set of landmarks: the measures, the yaw index in
    [-1, 1] (0 frontal), the inter-ocular distance in the landmarks' pixels, and the aligned landmarks
    (468 x 2, IOD units) for jitter."""

    features: FaceFeatures
    yaw: float
    iod_px: float
    aligned: np.ndarray


def measure_face(landmarks: np.ndarray) -> FaceMeasurement | None:
    """Measures from 468 face-mesh landmarks (N x 2 or N x 3, x/y in any pixel units; z ignored).

    ``None`` when the eyes coincide (degenerate mesh). Pure; any thread.
    """
    points = np.asarray(landmarks, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] < 468 or points.shape[1] < 2:
        raise ValueError(f"expected 468 x 2 (or x 3) landmarks, got {points.shape}")
    xy = points[:, :2]
    right_eye = xy[list(RIGHT_EYE_CORNERS)].mean(axis=0)
    left_eye = xy[list(LEFT_EYE_CORNERS)].mean(axis=0)
    axis = left_eye - right_eye
    iod = float(np.hypot(*axis))
    if not math.isfinite(iod) or iod < 1e-6:
        return None
    ex = axis / iod
    ey = np.array([-ex[1], ex[0]])
    centred = xy - (left_eye + right_eye) / 2.0
    aligned = np.stack([centred @ ex, centred @ ey], axis=1) / iod
    x, y = aligned[:, 0], aligned[:, 1]

    lip_centre_y = y[list(INNER_LIPS)].mean()
    corners_y = y[list(MOUTH_CORNERS)].mean()
    mouth_width = float(np.hypot(*(aligned[MOUTH_CORNERS[1]] - aligned[MOUTH_CORNERS[0]])))
    smile = (lip_centre_y - corners_y) + 0.5 * mouth_width
    mouth_open = y[INNER_LIPS[1]] - y[INNER_LIPS[0]]
    brow_raise = 0.5 * (
        (y[RIGHT_EYE_LIDS[0]] - y[list(RIGHT_BROW)].mean()) + (y[LEFT_EYE_LIDS[0]] - y[list(LEFT_BROW)].mean())
    )
    eye_open = 0.5 * ((y[RIGHT_EYE_LIDS[1]] - y[RIGHT_EYE_LIDS[0]]) + (y[LEFT_EYE_LIDS[1]] - y[LEFT_EYE_LIDS[0]]))

    x_right, x_left = x[OUTER_EYE_CORNERS[0]], x[OUTER_EYE_CORNERS[1]]
    half_span = (x_left - x_right) / 2.0
    yaw = (x[NOSE_TIP] - (x_left + x_right) / 2.0) / half_span if half_span > 1e-6 else 1.0
    features = FaceFeatures(float(smile), float(mouth_open), float(brow_raise), float(eye_open))
    return FaceMeasurement(features, float(np.clip(yaw, -1.0, 1.0)), iod, aligned)


def feature_deviations(
    features: FaceFeatures,
    baseline: FaceFeatures | None,
    baseline_weight: float,
    prior: FaceFeatures = POPULATION_PRIOR,
    scale: FaceFeatures = FEATURE_SCALE,
) -> np.ndarray:
    """Blended deviations z (smile, mouth_open, brow_raise, eye_open), in typical-spread units,
    clipped to [-4, 4]: ``w (f - baseline)/scale + (1 - w)(f - prior)/scale``. No baseline → w = 0.
    Pure; any thread."""
    f, p, s = features.as_array(), prior.as_array(), scale.as_array()
    w = float(np.clip(baseline_weight, 0.0, 1.0)) if baseline is not None else 0.0
    z_prior = (f - p) / s
    z = z_prior if baseline is None else w * (f - baseline.as_array()) / s + (1.0 - w) * z_prior
    return np.clip(z, -Z_CLIP, Z_CLIP)


def features_to_va(
    features: FaceFeatures,
    baseline: FaceFeatures | None = None,
    baseline_weight: float = 0.0,
    prior: FaceFeatures = POPULATION_PRIOR,
    scale: FaceFeatures = FEATURE_SCALE,
) -> tuple[float, float]:
    """Map measures to (valence, arousal) in [-1, 1] (module docstring: z blend, then tanh).

    ``baseline`` is the running neutral face (``None``: prior only); ``baseline_weight`` in [0, 1] is how
    much its deviation counts against the prior's. Pure; any thread.
    """
    z_smile, z_mouth, z_brow, z_eye = feature_deviations(features, baseline, baseline_weight, prior, scale)
    valence = math.tanh(0.6 * z_smile + 0.3 * min(z_brow, 0.0))
    arousal = math.tanh(0.45 * z_mouth + 0.35 * z_eye + 0.25 * z_brow)
    return valence, arousal


def face_uncertainty(
    face_width_px: float,
    yaw: float = 0.0,
    instability: float = 0.0,
    baseline_age_s: float = math.inf,
    time_constant_s: float = BASELINE_TIME_CONSTANT_S,
) -> tuple[float, float]:
    """Standard deviations (valence, arousal) in reference units, clipped to [0.08, 0.9].

    Grows for small faces (box width in px), turned faces (yaw index in [-1, 1]), unstable readings
    (instability >= 0, see module docstring) and a young baseline (age in seconds). Pure; any thread.
    """
    width = max(float(face_width_px), 1.0)
    f_size = math.sqrt(1.0 + (REFERENCE_FACE_WIDTH_PX / width) ** 2)
    f_yaw = 1.0 + 3.0 * min(abs(float(yaw)), 1.0) ** 2
    f_stab = 1.0 + min(max(float(instability), 0.0), 3.0)
    age = max(float(baseline_age_s), 0.0)
    f_young = 1.0 + 0.5 * math.exp(-age / time_constant_s) if math.isfinite(age) else 1.0
    factor = f_size * f_yaw * f_stab * f_young
    low, high = STD_RANGE
    return tuple(float(np.clip(base * factor, low, high)) for base in BASE_STD)  # type: ignore[return-value]


class NeutralBaseline:
    """Time-based EMA of the measures (time constant ``time_constant_s`` seconds), the running neutral
    face. Restarts when time goes backwards or after a gap longer than the time constant. One thread."""

    def __init__(self, time_constant_s: float = BASELINE_TIME_CONSTANT_S) -> None:
        if time_constant_s <= 0:
            raise ValueError(f"time_constant_s must be > 0, got {time_constant_s}")
        self.time_constant_s = float(time_constant_s)
        self.reset()

    def reset(self) -> None:
        self._value: np.ndarray | None = None
        self._start: float = 0.0
        self._last: float = 0.0

    @property
    def value(self) -> FaceFeatures | None:
        """The baseline, or ``None`` before the first update."""
        return None if self._value is None else FaceFeatures.from_array(self._value)

    @property
    def last_update_s(self) -> float | None:
        """Time of the last update in seconds, ``None`` before the first."""
        return None if self._value is None else self._last

    def age_s(self, now: float) -> float:
        """Seconds since the baseline (re)started; 0 before the first update."""
        return 0.0 if self._value is None else max(now - self._start, 0.0)

    def weight(self, now: float) -> float:
        """Weight of baseline deviations against the prior: ``0.65 (1 - exp(-age / tau))``."""
        return MAX_BASELINE_WEIGHT * (1.0 - math.exp(-self.age_s(now) / self.time_constant_s))

    def update(self, features: FaceFeatures, now: float) -> None:
        """Blend ``features`` in at time ``now`` (seconds)."""
        f = features.as_array()
        dt = now - self._last
        if self._value is None or dt < 0 or dt > self.time_constant_s:
            self._value, self._start, self._last = f, float(now), float(now)
            return
        alpha = 1.0 - math.exp(-dt / self.time_constant_s)
        self._value = self._value + alpha * (f - self._value)
        self._last = float(now)


class FaceGeometryExpert(ClosesOnExit):
    """FaceExpert from face-mesh geometry; see the module docstring for every formula.

    ``estimate(frame, face, now)`` takes an RGB uint8 H x W x 3 frame, a face box in its pixels and the
    time in seconds (the frame's timestamp), and returns an ``Estimate`` in reference space [-1, 1] with
    variances, or ``None`` when face mesh finds no face in the crop. Keeps a neutral baseline per
    instance: call ``reset()`` when the tracked person changes. Call from the capture/pipeline thread, one call
    at a time.
    """

    name = "face-geometry (built-in)"
    is_fallback = True
    device = "CPU"

    def __init__(self, time_constant_s: float = BASELINE_TIME_CONSTANT_S, min_detection_score: float = 0.5) -> None:
        mesh = functools.partial(
            _mp_face_mesh.FaceMesh,
            static_image_mode=True,
            max_num_faces=1,
            refine_landmarks=False,
            min_detection_confidence=min_detection_score,
        )
        # run once on a face, so that the landmark stage starts (and says its start-up lines) now
        self._mesh: _mp_face_mesh.FaceMesh | None = started_quietly(mesh, face_picture())
        self._baseline = NeutralBaseline(time_constant_s)
        self._previous: tuple[float, np.ndarray, np.ndarray] | None = None  # (now, z, aligned landmarks)
        self._instability = 0.0
        self._instability_time: float | None = None
        self._baseline_face: tuple[float, FaceBox] | None = None  # (time, box) of the face the baseline follows
        self.last_measurement: FaceMeasurement | None = None

    def reset(self) -> None:
        """Forget the baseline and the previous reading (new person, new source)."""
        self._baseline.reset()
        self._previous = None
        self._instability = 0.0
        self._instability_time = None
        self._baseline_face = None
        self.last_measurement = None

    def _someone_else(self, face: FaceBox, now: float) -> bool:
        """True when ``face`` is not the face the baseline follows and that face was seen within a second."""
        if self._baseline_face is None:
            return False
        seen, box = self._baseline_face
        if not 0.0 <= now - seen <= _JITTER_MAX_GAP_S:
            return False
        (x0, y0), (x1, y1) = box.center, face.center
        return math.hypot(x1 - x0, y1 - y0) > max(box.width, face.width, 1.0)

    def landmarks(self, frame: np.ndarray, face: FaceBox) -> np.ndarray | None:
        """The 468 x 3 face-mesh landmarks of the crop around ``face`` (x, y in crop pixels of a
        256 x 256 crop, z in the same scale), or ``None`` when the mesh finds no face."""
        if self._mesh is None:
            raise RuntimeError("FaceGeometryExpert is closed")
        crop = crop_face(as_rgb_image(frame), face, margin=CROP_MARGIN, size=CROP_SIZE)
        result = self._mesh.process(crop)
        if not result.multi_face_landmarks:
            return None
        marks = result.multi_face_landmarks[0].landmark
        return np.array([(p.x, p.y, p.z) for p in marks], dtype=np.float64) * CROP_SIZE

    def estimate(self, frame: np.ndarray, face: FaceBox, now: float) -> Estimate | None:
        """V-A of ``face`` at time ``now`` (seconds), or ``None`` when no face mesh is found."""
        if face.width < 2.0 or face.height < 2.0:
            return None
        landmarks = self.landmarks(frame, face)
        if landmarks is None:
            return None
        measurement = measure_face(landmarks)
        if measurement is None:
            return None
        self.last_measurement = measurement
        now = float(now)
        last = self._baseline.last_update_s
        if last is not None and now < last:
            self.reset()  # time went backwards: a new source or a restarted clock
        if self._someone_else(face, now):  # another face in view: the prior alone, no state changed
            valence, arousal = features_to_va(measurement.features, None, 0.0)
            std_v, std_a = face_uncertainty(face.width, measurement.yaw, 0.0, 0.0, self._baseline.time_constant_s)
            return Estimate(valence, arousal, std_v**2, std_a**2, self.name)
        self._baseline_face = (now, face)

        baseline = self._baseline.value
        weight = self._baseline.weight(now)
        age = self._baseline.age_s(now)
        valence, arousal = features_to_va(measurement.features, baseline, weight)
        z = feature_deviations(measurement.features, baseline, weight)
        instability = self._update_instability(now, z, measurement.aligned)
        std_v, std_a = face_uncertainty(face.width, measurement.yaw, instability, age, self._baseline.time_constant_s)
        self._baseline.update(measurement.features, now)
        return Estimate(valence, arousal, std_v**2, std_a**2, self.name)

    def _update_instability(self, now: float, z: np.ndarray, aligned: np.ndarray) -> float:
        previous = self._previous
        self._previous = (now, z, aligned)
        if previous is None or not 0.0 <= now - previous[0] <= _JITTER_MAX_GAP_S:
            return self._instability
        dz = float(np.sqrt(np.mean((z - previous[1]) ** 2)))
        dl = float(np.sqrt(np.mean(np.sum((aligned - previous[2]) ** 2, axis=1))))
        raw = 0.5 * dz + dl / _LANDMARK_JITTER_SCALE
        dt = now - previous[0]
        if self._instability_time is None:
            self._instability = raw
        else:
            alpha = 1.0 - math.exp(-max(dt, 1e-3) / _INSTABILITY_TIME_CONSTANT_S)
            self._instability += alpha * (raw - self._instability)
        self._instability_time = now
        return self._instability

    def close(self) -> None:
        """Free the MediaPipe graph. Safe to call twice."""
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None
