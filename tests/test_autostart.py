"""Starting with the computer: each platform's autostart entry, written, read back and removed. The Linux
entry is real (a temporary XDG_CONFIG_HOME; launched through GLib's ``gio`` when it is there); Windows's
registry is a stand-in; macOS's plist is read back with plistlib."""

from __future__ import annotations

import configparser
import os
import plistlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moodsic_desktop import autostart
from moodsic_desktop.autostart import (
    AUTOSTART_FLAG,
    AutostartError,
    MacLaunchAgent,
    Platform,
    WindowsRunKey,
    XdgAutostart,
    autostart_entry,
    launch_command,
)

REPO = Path(__file__).resolve().parents[1]


def linux(tmp_path: Path, command: tuple[str, ...], **env: str) -> Platform:
    return Platform("linux", tmp_path / "home", env, command, icon=REPO / "resources" / "moodsic.png")


def read_desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def test_the_launch_command_starts_the_window_with_the_autostart_flag(tmp_path):
    assert launch_command(frozen=True, executable="/opt/Moodsic/Moodsic") == ("/opt/Moodsic/Moodsic", AUTOSTART_FLAG)
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    assert launch_command(False, "/usr/bin/python3", checkout) == (
        "/usr/bin/python3",
        "-m",
        "moodsic_desktop.ui.app",
        AUTOSTART_FLAG,
    )  # an installed package: no main.py beside it
    (checkout / "main.py").write_text("")
    assert launch_command(False, "/usr/bin/python3", checkout) == (
        "/usr/bin/python3",
        str(checkout / "main.py"),
        AUTOSTART_FLAG,
    )
    windows_python = tmp_path / "Python311" / "python.exe"
    windows_python.parent.mkdir()
    windows_python.write_text("")
    (windows_python.parent / "pythonw.exe").write_text("")
    command = launch_command(False, str(windows_python), checkout)
    assert command[0] == str(windows_python.parent / "pythonw.exe")  # no console window at log-in
    assert launch_command() == (sys.executable, str(REPO / "main.py"), AUTOSTART_FLAG)  # this checkout


