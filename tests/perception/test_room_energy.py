"""The room's energy (``perception/room_energy.py``): movement per second whatever the frame rate and size,
more people and more movement read livelier, and on real footage the same people read livelier moving
than held still; the variance's evidence is recomputed on the labelled CREMA-D clips."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from moodsic_desktop.core.tracking import FaceTracker
from moodsic_desktop.core.types import FaceBox
from moodsic_desktop.perception.faces import MediaPipeFaceDetector
from moodsic_desktop.perception.fer_expert import CLASS_POINTS
from moodsic_desktop.perception.room_energy import ENERGY_VARIANCE, RoomEnergyMeter, energy_to_arousal, person_mask

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"
CREMA = REAL / "crema-d"
needs_real = pytest.mark.skipif(not CREMA.is_dir(), reason=f"../shared/fixtures/real/crema-d is absent ({CREMA})")


def square_scene(t: float, size=(640, 360), speed_px_s: float = 100.0) -> np.ndarray:
    """A textured grey frame with a bright square moving right at ``speed_px_s`` (pixels of a 640 wide frame)."""
    width, height = size
    frame = np.full((height, width, 3), 90, np.uint8)
    frame[:, ::40] = 60
    scale = width / 640
    x = int((100 + speed_px_s * t) * scale)
    frame[int(120 * scale) : int(220 * scale), x : x + int(80 * scale)] = 230
    return frame


FACE = FaceBox(120, 60, 60, 60, 0.9)


def mean_motion(fps: float, size=(640, 360), speed=100.0, seconds=1.0, faces=(FACE,)) -> float:
    meter = RoomEnergyMeter()
    scale = size[0] / 640
    boxes = [FaceBox(f.x * scale, f.y * scale, f.width * scale, f.height * scale, 0.9) for f in faces]
    times = [i / fps for i in range(int(fps * seconds))]
    values = [meter.measure(square_scene(t, size, speed), boxes, t).motion for t in times]
    return float(np.mean(values[1:]))


def test_motion_is_per_second_whatever_the_frame_rate_and_size():
    ten, thirty = mean_motion(10.0), mean_motion(30.0)
    assert ten > 0 and thirty > 0
    assert 0.6 < ten / thirty < 1.6
    small, large = mean_motion(10.0, (320, 180)), mean_motion(10.0, (1280, 720))
    assert 0.7 < small / large < 1.4
    assert mean_motion(10.0, speed=40.0) < 0.6 * ten  # slower movement reads less
    assert mean_motion(10.0, speed=0.0) == 0.0  # nothing moves: no motion, not noise


def test_motion_is_measured_around_the_people():
    moving_person = mean_motion(10.0, faces=(FACE,))
    elsewhere = mean_motion(10.0, faces=(FaceBox(560, 10, 30, 30, 0.9),))  # a face far from the moving square
    assert moving_person > 3 * max(elsewhere, 1e-6)


def test_the_person_region_spans_shoulders_and_hands():
    mask = person_mask((100, 200), [FaceBox(90, 10, 20, 20, 0.9)], scale=1.0)
    rows, columns = np.nonzero(mask)
    assert (columns.min(), columns.max()) == (70, 129)  # 1.5 face widths either side of the centre
    assert (rows.min(), rows.max()) == (5, 89)  # from a quarter face above to four faces below the top


def test_more_people_and_more_movement_read_livelier():
    assert energy_to_arousal(1, 0.0) < energy_to_arousal(1, 0.05) < energy_to_arousal(1, 0.3)
    assert energy_to_arousal(1, 0.02) < energy_to_arousal(4, 0.02) < energy_to_arousal(10, 0.02)
    assert energy_to_arousal(0, 0.0) > -1.0 and energy_to_arousal(50, 10.0) < 1.0


def test_a_new_size_or_time_going_back_has_no_motion_reading():
    meter = RoomEnergyMeter()
    meter.measure(square_scene(0.0), [FACE], 0.0)
    assert meter.measure(square_scene(0.5), [FACE], 0.5).motion > 0
    assert meter.measure(square_scene(0.2), [FACE], 0.2).motion == 0.0  # time went backwards
    assert meter.measure(square_scene(0.3, (320, 240)), [], 0.3).motion == 0.0  # another frame shape


def _clip(path: Path, every: int = 1) -> tuple[float, list[np.ndarray]]:
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            capture.release()
            return fps, frames[::every]
        frames.append(np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))


def _energy(detector, frames: list[np.ndarray], fps: float) -> tuple[float, list[float]]:
    """Mean arousal of the room's energy over ``frames`` taken at ``fps``, and each frame's arousal."""
    meter, tracker, values = RoomEnergyMeter(), FaceTracker(), []
    for index, frame in enumerate(frames):
        now = index / fps
        values.append(meter.measure(frame, tracker.update(detector.detect(frame), now), now).arousal)
    return float(np.mean(values[1:])), values[1:]


def _held_still(frame: np.ndarray, count: int, seed: int = 0) -> list[np.ndarray]:
    """The same frame ``count`` times, with sensor noise (σ = 3 grey levels) of its own each time."""
    rng = np.random.default_rng(seed)
    noisy = (frame + rng.normal(0.0, 3.0, (count, *frame.shape))).round()
    return list(np.clip(noisy, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def detector():
    found = MediaPipeFaceDetector(also_short_range=True, confirm=True)
    yield found
    found.close()


@needs_real
@pytest.mark.parametrize("name", ["crema-d/1001_DFA_HAP_XX.flv", "crema-d/1001_DFA_NEU_XX.flv", "single_face.mp4"])
def test_the_same_people_read_livelier_moving_than_held_still(detector, name):
    fps, frames = _clip(REAL / name)
    still, _ = _energy(detector, _held_still(frames[len(frames) // 2], len(frames)), fps)
    moving, _ = _energy(detector, frames, fps)
    _, every_third = _clip(REAL / name, every=3)
    time_lapse, _ = _energy(detector, every_third, fps)  # three times as fast
    assert still < moving - 0.1 < time_lapse - 0.2, (still, moving, time_lapse)


@needs_real
def test_the_energy_variance_is_its_squared_error_about_the_people(detector):
    """Mean over the six labelled CREMA-D clips of the squared error of the energy's arousal about the
    actor's: within a factor 1.4 of ``ENERGY_VARIANCE``."""
    errors = []
    for path in sorted(CREMA.glob("1001_DFA_*_XX.flv")):
        label = {"ANG": "angry", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
        target = CLASS_POINTS[label[path.stem.split("_")[2]]][1]
        fps, frames = _clip(path)
        _, values = _energy(detector, frames, fps)
        errors.append(np.mean((np.array(values) - target) ** 2))
    ratio = float(np.mean(errors)) / ENERGY_VARIANCE
    assert 1 / 1.4 < ratio < 1.4, f"squared error / variance = {ratio:.2f}"
