"""The report's per-step timeline: the same rows as ``timeline_entry``, bounded memory per step (measured
with tracemalloc over two lengths of a real pipeline run), and ``max_timeline`` keeping the last steps."""

from __future__ import annotations

import gc
import json
import tracemalloc

import numpy as np

from moodsic_desktop.audio.builtin.catalogue import builtin_songs
from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.pipeline import Pipeline, PipelineSettings
from moodsic_desktop.core.report import SessionReport, timeline_entry
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.core.types import Estimate, FaceBox
from moodsic_desktop.perception.scene_statistics import SceneStatisticsExpert

# The compact timeline stores 160 bytes a step (plus its arrays' spare room, and song switches and dwell
# times, which the short stretch still collects); a dict per step took about 1,300.
BYTES_PER_STEP = 320


class BlinkingFace:
    """A face detector double: a face in view on two frames of three."""

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, frame):
        self.calls += 1
        return [FaceBox(20, 8, 24, 24, 0.9)] if self.calls % 3 else []


class DriftingFaceExpert:
    """A face expert double whose reading drifts with each call (its numbers change every step)."""

    name = "face-double"
    is_fallback = True
    device = "CPU"

    def __init__(self) -> None:
        self.calls = 0

    def estimate(self, frame, *args):
        self.calls += 1
        v = float(np.sin(self.calls / 50))
        return Estimate(v, -v / 2, 0.05 + 0.01 * (self.calls % 7), 0.06, "face-double")

    def reset(self) -> None:
        pass


def make_pipeline() -> Pipeline:
    return Pipeline(
        BlinkingFace(),
        DriftingFaceExpert(),
        SceneStatisticsExpert(),
        Stabilizer(alpha=0.3, tau=0.4),
        Matcher(builtin_songs(), min_dwell_s=5.0),
        PipelineSettings(scene_interval_s=0.5, simulate_song_end=True),
    )


def frames(start: int, stop: int, rng: np.random.Generator):
    for i in range(start, stop):
        level = 90 + 60 * np.sin(i / 200)
        yield i / 30.0, np.clip(rng.normal(level, 25, (36, 64, 3)), 0, 255).astype(np.uint8)


def test_the_timeline_reads_back_as_the_rows_of_each_step():
    pipeline, rng = make_pipeline(), np.random.default_rng(1)
    report = SessionReport({"source": "test"})
    expected = []
    for t, frame in frames(0, 600, rng):
        step = pipeline.process(frame, t)
        report.add(step)
        expected.append(timeline_entry(step))
    assert any(row["face"] for row in expected) and any(row["face"] is None for row in expected)
    assert list(report.timeline) == expected
    data = json.loads(report.to_json())
    assert data["timeline"] == json.loads(json.dumps(expected))


def test_max_timeline_keeps_the_last_steps():
    pipeline, rng = make_pipeline(), np.random.default_rng(2)
    report = SessionReport({}, max_timeline=5000)
    expected = []
    for t, frame in frames(0, 9000, rng):
        step = pipeline.process(frame, t)
        report.add(step)
        expected.append(timeline_entry(step))
    assert len(report.timeline) == 5000
    assert list(report.timeline) == expected[-5000:]


def _growth_per_step(report: SessionReport, pipeline: Pipeline, start: int, stop: int) -> float:
    rng = np.random.default_rng(start)
    gc.collect()
    before = tracemalloc.take_snapshot()
    for t, frame in frames(start, stop, rng):
        report.add(pipeline.process(frame, t))
    gc.collect()
    after = tracemalloc.take_snapshot()
    return sum(stat.size_diff for stat in after.compare_to(before, "filename")) / (stop - start)


def test_a_long_analysis_grows_by_a_bounded_amount_per_step():
    """An ``analyze`` keeps every step for its report: after warm-up, memory grows by the same small
    amount per step over a short and a three times longer stretch (no other growth)."""
    pipeline = make_pipeline()
    report = SessionReport({"source": "test"}, step_times=())
    rng = np.random.default_rng(0)
    for t, frame in frames(0, 300, rng):  # warm-up: caches, first chunk, names
        report.add(pipeline.process(frame, t))
    tracemalloc.start()
    try:
        short = _growth_per_step(report, pipeline, 300, 1300)
        long = _growth_per_step(report, pipeline, 1300, 4300)
    finally:
        tracemalloc.stop()
    assert len(report.timeline) == 4300
    assert short < BYTES_PER_STEP and long < BYTES_PER_STEP, (short, long)
