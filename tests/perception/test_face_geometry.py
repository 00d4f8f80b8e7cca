"""The face-geometry expert: real face mesh on the astronaut, and its pure feature → V-A functions."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from moodsic_desktop.core.types import FaceBox, FaceExpert
from moodsic_desktop.perception.face_geometry import (
    FEATURE_SCALE,
    POPULATION_PRIOR,
    FaceFeatures,
    FaceGeometryExpert,
    NeutralBaseline,
    face_uncertainty,
    features_to_va,
    measure_face,
)
from moodsic_desktop.perception.faces import MediaPipeFaceDetector


@pytest.fixture(scope="module")
def astronaut_box(astronaut) -> FaceBox:
    with MediaPipeFaceDetector() as detector:
        faces = detector.detect(astronaut)
    assert len(faces) == 1
    return faces[0]


@pytest.fixture()
def expert():
    with FaceGeometryExpert() as e:
        yield e


@pytest.fixture(scope="module")
def astronaut_landmarks(astronaut, astronaut_box) -> np.ndarray:
    with FaceGeometryExpert() as e:
        marks = e.landmarks(astronaut, astronaut_box)
    assert marks is not None and marks.shape == (468, 3)
    return marks


def _with(features: FaceFeatures, **changes: float) -> FaceFeatures:
    values = {**features.__dict__, **changes}
    return FaceFeatures(**values)


# --- the expert on real images -------------------------------------------------------------------------


def test_is_a_face_expert(expert) -> None:
    assert isinstance(expert, FaceExpert)
    assert expert.name == "face-geometry (built-in)"
    assert expert.is_fallback is True
    assert expert.device == "CPU"


def test_smiling_astronaut_reads_positive(expert, astronaut, astronaut_box) -> None:
    estimate = expert.estimate(astronaut, astronaut_box, now=0.0)
    assert estimate is not None
    assert estimate.is_finite()
    assert estimate.source == "face-geometry (built-in)"
    assert -1.0 <= estimate.valence <= 1.0 and -1.0 <= estimate.arousal <= 1.0
    assert estimate.valence > 0.2  # she smiles broadly, teeth showing
    for std in (estimate.std_valence, estimate.std_arousal):
        assert 0.08 - 1e-9 <= std <= 0.9 + 1e-9
    measurement = expert.last_measurement
    assert measurement is not None and abs(measurement.yaw) < 0.15  # she faces the camera


def test_no_face_gives_none(expert, astronaut_box) -> None:
    grey = np.full((512, 512, 3), 128, dtype=np.uint8)
    assert expert.estimate(grey, astronaut_box, now=0.0) is None
    noise = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    assert expert.estimate(noise, astronaut_box, now=0.1) is None


def test_small_face_is_less_certain_than_the_same_face_large(astronaut, astronaut_box, paste, scaled_box) -> None:
    readings = {}
    for label, scale in (("small", 0.4), ("large", 2.0)):
        at = (40, 30)
        frame = paste((1280, 1100), astronaut, at, scale)
        with FaceGeometryExpert() as expert:
            estimate = expert.estimate(frame, scaled_box(astronaut_box, scale, at), now=0.0)
        assert estimate is not None, label
        readings[label] = estimate
    small, large = readings["small"], readings["large"]
    assert small.std_valence > 1.3 * large.std_valence
    assert small.std_arousal > 1.3 * large.std_arousal
    assert small.valence > 0 and large.valence > 0


def test_baseline_grows_up_and_std_shrinks(expert, astronaut, astronaut_box) -> None:
    first = expert.estimate(astronaut, astronaut_box, now=0.0)
    later = None
    for step in range(1, 7):
        later = expert.estimate(astronaut, astronaut_box, now=step * 20.0)  # same picture, 2 minutes
    assert first is not None and later is not None
    assert later.std_valence < first.std_valence
    # A constant smiler still reads positive once the baseline has adapted to her smile.
    assert later.valence > 0.1
    assert later.valence < first.valence + 1e-9


def test_reset_and_time_going_back_restart_the_baseline(expert, astronaut, astronaut_box) -> None:
    first = expert.estimate(astronaut, astronaut_box, now=100.0)
    for t in (110.0, 120.0, 130.0):
        expert.estimate(astronaut, astronaut_box, now=t)
    again = expert.estimate(astronaut, astronaut_box, now=5.0)  # the clock went backwards
    assert first is not None and again is not None
    assert again.std_valence == pytest.approx(first.std_valence, rel=0.05)
    expert.reset()
    assert expert.estimate(astronaut, astronaut_box, now=6.0) is not None


def test_a_second_face_in_view_leaves_the_first_faces_baseline_alone(astronaut, astronaut_box) -> None:
    # Two people side by side: the astronaut and her mirror image.
    pair = np.ascontiguousarray(np.concatenate([astronaut, astronaut[:, ::-1]], axis=1))
    other = FaceBox(1024 - astronaut_box.x - astronaut_box.width, astronaut_box.y, astronaut_box.width,
                    astronaut_box.height, astronaut_box.score)  # fmt: skip
    with FaceGeometryExpert() as alone, FaceGeometryExpert() as both:
        for step in range(8):
            t = step * 0.5
            expected = alone.estimate(pair, astronaut_box, now=t)
            first = both.estimate(pair, astronaut_box, now=t)
            second = both.estimate(pair, other, now=t + 0.01)
            assert first.valence == pytest.approx(expected.valence, abs=1e-9)
            assert first.var_valence == pytest.approx(expected.var_valence, rel=1e-9)
        # the other face is read against the prior alone: as a face that has just arrived
        with FaceGeometryExpert() as fresh:
            assert second.valence == pytest.approx(fresh.estimate(pair, other, now=0.0).valence, abs=0.05)


# --- pure functions --------------------------------------------------------------------------------------


def test_measures_ignore_size_position_and_roll(astronaut_landmarks) -> None:
    base = measure_face(astronaut_landmarks)
    assert base is not None
    angle = math.radians(25.0)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = astronaut_landmarks[:, :2] @ rotation.T * 3.7 + np.array([500.0, -80.0])
    other = measure_face(moved)
    assert other is not None
    np.testing.assert_allclose(other.features.as_array(), base.features.as_array(), atol=1e-9)
    assert other.yaw == pytest.approx(base.yaw, abs=1e-9)
    assert other.iod_px == pytest.approx(3.7 * base.iod_px)


def test_astronaut_measures_are_plausible(astronaut_landmarks) -> None:
    m = measure_face(astronaut_landmarks)
    assert m is not None
    f = m.features
    assert f.smile > POPULATION_PRIOR.smile + FEATURE_SCALE.smile  # a clear smile
    assert f.mouth_open > 0.08  # teeth show between the lips
    assert 0.1 < f.eye_open < 0.25 and 0.1 < f.brow_raise < 0.35


def test_yaw_follows_the_nose(astronaut_landmarks) -> None:
    marks = astronaut_landmarks.copy()
    iod = measure_face(marks).iod_px
    marks[1, 0] += 0.3 * iod  # nose tip towards the subject's left eye (image right)
    turned = measure_face(marks)
    assert turned.yaw > 0.3
    marks[1, 0] -= 0.6 * iod
    assert measure_face(marks).yaw < -0.3


def test_bigger_smile_reads_higher_valence() -> None:
    values = [
        features_to_va(_with(POPULATION_PRIOR, smile=POPULATION_PRIOR.smile + d))[0]
        for d in (-0.2, -0.1, 0.0, 0.1, 0.2)
    ]
    assert all(b > a for a, b in itertools.pairwise(values))
    assert values[2] == pytest.approx(0.0, abs=1e-12)  # the prior face is neutral
    assert all(-1.0 < v < 1.0 for v in values)


def test_wider_mouth_opening_reads_higher_arousal() -> None:
    values = [features_to_va(_with(POPULATION_PRIOR, mouth_open=m))[1] for m in (0.0, 0.1, 0.2, 0.4)]
    assert all(b > a for a, b in itertools.pairwise(values))
    assert features_to_va(_with(POPULATION_PRIOR, eye_open=0.25))[1] > 0.2  # wide eyes
    assert features_to_va(_with(POPULATION_PRIOR, brow_raise=0.12))[0] < -0.1  # lowered brows


def test_deviation_from_the_baseline_counts() -> None:
    smiler_baseline = _with(POPULATION_PRIOR, smile=POPULATION_PRIOR.smile + 0.2)
    face = smiler_baseline
    prior_only = features_to_va(face)[0]
    against_baseline = features_to_va(face, smiler_baseline, baseline_weight=0.65)[0]
    assert prior_only > against_baseline > 0.0  # her usual smile counts less, but still positive
    bigger = _with(face, smile=face.smile + 0.1)
    assert features_to_va(bigger, smiler_baseline, 0.65)[0] > against_baseline
    frowny_baseline = _with(POPULATION_PRIOR, smile=POPULATION_PRIOR.smile - 0.2)
    assert features_to_va(POPULATION_PRIOR, frowny_baseline, 0.65)[0] > 0.0  # better than her usual


def test_baseline_adapts_with_a_30_second_time_constant() -> None:
    baseline = NeutralBaseline(time_constant_s=30.0)
    start = POPULATION_PRIOR
    target = _with(POPULATION_PRIOR, smile=POPULATION_PRIOR.smile + 0.3)
    baseline.update(start, now=0.0)
    assert baseline.weight(0.0) == 0.0
    t = 0.0
    while t < 30.0 - 1e-9:
        t += 0.1
        baseline.update(target, now=t)
    # after one time constant, 1 - 1/e of the way
    assert baseline.value.smile == pytest.approx(start.smile + 0.3 * (1 - math.exp(-1)), abs=2e-3)
    while t < 150.0 - 1e-9:
        t += 0.1
        baseline.update(target, now=t)
    assert baseline.value.smile == pytest.approx(target.smile, abs=3e-3)
    assert 0.6 < baseline.weight(t) <= 0.65
    baseline.update(start, now=t + 100.0)  # a long gap: someone else, start again
    assert baseline.value == start and baseline.age_s(t + 100.0) == 0.0


def test_uncertainty_grows_with_every_doubt() -> None:
    clear = face_uncertainty(200.0, yaw=0.0, instability=0.0, baseline_age_s=300.0)
    assert face_uncertainty(30.0, 0.0, 0.0, 300.0)[0] > clear[0]
    assert face_uncertainty(200.0, 0.5, 0.0, 300.0)[0] > clear[0]
    assert face_uncertainty(200.0, 0.0, 1.0, 300.0)[0] > clear[0]
    assert face_uncertainty(200.0, 0.0, 0.0, 0.0)[0] > clear[0]
    worst = face_uncertainty(5.0, 1.0, 10.0, 0.0)
    assert worst == (0.9, 0.9)
    assert all(0.08 <= s <= 0.9 for s in clear)
