"""The ONNX scene expert: input preparation, scale mapping, one backbone pass + N head samples in one call."""

from __future__ import annotations

import numpy as np
import pytest

from moodsic_desktop.core.types import SceneExpert
from moodsic_desktop.perception.onnx_scene_expert import (
    OnnxSceneExpert,
    SceneModelMismatchError,
    dropout_masks,
    prepare_image,
    units_to_reference,
)
from tests import model_files

SPEC = {"size": [32, 48], "fit": "letterbox", "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}


def test_letterbox_keeps_the_whole_frame_and_pads_with_the_mean():
    frame = np.full((90, 160, 3), 255, np.uint8)  # 16:9 white into 3:2
    tensor = prepare_image(frame, SPEC)
    assert tensor.shape == (1, 3, 32, 48) and tensor.dtype == np.float32
    # 160 x 90 scaled by 0.3 → 48 x 27: rows 2..28 are the frame, the rest is padding (0 = the mean).
    assert np.allclose(tensor[0, :, 2:29, :], 2.0)
    assert np.allclose(tensor[0, :, :2, :], 0.0) and np.allclose(tensor[0, :, 29:, :], 0.0)


def test_crop_and_stretch_fill_the_input():
    frame = np.zeros((90, 160, 3), np.uint8)
    frame[:, 70:90] = 255
    cropped = prepare_image(frame, {**SPEC, "fit": "crop", "size": [32, 32]})
    assert cropped.shape == (1, 3, 32, 32)
    assert cropped[0, 0, 16, 16] == pytest.approx(2.0)  # the centre stripe survives the centre cut
    assert prepare_image(frame, {**SPEC, "fit": "stretch"}).shape == (1, 3, 32, 48)


def test_units_map_through_findingemo_to_reference_and_calibration():
    units = np.array([[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]])
    np.testing.assert_allclose(units_to_reference(units), [[-1, -1], [0, 0], [1, 1]])
    calibrated = units_to_reference(units, {"valence": [0.5, 0.1], "arousal": [2.0, 0.0]})
    np.testing.assert_allclose(calibrated, [[-0.4, -1], [0.1, 0], [0.6, 1]])


def test_dropout_masks_keep_the_expected_value():
    masks = dropout_masks(np.random.default_rng(0), 2, 500, 64, 0.3)
    assert masks.shape == (2, 500, 64)
    np.testing.assert_allclose(np.unique(masks), [0.0, 1 / 0.7], rtol=1e-6)
    assert masks.mean() == pytest.approx(1.0, abs=0.02)
    assert np.all(dropout_masks(np.random.default_rng(0), 1, 3, 4, 0.0) == 1.0)


@pytest.fixture(scope="module")
def scene_files(tmp_path_factory):
    pytest.importorskip("torch", reason="exporting the test model needs the models extra")
    return model_files.tiny_scene_files(tmp_path_factory)


def test_one_backbone_pass_then_all_head_samples_in_one_call(scene_files, astronaut):
    expert = OnnxSceneExpert(scene_files["backbone"], scene_files["head"], samples=12, seed=0)
    assert isinstance(expert, SceneExpert)
    assert expert.is_fallback is False and expert.device == "CPU"
    calls = []
    for model in (expert.backbone, expert.head):
        run = model.run
        model.run = lambda feeds, outputs=None, run=run: (
            calls.append({k: v.shape for k, v in feeds.items()}) or run(feeds, outputs)
        )
    estimate = expert.estimate(astronaut, 0.0)
    assert calls == [{"pixel_values": (1, 3, 224, 224)}, {"features": (1, 32), "mask": (1, 12, 32)}]
    assert estimate.is_finite() and estimate.source == "scene-tiny (ONNX)"
    reading = expert.last_reading
    assert reading.samples == 12
    assert reading.mc_std_valence > 0.0 and reading.mc_std_arousal > 0.0
    # Total uncertainty: MC spread plus the default residual (no validation data for this head).
    assert estimate.std_valence == pytest.approx(np.hypot(reading.mc_std_valence, 0.25))


def test_mc_spread_is_real_and_its_mean_matches_the_eval_head(scene_files, astronaut):
    expert = OnnxSceneExpert(scene_files["backbone"], scene_files["head"], samples=4000, seed=1)
    features = expert.features(astronaut)
    (eval_units,) = expert.head.run({"features": features, "mask": np.ones((1, 1, 32), np.float32)})
    eval_reference = units_to_reference(eval_units)[0, 0]
    samples = expert.head_samples(features)[0]
    assert samples.std(axis=0).min() > 0.005
    np.testing.assert_allclose(samples.mean(axis=0), eval_reference, atol=0.02)


def test_reset_repeats_the_dropout_sequence(scene_files, astronaut):
    expert = OnnxSceneExpert(scene_files["backbone"], scene_files["head"], samples=5, seed=3)
    first = expert.estimate(astronaut, 0.0)
    expert.reset()
    assert expert.estimate(astronaut, 1.0) == first


def test_swapped_files_are_refused(scene_files):
    with pytest.raises(SceneModelMismatchError):
        OnnxSceneExpert(scene_files["head"], scene_files["backbone"])
