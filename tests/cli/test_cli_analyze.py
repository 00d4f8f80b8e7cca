"""``moodsic analyze`` end to end, on videos the tests generate (one holds a real photograph of a face)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from moodsic_desktop.audio.library.sources import read_deam
from tests.conftest import write_deam_folder

REPO = Path(__file__).resolve().parents[2]
FPS = 10
SECONDS_PER_MOOD = 8


def write_face_video(path: Path) -> Path:
    """A clip with the astronaut's face in the middle of the frame: first a dark, grey, still scene, then a
    bright, warm, saturated, moving one."""
    face = cv2.cvtColor(cv2.resize(data.astronaut()[0:300, 100:400], (180, 180)), cv2.COLOR_RGB2BGR)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (480, 360))
    assert writer.isOpened()
    for i in range(2 * SECONDS_PER_MOOD * FPS):
        bright = i >= SECONDS_PER_MOOD * FPS
        frame = np.full((360, 480, 3), (40, 200, 255) if bright else (60, 55, 50), np.uint8)
        if bright:  # moving, saturated shapes
            for k in range(4):
                cv2.circle(frame, ((i * 17 + k * 120) % 480, 60 + 80 * k % 300), 25, (0, 60, 255), -1)
        frame[90:270, 150:330] = face
        writer.write(frame)
    writer.release()
    return path


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "moodsic_desktop", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def face_report(tmp_path_factory, deam_fixture):
    folder = tmp_path_factory.mktemp("analyze")
    video = write_face_video(folder / "shop.mp4")
    out = folder / "report.json"
    result = run_cli(
        "analyze",
        str(video),
        "--library",
        str(deam_fixture),
        "--out",
        str(out),
        "--dwell",
        "3",
        "--alpha",
        "0.5",
        "--repeat-window",
        "30",
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text()), result


def test_report_structure(face_report):
    report, result = face_report
    assert "report written to" in result.stdout
    assert set(report) >= {"settings", "timeline", "switches", "metrics"}
    settings = report["settings"]
    assert settings["engine"]["alpha"] == 0.5 and settings["engine"]["min_dwell_s"] == 3.0
    assert settings["engine"]["tau"] == 0.4
    assert settings["engine"]["repeat_window_s"] == 30 * 60.0
    assert settings["songs"] == 1802
    assert settings["experts"] == {"face": "fer2013-mini-xception (ONNX)", "scene": "scene-statistics (built-in)"}
    assert len(report["timeline"]) == 2 * SECONDS_PER_MOOD * FPS
    times = [row["time"] for row in report["timeline"]]
    assert times == sorted(times) and times[1] == pytest.approx(1 / FPS, abs=1e-3)
    metrics = report["metrics"]
    for key in (
        "face_detection_rate",
        "faces_read_mean",
        "faces_read_max",
        "gating_rate",
        "jitter_raw",
        "jitter_stabilized",
        "jitter_reduction",
        "switches",
        "mean_dwell_s",
        "mean_target_distance",
        "mean_scene_face_divergence",
    ):
        assert key in metrics


def test_face_and_scene_are_read(face_report):
    report, _ = face_report
    timeline = report["timeline"]
    assert report["metrics"]["face_detection_rate"] > 0.9
    faces = [row["face"] for row in timeline if row["face"]]
    assert len(faces) > 0.9 * len(timeline)
    assert all(f["source"] == "fer2013-mini-xception (ONNX)" and -1 <= f["valence"] <= 1 for f in faces)
    assert all(row["scene"]["source"] == "scene-statistics (built-in)" for row in timeline)
    assert all(row["fused"] is not None and row["stabilized"] is not None for row in timeline)
    assert report["metrics"]["mean_scene_face_divergence"] is not None


def test_the_smiling_face_leads_through_a_change_of_scene(face_report, deam_fixture):
    """The astronaut smiles the whole clip while the room behind her goes from dark and still to bright and
    busy: the mood read is hers, not the background's, and the music stays pleasant."""
    report, _ = face_report
    timeline = report["timeline"]
    half = len(timeline) // 2
    scene_dark = np.mean([row["scene"]["valence"] for row in timeline[half - 10 : half]])
    scene_bright = np.mean([row["scene"]["valence"] for row in timeline[-10:]])
    assert scene_bright > scene_dark + 0.3  # the background did change
    dark = np.mean([row["stabilized"]["valence"] for row in timeline[half - 10 : half]])
    bright = np.mean([row["stabilized"]["valence"] for row in timeline[-10:]])
    assert dark > 0.5 and bright > 0.5 and abs(bright - dark) < 0.15
    switches = report["switches"]
    assert switches[0]["time"] == 0.0
    songs = {s.song_id: s for s in read_deam(deam_fixture).songs}
    assert all(songs[s["song_id"]].valence > 0.2 for s in switches)  # pleasant songs throughout
    station_names = {s["name"] for s in report["settings"]["stations"]}
    for switch in switches:
        assert switch["title"] == songs[switch["song_id"]].title
        assert switch["station"] in station_names and switch["reason"]
    # the dwell is respected between switches
    times = [s["time"] for s in switches]
    assert all(b - a >= 3.0 - 1e-9 for a, b in itertools.pairwise(times))
    assert report["metrics"]["switches"] == len(switches) - 1


