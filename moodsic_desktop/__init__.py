"""Moodsic Desktop: reads the mood of a place from a camera and plays matching music.

Sub-packages: ``core`` (Qt- and OpenCV-free engine), ``perception`` (frames, faces, experts),
``audio`` (library and playback), ``modelzoo`` (PyTorch, for exporting models), ``ui`` (Qt).
"""

__version__ = "0.1.0"
