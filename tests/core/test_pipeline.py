import math
import time

import numpy as np
import pytest

from moodsic_desktop.core.fusion import fuse
from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.pipeline import Pipeline, PipelineSettings, primary_face
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.core.types import Estimate, FaceBox, FaceDetector, FaceExpert, SceneExpert

FRAME = np.zeros((100, 200, 3), np.uint8)


class ScriptedDetector:
    def __init__(self, faces):
        self.faces = faces
        self.calls = 0

    def detect(self, frame):
        self.calls += 1
        return list(self.faces)


class ScriptedExpert:
    """An expert double that returns a fixed estimate (or raises) and counts its calls."""

    is_fallback = True
    device = "CPU"

    def __init__(self, name, estimate=None, error=None):
        self.name = name
        self.result = estimate
        self.error = error
        self.calls = 0
        self.resets = 0

    def estimate(self, frame, *args):
        self.calls += 1
        if self.error:
            raise self.error
        return self.result

    def reset(self):
        self.resets += 1


SONGS = [
    Song("low", SongMood(-0.8, -0.8), duration_s=30.0),
    Song("mid", SongMood(0.0, 0.0), duration_s=30.0),
    Song("high", SongMood(0.8, 0.8)),
]


CENTRE_FACE = FaceBox(80, 30, 40, 40, 0.9)


def make_pipeline(face_est=None, scene_est=None, faces=(CENTRE_FACE,), **settings):
    detector = ScriptedDetector(faces)
    face = ScriptedExpert("face-double", face_est)
    scene = ScriptedExpert("scene-double", scene_est)
    pipeline = Pipeline(
        detector,
        face,
        scene,
        Stabilizer(alpha=0.5, tau=0.4),
        Matcher(SONGS, min_dwell_s=5.0),
        PipelineSettings(**settings),
    )
    return pipeline, detector, face, scene


def test_doubles_satisfy_the_protocols():
    assert isinstance(ScriptedDetector([]), FaceDetector)
    assert isinstance(ScriptedExpert("x"), FaceExpert) and isinstance(ScriptedExpert("x"), SceneExpert)


def test_primary_face_weighs_score_size_and_centre():
    big_edge = FaceBox(0, 0, 40, 40, 0.9)
    small_centre = FaceBox(90, 40, 20, 20, 0.9)
    # sqrt(1600) * (0.7 + 0.3 * closeness) vs sqrt(400) * (0.7 + 0.3 * ~1)
    assert primary_face([small_centre, big_edge], 200, 100) == big_edge
    weak_big = FaceBox(80, 30, 40, 40, 0.2)
    strong_small = FaceBox(90, 40, 20, 20, 0.95)
    assert primary_face([weak_big, strong_small], 200, 100) == strong_small
    # equal faces: the one nearer the centre
    left = FaceBox(0, 30, 40, 40, 0.9)
    centre = FaceBox(80, 30, 40, 40, 0.9)
    assert primary_face([left, centre], 200, 100) == centre
    assert primary_face([], 200, 100) is None


def test_scene_runs_at_its_own_rate_face_every_frame():
    pipeline, detector, face, scene = make_pipeline(
        Estimate(0.1, 0.1, 0.01, 0.01, "f"), Estimate(0.2, 0.2, 0.01, 0.01, "s"), scene_interval_s=1.0
    )
    records = [pipeline.process(FRAME, t / 10) for t in range(30)]  # 3 s at 10 fps
    assert face.calls == detector.calls == 30
    assert scene.calls == 3
    assert [r.time for r in records if r.scene_fresh] == [0.0, 1.0, 2.0]
    assert all(r.scene is not None for r in records)  # the last scene reading is fused between runs
    assert all(r.timings_ms.keys() >= {"detect", "face"} for r in records)


def test_fusion_and_stabilizer_are_applied():
    face_est = Estimate(0.8, 0.0, 0.01, 0.01, "f")
    scene_est = Estimate(0.0, 0.0, 0.01, 0.01, "s")
    pipeline, *_ = make_pipeline(face_est, scene_est)
    record = pipeline.process(FRAME, 0.0)
    expected = fuse(scene_est, face_est).valence  # one face: the room's reading is that face's
    assert 0.4 < expected < 0.8 and record.fused.valence == pytest.approx(expected)
    assert record.stabilized.valence == pytest.approx(expected)
    assert record.decision.song.song_id == "mid"
    assert record.face_box == FaceBox(80, 30, 40, 40, 0.9) and record.faces_found == 1


def test_scene_only_steps_smooth_more():
    scene_est = Estimate(1.0, 1.0, 0.01, 0.01, "s")
    pipeline, *_ = make_pipeline(None, scene_est, faces=())
    pipeline.stabilizer.update(Estimate(0.0, 0.0, 0.01, 0.01, "seed"), now=-1.0)
    record = pipeline.process(FRAME, 0.0)
    assert record.face is None and record.fused is scene_est
    assert record.stabilized.valence == pytest.approx(1 - (1 - 0.5 * 0.5) ** 1.0)