def test_stabiliser_reduces_jitter(face_report):
    metrics = face_report[0]["metrics"]
    assert metrics["jitter_stabilized"] < metrics["jitter_raw"]
    assert 0 < metrics["jitter_reduction"] <= 1


def test_own_deam_folder_and_demo_clip(tmp_path):
    library = write_deam_folder(tmp_path / "deam", [f"{i},{1 + i % 9},,{9 - i % 7},," for i in range(1, 40)])
    result = run_cli("analyze", "--demo", "--library", str(library), "--out", "demo.json", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "demo.json").read_text())
    assert report["settings"]["songs"] == 39 and report["settings"]["video"] == "generated demo clip"
    assert {s["song_id"] for s in report["switches"]} <= {str(i) for i in range(1, 40)}


def test_builtin_station_when_no_library(tmp_path):
    result = run_cli("analyze", "--demo", "--out", "demo.json", "--quiet", "--dwell", "4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "demo.json").read_text())
    assert report["settings"]["library"] == "built-in station"
    assert all(s["song_id"].startswith("builtin-") for s in report["switches"])
    # the demo moves from a calm scene to a bright one: the built-in station follows
    assert len(report["switches"]) >= 2


@pytest.mark.parametrize(
    ("make_args", "expected"),
    [
        (lambda d: ["analyze", str(d / "missing.mp4")], "missing.mp4"),
        (lambda d: ["analyze", str(d)], "not a file"),
        (lambda d: ["analyze", str(d / "notes.mp4")], "notes.mp4"),
        (lambda d: ["analyze", "--demo", "--library", str(d / "no-such-library")], "no-such-library"),
        (lambda d: ["analyze", "--demo", "--library", str(d)], "DEAM annotations not found"),
    ],
)
def test_bad_input_gives_one_clear_line(tmp_path, make_args, expected):
    (tmp_path / "notes.mp4").write_text("this is not a video\n")
    result = run_cli(*make_args(tmp_path), cwd=tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert not (tmp_path / "report.json").exists()


def test_bad_option_value_is_named(tmp_path):
    result = run_cli("analyze", "--demo", "--alpha", "2", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--alpha: must be in (0, 1], got 2" in result.stderr.splitlines()[-1]


def test_a_repeat_window_out_of_range_is_named(tmp_path, capsys):
    from moodsic_desktop.cli.main import main

    with pytest.raises(SystemExit) as stop:
        main(["analyze", "--demo", "--quiet", "--out", str(tmp_path / "report.json"), "--repeat-window", "-5"])
    assert stop.value.code == 2
    assert "--repeat-window: must be in [0, 240], got -5" in capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "option", ["--alpha", "--tau", "--dwell", "--repeat-window", "--scene-interval", "--mood-steps"]
)
@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity"])
def test_non_finite_numbers_are_refused(option, value, tmp_path, capsys):
    from moodsic_desktop.cli.main import main

    given = f"20,{value}" if option == "--mood-steps" else value
    with pytest.raises(SystemExit) as stop:
        main(["analyze", "--demo", "--quiet", "--out", str(tmp_path / "report.json"), f"{option}={given}"])
    assert stop.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert option in last and "finite" in last and "Traceback" not in last
    assert not (tmp_path / "report.json").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["models", "fetch", "clip-b32", "--timeout", "nan"],
        ["models", "train-scene", "--findingemo", ".", "--lr", "inf"],
        ["models", "train-scene", "--findingemo", ".", "--dropout", "nan"],
    ],
)
def test_non_finite_numbers_are_refused_by_the_models_commands(args, capsys):
    from moodsic_desktop.cli.main import main

    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2 and "must be a finite number" in capsys.readouterr().err
