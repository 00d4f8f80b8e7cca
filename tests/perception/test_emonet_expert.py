"""The EmoNet face expert on an exported EmoNet (synthetic weights): crops, outputs, both uncertainty modes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from moodsic_desktop.core.types import FaceBox, FaceExpert
from moodsic_desktop.perception.emonet_expert import (
    Augmentation,
    EmoNetExpert,
    ModelMismatchError,
    augmentation_set,
    face_crops,
)
from moodsic_desktop.perception.faces import crop_face
from tests import model_files

pytest.importorskip("torch", reason="exporting the test model needs the models extra")


@pytest.fixture(scope="module")
def emonet_path(tmp_path_factory):
    return model_files.emonet_onnx(tmp_path_factory)


def test_the_identity_crop_is_crop_face_and_augmentations_move_it(astronaut, astronaut_face):
    crops = face_crops(astronaut, astronaut_face, augmentation_set(4), size=256, margin=0.15)
    assert crops.shape == (4, 256, 256, 3) and crops.dtype == np.uint8
    reference = crop_face(astronaut, astronaut_face, margin=0.15, size=256).astype(int)
    assert np.abs(crops[0].astype(int) - reference).mean() < 2.0
    mirrored = face_crops(astronaut, astronaut_face, [Augmentation(flip=True)])[0]
    assert np.abs(mirrored[:, ::-1].astype(int) - crops[0]).mean() < 2.0
    assert np.abs(crops[2].astype(int) - crops[0]).mean() > 5.0  # shifted and scaled


def test_augmentation_set_is_deterministic_and_starts_with_identity_and_mirror():
    augs = augmentation_set(10)
    assert augs[:2] == (Augmentation(), Augmentation(flip=True))
    assert len(set(augs)) == 10
    assert augmentation_set(10) == augs
    with pytest.raises(ValueError):
        augmentation_set(0)


def test_tta_reads_va_expressions_and_a_spread_in_one_call(emonet_path, astronaut, astronaut_face):
    expert = EmoNetExpert(emonet_path, uncertainty="tta", tta_samples=4)
    assert isinstance(expert, FaceExpert)
    assert expert.is_fallback is False and expert.device == "CPU"
    assert expert.terms.licence == "CC BY-NC-ND 4.0" and expert.terms.commercial_use is False
    calls = []
    run = expert.model.run
    expert.model.run = lambda feeds, outputs=None: calls.append(feeds["image"].shape) or run(feeds, outputs)
    estimate = expert.estimate(astronaut, astronaut_face, 0.0)
    assert calls == [(4, 3, 256, 256)]  # the whole TTA batch in ONE session call
    assert estimate.is_finite() and estimate.source == "emonet-8 (ONNX)"
    assert -1 <= estimate.valence <= 1 and -1 <= estimate.arousal <= 1
    reading = expert.last_reading
    assert reading.passes == 4
    assert list(reading.expression) == ["Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger", "Contempt"]
    assert math.isclose(sum(reading.expression.values()), 1.0, rel_tol=1e-6)
    assert estimate.std_valence >= 0.08  # floor


def test_window_mode_runs_one_pass_per_frame_and_gets_a_spread_from_the_window(emonet_path, astronaut):
    expert = EmoNetExpert(emonet_path, uncertainty="window", tta_samples=6, window_s=2.0)
    face = FaceBox(170.0, 60.0, 110.0, 125.0, 1.0)
    estimates = [expert.estimate(astronaut, face, 0.1 * i) for i in range(4)]
    assert all(e.is_finite() for e in estimates)
    assert expert.last_reading.passes == 1
    assert estimates[0].std_valence == pytest.approx(0.5 * math.sqrt(1 + (48 / 110) ** 2) * 1.0, rel=0.05)
    assert estimates[3].std_valence < estimates[0].std_valence  # from the window, no longer the prior
    # Someone else (the box jumps) or a long gap: the window starts again.
    moved = FaceBox(400.0, 300.0, 100.0, 100.0, 1.0)
    assert expert.estimate(astronaut, moved, 0.5).std_valence > estimates[3].std_valence
    expert.reset()
    assert expert.last_reading is None


def test_each_face_in_view_keeps_its_own_window(emonet_path, astronaut):
    expert = EmoNetExpert(emonet_path, uncertainty="window", tta_samples=6, window_s=2.0)
    left, right = FaceBox(60.0, 60.0, 100.0, 100.0, 1.0), FaceBox(330.0, 60.0, 100.0, 100.0, 1.0)
    prior = expert.estimate(astronaut, left, 0.0).std_valence
    for i in range(1, 4):  # the pipeline reads both faces every step
        expert.estimate(astronaut, right, 0.1 * i)
        from_window = expert.estimate(astronaut, left, 0.1 * i + 0.01).std_valence
    assert from_window < prior  # alternating faces did not restart the left face's window
    assert expert.estimate(astronaut, right, 0.5).std_valence < prior


def test_small_faces_are_less_certain(emonet_path, astronaut):
    expert = EmoNetExpert(emonet_path, uncertainty="tta", tta_samples=2)
    big = expert.estimate(astronaut, FaceBox(170.0, 60.0, 110.0, 125.0, 1.0), 0.0)
    small = expert.estimate(astronaut, FaceBox(200.0, 100.0, 20.0, 24.0, 1.0), 0.0)
    assert small.var_valence > big.var_valence


def test_a_file_of_another_kind_is_refused(tmp_path):
    from tests.perception.test_onnx_runtime import tiny_model

    with pytest.raises(ModelMismatchError):
        EmoNetExpert(tiny_model(tmp_path / "other.onnx", {"moodsic.kind": "scene-head"}))
    with pytest.raises(ValueError, match="uncertainty"):
        EmoNetExpert(tiny_model(tmp_path / "x.onnx", {"moodsic.kind": "emonet"}), uncertainty="magic")


def test_alignment_turns_the_crop_by_the_landmarks(emonet_path, astronaut, astronaut_face):
    with pytest.raises(ValueError, match="unknown alignment"):
        EmoNetExpert(emonet_path, align="sideways")
    tilted_box = FaceBox(
        *(getattr(astronaut_face, f) for f in ("x", "y", "width", "height", "score")),
        landmarks=((200.0, 150.0), (260.0, 190.0)),
    )
    aligned = EmoNetExpert(emonet_path, uncertainty="tta").estimate(astronaut, tilted_box, 0.0)
    upright = EmoNetExpert(emonet_path, uncertainty="tta", align="none").estimate(astronaut, tilted_box, 0.0)
    plain = EmoNetExpert(emonet_path, uncertainty="tta").estimate(astronaut, astronaut_face, 0.0)
    assert (aligned.valence, aligned.arousal) != (upright.valence, upright.arousal)
    assert (upright.valence, upright.arousal) == pytest.approx((plain.valence, plain.arousal))


def test_a_model_whose_input_shape_does_not_fit_is_refused_at_load(tmp_path):
    """Named and tagged like EmoNet, but its input is 64 x 64 where its metadata says 256: every face call
    would fail, so it is refused when it is opened (and the next expert is chosen)."""
    import json

    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    from moodsic_desktop.perception.emonet_expert import ModelMismatchError

    side = 64
    weights = helper.make_tensor(
        "w", TensorProto.FLOAT, [3 * side * side, 8], np.zeros(3 * side * side * 8, np.float32)
    )
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["image"], ["valence"], axes=[1, 2, 3], keepdims=0),
            helper.make_node("Identity", ["valence"], ["arousal"]),
            helper.make_node("Flatten", ["image"], ["flat"]),
            helper.make_node("MatMul", ["flat", "w"], ["expression"]),
        ],
        "wrong-size",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, side, side])],
        [
            helper.make_tensor_value_info("valence", TensorProto.FLOAT, ["N"]),
            helper.make_tensor_value_info("arousal", TensorProto.FLOAT, ["N"]),
            helper.make_tensor_value_info("expression", TensorProto.FLOAT, ["N", 8]),
        ],
        [weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    for key, value in {"moodsic.kind": "emonet", "moodsic.input": json.dumps({"size": [256, 256]})}.items():
        model.metadata_props.add(key=key, value=value)
    path = tmp_path / "emonet-wrong.onnx"
    onnx.save(model, path)
    with pytest.raises(ModelMismatchError, match="N x 3 x 256 x 256"):
        EmoNetExpert(path)
