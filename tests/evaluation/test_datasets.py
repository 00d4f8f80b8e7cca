"""``moodsic eval veatic|findingemo`` and the stability metrics of ``moodsic analyze``, through the real
commands on tiny generated clips, images and labels."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from moodsic_desktop.cli.main import main
from moodsic_desktop.core.findingemo import binned_split, read_findingemo
from moodsic_desktop.evaluation.ablations import ABLATIONS, replay
from moodsic_desktop.evaluation.datasets import make_pipeline, perceive_video
from moodsic_desktop.perception.sources import VideoFileSource
from moodsic_desktop.perception.synthetic import write_demo_clip
from moodsic_desktop.session.assembly import EngineSettings

BUILTIN = ("--face-expert", "face-geometry", "--scene-expert", "scene-statistics")
SETTINGS = EngineSettings(face_expert="face-geometry", scene_expert="scene-statistics")
SCENE_ONLY = next(a for a in ABLATIONS if a.name == "scene_only")


def write_ratings(folder: Path, video_id: str, valence, arousal) -> None:
    for name, values in (("valence", valence), ("arousal", arousal)):
        rows = "".join(f"{i},{float(x)!r}\n" for i, x in enumerate(values))
        (folder / f"{video_id}_{name}.csv").write_text(rows)


@pytest.fixture(scope="module")
def veatic(tmp_path_factory):
    """Two 3-second clips: "own" rated with the scene expert's own raw readings, "flat" with constants."""
    root = tmp_path_factory.mktemp("veatic")
    videos, ratings = root / "video", root / "rating_averaged"
    videos.mkdir()
    ratings.mkdir()
    for video_id in ("own", "flat"):
        write_demo_clip(videos / f"{video_id}.mp4", segment_s=1.0, fps=10.0, size=(160, 96))
    pipeline, _ = make_pipeline(SETTINGS)
    readings, frames, _, _ = perceive_video(pipeline, videos / "own.mp4")
    pipeline.close()
    own = np.clip(replay(readings, SCENE_ONLY).raw, -1, 1)
    write_ratings(ratings, "own", own[:, 0], own[:, 1])
    write_ratings(ratings, "flat", np.full(frames, 0.2), np.full(frames, -0.1))
    out = root / "out"
    code = main(["eval", "veatic", "--videos", str(videos), "--annotations", str(ratings), "--out", str(out), *BUILTIN])
    assert code == 0
    return root, out, own


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_veatic_csv_rows_and_columns(veatic):
    _, out, _ = veatic
    rows = read_rows(out / "veatic_metrics.csv")
    assert list(rows[0])[:6] == ["video", "ablation", "output", "rated_frames", "n", "coverage"]
    keys = {(r["video"], r["ablation"], r["output"]) for r in rows}
    expected = {(v, a.name, o) for v in ("own", "flat", "ALL") for a in ABLATIONS for o in ("raw", "stabilized")}
    assert keys == expected and len(rows) == len(expected)
    report = json.loads((out / "veatic_report.json").read_text())
    assert "x_ref = x" in report["scales"] and report["videos"]["own"]["rating_range"][0] >= -1


def test_veatic_known_answers(veatic):
    _, out, _ = veatic
    rows = {(r["video"], r["ablation"], r["output"]): r for r in read_rows(out / "veatic_metrics.csv")}
    own = rows[("own", "scene_only", "raw")]
    assert float(own["mae_mean"]) < 1e-6 and float(own["ccc_valence"]) > 0.999
    assert float(own["coverage"]) == 1.0 and int(own["n"]) == 30
    flat = rows[("flat", "scene_only", "raw")]
    assert flat["spearman_valence"] == "" and flat["spearman_arousal"] == ""  # undefined on constant labels
    assert float(flat["mae_mean"]) > 0
    no_face = rows[("own", "face_only", "raw")]  # the clip has no face: no output, no metric, no crash
    assert float(no_face["coverage"]) == 0.0 and no_face["mae_mean"] == "" and float(no_face["face_coverage"]) == 0


def test_veatic_plots_exist_and_are_not_blank(veatic):
    _, out, _ = veatic
    for name in ("veatic_own.png", "veatic_flat.png", "veatic_summary.png"):
        image = cv2.imread(str(out / name))
        assert image is not None and image.shape[0] > 100 and image.std() > 10, name


