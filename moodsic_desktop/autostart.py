"""Starting Moodsic when the computer starts: the platform's autostart entry, written and removed.

- Linux (and other XDG desktops): ``$XDG_CONFIG_HOME/autostart/moodsic.desktop`` (``~/.config`` when
  ``XDG_CONFIG_HOME`` is unset or not absolute), a Desktop Entry whose ``Exec`` starts the program.
- Windows: the value ``Moodsic`` under ``HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``
  (``winreg``), the command line that starts the program.
- macOS: the LaunchAgent ``~/Library/LaunchAgents/com.moodsic.desktop.plist`` (``plistlib``), run at load.

The program is started with ``--autostart``: the frozen app's executable, else this Python running the
checkout's ``main.py`` (or ``-m moodsic_desktop.ui.app`` when installed without it). Everything that differs
between computers comes in through :class:`Platform`, so each entry is tested on any system. An entry found
in our place that Moodsic did not write is never overwritten nor removed (:class:`AutostartError`).
The foundation: imports no other part of the program but ``atomic_files``. Any thread, one call at a time.
"""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from moodsic_desktop import atomic_files

System = Literal["linux", "windows", "macos"]
AUTOSTART_FLAG = "--autostart"
DESKTOP_FILE = "moodsic.desktop"
DESKTOP_MARK = "X-Moodsic-Autostart"  # a key of our own in the entry: it was written by Moodsic
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Moodsic"
AGENT_LABEL = "com.moodsic.desktop"


class AutostartError(OSError):
    """The entry could not be written, read or removed; the message says which file or key, and why."""


@dataclass(frozen=True)
class Platform:
    """What the entry depends on: the ``system``, the user's ``home`` folder, the environment ``env``
    (``XDG_CONFIG_HOME``), the ``command`` that starts the program (with ``--autostart``), the ``icon``
    file for the Linux entry, and ``winreg`` (the module, or a stand-in in tests; Windows only)."""

    system: System
    home: Path
    env: Mapping[str, str]
    command: tuple[str, ...]
    icon: Path | None = None
    winreg: Any = None


def launch_command(
    frozen: bool | None = None, executable: str | None = None, checkout: Path | None = None
) -> tuple[str, ...]:
    """The command line that starts the window with ``--autostart``: the frozen app's executable; else the
    Python ``executable`` running ``main.py`` of the source ``checkout`` (the folder above the package), or
    ``-m moodsic_desktop.ui.app`` when there is none (an installed package). On Windows ``pythonw.exe``
    beside ``python.exe`` is preferred: no console window. Defaults: this process's."""
    frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    executable = executable or sys.executable
    if frozen:
        return (executable, AUTOSTART_FLAG)
    windowless = Path(executable).with_name("pythonw.exe")
    if Path(executable).name.lower() == "python.exe" and windowless.is_file():
        executable = str(windowless)
    checkout = Path(__file__).resolve().parents[1] if checkout is None else checkout
    main = checkout / "main.py"
    if main.is_file():
        return (executable, str(main), AUTOSTART_FLAG)
    return (executable, "-m", "moodsic_desktop.ui.app", AUTOSTART_FLAG)


def this_platform() -> Platform:
    """The computer this runs on, with this program's launch command."""
    system: System = "windows" if sys.platform == "win32" else "macos" if sys.platform == "darwin" else "linux"
    registry: Any = None
    if system == "windows":
        import winreg  # Windows only

        registry = winreg
    icon = Path(__file__).resolve().parents[1] / "resources" / "moodsic.png"
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        icon = Path(bundle) / "resources" / "moodsic.png"
    return Platform(system, Path.home(), dict(os.environ), launch_command(), icon if icon.is_file() else None, registry)


class AutostartEntry(Protocol):
    """One platform's entry. ``where`` names it for messages."""

    @property
    def where(self) -> str: ...

    def enabled(self) -> bool:
        """Whether Moodsic's entry is there."""
        ...

    def enable(self) -> None:
        """Write the entry (again, with this program's command). ``AutostartError`` when it cannot."""
        ...

    def disable(self) -> None:
        """Remove Moodsic's entry; nothing when there is none. ``AutostartError`` when it cannot."""
        ...


def desktop_exec(command: Sequence[str]) -> str:
    """``command`` as a Desktop Entry ``Exec`` value: arguments with spaces or reserved characters in double
    quotes (``"``, `````, ``$`` and ``\\`` escaped inside them), ``%`` doubled, and then, because ``Exec``
    is a string value, each backslash doubled (the Desktop Entry Specification's two levels). An argument
    with both a space and a "%" has no valid spelling there (GLib then refuses the whole entry)."""
    reserved = set(" \t\n\"'\\><~|&;$*?#()`")
    words = []
    for argument in command:
        word = argument.replace("%", "%%")
        if any(c in reserved for c in word) or not word:
            escaped = "".join("\\" + c if c in '"`$\\' else c for c in word)
            word = f'"{escaped}"'
        words.append(word)
    return " ".join(words).replace("\\", "\\\\")


