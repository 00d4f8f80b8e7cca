"""A ``--report`` file the user names (``write_json_report``) is written whole: a write that fails part way
(a full disk) leaves the older report as it was and says so in one line."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from moodsic_desktop.cli._common import UserError, write_json_report


def test_a_failed_write_leaves_the_older_report(tmp_path, monkeypatch, capsys):
    report = tmp_path / "check.json"
    report.write_text('{"older": true}\n')
    real_write_text = Path.write_text

    def disk_full(path, text, *args, **kwargs):
        real_write_text(path, text[: len(text) // 2], *args, **kwargs)  # half of it reaches the disk …
        raise OSError(errno.ENOSPC, "No space left on device")  # … and then the disk is full

    monkeypatch.setattr(Path, "write_text", disk_full)
    with pytest.raises(UserError, match=r"cannot write the report .*check\.json: .*No space left on device"):
        write_json_report(report, {"newer": [1, 2, 3]})
    monkeypatch.undo()
    assert json.loads(report.read_text()) == {"older": True}
    assert [p.name for p in tmp_path.iterdir()] == ["check.json"]


def test_a_report_replaces_the_older_one(tmp_path, capsys):
    report = tmp_path / "check.json"
    report.write_text("older")
    write_json_report(report, {"newer": [1, 2, 3]})
    assert json.loads(report.read_text()) == {"newer": [1, 2, 3]}
    assert f"full report written to {report}" in capsys.readouterr().out
