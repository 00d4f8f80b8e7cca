"""Moodsic Desktop: reads the mood of a place from a camera and plays matching music.

Sub-packages: ``core`` (Qt- and OpenCV-free engine), ``perception`` (frames, faces, experts),
``audio`` (library and playback), ``modelzoo`` (PyTorch, for exporting models), ``ui`` (Qt).

Importing the package keeps third-party libraries offline and out of the user's home folder (see
:func:`moodsic_desktop.paths.keep_libraries_private`): this must run before onnxruntime is first loaded,
and every entry point (``main.py``, ``moodsic``, ``python -m moodsic_desktop``, the frozen app) imports
this package before anything else. It also turns down the native libraries' own logging
(:func:`moodsic_desktop.native_logs.quiet_native_logs`) for the same reason: it must happen before they load.
"""

from moodsic_desktop.native_logs import quiet_native_logs
from moodsic_desktop.paths import keep_libraries_private

__version__ = "0.1.0"

keep_libraries_private()
quiet_native_logs()
