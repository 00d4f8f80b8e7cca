"""``moodsic autostart on|off|status`` on this (Linux) computer, in a temporary XDG_CONFIG_HOME."""

from __future__ import annotations

import sys

import pytest

from moodsic_desktop.autostart import desktop_exec, launch_command
from tests.cli.cli_helpers import one_error_line, run
from tests.test_autostart import REPO, read_desktop_entry


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config"


def test_on_status_and_off(capsys, config):
    path = config / "autostart" / "moodsic.desktop"
    code, out, _ = run(capsys, "autostart", "status")
    assert code == 0 and out == f"Moodsic does not start with this computer (no entry at {path}).\n"
    code, out, _ = run(capsys, "autostart", "on")
    assert code == 0 and out == f"Moodsic starts when this computer starts (entry: {path}).\n"
    assert read_desktop_entry(path)["Exec"] == desktop_exec(launch_command())
    assert launch_command()[1:] == (str(REPO / "main.py"), "--autostart")  # this checkout's window program
    code, out, _ = run(capsys, "autostart", "status")
    assert code == 0 and out.startswith("Moodsic starts when this computer starts")
    code, out, _ = run(capsys, "autostart", "off")
    assert code == 0 and out.startswith("Moodsic does not start with this computer") and not path.exists()


def test_an_entry_of_someone_else_is_an_error_and_is_kept(capsys, config):
    path = config / "autostart" / "moodsic.desktop"
    path.parent.mkdir(parents=True)
    path.write_text("[Desktop Entry]\nName=mine\nExec=true\n")
    code, _, err = run(capsys, "autostart", "off")
    assert code == 1
    assert one_error_line(err) == f"moodsic autostart: error: {path} was not written by Moodsic; it is left as it is"
    assert path.read_text() == "[Desktop Entry]\nName=mine\nExec=true\n"


def test_an_unknown_action_is_refused(capsys, config):
    with pytest.raises(SystemExit) as exit_info:
        run(capsys, "autostart", "maybe")
    assert exit_info.value.code == 2
    assert "invalid choice: 'maybe'" in capsys.readouterr().err
    assert not (config / "autostart").exists()
