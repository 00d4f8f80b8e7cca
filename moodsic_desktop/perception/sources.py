"""Frame sources: video files and cameras read through OpenCV, delivered as timestamped RGB frames.

A source yields :class:`Frame` objects: ``image`` is RGB uint8 (H x W x 3, converted from OpenCV's BGR
here, once) and read-only, so one frame can be handed to the GUI for preview while the pipeline keeps
reading; ``timestamp_s`` is in seconds; ``index`` counts frames delivered by this source from 0.

- Files: ``timestamp_s`` is the position of the frame in the video (OpenCV's ``CAP_PROP_POS_MSEC`` of
  the frame just decoded, or ``index / fps`` when the container does not say). With ``loop=True`` the
  file restarts at its end, and both ``timestamp_s`` and ``index`` keep increasing across restarts
  (position + completed loops x one pass's duration), so time-based filters downstream never see time
  run backwards.
- Cameras: ``timestamp_s`` is ``time.monotonic()`` seconds since the source was opened.

Threads: a source is not thread-safe: call it from one thread at a time, the capture/pipeline thread
(opening it elsewhere first and handing it over is fine). ``Frame`` objects are immutable and may be
passed to any thread.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from moodsic_desktop.closing import ClosesOnExit
from moodsic_desktop.perception.cameras import (
    CameraDevice,
    CameraNotFoundError,
    OpenCvTarget,
    is_camera_spec,
    opencv_target,
)
from moodsic_desktop.regular_files import check_regular_file

__all__ = [
    "CameraSource",
    "EarlyEnd",
    "Frame",
    "FrameSource",
    "SourceError",
    "VideoFileSource",
    "open_source",
    "read_picture",
]

_DEFAULT_FPS = 30.0
EARLY_END_TOLERANCE = 0.01
"""Frames a file may fall short of its container's count (a share of it, and at least 2) before its end counts as
early: containers' counts are sometimes approximate."""

_BACKENDS = {
    "any": cv2.CAP_ANY,
    "v4l2": cv2.CAP_V4L2,
    "msmf": cv2.CAP_MSMF,
    "avfoundation": cv2.CAP_AVFOUNDATION,
}
"""OpenCV's back end for each of ``cameras.OpenCvTarget``'s back-end names."""


class SourceError(ValueError):
    """A frame source could not be opened or decoded; the message names the file or camera."""


@dataclass(frozen=True, eq=False)
class Frame:
    """One frame: ``image`` RGB uint8 H x W x 3 (read-only array), ``timestamp_s`` in seconds (video
    position for files, monotonic seconds since open for cameras), ``index`` from 0 per source."""

    image: np.ndarray
    timestamp_s: float
    index: int

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


def _to_rgb_frame(bgr: np.ndarray, timestamp_s: float, index: int) -> Frame:
    if bgr.ndim == 2:
        rgb = cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
    elif bgr.shape[2] == 4:
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGRA2RGB)
    else:
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if rgb.dtype != np.uint8:  # 16-bit sources: keep the top 8 bits
        rgb = (rgb.view(np.uint16) >> 8).astype(np.uint8) if rgb.dtype == np.uint16 else rgb.astype(np.uint8)
    rgb.flags.writeable = False
    return Frame(image=rgb, timestamp_s=float(timestamp_s), index=int(index))


@dataclass(frozen=True)
class EarlyEnd:
    """A video that stopped giving frames before its container's count: ``frames_read`` of
    ``frames_expected``, the last at ``stopped_at_s`` seconds of about ``expected_s`` (truncated while it was
    read, or damaged)."""

    frames_read: int
    frames_expected: int
    stopped_at_s: float
    expected_s: float

    def message(self) -> str:
        """One line in plain words."""
        return (
            f"the video ended early: {self.frames_read} of the {self.frames_expected} frames its file announces "
            f"were read (it stopped at {self.stopped_at_s:.1f} s of {self.expected_s:.1f} s); the file may be "
            "truncated or damaged, and the report covers only the part before"
        )

    def to_dict(self) -> dict[str, float | int | str]:
        return {
            "frames_read": self.frames_read,
            "frames_expected": self.frames_expected,
            "stopped_at_s": round(self.stopped_at_s, 3),
            "expected_s": round(self.expected_s, 3),
            "message": self.message(),
        }


