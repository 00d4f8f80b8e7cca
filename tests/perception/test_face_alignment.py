"""Alignment by the detector's landmarks: the face's roll, and crops turned by it (no model needed)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from moodsic_desktop.core.types import FaceBox
from moodsic_desktop.perception.emonet_expert import Augmentation, face_crops
from moodsic_desktop.perception.faces import MediaPipeFaceDetector


@pytest.fixture(scope="module")
def detector():
    with MediaPipeFaceDetector() as detector:
        yield detector


def turned(image: np.ndarray, degrees: float, centre: tuple[float, float]) -> np.ndarray:
    """``image`` turned by ``degrees`` (counter-clockwise on screen) about ``centre``, grey outside."""
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    return cv2.warpAffine(image, matrix, image.shape[1::-1], borderValue=(128, 128, 128))


def test_roll_is_the_eye_line_angle():
    assert FaceBox(0, 0, 10, 10, 1.0).roll == 0.0
    level = FaceBox(0, 0, 10, 10, 1.0, landmarks=((2.0, 5.0), (8.0, 5.0)))
    assert level.roll == pytest.approx(0.0)
    left_eye_lower = FaceBox(0, 0, 10, 10, 1.0, landmarks=((2.0, 4.0), (8.0, 10.0)))
    assert left_eye_lower.roll == pytest.approx(math.atan2(6.0, 6.0))


def test_the_detector_gives_six_landmarks_with_the_eyes_first(detector, astronaut):
    (face,) = detector.detect(astronaut)
    assert len(face.landmarks) == 6
    (rx, ry), (lx, _) = face.landmarks[:2]
    assert rx < lx  # the person's right eye is on the picture's left
    assert face.x < rx < face.x + face.width and face.y < ry < face.y + face.height
    assert abs(face.roll) < math.radians(10)  # the astronaut holds her head nearly level


def test_a_tilted_head_is_turned_upright(detector, astronaut):
    (upright,) = detector.detect(astronaut)
    tilted_image = turned(np.ascontiguousarray(astronaut), 25.0, upright.center)
    (tilted,) = detector.detect(tilted_image)
    assert math.degrees(tilted.roll) == pytest.approx(math.degrees(upright.roll) - 25.0, abs=8.0)
    reference = face_crops(astronaut, upright, [Augmentation()], roll=upright.roll)[0].astype(int)
    aligned = face_crops(tilted_image, tilted, [Augmentation()], roll=tilted.roll)[0].astype(int)
    unaligned = face_crops(tilted_image, tilted, [Augmentation()])[0].astype(int)
    assert np.abs(aligned - reference).mean() < 0.6 * np.abs(unaligned - reference).mean()


def test_roll_zero_keeps_the_upright_crop(astronaut, astronaut_face):
    plain = face_crops(astronaut, astronaut_face, [Augmentation()])
    assert np.array_equal(plain, face_crops(astronaut, astronaut_face, [Augmentation()], roll=0.0))