def test_no_face_means_no_face_expert_call():
    pipeline, detector, face, _ = make_pipeline(Estimate(0, 0, 0.01, 0.01, "f"), None, faces=())
    record = pipeline.process(FRAME, 0.0)
    assert detector.calls == 1 and face.calls == 0
    assert record.fused is None and record.decision is None and record.stabilized is None


def test_failing_expert_is_skipped_and_counted(caplog):
    pipeline, _, face, _ = make_pipeline(None, Estimate(0.3, 0.3, 0.01, 0.01, "s"))
    face.error = RuntimeError("model broke")
    records = [pipeline.process(FRAME, t) for t in (0.0, 0.1, 0.2)]
    assert all(r.errors == ("face-double",) for r in records)
    assert pipeline.error_counts["face-double"] == 3
    assert all(r.face is None and r.fused is not None for r in records)
    assert sum("model broke" in m or "face-double failed" in m for m in caplog.messages) == 1  # logged once


def test_non_finite_estimate_is_ignored():
    pipeline, *_ = make_pipeline(Estimate(math.nan, 0.0, 0.01, 0.01, "f"), Estimate(0.3, 0.3, 0.01, 0.01, "s"))
    record = pipeline.process(FRAME, 0.0)
    assert record.face is None and record.fused.source == "s"
    assert record.errors == ("face-double",)


def test_failed_scene_run_clears_its_reading():
    pipeline, _, _, scene = make_pipeline(None, Estimate(0.3, 0.3, 0.01, 0.01, "s"), faces=(), scene_interval_s=1.0)
    assert pipeline.process(FRAME, 0.0).fused is not None
    scene.result = None
    assert pipeline.process(FRAME, 0.5).fused is not None  # between runs the last reading stands
    assert pipeline.process(FRAME, 1.0).fused is None
    assert scene.calls == 2


def test_simulated_song_end_switches_after_duration():
    pipeline, *_ = make_pipeline(Estimate(0.0, 0.0, 0.01, 0.01, "f"), None, simulate_song_end=True)
    switches = [r.time for t in range(0, 700) if (r := pipeline.process(FRAME, t / 10)).decision.switched]
    # "mid" ends at 30 s, "low" at 60 s; "high" (no duration) then plays on: "mid" fits the mood better but
    # played within the repeat window, and a song chosen for variety stays until the mood moves (the matcher's
    # rule 3), so no switch back to "mid" at 65 s
    assert switches == [0.0, 30.0, 60.0]


def test_song_end_and_skip_from_the_caller():
    pipeline, *_ = make_pipeline(Estimate(0.0, 0.0, 0.01, 0.01, "f"), None)
    first = pipeline.process(FRAME, 0.0).decision.song
    assert pipeline.song_ended(1.0).song != first
    assert pipeline.skip(2.0).reason.startswith("skipped")


def test_reset_forgets_readings_and_resets_experts():
    pipeline, _, face, scene = make_pipeline(Estimate(0.5, 0.5, 0.01, 0.01, "f"), Estimate(0.5, 0.5, 0.01, 0.01, "s"))
    pipeline.process(FRAME, 0.0)
    pipeline.reset()
    assert pipeline.stabilizer.value is None
    assert face.resets == 1 and scene.resets == 1
    face.result = Estimate(-0.5, -0.5, 0.01, 0.01, "f")
    scene.result = None
    record = pipeline.process(FRAME, 0.1)
    assert record.stabilized.valence == pytest.approx(-0.5)


def test_unknown_fusion_mode_rejected():
    with pytest.raises(ValueError, match="unknown fusion mode"):
        PipelineSettings(fusion_mode="mean")


# ------------------------------------------------------------------ every face in view
from moodsic_desktop.core.pipeline import FAILURES_BEFORE_FALLBACK  # noqa: E402
from moodsic_desktop.core.types import BatchFaceExpert, FaceRead  # noqa: E402


class BatchDouble:
    """Reads every face in one call: valence is +0.8 for faces left of x=100, -0.8 right of it."""

    name = "batch-double"
    is_fallback = False
    device = "CPU"

    def __init__(self):
        self.calls = []

    def read_faces(self, frame, faces, now):
        self.calls.append(len(faces))
        return [
            FaceRead(box, Estimate(0.8 if box.x < 100 else -0.8, 0.1, 0.04, 0.04, self.name), "happy", 0.9)
            for box in faces
        ]

    def estimate(self, frame, face, now):
        return self.read_faces(frame, [face], now)[0].estimate

    def reset(self):
        pass


def _faces(n, x=10.0, width=30.0):
    return [FaceBox(x + i, 5.0, width - i * 0.5, width - i * 0.5, 0.9) for i in range(n)]


def _pipeline_with(expert, faces, **settings):
    return Pipeline(
        ScriptedDetector(faces),
        expert,
        None,
        Stabilizer(alpha=0.5, tau=0.4),
        Matcher(SONGS, min_dwell_s=5.0),
        PipelineSettings(**settings),
    )