def test_the_fallback_command_is_the_window_program():
    result = subprocess.run(
        [sys.executable, "-m", "moodsic_desktop.ui.app", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "moodsic-desktop" in result.stdout and AUTOSTART_FLAG in result.stdout


def test_the_linux_entry_is_written_in_xdg_config_home_and_removed(tmp_path):
    command = (sys.executable, str(REPO / "main.py"), AUTOSTART_FLAG)
    entry = XdgAutostart(linux(tmp_path, command, XDG_CONFIG_HOME=str(tmp_path / "config")))
    path = tmp_path / "config" / "autostart" / "moodsic.desktop"
    assert entry.path == path and not entry.enabled()
    entry.disable()  # nothing there: nothing to do
    entry.enable()
    assert entry.enabled() and path.is_file()
    fields = read_desktop_entry(path)
    assert fields["Type"] == "Application" and fields["Name"] == "Moodsic"
    assert fields["Exec"] == f"{sys.executable} {REPO / 'main.py'} --autostart"
    assert fields["Icon"] == str(REPO / "resources" / "moodsic.png") and Path(fields["Icon"]).is_file()
    assert fields["Terminal"] == "false" and fields["X-GNOME-Autostart-enabled"] == "true"
    assert [p.name for p in path.parent.iterdir()] == ["moodsic.desktop"]  # no temporary file left
    entry.enable()  # again: the same entry, rewritten
    assert read_desktop_entry(path)["Exec"] == fields["Exec"]
    entry.disable()
    assert not path.exists() and not entry.enabled()


def test_without_xdg_config_home_the_entry_goes_to_dot_config(tmp_path):
    for env in ({}, {"XDG_CONFIG_HOME": ""}, {"XDG_CONFIG_HOME": "relative/config"}):  # the spec ignores these
        entry = XdgAutostart(linux(tmp_path, ("/opt/Moodsic/Moodsic", AUTOSTART_FLAG), **env))
        assert entry.path == tmp_path / "home" / ".config" / "autostart" / "moodsic.desktop"


@pytest.mark.skipif(shutil.which("gio") is None, reason="GLib's gio is not installed")
def test_the_linux_entry_launches_the_command_through_glib(tmp_path):
    """GLib (what GNOME, XFCE and others start autostart entries with) reads the Exec line back into the
    very arguments, however odd the folder's name. (A "%" in a quoted argument is a field code the
    specification forbids there; GLib then cannot load the entry: an install folder with "%" and a space.)"""
    folder = tmp_path / 'Moodsic $HOME "quoted" back\\slash'
    folder.mkdir()
    program = folder / "Moodsic"
    record = tmp_path / "arguments.txt"
    program.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$0\" \"$@\" > '{record}'\n")
    program.chmod(0o755)
    command = (str(program), "--library", str(folder / "music"), "100%", AUTOSTART_FLAG)
    entry = XdgAutostart(linux(tmp_path, command, XDG_CONFIG_HOME=str(tmp_path / "config")))
    entry.enable()
    subprocess.run(["gio", "launch", str(entry.path)], check=True, timeout=60)
    deadline = time.monotonic() + 30
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert record.read_text().splitlines() == list(command)


def test_an_entry_moodsic_did_not_write_is_left_as_it_is(tmp_path):
    entry = XdgAutostart(linux(tmp_path, ("/opt/Moodsic/Moodsic", AUTOSTART_FLAG)))
    entry.path.parent.mkdir(parents=True)
    mine = "[Desktop Entry]\nType=Application\nName=My own Moodsic\nExec=/home/me/moodsic.sh\n"
    entry.path.write_text(mine)
    assert not entry.enabled()
    with pytest.raises(AutostartError, match="was not written by Moodsic"):
        entry.enable()
    with pytest.raises(AutostartError, match="was not written by Moodsic"):
        entry.disable()
    assert entry.path.read_text() == mine


def test_a_folder_that_cannot_be_written_is_a_clear_error(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "autostart").write_text("a file where the folder should be")
    entry = XdgAutostart(linux(tmp_path, ("/opt/Moodsic/Moodsic", AUTOSTART_FLAG), XDG_CONFIG_HOME=str(config)))
    with pytest.raises(AutostartError, match=r"could not write .*moodsic\.desktop"):
        entry.enable()
    assert (config / "autostart").read_text() == "a file where the folder should be"


class FakeRegistry:
    """The part of ``winreg`` the Run key uses, over a dict of {key path: {value name: (type, data)}}."""

    HKEY_CURRENT_USER = "HKCU"
    REG_SZ = 1
    KEY_SET_VALUE = 2

    def __init__(self) -> None:
        self.keys: dict[str, dict[str, tuple[int, str]]] = {}

    class Key:
        def __init__(self, values: dict[str, tuple[int, str]]) -> None:
            self.values = values

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            pass

    def OpenKey(self, root, path, reserved=0, access=0):
        if (root, path) not in self.keys:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        return self.Key(self.keys[(root, path)])

    def CreateKey(self, root, path):
        return self.Key(self.keys.setdefault((root, path), {}))

    def SetValueEx(self, key, name, reserved, kind, data) -> None:
        key.values[name] = (kind, data)

    def QueryValueEx(self, key, name):
        if name not in key.values:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        kind, data = key.values[name]
        return data, kind

    def DeleteValue(self, key, name) -> None:
        if name not in key.values:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        del key.values[name]


def test_the_windows_entry_is_the_run_key_of_the_current_user():
    registry = FakeRegistry()
    exe = r"C:\Program Files\Moodsic\Moodsic.exe"
    platform = Platform("windows", Path("C:/Users/cafe"), {}, (exe, AUTOSTART_FLAG), winreg=registry)
    entry = autostart_entry(platform)
    assert isinstance(entry, WindowsRunKey) and not entry.enabled()
    entry.disable()  # nothing there: nothing to do
    entry.enable()
    run = registry.keys[("HKCU", r"Software\Microsoft\Windows\CurrentVersion\Run")]
    assert run == {"Moodsic": (FakeRegistry.REG_SZ, r'"C:\Program Files\Moodsic\Moodsic.exe" --autostart')}
    assert entry.enabled() and "CurrentVersion\\Run" in entry.where
    entry.disable()
    assert run == {} and not entry.enabled()


def test_the_macos_entry_is_a_launch_agent_run_at_log_in(tmp_path):
    exe = "/Applications/Moodsic.app/Contents/MacOS/Moodsic"
    platform = Platform("macos", tmp_path / "home", {}, (exe, AUTOSTART_FLAG))
    entry = autostart_entry(platform)
    assert isinstance(entry, MacLaunchAgent) and not entry.enabled()
    entry.enable()
    path = tmp_path / "home" / "Library" / "LaunchAgents" / "com.moodsic.desktop.plist"
    with path.open("rb") as file:
        agent = plistlib.load(file)
    assert agent == {
        "Label": "com.moodsic.desktop",
        "ProgramArguments": [exe, "--autostart"],
        "RunAtLoad": True,
        "ProcessType": "Interactive",
    }
    assert entry.enabled()
    entry.disable()
    assert not path.exists() and not entry.enabled()


def test_this_computer_is_linux_here_and_its_entry_follows_xdg_config_home(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    entry = autostart.autostart_entry()
    assert isinstance(entry, XdgAutostart) and entry.path == tmp_path / "config" / "autostart" / "moodsic.desktop"
    assert entry.platform.command == launch_command()
