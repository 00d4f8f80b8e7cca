"""``main.py`` for real: a virtual X screen (Xvfb), the real window, a screenshot taken from outside."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.ui.conftest import write_mood_video

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("Xvfb", "xwd", "xwdtopnm")


def screenshot(display: str, path: Path) -> np.ndarray | None:
    """The whole virtual screen as a BGR image (xwd | xwdtopnm), or None when it cannot be taken."""
    xwd = subprocess.run(["xwd", "-root", "-silent"], env={**os.environ, "DISPLAY": display}, capture_output=True)
    if xwd.returncode != 0:
        return None
    pnm = subprocess.run(["xwdtopnm"], input=xwd.stdout, capture_output=True)
    path.write_bytes(pnm.stdout)
    return cv2.imread(str(path))


@pytest.fixture
def virtual_screen():
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (Debian: xvfb x11-apps netpbm)")
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        pytest.skip("Xvfb did not start")
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


def test_main_py_shows_a_real_window(virtual_screen, deam_fixture, tmp_path):
    video = write_mood_video(tmp_path / "shop.mp4", seconds_per_mood=30)
    env = {
        **os.environ,
        "DISPLAY": virtual_screen,
        "QT_QPA_PLATFORM": "xcb",
        "MOODSIC_CONFIG_DIR": str(tmp_path / "config"),
        "MOODSIC_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(REPO),
    }
    log = (tmp_path / "app.log").open("w")
    app = subprocess.Popen(
        [sys.executable, str(REPO / "main.py"), "--source", str(video), "--library", str(deam_fixture)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        image = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and app.poll() is None:
            time.sleep(2)
            image = screenshot(virtual_screen, tmp_path / "screen.ppm")
            # the window is up once a good part of the screen is not the empty black background
            if image is not None and (image.max(axis=2) > 20).mean() > 0.3:
                time.sleep(3)  # let the video and the charts run a moment
                image = screenshot(virtual_screen, tmp_path / "screen.ppm")
                break
        assert app.poll() is None, (tmp_path / "app.log").read_text()[-3000:]
        assert image is not None
        cv2.imwrite(str(tmp_path / "screen.png"), image)
        covered = (image.max(axis=2) > 20).mean()
        assert covered > 0.3, f"the screen is mostly blank ({covered:.0%} covered)"
        assert image.std() > 20  # text, charts and a picture: not one flat colour
        assert len(np.unique(image.reshape(-1, 3)[::97], axis=0)) > 50
    finally:
        app.send_signal(signal.SIGTERM)
        try:
            app.wait(timeout=20)
        except subprocess.TimeoutExpired:
            app.kill()
        log.close()