def test_every_face_is_read_in_one_batch_up_to_the_cap():
    expert = BatchDouble()
    assert isinstance(expert, BatchFaceExpert)
    step = _pipeline_with(expert, _faces(11), max_faces=8).process(FRAME, 0.0)
    assert expert.calls == [8]
    assert step.faces_found == 11 and step.faces_read == 8
    widths = [read.box.width for read in step.faces]
    assert widths == sorted(widths, reverse=True)  # the largest faces are the ones read
    assert sum(read.share for read in step.faces) == pytest.approx(1.0)
    assert all(read.expression == "happy" for read in step.faces)
    assert "8 faces" in step.face.source


def test_the_room_reading_follows_the_majority_of_faces():
    left = _faces(3, x=10.0)  # three happy faces
    right = [FaceBox(150, 5, 30, 30, 0.9)]  # one unhappy face
    step = _pipeline_with(BatchDouble(), left + right).process(FRAME, 0.0)
    assert step.faces_read == 4
    assert 0.2 < step.face.valence < 0.8
    assert step.face.var_valence < 0.04  # four readings are surer than one


def test_a_slow_expert_reads_largest_first_within_its_budget():
    class Slow(ScriptedExpert):
        def estimate(self, frame, face, now):
            self.calls += 1
            self.seen.append(face.width)
            time.sleep(0.02)
            return Estimate(0.5, 0.0, 0.04, 0.04, self.name)

    slow = Slow("slow", None)
    slow.seen = []
    faces = _faces(6)
    step = _pipeline_with(slow, faces, face_budget_ms=0.0).process(FRAME, 0.0)
    assert slow.calls == 1 and slow.seen == [max(f.width for f in faces)]  # always the largest one
    assert step.faces_read == 1 and step.faces_found == 6
    slow.calls, slow.seen = 0, []
    step = _pipeline_with(slow, faces, face_budget_ms=10_000.0).process(FRAME, 0.0)
    assert slow.calls == 6 and slow.seen == sorted(slow.seen, reverse=True)


def test_an_expert_that_keeps_failing_is_replaced_once_with_a_notice():
    broken = ScriptedExpert("broken-model", error=RuntimeError("wrong input shape"))
    made = []

    def fallback():
        made.append(ScriptedExpert("built-in", Estimate(0.1, 0.2, 0.09, 0.09, "built-in")))
        return made[-1]

    pipeline = Pipeline(
        ScriptedDetector([CENTRE_FACE]),
        broken,
        None,
        Stabilizer(alpha=0.5, tau=0.4),
        Matcher(SONGS, min_dwell_s=5.0),
        fallbacks={"face": fallback},
    )
    steps = [pipeline.process(FRAME, t * 0.1) for t in range(FAILURES_BEFORE_FALLBACK + 3)]
    notices = [n for step in steps for n in step.notices]
    assert len(notices) == 1 and "broken-model" in notices[0] and "built-in" in notices[0]
    assert len(made) == 1 and pipeline.face_expert is made[0]
    assert steps[-1].face is not None and steps[-1].face.valence == pytest.approx(0.1)
    assert steps[FAILURES_BEFORE_FALLBACK - 2].face is None  # before the limit it was still the broken one


def test_an_expert_that_fails_now_and_then_is_kept():
    flaky = ScriptedExpert("flaky", Estimate(0.1, 0.2, 0.09, 0.09, "flaky"))
    pipeline = Pipeline(
        ScriptedDetector([CENTRE_FACE]),
        flaky,
        None,
        Stabilizer(0.5, 0.4),
        Matcher(SONGS),
        fallbacks={"face": lambda: ScriptedExpert("built-in", Estimate(0.0, 0.0, 0.09, 0.09, "built-in"))},
    )
    for t in range(20):
        flaky.error = RuntimeError("glitch") if t % 2 else None
        step = pipeline.process(FRAME, t * 0.1)
        assert not step.notices
    assert pipeline.face_expert is flaky


def test_failures_before_a_new_source_do_not_count_against_the_expert():
    broken = ScriptedExpert("broken-model", error=RuntimeError("glitch"))
    pipeline = Pipeline(
        ScriptedDetector([CENTRE_FACE]),
        broken,
        None,
        Stabilizer(0.5, 0.4),
        Matcher(SONGS),
        fallbacks={"face": lambda: ScriptedExpert("built-in", Estimate(0.0, 0.0, 0.09, 0.09, "built-in"))},
    )
    for t in range(FAILURES_BEFORE_FALLBACK - 1):
        pipeline.process(FRAME, t * 0.1)
    pipeline.reset()
    steps = [pipeline.process(FRAME, t * 0.1) for t in range(FAILURES_BEFORE_FALLBACK - 1)]
    assert pipeline.face_expert is broken and not any(step.notices for step in steps)
    assert pipeline.process(FRAME, 1.0).notices  # the limit counts within one source
