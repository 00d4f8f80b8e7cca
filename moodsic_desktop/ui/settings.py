"""User settings: one typed schema with its defaults, a schema version and migrations, saved as JSON.

Window geometry is not a user setting: it is saved apart (``WindowState``, through QSettings), so that
"Reset to defaults" never moves the window and a broken geometry never costs the user their sliders.

Settings that cannot be used never stop the program and are never lost. A file that cannot be read at all
(broken JSON, not an object, a newer schema) is set aside under a new name, ``settings.json.broken-<date>-
<time>[-N]`` (an earlier copy is never overwritten), and the defaults are used. Values that cannot be used
(wrong type, out of range, not finite, a whole number too large for a float) are replaced by their
defaults one by one: the file as it was is kept under the same kind of name and the usable rest is written
back. ``load`` reports what happened in one line, which the window shows in a banner. GUI thread only.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings

from moodsic_desktop import atomic_files, paths
from moodsic_desktop.core.day_plan import DayPlan
from moodsic_desktop.core.settings_schema import (
    ALPHA,
    AUDIO_DEVICE,
    BY_NAME,
    CROSSFADE,
    DAY_PLAN,
    DWELL,
    FUSION,
    LAST_SOURCE,
    LOOP_VIDEO,
    MODE,
    PRIVACY,
    REPEAT_WINDOW,
    TAU,
    VOLUME,
)
from moodsic_desktop.regular_files import NotARegularFileError, check_output_path, read_regular_bytes

if TYPE_CHECKING:  # annotations only: the settings load without QtWidgets
    from PySide6.QtWidgets import QSplitter, QWidget

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: "dwell_s" is "min_dwell_s", the setting's one name (core.settings_schema)
SETTINGS_FILE = "settings.json"
RENAMED = {"dwell_s": DWELL.name}  # names in files of schema version 1 → the settings' names now


@dataclass
class UserSettings:
    """What the owner tunes, one field per setting of ``core.settings_schema.SETTINGS`` (its name, default,
    unit and checks; a test checks they agree). alpha: EMA weight of a reading 1 s after the last, (0, 1];
    tau: hold while the standard deviation exceeds it (reference units); min_dwell_s and crossfade_s in
    seconds; volume 0..1; repeat_window_min in minutes (the time before a song comes back); day_plan: the
    day plan's JSON object (``core.day_plan``; :attr:`plan` is the plan itself)."""

    alpha: float = ALPHA.default
    tau: float = TAU.default
    min_dwell_s: float = DWELL.default
    crossfade_s: float = CROSSFADE.default
    mode: str = MODE.default
    fusion: str = FUSION.default
    volume: float = VOLUME.default
    repeat_window_min: float = REPEAT_WINDOW.default
    audio_device: str | None = AUDIO_DEVICE.default
    last_source: str | None = LAST_SOURCE.default
    loop_video: bool = LOOP_VIDEO.default
    privacy: bool = PRIVACY.default
    day_plan: dict[str, Any] = field(default_factory=lambda: DAY_PLAN.default)

    @property
    def plan(self) -> DayPlan:
        """The day plan (the default plan when ``day_plan`` cannot be used: see :meth:`validated`)."""
        return DayPlan() if DAY_PLAN.problem(self.day_plan) else DAY_PLAN.parse(self.day_plan)

    def validated(self) -> UserSettings:
        """A copy with every value its setting cannot take (``Setting.check``: wrong type, out of range, not
        finite) replaced by its default. A number must be a float here (``_coerce`` turns a file's whole
        number into one), so that a rejected value is told apart from a kept one."""
        values = asdict(self)
        for name, value in values.items():
            setting = BY_NAME[name]
            wrong_type = isinstance(setting.default, float) and not isinstance(value, float)
            if wrong_type or setting.problem(value) is not None:
                values[name] = setting.default
        return UserSettings(**values)


