"""Privacy: a running session opens no network connection and writes no camera frame to disk.

A real window session runs in a subprocess with a Python audit hook that records every file opened for
writing and every socket connection; afterwards every folder the session could write to is searched for
pictures or raw frames (OpenCV or Qt writing from C code would not pass the hook).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.conftest import write_mood_video

REPO = Path(__file__).resolve().parents[1]
PICTURE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"P6\n", b"P5\n", b"BM", b"GIF8", b"RIFF", b"\x1aE\xdf\xa3")
RUNTIME_PACKAGES = ("core", "perception", "audio", "ui")

SESSION = r"""
import json, os, sys, time
events = []

def hook(event, args):
    if event == "open":
        path, mode, flags = args
        writing = (mode and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if writing:
            events.append(["write", str(path)])
    elif event == "socket.connect":
        events.append(["connect", repr(args[1])])

sys.addaudithook(hook)
from PySide6.QtWidgets import QApplication
app = QApplication([])
from moodsic_desktop.audio.engine import NullBackend
from moodsic_desktop.ui.app import create_window
window = create_window(sys.argv[1], None, backend=NullBackend(), close_fade_s=0.1)
window.show()
end = time.monotonic() + 8
while time.monotonic() < end:
    app.processEvents()
    time.sleep(0.005)
steps = window.report.metrics.steps
window.close()
while not window.closed_down:
    app.processEvents()
    time.sleep(0.01)
print(json.dumps({"steps": steps, "events": events}))
"""


def looks_like_a_picture(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        return False
    return head.startswith(PICTURE_MAGIC)


def test_a_session_sends_nothing_and_writes_no_frame(tmp_path):
    video = write_mood_video(tmp_path / "shop.mp4")
    folders = {name: tmp_path / name for name in ("home", "config", "moodsic", "tmp", "cwd")}
    for folder in folders.values():
        folder.mkdir()
    env = {
        **os.environ,
        "HOME": str(folders["home"]),
        "MOODSIC_CONFIG_DIR": str(folders["config"]),
        "MOODSIC_HOME": str(folders["moodsic"]),
        "TMPDIR": str(folders["tmp"]),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(REPO),
    }
    result = subprocess.run(
        [sys.executable, "-c", SESSION, str(video)],
        cwd=folders["cwd"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["steps"] > 20  # the session really read the video
    connections = [e for e in report["events"] if e[0] == "connect"]
    assert connections == []
    written = {Path(e[1]).resolve() for e in report["events"] if e[0] == "write"}
    # settings, the library and its built-in station cache, and libraries' own caches (matplotlib, which
    # MediaPipe imports, keeps a font list in ~/.cache); the picture search below covers those too
    allowed = [folders["config"], folders["moodsic"], folders["home"] / ".cache", Path("/dev")]
    strays = [p for p in written if not any(p.is_relative_to(a.resolve()) for a in allowed)]
    assert strays == [], "written outside the settings and library folders"
    pictures = [p for folder in folders.values() for p in folder.rglob("*") if p.is_file() and looks_like_a_picture(p)]
    assert pictures == []


@pytest.mark.parametrize("package", RUNTIME_PACKAGES)
def test_runtime_code_imports_no_network_client(package):
    from tests.test_architecture import PACKAGE, imported_top_levels

    network = {"socket", "urllib", "http", "requests", "httpx", "aiohttp", "ftplib", "smtplib"}
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(imported_top_levels(path) & network)
        for path in (PACKAGE / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
