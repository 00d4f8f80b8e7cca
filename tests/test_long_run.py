"""A whole shop day, accelerated: eight hours of simulated time through the real pipeline.

Frames are small generated pictures whose mood drifts and jumps during the day; the built-in scene expert
reads them (the face path is off: no camera picture of a person). Checked: memory stays within a small
bound after the first hour, no thread or open file is added, and every song change obeys the rules
(the minimum dwell unless the song had ended; never one of the recently played songs).

The day runs in a process of its own (``python -m tests.test_long_run REPORT``), so that its memory and
open files are the day's alone, not what the tests that ran before left in the test process.
"""

from __future__ import annotations

import gc
import itertools
import json
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from moodsic_desktop.atomic_files import write_text
from moodsic_desktop.audio.builtin.catalogue import builtin_songs
from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.pipeline import Pipeline, PipelineSettings
from moodsic_desktop.core.report import SessionReport
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.core.stations import StationModel
from moodsic_desktop.perception.scene_statistics import SceneStatisticsExpert
from tests.day_process import open_files, resident_bytes, run_day_in_own_process

HOURS = 8
STEP_S = 1.0  # one reading per simulated second
DWELL_S = 40.0
RECENT_K = 5


def library() -> list[Song]:
    """60 songs over the plane, 45 to 120 s long, plus the built-in station's twelve."""
    rng = np.random.default_rng(7)
    songs = [
        Song(f"s{i}", SongMood(float(v), float(a)), title=f"Song {i}", duration_s=float(d))
        for i, (v, a, d) in enumerate(
            zip(rng.uniform(-0.9, 0.9, 60), rng.uniform(-0.9, 0.9, 60), rng.uniform(45, 120, 60), strict=True)
        )
    ]
    return songs + builtin_songs()


def frame_at(t: float, rng: np.random.Generator) -> np.ndarray:
    """A 64 x 36 picture whose brightness and colour follow the time of day, with noise and jumps."""
    phase = (t / 3600.0) % 1.0
    base = np.array([120 + 100 * np.sin(2 * np.pi * phase), 110, 120 + 100 * np.cos(2 * np.pi * 3 * phase)])
    if int(t // 900) % 3 == 0:  # every 45 minutes a lively quarter of an hour
        base = base * 1.3 + 30
    frame = base + rng.normal(0, 25, (36, 64, 3))
    return np.clip(frame, 0, 255).astype(np.uint8)


def shop_day(report_path: Path) -> dict[str, int]:
    """Run the day, write its report to ``report_path``; returns the resident memory's growth after the
    first hour (bytes) and the threads and open files added."""
    songs = library()
    stations = StationModel.fit([s.valence for s in songs], [s.arousal for s in songs])
    matcher = Matcher(songs, stations, min_dwell_s=DWELL_S, recent_k=RECENT_K)
    pipeline = Pipeline(
        None,
        None,
        SceneStatisticsExpert(),
        Stabilizer(alpha=0.3, tau=0.4),
        matcher,
        PipelineSettings(scene_interval_s=0.0, simulate_song_end=True),
    )
    report = SessionReport({}, max_timeline=2_000, max_switches=10_000)
    rng = np.random.default_rng(3)
    steps = int(HOURS * 3600 / STEP_S)
    threads, files = threading.active_count(), open_files()
    memory_after_first_hour = 0
    for i in range(steps):
        t = i * STEP_S
        report.add(pipeline.process(frame_at(t, rng), t))
        if i == int(3600 / STEP_S):
            gc.collect()
            memory_after_first_hour = resident_bytes()
    gc.collect()
    growth = resident_bytes() - memory_after_first_hour
    added = {"memory_growth": growth, "threads_added": threading.active_count() - threads}
    write_text(report_path, report.to_json())
    return {**added, "files_added": open_files() - files}


@pytest.mark.skipif(not Path("/proc/self/statm").is_file(), reason="reads memory and open files from Linux /proc")
def test_a_shop_day_keeps_memory_threads_files_and_rules(tmp_path):
    songs = library()
    report_path = tmp_path / "day.json"
    day = run_day_in_own_process("tests.test_long_run", report_path)
    growth = day["memory_growth"]
    assert growth < 8_000_000, f"memory grew by {growth / 1e6:.1f} MB over seven hours"
    assert day["threads_added"] == 0
    assert day["files_added"] == 0
    report = json.loads(report_path.read_text())
    metrics = report["metrics"]
    assert metrics["duration_s"] >= HOURS * 3600 - STEP_S
    switches = report["switches"]
    assert len(switches) > HOURS * 30  # the music did follow the day
    by_id = {s.song_id: s for s in songs}
    for previous, current in itertools.pairwise(switches):
        played = current["time"] - previous["time"]
        if current["reason"].startswith("song ended"):
            assert played >= by_id[previous["song_id"]].duration_s - STEP_S
        else:
            assert played >= DWELL_S, current
    ids = [s["song_id"] for s in switches]
    for i, song_id in enumerate(ids):
        assert song_id not in ids[max(0, i - RECENT_K) : i], f"{song_id} came back within {RECENT_K} songs"


if __name__ == "__main__":
    print(json.dumps(shop_day(Path(sys.argv[1]))))
