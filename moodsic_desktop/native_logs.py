"""The native libraries' own log output (MediaPipe's glog, TensorFlow Lite, OpenCV and its FFmpeg), turned
down before any of them is loaded: the program's own messages say what went wrong, once and clearly.

A foundation module like :mod:`moodsic_desktop.paths`: it imports nothing of the program. The package's
``__init__`` calls :func:`quiet_native_logs` on import, so every entry point (the window, ``moodsic``, the
self-test, the frozen app) has it before OpenCV or MediaPipe is imported.
"""

from __future__ import annotations

import os


def quiet_native_logs() -> None:
    """Silence the native chatter of MediaPipe, TensorFlow Lite and FFmpeg. Values already in the environment
    win. Safe to call more than once; main thread, before other threads start (it writes ``os.environ``)."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
