"""Qt tests run offscreen (set before pytest-qt creates the QApplication); every test must leave no
worker thread running; a small playable library and mood videos for the window tests."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf

from moodsic_desktop.audio.output import NullBackend
from moodsic_desktop.ui.app import create_window
from moodsic_desktop.ui.settings import SettingsStore, UserSettings
from tests.conftest import write_deam_folder

WAIT_MS = 30_000

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """Fail a test that leaves a worker QThread or a moodsic Python thread running (napari's practice)."""
    yield
    from moodsic_desktop.ui.workers import running_threads

    assert running_threads() == []
    alive = [t.name for t in threading.enumerate() if t.name.startswith("moodsic-")]
    assert alive == []


@pytest.fixture(autouse=True)
def isolated_config(tmp_path, monkeypatch):
    """Settings and window state go to a folder of the test, never to the user's."""
    folder = tmp_path / "config"
    monkeypatch.setenv("MOODSIC_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def playable_library(tmp_path_factory) -> Path:
    """A DEAM-layout folder of 24 songs spread over the mood plane, each with a real 30 s MP3 (a tone)."""
    root = tmp_path_factory.mktemp("library")
    grid = [(v, a) for v in (2.0, 3.5, 5.0, 6.5, 8.0, 8.8) for a in (2.0, 4.0, 6.0, 8.0)]
    rows = [f"{i},{v},,{a}," for i, (v, a) in enumerate(grid, start=1)]
    write_deam_folder(root, rows)
    audio = root / "MEMD_audio"
    audio.mkdir()
    rate = 22050
    t = np.arange(30 * rate) / rate
    for i in range(1, len(grid) + 1):
        tone = 0.2 * np.sin(2 * np.pi * (220 + 20 * i) * t).astype(np.float32)
        sf.write(audio / f"{i}.mp3", tone, rate, format="MP3")
    return root


def write_mood_video(path: Path, seconds_per_mood: float = 6.0, fps: float = 15.0) -> Path:
    """A dim, grey, still scene, then a bright, warm, saturated one with fast motion (BGR written)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (320, 240))
    assert writer.isOpened()
    frames = round(2 * seconds_per_mood * fps)
    for i in range(frames):
        bright = i >= frames // 2
        frame = np.full((240, 320, 3), (40, 200, 255) if bright else (60, 55, 50), np.uint8)
        if bright:
            for k in range(4):
                cv2.circle(frame, ((i * 23 + k * 80) % 320, 40 + 50 * k), 20, (0, 60, 255), -1)
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def mood_video(tmp_path) -> Path:
    return write_mood_video(tmp_path / "mood.mp4")


@pytest.fixture
def open_window(qtbot, playable_library):
    windows = []

    def make(source=None, settings: UserSettings | None = None, library=playable_library):
        if settings is not None:
            SettingsStore().save(settings)
        window = create_window(source, library, backend=NullBackend(), close_fade_s=0.1)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
        qtbot.waitUntil(lambda w=window: w.closed_down, timeout=WAIT_MS)
        # delete it here, on the GUI thread: left to the garbage collector it could be destroyed on
        # whichever thread collects next, and Qt objects must die on their own thread
        window.deleteLater()
    qtbot.wait(1)
    gc.collect()
