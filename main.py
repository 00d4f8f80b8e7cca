"""Double-click entry of Moodsic Desktop: opens the main window.

``python main.py [--source VIDEO_FILE|CAMERA_INDEX] [--library DEAM_FOLDER]``; the headless commands are
``moodsic …`` (see ``moodsic --help``).
"""

import sys

from moodsic_desktop.ui.app import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