def test_replay_is_what_the_pipeline_does(veatic):
    """Perceive once, replay per ablation: the headline replay equals the pipeline's own stabilised output."""
    root, _, _ = veatic
    pipeline, _ = make_pipeline(SETTINGS)
    stabilized, readings = [], []
    from moodsic_desktop.evaluation.datasets import reading_of

    with VideoFileSource(root / "video" / "own.mp4") as source:
        while (frame := source.read()) is not None:
            step = pipeline.process(frame.image, frame.timestamp_s)
            readings.append(reading_of(step, frame.index))
            stabilized.append((step.stabilized.valence, step.stabilized.arousal))
    pipeline.close()
    headline = next(a for a in ABLATIONS if a.name == "fusion_gated")
    np.testing.assert_allclose(replay(readings, headline).stabilized, stabilized, atol=1e-12)


def test_veatic_every_n_frames(veatic, tmp_path):
    """``--every 2``: half the frames are processed, every rated frame is still scored, and a rated frame
    gets the output of the last processed frame at or before it (known answers: "own" is rated on every
    frame with the every-2 scene readings held forward, "flat" only on odd frames, which are never
    processed, plus one rating past the end of the video)."""
    root, out_every_1, _ = veatic
    videos, ratings, out = root / "video", tmp_path / "rating_averaged", tmp_path / "out"
    ratings.mkdir()
    pipeline, _ = make_pipeline(SETTINGS)
    readings, frames, _, _ = perceive_video(pipeline, videos / "own.mp4", every=2)
    pipeline.close()
    assert frames == 30 and [r.index for r in readings] == list(range(0, 30, 2))
    trace = replay(readings, SCENE_ONLY)
    held = np.clip(trace.raw, -1, 1)[np.arange(frames) // 2]  # rated frame r -> the step of frame r - r % 2
    assert np.abs(np.diff(held[:, 0])).max() > 0.5  # the scene changes: a misalignment would show
    write_ratings(ratings, "own", held[:, 0], held[:, 1])
    odd = [*range(1, frames, 2), frames + 5]
    for name, value in (("valence", 0.2), ("arousal", -0.1)):
        (ratings / f"flat_{name}.csv").write_text("".join(f"{i},{value}\n" for i in odd))
    args = ["eval", "veatic", "--videos", str(videos), "--annotations", str(ratings), "--out", str(out)]
    assert main([*args, "--every", "2", "--quiet", *BUILTIN]) == 0

    report = json.loads((out / "veatic_report.json").read_text())
    before = json.loads((out_every_1 / "veatic_report.json").read_text())
    assert report["every"] == 2 and before["every"] == 1
    own, flat = report["videos"]["own"], report["videos"]["flat"]
    assert (own["frames_decoded"], own["frames_processed"], own["rated_frames_scored"]) == (30, 15, 30)
    assert before["videos"]["own"]["frames_processed"] == 30
    assert (flat["frames_processed"], flat["ratings"], flat["ratings_past_video_end"]) == (15, 16, 1)
    assert flat["rated_frames_scored"] == 15

    rows = {(r["video"], r["ablation"], r["output"]): r for r in read_rows(out / "veatic_metrics.csv")}
    scene = rows[("own", "scene_only", "raw")]  # every rated frame still has an output in force
    assert (int(scene["rated_frames"]), int(scene["n"]), float(scene["coverage"])) == (30, 30, 1.0)
    assert float(scene["mae_mean"]) < 1e-6 and float(scene["ccc_valence"]) > 0.999
    flat_scene = rows[("flat", "scene_only", "raw")]
    assert (int(flat_scene["rated_frames"]), int(flat_scene["n"]), float(flat_scene["coverage"])) == (15, 15, 1.0)
    assert int(rows[("ALL", "scene_only", "raw")]["rated_frames"]) == 45
    # the stabilised output is aligned the same way: its MAE is the one the held-forward trace gives
    json_rows = {(r["video"], r["ablation"], r["output"]): r for r in report["rows"]}
    stabilized = trace.stabilized[np.arange(frames) // 2]
    expected = np.abs(stabilized - held).mean(axis=0)
    got = json_rows[("own", "scene_only", "stabilized")]
    np.testing.assert_allclose([got["mae_valence"], got["mae_arousal"]], expected, atol=1e-12)
    assert expected.max() > 1e-3  # the stabiliser lags the steps, so this is not the raw check again
    face = rows[("own", "face_only", "raw")]  # no face in the clip: still no output, no crash
    assert float(face["coverage"]) == 0.0 and face["mae_mean"] == ""


@pytest.mark.parametrize(
    ("value", "message"),
    [("0", "must be >= 1, got 0"), ("-1", "must be >= 1, got -1"), ("two", "expected a whole number >= 1, got 'two'")],
)
def test_veatic_every_must_be_a_positive_whole_number(tmp_path, capsys, value, message):
    args = ["eval", "veatic", "--videos", str(tmp_path), "--annotations", str(tmp_path), "--every", value]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert "Traceback" not in err and len(errors) == 1 and errors[0] == err.strip().splitlines()[-1]
    assert errors[0] == f"moodsic eval veatic: error: argument --every: {message}"
    assert not (tmp_path / "eval").exists()


def test_veatic_bad_inputs_say_one_line(tmp_path, capsys):
    videos, ratings = tmp_path / "video", tmp_path / "rating_averaged"
    args = ["eval", "veatic", "--videos", str(videos), "--annotations", str(ratings), "--out", str(tmp_path / "o")]
    assert main(args) == 1
    assert capsys.readouterr().err.strip().count("\n") == 0
    videos.mkdir()
    ratings.mkdir()
    write_demo_clip(videos / "a.mp4", segment_s=0.5, fps=10.0, size=(64, 48))
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "has rating files" in err and err.strip().count("\n") == 0
    write_ratings(ratings, "a", [0.1, 0.2], [0.0, 0.0])
    (ratings / "a_valence.csv").write_text("0,0.1\n1,oops\n")
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "a_valence.csv, line 2" in err and err.strip().count("\n") == 0
    write_ratings(ratings, "a", [3.0, 4.0], [0.0, 0.0])  # outside [-1, 1]: not VEATIC's scale
    assert main(args) == 1
    assert "outside VEATIC" in capsys.readouterr().err


def test_findingemo_test_split(tmp_path, capsys):
    root = tmp_path / "fe"
    (root / "img").mkdir(parents=True)
    rows = ["image_path,valence,arousal"]
    rng = np.random.default_rng(0)
    for i in range(24):
        image = np.full((48, 64, 3), rng.integers(0, 255, 3), np.uint8)
        cv2.imwrite(str(root / "img" / f"{i}.png"), image)
        rows.append(f"img/{i}.png,{[-2, 0, 2][i % 3]},{[1, 3, 5][i // 8]}")
    (root / "annotations_single.ann").write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    assert main(["eval", "findingemo", "--findingemo", str(root), "--out", str(out), *BUILTIN]) == 0
    stdout = capsys.readouterr().out
    assert "FindingEmo units" in stdout
    table = read_rows(out / "findingemo_metrics.csv")
    assert {(r["ablation"], r["output"]) for r in table} == {(a.name, o) for a in ABLATIONS for o in ("raw", "gated")}
    test_split = binned_split(read_findingemo(root)[0], seed=0)["test"]
    assert all(int(r["images"]) == len(test_split) > 0 for r in table)
    scene = next(r for r in table if r["ablation"] == "scene_only" and r["output"] == "raw")
    assert float(scene["coverage"]) == 1.0 and float(scene["mae_mean"]) >= 0
    assert cv2.imread(str(out / "findingemo_summary.png")).std() > 10
    assert main(["eval", "findingemo", "--findingemo", str(tmp_path / "missing")]) == 1
    assert "FindingEmo folder not found" in capsys.readouterr().err


def test_analyze_reports_stability_metrics(tmp_path, capsys):
    video = write_demo_clip(tmp_path / "steps.mp4", segment_s=3.0, fps=10.0, size=(160, 96))
    out = tmp_path / "report.json"
    args = ["analyze", str(video), "--out", str(out), "--mood-steps", "3,6", "--quiet", "--dwell", "1"]
    assert main(args) == 0
    assert "switches per hour" in capsys.readouterr().out
    metrics = json.loads(out.read_text())["metrics"]
    assert metrics["mood_steps"]["step_times_s"] == [3.0, 6.0]
    assert len(metrics["mood_steps"]["halfway_s"]) == 2
    assert metrics["switches_per_hour"] is not None and "jitter_reduction" in metrics
    assert metrics["dwell_s"] is None or metrics["dwell_s"]["min"] <= metrics["dwell_s"]["max"]
