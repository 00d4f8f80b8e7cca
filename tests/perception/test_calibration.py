"""An expert's variance is a claim about its error: these tests recompute the evidence behind the claims of
the face model in the box (``perception/fer_expert.py``) and the scene statistics with a face in view
(``core/fusion.py``, ``SCENE_PEOPLE_GAP_VAR``) on labelled real faces of ``../shared/fixtures/real``.

Labels: the posed expressions of the file names, and "smiling" for ``single_face.jpg``, placed on the
plane with the same class points the face model uses (Russell & Mehrabian 1977). Each face is also
shrunk to about 75 and 45 px (pasted into a grey frame) so that the set holds faces that are hard to read.
Skips when the fixtures are absent."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from moodsic_desktop.core.fusion import SCENE_PEOPLE_GAP_VAR
from moodsic_desktop.perception.faces import MediaPipeFaceDetector
from moodsic_desktop.perception.fer_expert import CLASS_POINTS, FerExpert
from moodsic_desktop.perception.scene_statistics import SceneStatisticsExpert

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"../shared/fixtures/real is absent (looked in {REAL})")

LABELS = {
    "0-f15-hao-ph.jpg": "happy",
    "15-f13-anc-ph.jpg": "angry",
    "45-m7-di-ph.jpg": "disgust",
    "0-f1-su-ph.jpg": "surprise",
    "single_face.jpg": "happy",
}


def photo(name: str) -> np.ndarray:
    return np.ascontiguousarray(cv2.cvtColor(cv2.imread(str(REAL / name)), cv2.COLOR_BGR2RGB))


def shrunk(image: np.ndarray, scale: float) -> np.ndarray:
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((360, 640, 3), 100, np.uint8)
    canvas[50 : 50 + small.shape[0], 100 : 100 + small.shape[1]] = small
    return canvas


@pytest.fixture(scope="module")
def face_errors():
    """(squared error V, squared error A, variance V, variance A, face width) per labelled face read."""
    detector = MediaPipeFaceDetector(also_short_range=True, tiles=(3, 2), confirm=True)
    expert = FerExpert()
    rows = []
    for name, label in LABELS.items():
        valence, arousal = CLASS_POINTS[label]
        for image in (photo(name), shrunk(photo(name), 0.25), shrunk(photo(name), 0.15)):
            faces = detector.detect(image)
            assert len(faces) == 1, name
            estimate = expert.read_faces(image, faces, 0.0)[0].estimate
            rows.append(
                (
                    (estimate.valence - valence) ** 2,
                    (estimate.arousal - arousal) ** 2,
                    estimate.var_valence,
                    estimate.var_arousal,
                    faces[0].width,
                )
            )
    detector.close()
    return np.array(rows)


def test_face_model_variance_matches_its_squared_error(face_errors):
    mse, claimed = face_errors[:, :2].mean(axis=0), face_errors[:, 2:4].mean(axis=0)
    ratio = mse / claimed
    # On these posed faces the claim is within a factor of 2.5 of the error, never below it by more than 25 %:
    # cautious (a café's faces are harder than posed ones) but not the 3-5 x of the uncalibrated spread.
    assert np.all(ratio > 0.4) and np.all(ratio < 1.25), f"squared error / variance = {ratio}"


def test_face_model_variance_ranks_its_errors(face_errors):
    for dimension in (0, 1):
        error, variance = face_errors[:, dimension], face_errors[:, 2 + dimension]
        assert np.corrcoef(error, variance)[0, 1] > 0.3  # the faces it is unsure of are the ones it misreads


def test_a_smaller_face_is_claimed_less_sure(face_errors):
    by_face = face_errors.reshape(len(LABELS), 3, 5)  # full, ~75 px, ~45 px
    for sizes in by_face:
        assert sizes[0, 4] > sizes[1, 4] > sizes[2, 4]
        assert sizes[2, 2] > sizes[0, 2] and sizes[2, 3] > sizes[0, 3]


def test_scene_gap_matches_the_scene_error_about_people():
    """The scene expert's squared error about the people in the photo against what it claims once fusion
    adds the gap: agree within a factor of 1.5 on each dimension."""
    points = dict(LABELS, **{"multi_face.jpg": "group"})
    group = (0.8 * CLASS_POINTS["happy"][0], 0.8 * CLASS_POINTS["happy"][1])  # four of five smiling
    rows = []
    for name, label in points.items():
        valence, arousal = group if label == "group" else CLASS_POINTS[label]
        estimate = SceneStatisticsExpert().estimate(photo(name), 0.0)
        rows.append(
            (
                (estimate.valence - valence) ** 2,
                (estimate.arousal - arousal) ** 2,
                estimate.var_valence + SCENE_PEOPLE_GAP_VAR[0],
                estimate.var_arousal + SCENE_PEOPLE_GAP_VAR[1],
            )
        )
    table = np.array(rows)
    ratio = table[:, :2].mean(axis=0) / table[:, 2:].mean(axis=0)
    assert np.all(ratio > 1 / 1.5) and np.all(ratio < 1.5), f"squared error / variance = {ratio}"
    without_gap = table[:, :2].mean(axis=0) / (table[:, 2:] - SCENE_PEOPLE_GAP_VAR).mean(axis=0)
    assert np.all(without_gap > 2.0)  # what the scene's own variance claimed was far too sure
