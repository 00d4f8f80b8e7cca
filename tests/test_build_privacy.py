"""The frozen app's privacy step (``build/build_app.py``: ``privacy_check``), run on stand-in programs
under the real strace, without building the app."""

from __future__ import annotations

import importlib.util
import shutil
import stat
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def build_app():
    spec = importlib.util.spec_from_file_location("build_app", REPO / "build" / "build_app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_app", module)
    spec.loader.exec_module(module)
    return module


needs_strace = pytest.mark.skipif(
    shutil.which("strace") is None or not sys.platform.startswith("linux"),
    reason="needs strace on Linux (Debian: apt install strace; .ci/run installs it)",
)


def stand_in(tmp_path: Path, build_app, monkeypatch, body: str) -> None:
    """A program standing in for the frozen executable: it must be called with --self-test."""
    program = tmp_path / "Moodsic"
    program.write_text(f'#!/bin/sh\n[ "$1" = "--self-test" ] || exit 64\n{body}\n')
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(build_app, "executable", lambda: program)


@needs_strace
def test_a_program_that_keeps_to_its_own_folders_passes(tmp_path, build_app, monkeypatch):
    stand_in(tmp_path, build_app, monkeypatch, 'mkdir -p "$HOME/.cache/moodsic" && echo x > "$HOME/.cache/moodsic/f"')
    seen = build_app.privacy_check()
    assert seen["network_connects"] == 0
    assert seen["created_in_home"] == [".cache", ".cache/moodsic", ".cache/moodsic/f"]


@needs_strace
def test_a_file_left_in_home_fails_the_build(tmp_path, build_app, monkeypatch):
    body = 'mkdir -p "$HOME/.cache/Microsoft" && echo id > "$HOME/.cache/Microsoft/deviceid"'
    stand_in(tmp_path, build_app, monkeypatch, body)
    with pytest.raises(build_app.BuildError, match=r"did what it must not: .*\.cache/Microsoft"):
        build_app.privacy_check()


@needs_strace
def test_a_network_connection_fails_the_build(tmp_path, build_app, monkeypatch):
    code = (
        "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "try: s.connect(('192.0.2.1', 53))\nexcept OSError: pass"
    )
    stand_in(tmp_path, build_app, monkeypatch, f'exec "{sys.executable}" -c "{code}"')
    with pytest.raises(build_app.BuildError, match=r"connect\(\) to a network address: .*192\.0\.2\.1"):
        build_app.privacy_check()


@needs_strace
def test_a_file_written_outside_home_and_the_programs_folders_fails_the_build(tmp_path, build_app, monkeypatch):
    """As Mesa's shader cache in the passwd home would: a file that exists already, opened for appending."""
    elsewhere = tmp_path / "elsewhere" / "index"
    elsewhere.parent.mkdir()
    elsewhere.write_text("old\n")
    (tmp_path / "app").mkdir()
    body = f'echo new >> "{elsewhere}" && echo x > "$TMPDIR/scratch" && echo y > "$(dirname "$0")/music-index"'
    stand_in(tmp_path / "app", build_app, monkeypatch, body)
    with pytest.raises(build_app.BuildError, match=r"did what it must not: written outside HOME") as caught:
        build_app.privacy_check()
    assert str(elsewhere) in str(caught.value) and "scratch" not in str(caught.value)
    assert "music-index" not in str(caught.value)  # beside the executable: the program's own folder


@needs_strace
def test_a_failing_self_test_fails_the_step(tmp_path, build_app, monkeypatch):
    stand_in(tmp_path, build_app, monkeypatch, "echo 'self-test FAILED at models: no' >&2; exit 1")
    with pytest.raises(build_app.BuildError, match=r"exit status 1\): self-test FAILED at models"):
        build_app.privacy_check()


def test_without_strace_the_step_says_it_was_skipped(build_app, monkeypatch):
    monkeypatch.setattr(build_app.shutil, "which", lambda name: None)
    assert build_app.privacy_check().startswith("skipped: ")


@needs_strace
def test_a_self_test_without_sound_passes_the_privacy_step(tmp_path, build_app, monkeypatch):
    """A build machine often has no sound card: the self-test's 'no sound output' status is not a failure."""
    stand_in(
        tmp_path, build_app, monkeypatch, f"echo 'No sound output: no device'; exit {build_app.SELF_TEST_NO_SOUND}"
    )
    assert build_app.privacy_check()["network_connects"] == 0


def test_the_self_test_step_accepts_no_sound_and_says_so(tmp_path, build_app, monkeypatch, capsys):
    from moodsic_desktop.cli import self_test as selftest

    assert build_app.SELF_TEST_NO_SOUND == selftest.EXIT_NO_SOUND
    stand_in(tmp_path, build_app, monkeypatch, "echo 'No sound output: no device'; echo 'ok  audio x'; exit 3")
    assert build_app.self_test("nothing installed", {"PATH": "/usr/bin:/bin"}) == [
        "No sound output: no device",
        "ok  audio x",
    ]
    assert "no sound output on this build machine; accepted" in capsys.readouterr().out


def test_the_self_test_step_fails_on_a_failing_stage(tmp_path, build_app, monkeypatch):
    stand_in(tmp_path, build_app, monkeypatch, "echo 'self-test FAILED at audio: broken' >&2; exit 1")
    with pytest.raises(build_app.BuildError, match=r"exit status 1\): self-test FAILED at audio: broken"):
        build_app.self_test("nothing installed", {"PATH": "/usr/bin:/bin"})
