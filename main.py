"""Double-click entry of Moodsic Desktop: opens the main window, or runs the self-test headless.

``python main.py [--source VIDEO_FILE|CAMERA_INDEX] [--library DEAM_FOLDER]``; ``python main.py --self-test
[--library DEAM_FOLDER] [--verbose]`` (``moodsic_desktop.cli.self_test``: no Qt, no window). The headless
commands are ``moodsic …`` (see ``moodsic --help``).
"""

import sys

# Importing the package first turns off onnxruntime's telemetry and moves libraries' caches into the
# program's own folder (moodsic_desktop.paths.keep_libraries_private) before anything can load them.
import moodsic_desktop  # noqa: F401
from moodsic_desktop.ui import app

if __name__ == "__main__":
    arguments = sys.argv[1:]
    if "--self-test" in arguments:  # headless, no Qt; loaded only here, so that the window's splash shows sooner
        from moodsic_desktop.cli import self_test

        sys.exit(self_test.main(arguments))
    sys.exit(app.main(arguments))
