"""``moodsic analyze``: the report never replaces an input, an unusable ``--out`` is refused before the
analysis starts, no ``.part`` file is left behind, and a video too small for a face still gives a report."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import cv2
import numpy as np
import pytest

from moodsic_desktop.atomic_files import write_text
from moodsic_desktop.cli.main import main
from moodsic_desktop.core import pipeline as core_pipeline
from moodsic_desktop.core.report import SessionReport
from tests.cli.cli_helpers import one_error_line
from tests.special_files import fifo_that_cannot_hang, private_null_device


def write_video(path: Path, size: tuple[int, int] = (64, 48), frames: int = 12) -> Path:
    """A short MJPG clip of ``size`` (width, height) pixels whose brightness changes every frame."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, size)
    assert writer.isOpened()
    for k in range(frames):
        writer.write(np.full((size[1], size[0], 3), 20 * k % 255, np.uint8))
    writer.release()
    return path


@pytest.fixture
def counted_steps(monkeypatch) -> list[int]:
    """Counts the frames the pipeline processes (the analysis itself, unchanged)."""
    calls: list[int] = []
    original = core_pipeline.Pipeline.process

    def process(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(core_pipeline.Pipeline, "process", process)
    return calls


def analyze(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["analyze", *args, "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


def _aliases(video: Path) -> dict[str, Path]:
    link = video.with_name("link.avi")
    link.symlink_to(video)
    hard = video.parent / "sub" / "hard.avi"
    hard.parent.mkdir()
    os.link(video, hard)
    return {"same path": video, "symlink": link, "hard link": hard, "dotted path": video.parent / "." / video.name}


@pytest.mark.parametrize("alias", ["same path", "symlink", "hard link", "dotted path"])
def test_the_report_never_replaces_the_video(home, tmp_path, capsys, counted_steps, alias):
    video = write_video(tmp_path / "clip.avi")
    before = video.read_bytes()
    out = _aliases(video)[alias]
    listing = sorted(p.name for p in tmp_path.rglob("*"))
    code, _, err = analyze(capsys, str(video), "--out", str(out))
    line = one_error_line(err)
    assert code == 1 and str(out) in line and "video" in line, line
    assert video.read_bytes() == before
    assert counted_steps == [], "refused only after the analysis"
    assert sorted(p.name for p in tmp_path.rglob("*")) == listing  # no .part file either


def test_the_report_never_replaces_the_library_index(home, tmp_path, capsys, counted_steps):
    index = home / "music" / "library.sqlite"
    index.parent.mkdir(parents=True)
    index.write_bytes(b"the user's index")
    video = write_video(tmp_path / "clip.avi")
    code, _, err = analyze(capsys, str(video), "--out", str(index))
    line = one_error_line(err)
    assert code == 1 and str(index) in line, line
    assert index.read_bytes() == b"the user's index" and counted_steps == []


@pytest.mark.parametrize("where", ["missing folder", "a folder", "under a file"])
def test_an_unwritable_out_is_refused_before_the_analysis(tmp_path, home, capsys, counted_steps, where):
    video = write_video(tmp_path / "clip.avi")
    (tmp_path / "folder").mkdir()
    out = {
        "missing folder": tmp_path / "no" / "such" / "r.json",
        "a folder": tmp_path / "folder",
        "under a file": video / "r.json",
    }[where]
    listing = sorted(p.name for p in tmp_path.rglob("*"))
    code, _, err = analyze(capsys, str(video), "--out", str(out))
    line = one_error_line(err)
    assert code == 1 and str(out) in line, line
    assert counted_steps == []
    assert sorted(p.name for p in tmp_path.rglob("*")) == listing  # no report, no .part


def test_a_failed_write_leaves_no_part_file(tmp_path):
    report = SessionReport({"source": "test"})
    target = tmp_path / "taken"
    target.mkdir()  # a folder is never replaced by a report
    with pytest.raises(OSError):
        write_text(target, report.to_json())
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]
    report.settings["bad"] = object()  # not JSON: fails before anything is written
    with pytest.raises(TypeError):
        write_text(tmp_path / "r.json", report.to_json())
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_a_report_replaces_an_older_report_and_keeps_its_mode(tmp_path):
    out = tmp_path / "r.json"
    out.write_text("old")
    out.chmod(0o640)
    write_text(out, SessionReport({"source": "test"}).to_json())
    assert json.loads(out.read_text())["settings"] == {"source": "test"}
    assert out.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


@pytest.mark.parametrize("size", [(1, 1), (2, 3)])
def test_a_video_smaller_than_a_face_gives_a_report(tmp_path, home, capsys, size):
    video = write_video(tmp_path / "tiny.avi", size=size, frames=15)
    out = tmp_path / "r.json"
    code, stdout, err = analyze(capsys, str(video), "--out", str(out))
    assert code == 0, err
    assert "Traceback" not in err and "analysed 15 frames" in stdout
    report = json.loads(out.read_text())
    switches = report["metrics"]["switches"]  # after the first pick, as the self-test counts them
    assert f"{switches} song switch{'' if switches == 1 else 'es'}," in stdout
    assert report["metrics"]["face_detection_rate"] == 0.0
    assert len(report["timeline"]) == 15


def test_analyze_tells_what_played_when_and_why_before_the_metrics(tmp_path, home, capsys):
    """Issue 21 (10): every song of the report's switches is named with its start time, first."""
    video = write_video(tmp_path / "clip.avi", size=(64, 48), frames=40)
    out = tmp_path / "r.json"
    code, stdout, err = analyze(capsys, str(video), "--out", str(out), "--dwell", "1")
    assert code == 0, err
    report = json.loads(out.read_text())
    lines = stdout.splitlines()
    assert lines[0].startswith("What played")
    story = lines[1 : 1 + len(report["switches"])]
    assert report["switches"] and len(story) == len(report["switches"])
    for line, switch in zip(story, report["switches"], strict=True):
        minutes, seconds = divmod(round(switch["time"]), 60)
        assert line.strip().startswith(f"{minutes}:{seconds:02d}–"), line
        assert f"“{switch['title']}”" in line and f"Why: {switch['why']}" in line
    assert lines[1 + len(report["switches"])].startswith("analysed 40 frames")  # the metrics after
    played = [row["song_id"] for row in report["timeline"] if row["song_id"] is not None]
    changes = [song for k, song in enumerate(played) if k == 0 or song != played[k - 1]]
    assert [s["song_id"] for s in report["switches"]] == changes  # every song change of the timeline


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_an_out_that_is_a_fifo_or_a_device_is_refused_and_kept(tmp_path, home, capsys, counted_steps, kind):
    video = write_video(tmp_path / "clip.avi")
    out = tmp_path / "report.json"
    if kind == "device":
        if private_null_device(out) is None:
            pytest.skip("making a device node needs root")
        expected = "a device"
        code, _, err = analyze(capsys, str(video), "--out", str(out))
    else:
        expected = "a named pipe (FIFO)"
        with fifo_that_cannot_hang(out):
            code, _, err = analyze(capsys, str(video), "--out", str(out))
    line = one_error_line(err)
    assert code == 1 and str(out) in line and expected in line, line
    assert counted_steps == [], "refused only after the analysis"
    assert not out.is_file() and (stat.S_ISFIFO if kind == "fifo" else stat.S_ISCHR)(out.stat().st_mode)


def test_a_fifo_given_as_the_video_is_refused_without_hanging(tmp_path, home, capsys, counted_steps):
    with fifo_that_cannot_hang(tmp_path / "clip.mp4") as fifo:
        code, _, err = analyze(capsys, str(fifo), "--out", str(tmp_path / "r.json"))
    line = one_error_line(err)
    assert code == 1 and str(fifo) in line and "named pipe (FIFO)" in line, line
    assert counted_steps == [] and not (tmp_path / "r.json").exists()


def test_a_truncated_video_is_reported_as_ended_early_in_the_report_and_on_stderr(tmp_path, home, capsys):
    whole = write_video(tmp_path / "whole.avi", size=(320, 240), frames=60)
    data = whole.read_bytes()
    video = tmp_path / "cut.avi"
    video.write_bytes(data[: len(data) // 2])  # its header still announces 60 frames
    out = tmp_path / "report.json"
    code, _, err = analyze(capsys, str(video), "--out", str(out))
    assert code == 0, err
    read = json.loads(out.read_text())["input_video"]
    assert read["ended_early"] is True and read["frames_expected"] == 60 and 0 < read["frames_read"] < 59
    (line,) = [line for line in err.splitlines() if "ended early" in line]
    assert line.startswith("moodsic analyze: warning: the video ended early")
    assert f"{read['frames_read']} of the 60 frames" in line and "of 6.0 s" in line and read["message"] in line
    code, _, err = analyze(capsys, str(whole), "--out", str(out))
    assert code == 0 and "ended early" not in err
    whole_read = json.loads(out.read_text())["input_video"]
    assert whole_read == {"frames_read": 60, "frames_expected": 60, "ended_early": False}
