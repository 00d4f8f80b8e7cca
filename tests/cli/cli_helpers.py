"""What the command-line tests share: run ``moodsic`` in-process and read its one error line."""

from __future__ import annotations

from moodsic_desktop.cli.main import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    """``moodsic ARGS`` in this process: (exit status, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    """The single non-blank line of ``err``; fails when there are more, or a traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]