class FileEntry:
    """An autostart entry that is one file at ``path`` (the XDG ``.desktop`` file, the LaunchAgent plist):
    written whole (``atomic_files``) from ``data()``, and never written over or removed
    when Moodsic did not write it (``ours``)."""

    path: Path

    @property
    def where(self) -> str:
        return str(self.path)

    def data(self) -> bytes:
        """The file's bytes."""
        raise NotImplementedError

    def ours(self) -> bool:
        """Whether the file at ``path`` was written by Moodsic."""
        raise NotImplementedError

    def enabled(self) -> bool:
        return self.path.is_file() and self.ours()

    def enable(self) -> None:
        self._refuse_if_foreign()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_files.write_bytes(self.path, self.data())
        except OSError as error:
            raise AutostartError(f"could not write {self.path}: {error.strerror or error}") from error

    def disable(self) -> None:
        if not self.path.exists():
            return
        self._refuse_if_foreign()
        try:
            self.path.unlink()
        except OSError as error:
            raise AutostartError(f"could not remove {self.path}: {error.strerror or error}") from error

    def _refuse_if_foreign(self) -> None:
        if self.path.exists() and not self.ours():
            raise AutostartError(f"{self.path} was not written by Moodsic; it is left as it is")


class XdgAutostart(FileEntry):
    """``moodsic.desktop`` in the XDG autostart folder (see the module docstring)."""

    def __init__(self, platform: Platform) -> None:
        config = platform.env.get("XDG_CONFIG_HOME", "")
        base = Path(config) if config and Path(config).is_absolute() else platform.home / ".config"
        self.path = base / "autostart" / DESKTOP_FILE
        self.platform = platform

    def text(self) -> str:
        """The entry's content."""
        lines = [
            "[Desktop Entry]",
            "Type=Application",
            "Name=Moodsic",
            "Comment=Music that follows the mood of the room",
            f"Exec={desktop_exec(self.platform.command)}",
            *([f"Icon={self.platform.icon}"] if self.platform.icon is not None else []),
            "Terminal=false",
            "X-GNOME-Autostart-enabled=true",
            f"{DESKTOP_MARK}=true",
        ]
        return "\n".join(lines) + "\n"

    def data(self) -> bytes:
        return self.text().encode("utf-8")

    def ours(self) -> bool:
        try:
            return f"\n{DESKTOP_MARK}=true" in self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False


class WindowsRunKey:
    """The ``Moodsic`` value of the current user's ``Run`` key (see the module docstring)."""

    def __init__(self, platform: Platform) -> None:
        if platform.winreg is None:
            raise AutostartError("the Windows registry is not available here")
        self.winreg = platform.winreg
        self.platform = platform

    @property
    def where(self) -> str:
        return f"HKEY_CURRENT_USER\\{RUN_KEY} ({RUN_VALUE})"

    def command_line(self) -> str:
        """The value written: the command, quoted as Windows splits it."""
        return subprocess.list2cmdline(self.platform.command)

    def enabled(self) -> bool:
        try:
            with self.winreg.OpenKey(self.winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                self.winreg.QueryValueEx(key, RUN_VALUE)
        except FileNotFoundError:
            return False
        except OSError as error:
            raise AutostartError(f"could not read {self.where}: {error}") from error
        return True

    def enable(self) -> None:
        try:
            with self.winreg.CreateKey(self.winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                self.winreg.SetValueEx(key, RUN_VALUE, 0, self.winreg.REG_SZ, self.command_line())
        except OSError as error:
            raise AutostartError(f"could not write {self.where}: {error}") from error

    def disable(self) -> None:
        try:
            with self.winreg.OpenKey(self.winreg.HKEY_CURRENT_USER, RUN_KEY, 0, self.winreg.KEY_SET_VALUE) as key:
                self.winreg.DeleteValue(key, RUN_VALUE)
        except FileNotFoundError:
            return
        except OSError as error:
            raise AutostartError(f"could not remove {self.where}: {error}") from error


class MacLaunchAgent(FileEntry):
    """``~/Library/LaunchAgents/com.moodsic.desktop.plist`` (see the module docstring)."""

    def __init__(self, platform: Platform) -> None:
        self.path = platform.home / "Library" / "LaunchAgents" / f"{AGENT_LABEL}.plist"
        self.platform = platform

    def content(self) -> dict[str, Any]:
        """The LaunchAgent's keys: run once at log-in, as an interactive program."""
        return {
            "Label": AGENT_LABEL,
            "ProgramArguments": list(self.platform.command),
            "RunAtLoad": True,
            "ProcessType": "Interactive",
        }

    def data(self) -> bytes:
        return plistlib.dumps(self.content())

    def ours(self) -> bool:
        try:
            with self.path.open("rb") as file:
                return plistlib.load(file).get("Label") == AGENT_LABEL
        except (OSError, plistlib.InvalidFileException, ValueError, AttributeError):
            return False


def autostart_entry(platform: Platform | None = None) -> AutostartEntry:
    """The autostart entry of ``platform`` (default: this computer)."""
    platform = this_platform() if platform is None else platform
    if platform.system == "windows":
        return WindowsRunKey(platform)
    if platform.system == "macos":
        return MacLaunchAgent(platform)
    return XdgAutostart(platform)