def config_dir() -> Path:
    """Where settings live: ``MOODSIC_CONFIG_DIR`` if set, else the platform's settings folder for the
    program, or the earlier one where the settings are still there (``paths.config_dir``)."""
    return paths.config_dir(SETTINGS_FILE)


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older file up to SCHEMA_VERSION, one step per version (1 → 2: the settings' old names,
    ``RENAMED``, become their names now; a value under the new name wins)."""
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ValueError(f"settings schema version {version!r} is newer than this program's ({SCHEMA_VERSION})")
    if version < 2:
        data = dict(data)
        for old, new in RENAMED.items():
            if old in data:
                data.setdefault(new, data.pop(old))
    return data


def _coerce(value: Any, default: Any) -> Any:
    """Accept a whole number where a float is expected (a hand-edited "dwell_s": 30); one too large for a
    float is returned as it is, for ``UserSettings.validated`` to reject."""
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return value
    return value


def _timestamp() -> str:
    """Local date and time for the name of a set-aside copy (``20261130-041500``)."""
    return time.strftime("%Y%m%d-%H%M%S")


def _copy_aside(path: Path, content: bytes) -> Path:
    """Write ``content`` (the settings file as it was) to a new file beside ``path``, named
    ``<name>.broken-<timestamp>[-N]``; never overwrites a file (exclusive creation). Raises ``OSError``."""
    stem = f"{path.name}.broken-{_timestamp()}"
    for number in range(1, 1000):
        candidate = path.with_name(stem if number == 1 else f"{stem}-{number}")
        try:
            with candidate.open("xb") as out:
                out.write(content)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"too many set-aside copies named {stem}*")


class SettingsStore:
    """Loads and saves ``UserSettings`` as JSON in ``folder`` (default ``config_dir()``). GUI thread."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else config_dir()
        self.path = self.folder / SETTINGS_FILE
        self._hands_off = False  # the file could not be read or set aside: never write over it

    def load(self) -> tuple[UserSettings, str | None]:
        """The saved settings (defaults where missing or unusable) and, when something was wrong, one line
        saying what and where the file as it was is kept. Never raises for what the file holds."""
        if not self.path.exists():
            return UserSettings(), None
        try:
            content = read_regular_bytes(self.path)  # a FIFO would never let the window appear
        except OSError as error:
            self._hands_off = True
            message = f"Settings could not be read ({error}); defaults are in use, the file is left as it is."
            return UserSettings(), self._problem(message)
        try:
            data = json.loads(content.decode("utf-8"))
            if not isinstance(data, dict):
                raise ValueError("the file does not hold a settings object")
            data = _migrate(data)
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
            kept = self._set_aside(content, remove=True)
            return UserSettings(), self._problem(f"Settings could not be read ({reason}); defaults are in use. {kept}")
        defaults = UserSettings()
        known = {f.name for f in fields(UserSettings)}
        values = {k: _coerce(v, getattr(defaults, k)) for k, v in data.items() if k in known}
        loaded = UserSettings(**{**asdict(defaults), **values})
        settings = loaded.validated()
        rejected = [name for name in known if not _same(getattr(settings, name), getattr(loaded, name))]
        if not rejected:
            return settings, None
        kept = self._set_aside(content, remove=False)
        try:
            self.save(settings)  # the usable rest (not when the original could not be kept: see save)
        except OSError as error:
            log.warning("could not write the usable settings back to %s (%s)", self.path, error)
        names = ", ".join(sorted(rejected))
        plan = DAY_PLAN.problem(loaded.day_plan)
        why_plan = f" The day plan could not be used ({plan}): the music plays all day as without one." if plan else ""
        return settings, self._problem(
            f"Some settings could not be used and are back to their defaults: {names}.{why_plan} {kept}"
        )

    @staticmethod
    def _problem(message: str) -> str:
        log.warning(message)
        return message

    def _set_aside(self, content: bytes, remove: bool) -> str:
        """Keep the file as it was under a new name (and, with ``remove``, take it away from its place);
        returns the sentence that tells the user where it is."""
        try:
            kept = _copy_aside(self.path, content)
        except OSError as error:
            self._hands_off = True
            return f"The file could not be kept aside ({error}), so it is left as it is and not saved over."
        if remove:
            try:
                self.path.unlink()
            except OSError:
                log.warning("could not remove %s after keeping a copy as %s", self.path, kept)
        return f"The file as it was is kept as {kept}."

    def save(self, settings: UserSettings) -> None:
        """Write the settings atomically (a crash mid-write never leaves half a file); does nothing when the
        file on disk could neither be read nor kept aside (it is the user's, and is never written over)."""
        if self._hands_off:
            log.warning("settings not saved: %s is left as it is", self.path)
            return
        try:
            check_output_path(self.path)
        except NotARegularFileError as error:
            log.warning("settings not saved: %s", error)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_files.write_text(
            self.path, json.dumps({"schema_version": SCHEMA_VERSION, **asdict(settings)}, indent=1, allow_nan=False)
        )


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same type (``1 == 1.0 == True`` would hide a rejected value)."""
    return type(a) is type(b) and a == b


class WindowState:
    """The main window's geometry and splitter state, and the folders its file dialogs last used
    (``ui/dialog_folders.py``), kept apart from user settings (QSettings INI). An INI path that is not a
    regular file (a FIFO, which QSettings would wait on forever) is left alone: the window opens at its
    default size and nothing of this is kept."""

    def __init__(self, folder: Path | None = None) -> None:
        folder = Path(folder) if folder is not None else config_dir()
        path = folder / "window-state.ini"
        self._settings: QSettings | None = None
        try:
            check_output_path(path)
        except NotARegularFileError as error:
            log.warning("window layout not restored or kept: %s", error)
            return
        self._settings = QSettings(str(path), QSettings.Format.IniFormat)

    def restore(self, key: str) -> QByteArray | None:
        value = self._settings.value(key) if self._settings is not None else None
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save(self, key: str, value: QByteArray | str) -> None:
        if self._settings is not None:
            self._settings.setValue(key, value)
            self._settings.sync()

    def restore_text(self, key: str) -> str | None:
        """The text kept under ``key``, or None (nothing kept, or not text)."""
        value = self._settings.value(key) if self._settings is not None else None
        return value if isinstance(value, str) and value else None

    def restore_layout(self, window: QWidget, splitters: Mapping[str, QSplitter]) -> None:
        """The size and place of ``window`` and the state of its ``splitters`` (by key) from the last run. A
        geometry saved on a larger screen is cut down to this screen's available area by ``restoreGeometry``
        itself (Qt 6). GUI thread."""
        geometry = self.restore("geometry")
        if geometry is not None:
            window.restoreGeometry(geometry)
        for key, splitter in splitters.items():
            state = self.restore(key)
            if state is not None:
                splitter.restoreState(state)

    def save_layout(self, window: QWidget, splitters: Mapping[str, QSplitter]) -> None:
        """Keep what ``restore_layout`` restores. GUI thread."""
        self.save("geometry", window.saveGeometry())
        for key, splitter in splitters.items():
            self.save(key, splitter.saveState())
