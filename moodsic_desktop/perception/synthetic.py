"""Generated video clips with known mood steps, for the demo, the self-test and the evaluations.

``write_demo_clip`` writes an MP4 (OpenCV's mp4v codec) whose scene moves through three moods, each
``segment_s`` seconds long: calm and dim (dark, desaturated blue, still), bright and lively (light, warm,
saturated, fast-moving shapes), and tense (dark red with flicker and jumpy motion). No camera frame is
involved: the frames are drawn here. ``write_face_clip`` writes the same moods with a photograph of a face
pasted in (the self-test's clip).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

DEMO_SEGMENT_S = 20.0  # seconds per mood of the demo clip

# (background BGR, shape BGR, shape speed in px per frame, flicker amplitude) per segment
_SEGMENTS = (
    ((70, 45, 30), (95, 70, 50), 0.5, 0),
    ((80, 200, 250), (40, 90, 255), 9.0, 0),
    ((20, 20, 110), (10, 10, 200), 14.0, 40),
)


def demo_frame(index: int, fps: float, size: tuple[int, int], segment_s: float) -> np.ndarray:
    """The BGR frame ``index`` of the demo clip (size is width, height in pixels)."""
    width, height = size
    segment = min(int(index / fps // segment_s), len(_SEGMENTS) - 1)
    background, shape, speed, flicker = _SEGMENTS[segment]
    rng = np.random.default_rng(index)
    level = np.array(background, dtype=np.int16) + (rng.integers(-flicker, flicker + 1) if flicker else 0)
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = np.clip(level, 0, 255).astype(np.uint8)
    for k in range(5):
        x = int((k * width / 5 + speed * index * (1 + 0.3 * k)) % width)
        y = int(height / 2 + height / 3 * np.sin(0.05 * speed * index / 3 + k))
        cv2.circle(frame, (x, y), 18 + 6 * k, shape, -1)
    return frame


def demo_step_times(segment_s: float = DEMO_SEGMENT_S) -> tuple[float, ...]:
    """The seconds at which the demo clip's mood changes (the starts of segments 2 and 3)."""
    return tuple(segment_s * k for k in range(1, len(_SEGMENTS)))


def write_demo_clip(
    path: str | Path, segment_s: float = DEMO_SEGMENT_S, fps: float = 10.0, size: tuple[int, int] = (480, 270)
) -> Path:
    """Write the three-mood demo clip to ``path`` and return it. ``fps`` in frames per second."""
    path = Path(path)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise OSError(f"cannot write a video to {path}")
    try:
        for index in range(round(segment_s * fps * len(_SEGMENTS))):
            writer.write(demo_frame(index, fps, size, segment_s))
    finally:
        writer.release()
    return path


def write_face_clip(
    path: str | Path,
    face_bgr: np.ndarray,
    segment_s: float = DEMO_SEGMENT_S,
    fps: float = 10.0,
    size: tuple[int, int] = (640, 360),
) -> Path:
    """Write the demo clip's three moods with ``face_bgr`` (a BGR photograph) drifting across the middle, for
    the self-test; returns ``path``. ``size`` is (width, height) in pixels. Raises ``ValueError`` when the
    photograph does not fit, ``OSError`` when OpenCV cannot write the file."""
    path = Path(path)
    width, height = size
    face_h, face_w = face_bgr.shape[:2]
    if face_w >= width or face_h >= height:
        raise ValueError(f"the face photograph ({face_w} x {face_h}) does not fit in a {width} x {height} frame")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write an MP4 video to {path}")
    frames = round(segment_s * fps * len(_SEGMENTS))
    try:
        for index in range(frames):
            frame = demo_frame(index, fps, size, segment_s)
            x = int((width - face_w) * (0.35 + 0.3 * index / max(frames - 1, 1)))
            y = (height - face_h) // 2
            frame[y : y + face_h, x : x + face_w] = face_bgr
            writer.write(frame)
    finally:
        writer.release()
    return path
