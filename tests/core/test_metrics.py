import json

import numpy as np
import pytest

from moodsic_desktop.core.matcher import Decision
from moodsic_desktop.core.metrics import SessionMetrics
from moodsic_desktop.core.pipeline import StepRecord
from moodsic_desktop.core.report import SessionReport
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stabilizer import Stabilized
from moodsic_desktop.core.types import Estimate, FaceBox

BOX = FaceBox(0, 0, 10, 10, 0.9)


def step(t, raw, stab, held=False, face=True, song="a", switched=False, distance=0.1, scene=None):
    fused = Estimate(raw[0], raw[1], 0.01, 0.01, "fused")
    face_est = Estimate(raw[0], raw[1], 0.01, 0.01, "face") if face else None
    return StepRecord(
        time=t,
        faces_found=int(face),
        face_box=BOX if face else None,
        scene=scene,
        scene_fresh=scene is not None,
        face=face_est,
        face_fresh=True,
        fused=fused,
        stabilized=Stabilized(stab[0], stab[1], held, False, 0.5),
        decision=Decision(
            Song(song, SongMood(0, 0), title=song.upper()), switched, "why", "Station", (), (0, 0), distance
        ),
    )


def test_metrics_definitions():
    m = SessionMetrics()
    m.add(step(0.0, (0.0, 0.0), (0.0, 0.0), switched=True, song="a", distance=0.2))
    m.add(
        step(
            1.0, (0.4, 0.3), (0.1, 0.0), held=True, face=False, distance=0.4, scene=Estimate(0.4, 0.3, 0.01, 0.01, "s")
        )
    )
    m.add(
        step(
            2.0,
            (0.0, 0.0),
            (0.1, 0.0),
            switched=True,
            song="b",
            distance=0.3,
            scene=Estimate(0.0, 0.6, 0.01, 0.01, "s"),
        )
    )
    m.add(step(5.0, (0.0, 0.0), (0.1, 0.0), switched=True, song="c", distance=0.1))
    s = m.summary()
    assert s["steps"] == 4 and s["duration_s"] == 5.0
    assert s["face_detection_rate"] == pytest.approx(3 / 4)
    assert s["gating_rate"] == pytest.approx(1 / 4)
    assert s["jitter_raw"] == pytest.approx((0.5 + 0.5 + 0.0) / 3)
    assert s["jitter_stabilized"] == pytest.approx(0.1 / 3)
    assert s["jitter_reduction"] == pytest.approx(1 - (0.1 / 3) / (1.0 / 3))
    assert s["switches"] == 2  # the first pick is not a switch
    assert s["mean_dwell_s"] == pytest.approx((2.0 + 3.0) / 2)
    assert s["mean_target_distance"] == pytest.approx(0.25)
    assert s["mean_scene_face_divergence"] == pytest.approx(0.6)  # only the step with both


def test_empty_metrics_are_none_not_errors():
    s = SessionMetrics().summary()
    assert s["steps"] == 0 and s["jitter_reduction"] is None and s["face_detection_rate"] is None


def test_report_round_trip_and_bounded_timeline():
    report = SessionReport({"alpha": 0.3}, max_timeline=2)
    for t in range(4):
        report.add(step(float(t), (0.1 * t, 0.0), (0.05 * t, 0.0), switched=t in (0, 3), song="ab"[t % 2]))
    data = json.loads(report.to_json())
    assert data["settings"] == {"alpha": 0.3}
    assert [row["time"] for row in data["timeline"]] == [2.0, 3.0]
    assert data["metrics"]["steps"] == 4
    assert [(s["time"], s["song_id"], s["title"], s["station"], s["reason"]) for s in data["switches"]] == [
        (0.0, "a", "A", "Station", "why"),
        (3.0, "b", "B", "Station", "why"),
    ]
    row = data["timeline"][-1]
    assert row["stabilized"] == {"valence": 0.15, "arousal": 0.0, "held_valence": False, "held_arousal": False}
    assert row["face"]["source"] == "face" and row["scene"] is None and row["song_id"] == "b"


def test_halfway_times_and_dwell_distribution():
    from moodsic_desktop.core.metrics import agreement_metrics, dwell_distribution, halfway_times

    times = np.arange(0.0, 20.0, 0.5)
    raw = np.where(times[:, None] < 10.0, [[0.0, 0.0]], [[1.0, 0.0]])
    stab = np.stack([np.clip((times - 10.0) / 4.0, 0.0, 1.0), np.zeros_like(times)], axis=1)  # ramps 10..14 s
    assert halfway_times(times, stab, raw, [10.0]) == [pytest.approx(2.0)]
    assert halfway_times(times, stab * 0, raw, [10.0]) == [None]  # never crosses
    assert halfway_times(times, stab, np.zeros_like(raw), [10.0]) == [None]  # no step to follow
    d = dwell_distribution([30.0, 10.0, 20.0])
    assert d["count"] == 3 and d["min"] == 10.0 and d["median"] == 20.0 and d["max"] == 30.0
    assert dwell_distribution([]) is None
    m = agreement_metrics([[0.1, 0.2], [0.3, 0.4]], [[0.1, 0.2], [0.3, 0.4]])
    assert m["mae_mean"] == 0 and m["ccc_valence"] == pytest.approx(1.0)
    assert agreement_metrics(np.zeros((3, 2)), np.ones((3, 2)))["spearman_valence"] is None


