"""The face model in the box as an expert: the class-point mapping, the batch call, the uncertainty terms,
and the shape check at load. Runs the real onnxruntime session on the committed model."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from moodsic_desktop.core.types import BatchFaceExpert, FaceBox, FaceExpert
from moodsic_desktop.perception.emonet_expert import ModelMismatchError
from moodsic_desktop.perception.face_cues import FaceCueReader, arousal_with_cues
from moodsic_desktop.perception.fer_expert import (
    CLASS_POINTS,
    FER_CLASSES,
    FerExpert,
    bundled_model_path,
    expressions_to_va,
    fer_inputs,
    sharpness,
    yaw_index,
)


@pytest.fixture(scope="module")
def expert() -> FerExpert:
    return FerExpert()


def test_the_model_in_the_box_is_a_batch_face_expert(expert):
    assert bundled_model_path().is_file()
    assert isinstance(expert, FaceExpert) and isinstance(expert, BatchFaceExpert)
    assert expert.terms.licence == "MIT" and expert.terms.commercial_use and not expert.is_fallback
    assert expert.name == "fer2013-mini-xception (ONNX)" and expert.classes == FER_CLASSES


def test_a_sure_expression_is_its_class_point_and_an_unsure_one_spreads():
    one_hot = np.eye(len(FER_CLASSES))
    v, a, spread_v, spread_a = expressions_to_va(one_hot)
    for i, name in enumerate(FER_CLASSES):
        assert (v[i], a[i]) == pytest.approx(CLASS_POINTS[name])
    assert np.allclose(spread_v, 0) and np.allclose(spread_a, 0)
    torn = np.zeros((1, len(FER_CLASSES)))
    torn[0, FER_CLASSES.index("happy")] = torn[0, FER_CLASSES.index("sad")] = 0.5
    v, a, spread_v, _ = expressions_to_va(torn)
    assert v[0] == pytest.approx((0.81 - 0.63) / 2) and spread_v[0] == pytest.approx(((0.81 + 0.63) / 2) ** 2)


def test_one_batch_reads_every_face_as_single_calls_do(expert, astronaut, astronaut_face):
    frame = np.ascontiguousarray(np.concatenate([astronaut, astronaut[:, ::-1]], axis=1))
    mirrored = FaceBox(1024 - astronaut_face.x - astronaut_face.width, astronaut_face.y, 110, 125, 0.9)
    empty = FaceBox(5, 5, 0, 0, 0.9)
    reads = expert.read_faces(frame, [astronaut_face, empty, mirrored], 0.0)
    assert [r.box for r in reads] == [astronaut_face, empty, mirrored] and reads[1].estimate is None
    alone = expert.estimate(frame, astronaut_face, 0.0)
    assert reads[0].estimate.valence == pytest.approx(alone.valence, abs=1e-5)
    assert reads[0].estimate.var_arousal == pytest.approx(alone.var_arousal, rel=1e-4)
    # each face is read plain and mirrored, so a face and its mirror image read alike
    assert reads[0].estimate.valence == pytest.approx(reads[2].estimate.valence, abs=0.05)
    assert reads[0].expression == "happy" and reads[0].estimate.valence > 0.5  # the astronaut smiles broadly
    assert expert.last_reading is not None and sum(expert.last_reading.expression.values()) == pytest.approx(1.0)


class _ThreadNoting(FaceCueReader):
    """A cue reader that notes the thread each ``read`` runs on."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[threading.Thread] = []

    def read(self, frame, faces, now):
        self.threads.append(threading.current_thread())
        return super().read(frame, faces, now)


