"""Where the program keeps its files: ``models/`` and ``music/`` beside the program, settings per user.

From a source checkout "beside the program" is the repository root (where ``main.py`` is); in a frozen
build it is the folder of the executable, except on macOS, where the executable sits inside the signed
``Moodsic.app`` (which must not change, and is replaced whole by an update): there it is
``~/Library/Application Support/Moodsic``. ``MOODSIC_HOME`` overrides it (tests, portable installs).
Pure path arithmetic; safe on any thread.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def app_dir() -> Path:
    """The folder that holds ``models/`` and ``music/``."""
    override = os.environ.get("MOODSIC_HOME")
    if override:
        return Path(override).expanduser().resolve()
    if getattr(sys, "frozen", False):
        if sys.platform == "darwin":
            return Path.home() / "Library" / "Application Support" / "Moodsic"
        return Path(sys.executable).resolve().parent
    return Path(__file__).resolve().parents[1]


def resources_dir() -> Path:
    """``resources/`` (icons, the self-test's photograph): inside the bundle when frozen (PyInstaller's
    ``sys._MEIPASS``), else in the checkout."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def models_dir() -> Path:
    """ONNX model files and their manifest."""
    return app_dir() / "models"


def music_dir() -> Path:
    """The music library index, the built-in station's cache and imported audio facts."""
    return app_dir() / "music"
