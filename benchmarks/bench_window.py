"""Benchmark of the running window (not a test): preview frames per second, the longest stall of the GUI
event loop, and audio underflows, for a 30 fps video with both experts running.

Goals (issue "The desktop app"): preview >= 24 fps, longest stall <= 50 ms, 0 underflows. Each figure is
printed with the same figure measured in this run with no source running, as a baseline (machines here
are noisy). Run: ``python benchmarks/bench_window.py [--seconds 20] [--sound]`` (``--sound`` plays through
PortAudio instead of the null output).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
import numpy as np
from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QApplication


def write_video(path: Path, seconds: float, fps: float = 30.0) -> Path:
    """A 640 x 360, 30 fps clip with moving colour fields (scene motion) and a real face photograph."""
    from skimage import data

    face = cv2.cvtColor(cv2.resize(data.astronaut()[0:300, 100:400], (150, 150)), cv2.COLOR_RGB2BGR)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (640, 360))
    for i in range(round(seconds * fps)):
        frame = np.full((360, 640, 3), (40 + i % 120, 120, 200 - i % 120), np.uint8)
        cv2.circle(frame, ((i * 9) % 640, 100), 40, (0, 80, 255), -1)
        frame[100:250, 245:395] = face
        writer.write(frame)
    writer.release()
    return path


class StallMeter:
    """Measures the longest gap between ticks of a 5 ms timer on the GUI thread (the event loop's stalls)."""

    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.longest_ms = 0.0
        self.timer = QTimer(interval=5, timeout=self.tick)

    def start(self) -> None:
        self.longest_ms = 0.0
        self.clock.start()
        self.timer.start()

    def tick(self) -> None:
        self.longest_ms = max(self.longest_ms, self.clock.restart() - 5)


def run(app: QApplication, window, seconds: float, meter: StallMeter) -> tuple[float, float]:
    shown = window.preview.frames_shown
    meter.start()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.001)
    meter.timer.stop()
    return (window.preview.frames_shown - shown) / seconds, meter.longest_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--sound", action="store_true", help="play through PortAudio (default: null output)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    from moodsic_desktop.audio.output import NullBackend
    from moodsic_desktop.ui.app import create_window

    with tempfile.TemporaryDirectory() as scratch:
        os.environ["MOODSIC_CONFIG_DIR"] = str(Path(scratch) / "config")
        video = write_video(Path(scratch) / "bench.mp4", args.seconds + 10)
        window = create_window(None, None, backend=None if args.sound else NullBackend(), close_fade_s=0.2)
        window.show()
        meter = StallMeter()
        _, idle_stall = run(app, window, 3.0, meter)
        window.start_source(str(video))
        run(app, window, 3.0, meter)  # warm up: models, first song
        underflows = window.engine.underflow_count
        fps, stall = run(app, window, args.seconds, meter)
        underflows = window.engine.underflow_count - underflows
        steps = window.report.metrics.steps
        window.close()
        while not window.closed_down:
            app.processEvents()
            time.sleep(0.01)
    print(f"preview fps: {fps:.1f} (video 30.0; goal >= 24)")
    print(f"ratio preview_fps_to_video_fps: {fps / 30.0:.2f}")
    print(f"longest GUI stall: {stall:.0f} ms running, {idle_stall:.0f} ms idle baseline (goal <= 50 ms)")
    print(f"ratio stall_running_to_idle: {stall / max(idle_stall, 1.0):.2f}")
    print(f"audio underflows: {underflows} (goal 0); pipeline steps: {steps}")


if __name__ == "__main__":
    main()
