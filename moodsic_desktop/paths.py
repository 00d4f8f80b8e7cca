"""Where the program keeps its files: ``models/`` and ``music/`` (the owner's data), settings per user.

- From a source checkout the data is in the repository root (where ``main.py`` is).
- A frozen build keeps it where each platform keeps a program's data for the user (``platformdirs``):
  ``%LOCALAPPDATA%\\Moodsic`` on Windows (an installed program cannot write beside itself in
  ``Program Files``), ``~/Library/Application Support/Moodsic`` on macOS (the signed ``Moodsic.app`` must not
  change), ``$XDG_DATA_HOME/Moodsic`` (``~/.local/share/Moodsic``) on Linux. Except where the folder beside
  the executable already holds the owner's data (a portable copy, or an install from before this rule): then
  that folder stays the program's home, so nothing is stranded.
- ``MOODSIC_HOME`` overrides both (tests, portable installs).
- Settings: ``config_dir()`` (``MOODSIC_CONFIG_DIR`` overrides).

Pure path arithmetic (nothing is created); safe on any thread.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from platformdirs.api import PlatformDirsABC

APP_NAME = "Moodsic"
DATA_FOLDERS = ("models", "music")
"""The folders of the owner's data under the program's home."""


def platform_dirs() -> PlatformDirsABC:
    """``platformdirs``' folders for Moodsic on this platform (``sys.platform`` read now, so tests can mock it)."""
    if sys.platform == "win32":
        from platformdirs.windows import Windows as Dirs
    elif sys.platform == "darwin":
        from platformdirs.macos import MacOS as Dirs
    else:
        from platformdirs.unix import Unix as Dirs
    return Dirs(APP_NAME, appauthor=False, roaming=False)


def holds_owner_data(folder: Path) -> bool:
    """True when ``folder``'s ``models/`` or ``music/`` holds anything besides its README (the owner's models,
    library index, imported facts, the built-in station's audio)."""
    for name in DATA_FOLDERS:
        try:
            if any(entry.name != "README.md" for entry in (folder / name).iterdir()):
                return True
        except OSError:
            continue
    return False


def app_dir() -> Path:
    """The folder that holds ``models/`` and ``music/`` (see the module's notes)."""
    override = os.environ.get("MOODSIC_HOME")
    if override:
        return Path(override).expanduser().resolve()
    if not getattr(sys, "frozen", False):
        return Path(__file__).resolve().parents[1]
    beside = Path(sys.executable).resolve().parent
    if sys.platform != "darwin" and holds_owner_data(beside):
        return beside
    return Path(platform_dirs().user_data_dir)


def qt_config_dir() -> Path:
    """Where earlier versions kept the settings: Qt's AppConfigLocation for organisation and application
    "Moodsic" (``~/.config/Moodsic/Moodsic``, ``%LOCALAPPDATA%/Moodsic/Moodsic``,
    ``~/Library/Preferences/Moodsic/Moodsic``)."""
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Preferences"
    else:
        xdg = os.environ.get("XDG_CONFIG_HOME")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".config"
    return base / APP_NAME / APP_NAME


def config_dir(settings_file: str = "settings.json") -> Path:
    """Where the settings live: ``MOODSIC_CONFIG_DIR`` if set; else the platform's folder for a program's
    settings (``%LOCALAPPDATA%\\Moodsic``, ``~/Library/Application Support/Moodsic``, ``~/.config/Moodsic``);
    but where only the earlier folder (:func:`qt_config_dir`) has ``settings_file``, that one, so an owner's
    settings are found again after an update."""
    override = os.environ.get("MOODSIC_CONFIG_DIR")
    if override:
        return Path(override)
    folder = Path(platform_dirs().user_config_dir)
    earlier = qt_config_dir()
    if not (folder / settings_file).exists() and (earlier / settings_file).exists():
        return earlier
    return folder


def resources_dir() -> Path:
    """``resources/`` (icons, the self-test's photograph): inside the bundle when frozen (PyInstaller's
    ``sys._MEIPASS``), else in the checkout."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


WINDOW_ICONS = {"win32": "moodsic.ico", "darwin": "moodsic.icns"}
"""The window (and taskbar or Dock) icon per platform, in ``resources/``; ``moodsic.png`` elsewhere."""


def window_icon() -> Path:
    """The icon file for the window on this platform: several sizes in one ``.ico`` on Windows (sharp in
    the taskbar), the ``.icns`` the .app carries on macOS (the Dock), the PNG on Linux."""
    return resources_dir() / WINDOW_ICONS.get(sys.platform, "moodsic.png")


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
