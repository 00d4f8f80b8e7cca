import math

import numpy as np
import pytest

from moodsic_desktop.core.library import Song
from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.pipeline import Pipeline, PipelineSettings, primary_face
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


SONGS = [Song("low", -0.8, -0.8, duration_s=30.0), Song("mid", 0.0, 0.0, duration_s=30.0), Song("high", 0.8, 0.8)]


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
    assert record.fused.valence == pytest.approx(0.4)
    assert record.stabilized.valence == pytest.approx(0.4)
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
    # "mid" ends at 30 s, "low" at 60 s; "high" has no duration, but after the 5 s dwell "mid" (recent, yet
    # the only better song left) fits the mood far better
    assert switches == [0.0, 30.0, 60.0, 65.0]


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
