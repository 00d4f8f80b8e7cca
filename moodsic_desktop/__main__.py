"""``python -m moodsic_desktop`` runs the ``moodsic`` command."""

import sys

from moodsic_desktop.cli.main import main

sys.exit(main())