def test_the_faces_mesh_runs_beside_the_model_and_reads_as_one_after_the_other(expert, astronaut, astronaut_face):
    """The cue reader runs on the expert's worker thread during the model's run; the arousal is what the
    expression's arousal and the same reader's cues, read one after the other, make."""
    noting = _ThreadNoting()
    with_cues = FerExpert(cues=noting)
    alone = FaceCueReader()
    for step in range(6):
        frame = np.ascontiguousarray(np.roll(astronaut, 4 * step, axis=1))
        face = replace(astronaut_face, x=astronaut_face.x + 4 * step, track=1)
        (read,) = with_cues.read_faces(frame, [face], step * 0.1)
        (plain,) = expert.read_faces(frame, [face], step * 0.1)
        (cues,) = alone.read(frame, [face], step * 0.1)
        assert cues.samples == step + 1  # the mesh found the face every time
        assert read.estimate.arousal == arousal_with_cues(plain.estimate.arousal, cues)
        assert read.estimate.valence == plain.estimate.valence
    worker = noting.threads[0]
    assert noting.threads == [worker] * 6 and worker.name.startswith("face-cues") and worker.is_alive()
    with_cues.close()
    alone.close()
    assert not worker.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        with_cues.read_faces(astronaut, [astronaut_face], 1.0)


def test_inputs_are_grey_in_minus_one_to_one_and_mirrored(astronaut, astronaut_face):
    batch = fer_inputs(astronaut, [astronaut_face])
    assert batch.shape == (2, 1, 64, 64) and batch.dtype == np.float32
    assert -1.0 <= batch.min() < batch.max() <= 1.0
    assert np.array_equal(batch[1, 0], batch[0, 0][:, ::-1])


def test_turned_blurred_and_small_faces_are_claimed_less_sure(expert, astronaut, astronaut_face):
    base = expert.estimate(astronaut, astronaut_face, 0.0)
    eyes_nose = ((200.0, 100.0), (250.0, 100.0), (225.0, 130.0))
    frontal = FaceBox(170, 60, 110, 125, 1.0, eyes_nose)
    turned = FaceBox(170, 60, 110, 125, 1.0, ((200.0, 100.0), (250.0, 100.0), (250.0, 130.0)))
    assert yaw_index(frontal) == pytest.approx(0.0) and yaw_index(turned) == pytest.approx(1.0)
    assert (
        expert.estimate(astronaut, turned, 0.0).var_valence > 1.5 * expert.estimate(astronaut, frontal, 0.0).var_valence
    )
    blurred = np.ascontiguousarray(cv2.GaussianBlur(astronaut, (0, 0), 6))
    grey = fer_inputs(astronaut, [astronaut_face])[0, 0]
    assert sharpness(fer_inputs(blurred, [astronaut_face])[0, 0]) < sharpness(grey) / 2
    assert expert.estimate(blurred, astronaut_face, 0.0).var_valence > base.var_valence
    small = np.ascontiguousarray(cv2.resize(astronaut, (128, 128), interpolation=cv2.INTER_AREA))
    small_face = FaceBox(42.5, 15, 27.5, 31.25, 1.0)
    assert expert.estimate(small, small_face, 0.0).var_valence > base.var_valence


def _tiny_model(path, input_size=64, classes=7, kind="fer2013"):
    """A model with the FER interface (or not): image N x 1 x S x S → Flatten → MatMul → Softmax."""
    weights = helper.make_tensor("w", TensorProto.FLOAT, [input_size * input_size, classes],
                                 np.zeros(input_size * input_size * classes, np.float32))  # fmt: skip
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["image"], ["flat"]),
            helper.make_node("MatMul", ["flat", "w"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["expression"], axis=1),
        ],
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, input_size, input_size])],
        [helper.make_tensor_value_info("expression", TensorProto.FLOAT, ["N", classes])],
        [weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in {"moodsic.kind": kind, "moodsic.classes": json.dumps(list(FER_CLASSES[:classes]))}.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, path)
    return path


def test_a_model_of_the_right_shape_loads_and_reads(tmp_path, astronaut, astronaut_face):
    expert = FerExpert(_tiny_model(tmp_path / "ok.onnx"))
    estimate = expert.estimate(astronaut, astronaut_face, 0.0)  # uniform probabilities: the mean of the points
    assert estimate.valence == pytest.approx(np.mean([p[0] for p in CLASS_POINTS.values()]), abs=1e-5)


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"input_size": 48}, "N x 1 x 64 x 64"),
        ({"classes": 5}, "'expression' of N x 7"),
        ({"kind": "emonet"}, "not fer2013"),
    ],
)
def test_a_model_of_the_wrong_shape_is_refused_at_load(tmp_path, options, why):
    with pytest.raises(ModelMismatchError, match=why):
        FerExpert(_tiny_model(tmp_path / "bad.onnx", **options))
