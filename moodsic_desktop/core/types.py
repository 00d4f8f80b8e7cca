"""Data contracts shared by every stage: estimates, face boxes and the expert interfaces.

All valence/arousal values are in reference space [-1, 1]; variances are in reference units squared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeAlias, get_args, runtime_checkable

import numpy as np
from numpy.typing import NDArray

Frame: TypeAlias = NDArray[np.uint8]
"""An RGB image, H x W x 3, uint8: what the pipeline, the detector and the experts take."""

ExpertRole = Literal["face", "scene"]
"""The two expert roles: the face expert reads faces, the scene expert the whole frame. The strings are
what model manifests (``expert``), reports and the window carry."""
EXPERT_ROLES: tuple[ExpertRole, ...] = get_args(ExpertRole)


@dataclass(frozen=True)
class Estimate:
    """One valence/arousal reading with its uncertainty.

    ``valence`` and ``arousal`` are in reference space [-1, 1]; ``var_valence`` and ``var_arousal`` are
    variances in the same units squared; ``source`` names honestly what produced it (for example
    ``"scene-statistics (built-in)"``).
    """

    valence: float
    arousal: float
    var_valence: float
    var_arousal: float
    source: str

    @property
    def std_valence(self) -> float:
        return math.sqrt(max(self.var_valence, 0.0))

    @property
    def std_arousal(self) -> float:
        return math.sqrt(max(self.var_arousal, 0.0))

    def is_finite(self) -> bool:
        """True when every number is finite and no variance is negative."""
        values = (self.valence, self.arousal, self.var_valence, self.var_arousal)
        return all(math.isfinite(x) for x in values) and self.var_valence >= 0 and self.var_arousal >= 0


@dataclass(frozen=True)
class FaceBox:
    """A detected face in frame pixels: top-left corner, size, and the detector's score in [0, 1].

    ``landmarks`` are the detector's key points in frame pixels, in MediaPipe face detection's order:
    right eye, left eye, nose tip, mouth centre, right ear, left ear (the person's right and left);
    empty when the detector gives none. ``track`` is the number of the person this face belongs to, given by
    ``core.tracking.FaceTracker`` (``None`` before tracking; not part of a box's equality: the same box
    is the same box whichever person it is numbered with).
    """

    x: float
    y: float
    width: float
    height: float
    score: float
    landmarks: tuple[tuple[float, float], ...] = ()
    track: int | None = field(default=None, compare=False)

    @property
    def roll(self) -> float:
        """The angle of the line from the right eye to the left eye against the image's x axis, in radians
        (positive when the left eye is lower in the picture); 0 without landmarks."""
        if len(self.landmarks) < 2:
            return 0.0
        (rx, ry), (lx, ly) = self.landmarks[0], self.landmarks[1]
        return math.atan2(ly - ry, lx - rx)

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.width / 2.0, self.y + self.height / 2.0


@dataclass(frozen=True)
class FaceRead:
    """One face the pipeline read this step: its box, the expert's estimate (``None`` when the expert could
    not read it), the most probable expression with its probability in [0, 1] (``None`` for experts without
    classes), and the weight in [0, 1] this face had in the room's reading (its share of the total)."""

    box: FaceBox
    estimate: Estimate | None
    expression: str | None = None
    expression_probability: float | None = None
    share: float = 0.0


@runtime_checkable
class FaceDetector(Protocol):
    """Finds faces in an RGB uint8 frame (H x W x 3). Called from the thread that runs the pipeline."""

    def detect(self, frame: Frame) -> list[FaceBox]: ...


@runtime_checkable
class FaceExpert(Protocol):
    """Reads V-A from one face of an RGB uint8 frame; ``None`` when it cannot (no landmarks, bad crop).

    ``name`` appears as the ``source`` of its estimates; ``is_fallback`` is True for built-in heuristics
    that stand in until a real model is installed; ``device`` says where it runs ("CPU", "GPU").
    """

    name: str
    is_fallback: bool
    device: str

    def estimate(self, frame: Frame, face: FaceBox, now: float) -> Estimate | None: ...

    def reset(self) -> None: ...


@runtime_checkable
class BatchFaceExpert(FaceExpert, Protocol):
    """A face expert that reads several faces of one frame in one call (one batched model run).

    ``read_faces`` returns one :class:`FaceRead` per face, in the order given (its ``share`` left at 0:
    the pipeline sets it). Same thread rules as ``FaceExpert``."""

    def read_faces(self, frame: Frame, faces: list[FaceBox], now: float) -> list[FaceRead]: ...


@runtime_checkable
class SceneExpert(Protocol):
    """Reads V-A from a whole RGB uint8 frame; ``None`` when it cannot. Same attributes as FaceExpert."""

    name: str
    is_fallback: bool
    device: str

    def estimate(self, frame: Frame, now: float) -> Estimate | None: ...

    def reset(self) -> None: ...


@dataclass(frozen=True)
class RoomEnergy:
    """How lively the room is: ``people`` in view, their ``motion`` (mean grey change per second in the
    regions around them, 0..~10; 0 without a previous frame), and the arousal in [-1, 1] that reads with
    its variance ``var_arousal`` (reference units squared)."""

    people: int
    motion: float
    arousal: float
    var_arousal: float

    def is_finite(self) -> bool:
        """True when every number is finite and the variance is not negative."""
        return all(math.isfinite(x) for x in (self.motion, self.arousal, self.var_arousal)) and self.var_arousal >= 0


@runtime_checkable
class RoomEnergyReader(Protocol):
    """Reads the room's energy from an RGB uint8 frame and the faces in it (followed, ``FaceBox.track``).
    Called from the thread that runs the pipeline."""

    name: str

    def measure(self, frame: Frame, faces: list[FaceBox], now: float) -> RoomEnergy: ...

    def reset(self) -> None: ...
