"""User settings: one typed schema with its defaults, a schema version and migrations, saved as JSON.

Window geometry is not a user setting: it is saved apart (``WindowState``, through QSettings), so that
"Reset to defaults" never moves the window and a broken geometry never costs the user their sliders.

A settings file that cannot be read (broken JSON, wrong types) is kept beside as ``settings.json.broken``
and the defaults are used for what could not be read; ``load`` reports what happened in one message.
GUI thread only.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from moodsic_desktop.core.fusion import FUSION_MODES
from moodsic_desktop.core.matcher import MATCH_MODES

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SETTINGS_FILE = "settings.json"


@dataclass
class UserSettings:
    """What the owner tunes. alpha: EMA weight of a reading 1 s after the last, (0, 1]; tau: hold while the
    standard deviation exceeds it (reference units); dwell_s and crossfade_s in seconds; volume 0..1."""

    alpha: float = 0.3
    tau: float = 0.4
    dwell_s: float = 25.0
    crossfade_s: float = 6.0
    mode: str = "match"
    fusion: str = "inverse_variance"
    volume: float = 0.8
    audio_device: str | None = None
    last_source: str | None = None
    loop_video: bool = True
    privacy: bool = False

    def validated(self) -> UserSettings:
        """A copy with every out-of-range value replaced by its default."""
        defaults = UserSettings()
        checks = {
            "alpha": lambda x: isinstance(x, float) and 0.0 < x <= 1.0,
            "tau": lambda x: isinstance(x, float) and 0.0 <= x <= 2.0,
            "dwell_s": lambda x: isinstance(x, float) and 0.0 <= x <= 600.0,
            "crossfade_s": lambda x: isinstance(x, float) and 0.0 <= x <= 20.0,
            "mode": lambda x: x in MATCH_MODES,
            "fusion": lambda x: x in FUSION_MODES,
            "volume": lambda x: isinstance(x, float) and 0.0 <= x <= 1.0,
            "audio_device": lambda x: x is None or isinstance(x, str),
            "last_source": lambda x: x is None or isinstance(x, str),
            "loop_video": lambda x: isinstance(x, bool),
            "privacy": lambda x: isinstance(x, bool),
        }
        values = asdict(self)
        for name, ok in checks.items():
            if not ok(values[name]):
                values[name] = getattr(defaults, name)
        return UserSettings(**values)


def config_dir() -> Path:
    """Where settings live: ``MOODSIC_CONFIG_DIR`` if set, else Qt's per-user application config folder."""
    override = os.environ.get("MOODSIC_CONFIG_DIR")
    if override:
        return Path(override)
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppConfigLocation)
    return Path(location or Path.home() / ".config" / "moodsic")


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older file up to SCHEMA_VERSION (one step per version; none yet beyond version 1)."""
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ValueError(f"settings schema version {version!r} is newer than this program's ({SCHEMA_VERSION})")
    return data


def _coerce(value: Any, default: Any) -> Any:
    """Accept a whole number where a float is expected (a hand-edited "dwell_s": 30)."""
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


class SettingsStore:
    """Loads and saves ``UserSettings`` as JSON in ``folder`` (default ``config_dir()``). GUI thread."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else config_dir()
        self.path = self.folder / SETTINGS_FILE

    def load(self) -> tuple[UserSettings, str | None]:
        """The saved settings (defaults where missing or unusable) and a message when something was wrong."""
        if not self.path.exists():
            return UserSettings(), None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("the file does not hold a settings object")
            data = _migrate(data)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            backup = self._keep_broken()
            message = f"Settings could not be read ({error}); defaults are in use. The old file is kept as {backup}."
            log.warning(message)
            return UserSettings(), message
        defaults = UserSettings()
        known = {f.name for f in fields(UserSettings)}
        values = {k: _coerce(v, getattr(defaults, k)) for k, v in data.items() if k in known}
        loaded = UserSettings(**{**asdict(defaults), **values})
        settings = loaded.validated()
        rejected = [name for name in known if getattr(settings, name) != getattr(loaded, name)]
        if rejected:
            names = ", ".join(sorted(rejected))
            message = f"Some settings were out of range and were reset to their defaults: {names}."
            log.warning(message)
            return settings, message
        return settings, None

    def _keep_broken(self) -> Path:
        backup = self.path.with_name(self.path.name + ".broken")
        try:
            self.path.replace(backup)
        except OSError:
            log.exception("could not keep the broken settings file aside")
        return backup

    def save(self, settings: UserSettings) -> None:
        """Write the settings atomically (a crash mid-write never leaves half a file)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".part")
        temporary.write_text(
            json.dumps({"schema_version": SCHEMA_VERSION, **asdict(settings)}, indent=1), encoding="utf-8"
        )
        temporary.replace(self.path)


class WindowState:
    """The main window's geometry and splitter state, kept apart from user settings (QSettings INI)."""

    def __init__(self, folder: Path | None = None) -> None:
        folder = Path(folder) if folder is not None else config_dir()
        self._settings = QSettings(str(folder / "window-state.ini"), QSettings.Format.IniFormat)

    def restore(self, key: str) -> QByteArray | None:
        value = self._settings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save(self, key: str, value: QByteArray) -> None:
        self._settings.setValue(key, value)
        self._settings.sync()
