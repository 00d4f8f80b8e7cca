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


def cache_dir() -> Path:
    """The program's own cache folder (libraries' caches it redirects, such as matplotlib's font list):
    ``MOODSIC_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/moodsic`` or ``~/.cache/moodsic`` on Linux,
    ``%LOCALAPPDATA%\\Moodsic\\cache`` on Windows, ``~/Library/Caches/Moodsic`` on macOS. Not created here."""
    override = os.environ.get("MOODSIC_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else Path.home() / "AppData" / "Local") / "Moodsic" / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "Moodsic"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache") / "moodsic"


# The OpenGL drivers' shader caches: environment variable → its folder inside cache_dir() (recent Mesa
# makes its own mesa_shader_cache folder inside the one it is given).
GL_SHADER_CACHES = {
    "MESA_SHADER_CACHE_DIR": "gl_shaders",
    "MESA_GLSL_CACHE_DIR": "gl_shaders",
    "__GL_SHADER_DISK_CACHE_PATH": "gl_shaders",
}


def keep_libraries_private() -> None:
    """Stop what third-party libraries would send or store on their own, by setting their environment
    variables in this process (and so in its children); must run before those libraries are loaded.

    - onnxruntime (1.17 … 1.31 at least) writes a device id to ``~/.cache/Microsoft/DeveloperTools`` and
      sends usage events to Microsoft unless ``ORT_DISABLE_TELEMETRY=1`` is set before it is first loaded
      (setting it later, or ``disable_telemetry_events()``, does not stop it). Always set, whatever the
      environment said: the program promises to open no network connection.
    - matplotlib (imported by MediaPipe) keeps its font list in ``~/.cache/matplotlib`` and makes
      ``~/.config/matplotlib``; ``MPLCONFIGDIR`` moves both into :func:`cache_dir` (unless the user set it).
    - OpenGL drivers keep compiled shaders on disk when Qt draws with GL: Mesa in the *passwd* home's
      ``~/.cache/mesa_shader_cache`` (not ``HOME``'s) unless ``MESA_SHADER_CACHE_DIR`` (older Mesa:
      ``MESA_GLSL_CACHE_DIR``) or ``XDG_CACHE_HOME`` is set, NVIDIA's driver in ``~/.nv/GLCache`` unless
      ``__GL_SHADER_DISK_CACHE_PATH`` is set. All three are pointed into :func:`cache_dir` (unless the user set
      them); ``XDG_CACHE_HOME`` itself is left alone (:func:`cache_dir` and other programs read it).

    Safe to call more than once; call it on the main thread before other threads start (it writes
    ``os.environ``).
    """
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    os.environ.setdefault("MPLCONFIGDIR", str(cache_dir() / "matplotlib"))
    for variable, folder in GL_SHADER_CACHES.items():
        os.environ.setdefault(variable, str(cache_dir() / folder))
