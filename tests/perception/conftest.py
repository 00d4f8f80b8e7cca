"""Shared fixtures for the perception tests: the astronaut photograph, its face, and a video writer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from moodsic_desktop.core.types import FaceBox

# Hand-annotated face of skimage.data.astronaut() (512 x 512): forehead to chin, ear to ear.
ASTRONAUT_FACE = FaceBox(x=170.0, y=60.0, width=110.0, height=125.0, score=1.0)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """skimage's astronaut photograph, RGB uint8 512 x 512 x 3, read-only."""
    image = data.astronaut()
    image.flags.writeable = False
    return image


@pytest.fixture(scope="session")
def astronaut_face() -> FaceBox:
    return ASTRONAUT_FACE


def _paste(
    canvas_size: tuple[int, int], image: np.ndarray, top_left: tuple[int, int], scale: float, fill: int = 128
) -> np.ndarray:
    """A grey ``(width, height)`` canvas with ``image`` resized by ``scale`` pasted at ``(x, y)``."""
    width, height = canvas_size
    canvas = np.full((height, width, 3), fill, dtype=np.uint8)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(np.ascontiguousarray(image), None, fx=scale, fy=scale, interpolation=interpolation)
    x, y = top_left
    h = min(small.shape[0], height - y)
    w = min(small.shape[1], width - x)
    canvas[y : y + h, x : x + w] = small[:h, :w]
    return canvas


def _scaled_box(box: FaceBox, scale: float, top_left: tuple[int, int]) -> FaceBox:
    """``box`` after resizing its image by ``scale`` and pasting it at ``top_left``."""
    return FaceBox(
        box.x * scale + top_left[0], box.y * scale + top_left[1], box.width * scale, box.height * scale, box.score
    )


@pytest.fixture(scope="session")
def paste() -> Callable[..., np.ndarray]:
    """``paste((width, height), image, (x, y), scale, fill=128)``: a grey canvas with the image resized and
    pasted at (x, y)."""
    return _paste


@pytest.fixture(scope="session")
def scaled_box() -> Callable[[FaceBox, float, tuple[int, int]], FaceBox]:
    """``scaled_box(box, scale, (x, y))``: where a box lands when its image is pasted that way."""
    return _scaled_box


VideoWriter = Callable[..., Path]


@pytest.fixture()
def write_video(tmp_path: Path) -> VideoWriter:
    """``write_video(frames_bgr, fps=25.0, name="clip.mp4", fourcc="mp4v") -> Path``: an OpenCV-written
    clip in ``tmp_path``. Skips the test when this OpenCV build cannot write that codec."""

    def _write(
        frames_bgr: Sequence[np.ndarray], fps: float = 25.0, name: str = "clip.mp4", fourcc: str = "mp4v"
    ) -> Path:
        path = tmp_path / name
        height, width = frames_bgr[0].shape[:2] if frames_bgr else (48, 64)
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
        if not writer.isOpened():
            pytest.skip(f"OpenCV cannot write {fourcc} into {name} here")
        try:
            for frame in frames_bgr:
                writer.write(np.ascontiguousarray(frame))
        finally:
            writer.release()
        assert path.is_file()
        return path

    return _write
