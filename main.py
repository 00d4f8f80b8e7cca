"""Double-click entry of Moodsic Desktop.

Until the main window lands (see the desktop-app issue), this runs the ``moodsic`` command line: with no
arguments it analyses a generated demo clip with the built-in station and writes ``report.json``.
"""

import sys

from moodsic_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["analyze", "--demo"]))
