"""Double-click entry of Moodsic Desktop: opens the main window.

``python main.py [--source VIDEO_FILE|CAMERA_INDEX] [--library DEAM_FOLDER]``; the headless commands are
``moodsic …`` (see ``moodsic --help``).
"""

import sys

# Importing the package first turns off onnxruntime's telemetry and moves libraries' caches into the
# program's own folder (moodsic_desktop.paths.keep_libraries_private) before anything can load them.
import moodsic_desktop  # noqa: F401
from moodsic_desktop.ui.app import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