def test_switches_per_hour_and_mood_steps_in_summary():
    m = SessionMetrics(step_times=[1.0])
    m.add(step(0.0, (0.0, 0.0), (0.0, 0.0), switched=True, song="a"))
    m.add(step(1.0, (1.0, 0.0), (0.2, 0.0)))
    m.add(step(2.0, (1.0, 0.0), (0.6, 0.0), switched=True, song="b"))
    s = m.summary()
    assert s["switches_per_hour"] == pytest.approx(1 / 2.0 * 3600)
    assert s["dwell_s"]["median"] == 2.0
    assert s["mood_steps"]["halfway_s"] == [pytest.approx(1.0)]


@pytest.mark.parametrize("alpha", [0.3, 0.6, 0.9])
def test_jitter_reduction_of_white_noise_is_what_the_ema_implies(alpha):
    """Readings of pure 2-D noise every 0.5 s, steps at 10 fps (the reading repeats between runs), through the
    real stabiliser and metrics: the reduction is 1 - k / sqrt(2 - k), k the weight of one reading (k = 1 -
    (1 - alpha)^0.5). This is the yardstick for reading the reduction of a session (module docstring)."""
    from moodsic_desktop.core.stabilizer import Stabilizer

    rng = np.random.default_rng(1)
    stabilizer = Stabilizer(alpha=alpha, tau=10.0)
    metrics = SessionMetrics()
    reading = np.zeros(2)
    for i in range(20_000):
        if i % 5 == 0:
            reading = rng.normal(0.0, 0.2, 2)
        fused = Estimate(float(reading[0]), float(reading[1]), 0.01, 0.01, "fused")
        stabilized = stabilizer.update(fused, i / 10.0, scene_only=False)
        metrics.add(
            StepRecord(
                time=i / 10.0,
                faces_found=0,
                face_box=None,
                scene=fused,
                scene_fresh=i % 5 == 0,
                face=None,
                face_fresh=False,
                fused=fused,
                stabilized=stabilized,
                decision=None,
            )
        )
    k = 1.0 - (1.0 - alpha) ** 0.5
    assert metrics.summary()["jitter_reduction"] == pytest.approx(1.0 - k / np.sqrt(2.0 - k), abs=0.02)


def test_song_switches_are_said_one_way_with_the_right_plural():
    from moodsic_desktop.core.metrics import song_switches

    assert [song_switches(n) for n in (0, 1, 2, 3)] == [
        "0 song switches",
        "1 song switch",
        "2 song switches",
        "3 song switches",
    ]


def test_the_held_share_after_each_mood_step_explains_a_long_halfway_time():
    """Issue 21 (10): the demo's 18 s halfway time goes with a reading held while unsure."""
    from moodsic_desktop.core.metrics import held_shares

    times = np.arange(0.0, 10.0, 1.0)
    held = np.array([0, 0, 0, 0, 0, 1, 1, np.nan, 0, 1], dtype=float)
    assert held_shares(times, held, [2.0, 5.0]) == [pytest.approx(0.0), pytest.approx(3 / 4)]
    assert held_shares(times, held, [20.0]) == [None]
    m = SessionMetrics(step_times=[1.0])
    m.add(step(0.0, (0.0, 0.0), (0.0, 0.0), switched=True, song="a"))
    m.add(step(1.0, (1.0, 0.0), (0.2, 0.0)))
    assert m.summary()["mood_steps"]["held_share"] == [0.0]


def test_every_song_change_counts_for_switches_and_dwell():
    """Issue 21 (2): a song's end or a skip (outside the steps) is a switch, and its dwell counts."""
    m = SessionMetrics()
    m.add(step(0.0, (0.0, 0.0), (0.0, 0.0), switched=True, song="a"))
    m.song_changed(25.0)  # the song ended
    m.song_changed(55.0)  # a skip
    m.add(step(80.0, (0.0, 0.0), (0.0, 0.0), switched=True, song="d"))
    s = m.summary()
    assert s["switches"] == 3 and s["mean_dwell_s"] == pytest.approx(80.0 / 3)
    assert s["dwell_s"]["min"] == 25.0 and s["dwell_s"]["max"] == 30.0
