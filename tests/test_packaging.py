"""What the install must give: one OpenCV, the MediaPipe release that carries its face models, numpy < 2."""

from importlib import metadata
from pathlib import Path

import numpy as np

OPENCV_DISTRIBUTIONS = {
    "opencv-python",
    "opencv-contrib-python",
    "opencv-python-headless",
    "opencv-contrib-python-headless",
}


def installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def test_exactly_one_opencv_distribution():
    assert [name for name in sorted(OPENCV_DISTRIBUTIONS) if installed(name)] == ["opencv-contrib-python"]


def test_mediapipe_carries_its_face_models_offline():
    import mediapipe

    assert metadata.version("mediapipe") == "0.10.21"
    modules = Path(mediapipe.__file__).parent / "modules"
    for model in (
        "face_detection/face_detection_full_range_sparse.tflite",
        "face_detection/face_detection_short_range.tflite",
        "face_landmark/face_landmark.tflite",
    ):
        assert (modules / model).is_file(), model


def test_numpy_below_2_for_mediapipe():
    assert int(np.__version__.split(".")[0]) < 2