class FrameSource(ClosesOnExit):
    """Base class of the OpenCV sources: ``read()``, ``close()``, context manager, ``fps``, ``frame_size``.

    Not thread-safe: use from the capture/pipeline thread, one call at a time.
    """

    def __init__(self, description: str) -> None:
        self._description = description
        self._capture: cv2.VideoCapture | None = None
        self._fps = _DEFAULT_FPS
        self._frame_size = (0, 0)

    @property
    def description(self) -> str:
        """What is being read, for messages: the file path or ``camera N``."""
        return self._description

    @property
    def fps(self) -> float:
        """Nominal frames per second (from the container or driver; 30 when they do not say)."""
        return self._fps

    @property
    def frame_size(self) -> tuple[int, int]:
        """``(width, height)`` of the frames in pixels."""
        return self._frame_size

    @property
    def frame_count(self) -> int:
        """Frames in one pass of a file as its container reports them (may be approximate); 0 when unknown
        and for cameras."""
        return 0

    @property
    def closed(self) -> bool:
        return self._capture is None

    def read(self) -> Frame | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        """Release the OpenCV capture; reading afterwards returns ``None``. Safe to call twice."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # never raise from a finaliser
            self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._description!r})"

    def _read_fps(self, capture: cv2.VideoCapture) -> float:
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        return fps if math.isfinite(fps) and 0.5 <= fps <= 1000.0 else _DEFAULT_FPS


class VideoFileSource(FrameSource):
    """Frames of a video file, decoded by OpenCV (FFmpeg).

    Raises :class:`SourceError` naming the path when the file does not exist, is a directory or another
    special file (a FIFO, a device: never opened), or cannot be decoded (not a video, truncated so that no
    frame comes out). ``read()`` returns ``None`` at the end of the file, unless ``loop`` is True, in
    which case it starts again from the beginning. Read and close on the capture/pipeline thread, one
    call at a time.
    """

    def __init__(self, path: str | Path, loop: bool = False) -> None:
        self.path = Path(path)
        super().__init__(str(self.path))
        self.loop = bool(loop)
        if not self.path.exists():
            raise SourceError(f"video file not found: {self.path}")
        if self.path.is_dir():
            raise SourceError(f"video path is a directory, not a file: {self.path}")
        try:
            check_regular_file(self.path)  # OpenCV would wait forever on a FIFO
        except OSError as error:
            raise SourceError(f"cannot use the video: {error}") from None
        self._capture, first = self._open_capture()
        self._fps = self._read_fps(self._capture)
        count = float(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0.0)
        self._frame_count = int(count) if math.isfinite(count) and count > 0 else 0
        height, width = first.shape[:2]
        self._frame_size = (int(width), int(height))
        self._pending: np.ndarray | None = first
        self._pending_pos_s = self._position_s(self._capture, 0)
        self._index = 0
        self._frame_in_pass = 0
        self._loop_offset_s = 0.0
        self._last_pos_s = -math.inf
        self._ended = False  # read() came to the end of the file (without loop)

    @property
    def frame_count(self) -> int:
        """Frames in one pass of the file as its container reports them (may be approximate; 0 when
        unknown)."""
        return self._frame_count

    def ended_early(self) -> EarlyEnd | None:
        """Once ``read()`` has returned ``None`` (a file read without ``loop``): how the file fell short of
        its container's frame count (by more than ``EARLY_END_TOLERANCE``: truncated while it was read, or
        damaged), else None (it ended where it said, its count is unknown, or it has not ended)."""
        expected, read = self._frame_count, self._frame_in_pass
        if not self._ended or expected <= 0:
            return None
        if expected - read <= max(2, EARLY_END_TOLERANCE * expected):
            return None
        stopped = self._last_pos_s if read else 0.0
        return EarlyEnd(read, expected, stopped, expected / self._fps)

    def _open_capture(self) -> tuple[cv2.VideoCapture, np.ndarray]:
        """Open the file and decode its first frame; SourceError when either fails."""
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot open video file (not a video, or damaged): {self.path}")
        ok, image = capture.read()
        if not ok or image is None or image.size == 0:
            capture.release()
            raise SourceError(f"cannot decode any frame from video file (empty or damaged): {self.path}")
        return capture, image

    def _position_s(self, capture: cv2.VideoCapture, frame_in_pass: int) -> float:
        """Position of the frame just decoded, in seconds from the start of the file."""
        msec = float(capture.get(cv2.CAP_PROP_POS_MSEC))
        fallback = frame_in_pass / self._fps
        if not math.isfinite(msec) or msec < 0.0:
            return fallback
        if frame_in_pass > 0 and msec == 0.0:  # backend does not report positions
            return fallback
        return msec / 1000.0

    def read(self) -> Frame | None:
        """Next frame, or ``None`` at the end of the file (never with ``loop=True`` unless the file stops
        yielding frames) or after ``close()``. Call from the capture/pipeline thread."""
        if self._capture is None:
            return None
        if self._pending is not None:
            image, pos_s = self._pending, self._pending_pos_s
            self._pending = None
        else:
            ok, image = self._capture.read()
            if not ok or image is None:
                if not self.loop or not self._restart():
                    self._ended = not self.loop
                    return None
                return self.read()
            pos_s = self._position_s(self._capture, self._frame_in_pass)
        pos_s = max(pos_s, self._last_pos_s + 1e-6) if self._frame_in_pass > 0 else pos_s
        self._last_pos_s = pos_s
        frame = _to_rgb_frame(image, self._loop_offset_s + pos_s, self._index)
        self._index += 1
        self._frame_in_pass += 1
        return frame

    def _restart(self) -> bool:
        """Reopen the file for another pass; False when it yields no frame any more."""
        if self._frame_in_pass == 0:
            return False
        one_pass_s = self._last_pos_s + 1.0 / self._fps
        assert self._capture is not None
        self._capture.release()
        try:
            capture, first = self._open_capture()
        except SourceError:
            self._capture = None
            return False
        self._capture = capture
        self._loop_offset_s += one_pass_s
        self._frame_in_pass = 0
        self._last_pos_s = -math.inf
        self._pending = first
        self._pending_pos_s = self._position_s(capture, 0)
        return True


class CameraSource(FrameSource):
    """Frames of a camera opened by OpenCV: an index (0 = first camera, OpenCV's default back end) or an
    :class:`OpenCvTarget` (an index or device path with an explicit back end; see ``cameras.py``).

    Raises :class:`SourceError` when the camera cannot be opened or gives no first frame. ``read()``
    blocks until the driver delivers the next frame and returns ``None`` when the camera is gone.
    Timestamps are monotonic seconds since the source was opened. Read and close on the
    capture/pipeline thread, one call at a time.
    """

    _FIRST_FRAME_ATTEMPTS = 10

    def __init__(self, camera: int | OpenCvTarget) -> None:
        target = camera if isinstance(camera, OpenCvTarget) else OpenCvTarget(int(camera), "any", f"camera {camera}")
        self.target = target
        super().__init__(target.name)
        capture = cv2.VideoCapture(target.target, _BACKENDS[target.backend])
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot open {target.name} (not connected, busy, or no permission)")
        self._t0 = time.monotonic()
        first = None
        for _ in range(self._FIRST_FRAME_ATTEMPTS):  # some drivers drop the first grabs after opening
            ok, image = capture.read()
            if ok and image is not None and image.size:
                first = image
                break
        if first is None:
            capture.release()
            raise SourceError(f"{target.name} opened but delivered no frame")
        self._capture = capture
        self._fps = self._read_fps(capture)
        height, width = first.shape[:2]
        self._frame_size = (int(width), int(height))
        self._pending: np.ndarray | None = first
        self._pending_t = time.monotonic() - self._t0
        self._index = 0

    def read(self) -> Frame | None:
        """Next frame, or ``None`` when the camera is gone or closed. Call from the capture thread."""
        if self._capture is None:
            return None
        if self._pending is not None:
            image, t = self._pending, self._pending_t
            self._pending = None
        else:
            ok, image = self._capture.read()
            if not ok or image is None:
                return None
            t = time.monotonic() - self._t0
        frame = _to_rgb_frame(image, t, self._index)
        self._index += 1
        return frame


def read_picture(path: str | Path) -> np.ndarray | None:
    """A still picture (BGR uint8, as OpenCV reads it) from ``path``, or None when it is missing or not a
    picture. The bytes are read by Python and decoded by OpenCV: ``cv2.imread`` cannot open a path with
    characters outside the system's code page on Windows (``C:\\Users\\José\\…``). Any thread."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    return cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None


def open_source(
    spec: str | int | Path,
    loop: bool = False,
    cameras: Callable[[], Sequence[CameraDevice]] = tuple,
    platform: str | None = None,
) -> FrameSource:
    """Open a camera or a video file. Cameras: ``camera:<id>`` (looked up by id in ``cameras()``, the
    system's list now, and opened with the back end of ``platform``, by default ``sys.platform``:
    ``cameras.opencv_target``), or an
    OpenCV index (an int, or a string of digits such as ``"0"``). Anything else is a video file.

    ``loop`` applies to files only. Raises :class:`SourceError` when the source cannot be opened (a chosen
    camera that is not connected now too). Call from any thread; read the source on the capture/pipeline
    thread.
    """
    if isinstance(spec, bool):
        raise TypeError("source spec must be a camera index, a digit string or a path, not a bool")
    if isinstance(spec, int) or (isinstance(spec, str) and is_camera_spec(spec)):
        try:
            target = opencv_target(spec, cameras(), platform or sys.platform)
        except CameraNotFoundError as error:
            raise SourceError(str(error)) from None
        return CameraSource(target)
    return VideoFileSource(Path(spec), loop=loop)
