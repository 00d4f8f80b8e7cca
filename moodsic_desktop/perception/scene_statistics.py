r"""Built-in scene expert: valence/arousal from image statistics (a fallback until a scene model is installed).

Each call downscales the RGB frame to 160 px wide (area interpolation; smaller frames are used as they
are) and measures, with every channel on the 0..255 scale of uint8:

- brightness  :math:`B = \overline{Y}/255 \in [0, 1]`, mean Rec. 601 luma (closest to the Munsell value
  used by Valdez & Mehrabian);
- saturation  :math:`S = \overline{\max(R,G,B) - \min(R,G,B)}/255 \in [0, 1]`, mean chroma: closer to
  the Munsell chroma that Valdez & Mehrabian used than HSV saturation, which calls a dark navy as
  saturated as a bright yellow (and so read dim, calm rooms as arousing);
- colourfulness (Hasler & Süsstrunk 2003)  :math:`C = \sqrt{\sigma_{rg}^2 + \sigma_{yb}^2}
  + 0.3\sqrt{\mu_{rg}^2 + \mu_{yb}^2}` with :math:`rg = R - G`, :math:`yb = \tfrac12(R + G) - B`
  (0 for grey; about 33 "moderately", 59 "highly" colourful);
- motion energy  :math:`r = \overline{|g_t - g_{t-1}|}/255 \,/\, \mathrm{clip}(\Delta t, 1/60\,s, 1\,s)`, the
  mean absolute difference of the downscaled grayscale frame to the previous one this expert saw,
  **per second** (so the reading does not depend on the frame rate; gaps over 1 s count as 1 s). The
  first call after ``reset()`` (or after the frame size changes or ``now`` goes backwards) has no motion
  reading.

Centred values (typical indoor scene at 0, one typical spread = 1):

.. math::  b = (B - 0.45)/0.25,\quad s = (S - 0.20)/0.15,\quad c = (C - 33)/25,\quad
           m = \ln(1 + r/0.05\,s^{-1}) - \ln 3

(:math:`m` = 0 at 0.1/s, about -1.1 for a still picture; without a motion reading :math:`m` = 0).
Mapping, starting from the Valdez & Mehrabian (1994) colour-emotion regressions
(Pleasure = 0.69 B + 0.22 S, Arousal = -0.31 B + 0.60 S), plus colourfulness for valence and motion for
arousal, squashed to [-1, 1]:

.. math::  V = \tanh(0.69\,b + 0.22\,s + 0.25\,c),\qquad A = \tanh(-0.31\,b + 0.60\,s + 0.50\,m)

Uncertainty: the same measures and mapping are evaluated on each tile of a 4 x 4 grid of the downscaled
frame; the spread across tiles (population standard deviation :math:`\sigma_{tiles}`) plus a floor gives

.. math::  \sigma = \min\big(\sqrt{0.25^2 + \sigma_{tiles}^2 + \sigma_{motion}^2},\ 1\big)

per dimension, with :math:`\sigma_{motion}` = 0.2 on arousal when there is no motion reading, else 0.
The estimate carries the variances :math:`\sigma^2`. A uniform frame gets the floor; a half-black,
half-white frame a large spread. The floor of 0.25 is reasoned, not fitted: colour statistics are a weak
cue even to how a place feels, so even a uniform frame is never read as certain (it was 0.10, which let a
plain dark wall look surer than a face). This σ is the expert's error about the *place*; about the
*people* in view it is further off, which ``core.fusion`` adds (``SCENE_PEOPLE_GAP_VAR``, measured on real
labelled faces) whenever a face reading is fused: so the scene is a weak prior that leads only when no
face is read.

Threads: an expert keeps the previous frame, so it is not thread-safe: call it from the
capture/pipeline thread, one call at a time.
:func:`scene_measures` and :func:`measures_to_va` are pure and safe on any thread.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from moodsic_desktop.core.types import Estimate
from moodsic_desktop.perception.faces import as_rgb_image

__all__ = ["SceneMeasures", "SceneStatisticsExpert", "measures_to_va", "scene_measures"]

WORK_WIDTH = 160
GRID = (4, 4)
BRIGHTNESS_CENTRE, BRIGHTNESS_SPREAD = 0.45, 0.25
SATURATION_CENTRE, SATURATION_SPREAD = 0.20, 0.15
COLOURFULNESS_CENTRE, COLOURFULNESS_SPREAD = 33.0, 25.0
MOTION_REFERENCE_PER_S = 0.05
MOTION_CENTRE = math.log(3.0)
MIN_DT_S, MAX_DT_S = 1.0 / 60.0, 1.0
STD_FLOOR = 0.25
STD_MOTION_UNKNOWN = 0.20


@dataclass(frozen=True)
class SceneMeasures:
    """Raw measures of an image region: brightness and saturation in [0, 1], colourfulness on the
    Hasler & Süsstrunk scale (0..~150), motion in mean-absolute-difference per second (``None``: no
    previous frame)."""

    brightness: float
    saturation: float
    colourfulness: float
    motion_per_s: float | None


def _region_measures(
    luma: np.ndarray,
    *,
    sat: np.ndarray,
    rg: np.ndarray,
    yb: np.ndarray,
    motion: np.ndarray | None,
    dt: float,
) -> SceneMeasures:
    colourfulness = math.hypot(float(rg.std()), float(yb.std())) + 0.3 * math.hypot(float(rg.mean()), float(yb.mean()))
    motion_per_s = None if motion is None else float(motion.mean()) / 255.0 / dt
    return SceneMeasures(float(luma.mean()) / 255.0, float(sat.mean()) / 255.0, colourfulness, motion_per_s)


def scene_measures(
    image: np.ndarray,
    previous_gray: np.ndarray | None = None,
    dt_s: float = 1.0 / 30.0,
    grid: tuple[int, int] = GRID,
) -> tuple[SceneMeasures, list[SceneMeasures], np.ndarray]:
    """Measures of an RGB uint8 image that is already downscaled, for the whole image and for each tile of
    ``grid`` (columns, rows), plus its grayscale (uint8) for the next call's motion.

    ``previous_gray`` (same shape as the image) gives the motion reading; ``dt_s`` is the time since it in
    seconds, clipped to [1/60, 1]. Pure; any thread.
    """
    rgb = as_rgb_image(image)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    sat = rgb.max(axis=2) - rgb.min(axis=2)  # chroma, 0..255
    channels = rgb.astype(np.float32)
    r, g, b = channels[:, :, 0], channels[:, :, 1], channels[:, :, 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    if previous_gray is not None and previous_gray.shape != gray.shape:
        raise ValueError(f"previous frame shape {previous_gray.shape} differs from {gray.shape}")
    motion = None if previous_gray is None else cv2.absdiff(gray, previous_gray).astype(np.float32)
    dt = float(np.clip(dt_s, MIN_DT_S, MAX_DT_S))
    whole = _region_measures(gray, sat=sat, rg=rg, yb=yb, motion=motion, dt=dt)
    tiles = []
    height, width = gray.shape
    cols, rows = grid
    ys = np.linspace(0, height, min(rows, height) + 1).round().astype(int)
    xs = np.linspace(0, width, min(cols, width) + 1).round().astype(int)
    for y0, y1 in itertools.pairwise(ys):
        for x0, x1 in itertools.pairwise(xs):
            window = (slice(y0, y1), slice(x0, x1))
            tile_motion = None if motion is None else motion[window]
            tiles.append(
                _region_measures(gray[window], sat=sat[window], rg=rg[window], yb=yb[window], motion=tile_motion, dt=dt)
            )
    return whole, tiles, gray


def measures_to_va(measures: SceneMeasures) -> tuple[float, float]:
    """(valence, arousal) in [-1, 1] from raw measures (module docstring: centring, Valdez & Mehrabian
    regressions plus colourfulness and motion, tanh). Pure; any thread."""
    b = (measures.brightness - BRIGHTNESS_CENTRE) / BRIGHTNESS_SPREAD
    s = (measures.saturation - SATURATION_CENTRE) / SATURATION_SPREAD
    c = (measures.colourfulness - COLOURFULNESS_CENTRE) / COLOURFULNESS_SPREAD
    if measures.motion_per_s is None:
        m = 0.0
    else:
        m = math.log1p(max(measures.motion_per_s, 0.0) / MOTION_REFERENCE_PER_S) - MOTION_CENTRE
    valence = math.tanh(0.69 * b + 0.22 * s + 0.25 * c)
    arousal = math.tanh(-0.31 * b + 0.60 * s + 0.50 * m)
    return valence, arousal


def downscale(image: np.ndarray, width: int = WORK_WIDTH) -> np.ndarray:
    """Resize an RGB image to ``width`` pixels wide keeping the aspect ratio (area interpolation); images
    already narrower are returned as they are. Pure; any thread."""
    rgb = as_rgb_image(image)
    h, w = rgb.shape[:2]
    if w <= width:
        return rgb
    new_h = max(round(h * width / w), 1)
    return cv2.resize(rgb, (width, new_h), interpolation=cv2.INTER_AREA)


class SceneStatisticsExpert:
    """SceneExpert from brightness, saturation, colourfulness and motion; formulas in the module docstring.

    ``estimate(frame, now)`` takes an RGB uint8 H x W x 3 frame and the time in seconds (its timestamp)
    and returns an ``Estimate`` in reference space [-1, 1] with variances. It remembers the previous
    downscaled grayscale frame for the motion reading; ``reset()`` forgets it. Call from the
    capture/pipeline thread, one call at a time.
    """

    name = "scene-statistics (built-in)"
    is_fallback = True
    device = "CPU"

    def __init__(self, width: int = WORK_WIDTH, grid: tuple[int, int] = GRID) -> None:
        if width < 8:
            raise ValueError(f"width must be at least 8 px, got {width}")
        self.width = int(width)
        self.grid = (int(grid[0]), int(grid[1]))
        self._previous: tuple[float, np.ndarray] | None = None
        self.last_measures: SceneMeasures | None = None

    def reset(self) -> None:
        """Forget the previous frame (the next call has no motion reading)."""
        self._previous = None
        self.last_measures = None

    def estimate(self, frame: np.ndarray, now: float) -> Estimate | None:
        """V-A of the whole frame at time ``now`` (seconds). Never ``None`` for a valid RGB frame."""
        small = downscale(frame, self.width)
        now = float(now)
        previous_gray, dt = None, MIN_DT_S
        if self._previous is not None:
            t_prev, gray_prev = self._previous
            if gray_prev.shape == small.shape[:2] and now >= t_prev:
                previous_gray, dt = gray_prev, now - t_prev
        whole, tiles, gray = scene_measures(small, previous_gray, dt, self.grid)
        self._previous = (now, gray)
        self.last_measures = whole
        valence, arousal = measures_to_va(whole)
        tile_va = np.array([measures_to_va(t) for t in tiles], dtype=np.float64)
        spread_v, spread_a = tile_va.std(axis=0) if len(tile_va) > 1 else (0.0, 0.0)
        motion_unknown = STD_MOTION_UNKNOWN if whole.motion_per_s is None else 0.0
        std_v = min(math.sqrt(STD_FLOOR**2 + spread_v**2), 1.0)
        std_a = min(math.sqrt(STD_FLOOR**2 + spread_a**2 + motion_unknown**2), 1.0)
        return Estimate(valence, arousal, std_v**2, std_a**2, self.name)

    def close(self) -> None:
        """Nothing to free; present for symmetry with the other experts."""
        self.reset()
