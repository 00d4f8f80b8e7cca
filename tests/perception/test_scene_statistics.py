"""The scene-statistics expert and its pure measures → V-A mapping."""

from __future__ import annotations

import numpy as np
import pytest

from moodsic_desktop.core.types import SceneExpert
from moodsic_desktop.perception.scene_statistics import (
    SceneMeasures,
    SceneStatisticsExpert,
    measures_to_va,
    scene_measures,
)


def _uniform(rgb: tuple[int, int, int], size: tuple[int, int] = (640, 480)) -> np.ndarray:
    width, height = size
    return np.full((height, width, 3), rgb, dtype=np.uint8)


def _texture(seed: int = 0, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """Blocky random grey texture: survives downscaling, so shifting it is visible motion."""
    width, height = size
    rng = np.random.default_rng(seed)
    blocks = rng.integers(40, 216, (height // 16, width // 16, 1), dtype=np.uint8)
    return np.repeat(np.repeat(np.repeat(blocks, 16, axis=0), 16, axis=1), 3, axis=2)


@pytest.fixture()
def expert() -> SceneStatisticsExpert:
    return SceneStatisticsExpert()


def test_is_a_scene_expert(expert) -> None:
    assert isinstance(expert, SceneExpert)
    assert expert.name == "scene-statistics (built-in)"
    assert expert.is_fallback is True and expert.device == "CPU"


def test_bright_warm_saturated_is_more_pleasant_than_dark_grey(expert) -> None:
    warm = expert.estimate(_uniform((255, 170, 60)), now=0.0)
    expert.reset()
    dark = expert.estimate(_uniform((40, 40, 40)), now=0.0)
    assert warm is not None and dark is not None
    assert warm.is_finite() and dark.is_finite()
    assert warm.valence > 0.3 > -0.3 > dark.valence
    assert warm.arousal > dark.arousal  # saturation raises arousal (Valdez & Mehrabian)
    assert warm.source == "scene-statistics (built-in)"


def test_real_photo_reads_in_range(expert, astronaut) -> None:
    estimate = expert.estimate(astronaut, now=0.0)
    assert estimate is not None and estimate.is_finite()
    assert -1.0 < estimate.valence < 1.0 and -1.0 < estimate.arousal < 1.0


def test_motion_raises_arousal() -> None:
    still, moving = SceneStatisticsExpert(), SceneStatisticsExpert()
    frame = _texture(0)
    still.estimate(frame, now=0.0)
    moving.estimate(frame, now=0.0)
    calm = still.estimate(frame, now=0.04)
    busy = moving.estimate(np.roll(frame, 24, axis=1), now=0.04)
    assert calm is not None and busy is not None
    assert busy.arousal > calm.arousal + 0.2
    assert busy.valence == pytest.approx(calm.valence, abs=0.05)  # motion is not pleasure
    assert still.last_measures.motion_per_s == 0.0
    assert moving.last_measures.motion_per_s > 0.5


def test_motion_is_per_second_and_reset_forgets(expert) -> None:
    a, b = _texture(0), _texture(1)
    expert.estimate(a, now=0.0)
    expert.estimate(b, now=0.1)
    fast = expert.last_measures.motion_per_s
    expert.estimate(a, now=0.3)  # the same change, twice the time
    slow = expert.last_measures.motion_per_s
    assert fast == pytest.approx(2.0 * slow, rel=1e-6)
    expert.reset()
    expert.estimate(b, now=0.4)
    assert expert.last_measures.motion_per_s is None
    expert.estimate(_uniform((0, 0, 0), size=(320, 200)), now=0.5)  # another aspect ratio
    assert expert.last_measures.motion_per_s is None


def test_uniform_frame_gets_the_floor_and_split_frame_more(expert) -> None:
    split = np.zeros((480, 640, 3), dtype=np.uint8)
    split[:, 320:] = 255
    uniform = _uniform((120, 110, 100))
    for frame in (uniform, split):  # give both a motion reading: no motion-unknown term
        expert.reset()
        expert.estimate(frame, now=0.0)
    expert.reset()
    expert.estimate(uniform, now=0.0)
    calm = expert.estimate(uniform, now=0.04)
    expert.reset()
    expert.estimate(split, now=0.0)
    mixed = expert.estimate(split, now=0.04)
    # a plain wall is never read as certain: the floor is sigma 0.25 (a weak cue even to how a place feels)
    assert calm.var_valence == pytest.approx(0.25**2) and calm.var_arousal == pytest.approx(0.25**2)
    assert mixed.var_valence > 0.3
    assert mixed.var_valence > 4 * calm.var_valence and mixed.var_arousal > calm.var_arousal


def test_first_call_is_less_sure_of_arousal(expert) -> None:
    frame = _uniform((120, 110, 100))
    first = expert.estimate(frame, now=0.0)
    second = expert.estimate(frame, now=0.04)
    assert first.var_arousal > second.var_arousal
    assert first.var_valence == pytest.approx(second.var_valence)


def test_measures_of_known_images() -> None:
    grey, tiles, _ = scene_measures(_uniform((128, 128, 128), size=(160, 120)))
    assert grey.brightness == pytest.approx(128 / 255, abs=1e-3)
    assert grey.saturation == 0.0 and grey.colourfulness == pytest.approx(0.0, abs=1e-6)
    assert grey.motion_per_s is None and len(tiles) == 16
    red, _, _ = scene_measures(_uniform((255, 0, 0), size=(160, 120)))
    assert red.saturation == pytest.approx(1.0)
    assert red.colourfulness == pytest.approx(0.3 * np.hypot(255.0, 127.5), rel=1e-4)  # Hasler & Süsstrunk


def test_mapping_follows_the_regressions() -> None:
    def va(**kw: float) -> tuple[float, float]:
        base = {"brightness": 0.45, "saturation": 0.20, "colourfulness": 33.0, "motion_per_s": 0.1}
        return measures_to_va(SceneMeasures(**{**base, **kw}))

    assert va() == pytest.approx((0.0, 0.0), abs=1e-12)
    assert va(brightness=0.8)[0] > 0 > va(brightness=0.8)[1]  # brighter: pleasant, calmer
    assert va(saturation=0.7)[0] > 0 and va(saturation=0.7)[1] > va(saturation=0.7)[0]
    assert va(colourfulness=80.0)[0] > 0
    assert va(motion_per_s=1.0)[1] > 0 > va(motion_per_s=0.0)[1]
    assert va(motion_per_s=None)[1] == pytest.approx(0.0)
    extreme = va(brightness=1.0, saturation=1.0, colourfulness=150.0, motion_per_s=50.0)
    assert all(-1.0 < x < 1.0 for x in extreme)


def test_dim_navy_room_reads_calmer_than_bright_yellow() -> None:
    """Chroma, not HSV saturation: a still dark blue room is not as 'saturated' as a bright yellow one."""

    def still(colour: tuple[int, int, int]) -> SceneMeasures:
        frame = np.full((90, 160, 3), colour, np.uint8)
        gray = scene_measures(frame)[2]
        return scene_measures(frame, previous_gray=gray, dt_s=0.5)[0]

    navy, yellow = still((30, 45, 70)), still((250, 200, 80))
    assert navy.saturation < 0.2 < yellow.saturation
    assert measures_to_va(navy)[1] < 0 < measures_to_va(yellow)[1]
