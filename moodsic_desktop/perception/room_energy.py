r"""The room's energy: how many people are in view and how much they move, as an arousal cue.

A café is lively when many people are there and they move, gesture and talk; quiet when few sit still.
:class:`RoomEnergyMeter` reads both from what the pipeline already has, the frame and the followed faces
(``FaceBox.track``), at a cost of about a millisecond a frame.

Measures
--------
The frame is turned grey and shrunk to ``WORK_WIDTH`` = 160 px wide (area interpolation), so the measure
does not depend on the camera's resolution. Each face stands for a person: around its box (width
:math:`W`, height :math:`H`) the *person region* spans :math:`1.5\,W` either side of the face's centre
and from :math:`0.25\,H` above the box to :math:`4\,H` below its top (head, shoulders, hands on a table).

- people :math:`n`: the faces in view;
- motion :math:`r`: the mean over the person regions (the whole frame when no face is in view) of
  :math:`\max(|g_t - g_{t-1}| - 3, 0)/255` (grey levels; 3 levels of sensor noise are not movement),
  divided by the time since the previous frame, clipped to [1/60 s, 1 s]: **per second**, so a camera
  at 10 fps and one at 30 fps read the same movement alike. The first frame after ``reset()``, a change
  of the frame's shape (its shrunk size) or time going backwards has no motion reading (taken as 0).

Energy and arousal
------------------
.. math::  m = \ln(1 + r / 0.02\,s^{-1}),\qquad p = \ln(1 + n),\qquad
           A = \tanh\big(0.5\,(m - 1) + 0.5\,(p - \ln 2)\big)

so one person sitting still reads about -0.46 ("a quiet room"), one person talking in front of the camera
(r ≈ 0.01-0.03/s, the CREMA-D clips) -0.2 to -0.35, the same person sped up three times (time-lapse) -0.1
to +0.2, five people still 0.05, and more people or more movement more (``energy_to_arousal``, pure).
These constants are reasoned, not fitted: the real footage at hand shows one or five people, not a café.
The words: arousal above ``LIVELY`` (0.25) is "a lively room", below ``QUIET`` (-0.25) "a quiet room",
else "a calm room" (``core.mood_words.room_energy_words``).

Uncertainty
-----------
The energy says little about any one person's mood: its variance on arousal is ``ENERGY_VARIANCE`` = 0.5
(σ ≈ 0.7), the mean squared error of its arousal about the labelled arousal of the person in the six
CREMA-D clips of ``../shared/fixtures/real/crema-d`` (0.49; the photos are left out: a photograph cannot
move); ``tests/perception/test_room_energy.py`` recomputes it. Fused by inverse variance
(``core.fusion.with_room_energy``), it moves a face reading of variance 0.1 by a sixth of the gap, and
counts for more when no face is read.

Threads: a meter keeps the previous frame: call it from the capture/pipeline thread, one call at a time.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from moodsic_desktop.core.types import FaceBox, RoomEnergy
from moodsic_desktop.perception.faces import as_rgb_image

__all__ = ["ENERGY_VARIANCE", "RoomEnergyMeter", "energy_to_arousal", "person_mask"]

WORK_WIDTH = 160
NOISE_LEVELS = 6.0
MOTION_REFERENCE_PER_S = 0.02
MOTION_CENTRE = 1.0
MOTION_GAIN = 0.5
PEOPLE_GAIN = 0.5
PEOPLE_CENTRE = math.log(2.0)
MIN_DT_S, MAX_DT_S = 1.0 / 60.0, 1.0
ENERGY_VARIANCE = 0.5
REGION_SIDE = 1.5  # face widths either side of the face's centre
REGION_ABOVE, REGION_BELOW = 0.25, 4.0  # face heights above the box, below its top


def energy_to_arousal(people: int, motion_per_s: float) -> float:
    """Arousal in [-1, 1] from the people in view and their motion (mean grey change per second, 0..~10);
    see the module docstring. Pure; any thread."""
    m = math.log1p(max(motion_per_s, 0.0) / MOTION_REFERENCE_PER_S)
    p = math.log1p(max(people, 0))
    return math.tanh(MOTION_GAIN * (m - MOTION_CENTRE) + PEOPLE_GAIN * (p - PEOPLE_CENTRE))


def person_mask(shape: tuple[int, int], faces: list[FaceBox], scale: float) -> np.ndarray:
    """A boolean mask (``shape`` = rows, columns) of the person regions around ``faces`` (frame pixels,
    multiplied by ``scale`` to reach the mask's pixels); see the module docstring. Pure."""
    rows, columns = shape
    mask = np.zeros((rows, columns), dtype=bool)
    for face in faces:
        cx = (face.x + face.width / 2.0) * scale
        x0, x1 = cx - REGION_SIDE * face.width * scale, cx + REGION_SIDE * face.width * scale
        y0 = (face.y - REGION_ABOVE * face.height) * scale
        y1 = (face.y + REGION_BELOW * face.height) * scale
        c0, c1 = int(np.clip(math.floor(x0), 0, columns)), int(np.clip(math.ceil(x1), 0, columns))
        r0, r1 = int(np.clip(math.floor(y0), 0, rows)), int(np.clip(math.ceil(y1), 0, rows))
        mask[r0:r1, c0:c1] = True
    return mask


class RoomEnergyMeter:
    """How lively the room is (module docstring). ``measure`` from the capture/pipeline thread only."""

    name = "room energy (built-in)"

    def __init__(self) -> None:
        self._previous: tuple[float, np.ndarray] | None = None

    def reset(self) -> None:
        """Forget the previous frame (a new source)."""
        self._previous = None

    def measure(self, frame: np.ndarray, faces: list[FaceBox], now: float) -> RoomEnergy:
        """The room's energy in the RGB uint8 ``frame`` at ``now`` seconds with ``faces`` in view."""
        image = as_rgb_image(frame)
        height, width = image.shape[:2]
        scale = min(WORK_WIDTH / width, 1.0)
        size = (max(round(width * scale), 1), max(round(height * scale), 1))
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        if scale < 1.0:
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        motion = 0.0
        previous = self._previous
        self._previous = (now, grey)
        if previous is not None and previous[1].shape == grey.shape and now > previous[0]:
            change = cv2.absdiff(grey, previous[1]).astype(np.float32)
            moving = np.maximum(change - NOISE_LEVELS, 0.0)
            rows, columns = grey.shape[:2]
            mask = person_mask((rows, columns), faces, scale) if faces else None
            mean = float(moving[mask].mean()) if mask is not None and mask.any() else float(moving.mean())
            motion = mean / 255.0 / float(np.clip(now - previous[0], MIN_DT_S, MAX_DT_S))
        people = len(faces)
        return RoomEnergy(people, motion, energy_to_arousal(people, motion), ENERGY_VARIANCE)
