"""Keeping MediaPipe's native start-up chatter off the user's terminal.

MediaPipe's C++ side (absl logging, TensorFlow Lite) prints a few lines to file descriptor 2 the first
time each graph runs ("Created TensorFlow Lite XNNPACK delegate", "Feedback manager requires a model with
a single signature …"); ``GLOG_minloglevel`` does not reach them and Python's logging never sees them.
``warm_up`` runs a graph once on a blank picture with descriptor 2 pointed at /dev/null, so those lines go
nowhere and later runs print nothing. Making the graph is silenced too, and in the same stretch: a graph
opens its stages on its own threads while it starts, and the first run waits for them. Our own messages
say what went wrong, once and clearly.

Any thread; the silenced moment is one small inference (milliseconds), during which anything else written
to descriptor 2 by any thread is lost too.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

import numpy as np

from moodsic_desktop.paths import resources_dir
from moodsic_desktop.perception.sources import read_picture


class _Solution(Protocol):
    """A MediaPipe solution (FaceDetection, FaceMesh): ``process`` reads one RGB uint8 image."""

    def process(self, image: np.ndarray) -> object: ...


T = TypeVar("T", bound=_Solution)


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the block (nothing happens when stderr has no descriptor,
    e.g. a frozen GUI program without a console)."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), fd)
            try:
                yield
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


def started_quietly(make: Callable[[], T], picture: np.ndarray | None = None) -> T:
    """``make()`` a MediaPipe solution and run it (``process(rgb)``) once, its native start-up lines
    silenced: on ``picture`` (RGB uint8; a face, for graphs whose later stages start only when a face is
    found) or a blank one. Returns the solution."""
    with native_stderr_silenced():
        solution = make()
        solution.process(picture if picture is not None else np.zeros((64, 64, 3), np.uint8))
    return solution


def face_picture() -> np.ndarray | None:
    """The self-test's photograph of a face (RGB uint8) from ``resources/``, None when it is not there."""
    import cv2

    image = read_picture(resources_dir() / "selftest_face.jpg")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image is not None else None
