"""``--self-test``: the whole pipeline headless from source (``main.py``, ``python -m moodsic_desktop``), and one
clear line when a stage fails."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from moodsic_desktop import paths
from moodsic_desktop.audio.output import NullBackend
from moodsic_desktop.cli import self_test as selftest
from moodsic_desktop.perception.synthetic import write_face_clip

REPO = Path(__file__).resolve().parents[2]
STAGE_NAMES = [name for name, _ in selftest.STAGES]


ENTRIES = {"main.py": [str(REPO / "main.py")], "python -m moodsic_desktop": ["-m", "moodsic_desktop"]}


def run_main(env_extra: dict[str, str], timeout: float = 300, entry: str = "main.py") -> subprocess.CompletedProcess:
    """``python main.py --self-test`` (or another entry) with no display: a window would make Qt abort on xcb."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update({"QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(REPO), **env_extra})
    return subprocess.run(
        [sys.executable, *ENTRIES[entry], "--self-test"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def failure_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "self-test FAILED" in line]


@pytest.mark.parametrize("entry", ENTRIES)
def test_self_test_runs_every_stage_from_source_without_a_window(entry):
    """Passes (0) where a sound card plays; on a machine without one (CI) every stage still runs and passes,
    and the run says first and last that there is no sound (3)."""
    result = run_main({}, entry=entry)
    assert result.returncode in (selftest.EXIT_OK, selftest.EXIT_NO_SOUND), result.stdout + result.stderr
    lines = result.stdout.splitlines()
    if result.returncode == selftest.EXIT_NO_SOUND:
        assert lines.pop(0).startswith("No sound output: ")
        assert lines[-1].startswith("self-test: every stage passed in ") and "no sound output" in lines[-1]
        assert failure_lines(result.stderr) == [
            line for line in result.stderr.splitlines() if line.startswith("self-test FAILED at sound output: ")
        ]
    else:
        assert lines[-1].startswith("self-test passed in ")
        assert not failure_lines(result.stderr)
    assert lines[0].startswith("Moodsic ") and "from source" in lines[0]
    for name in STAGE_NAMES:
        assert any(line.startswith(f"ok  {name} ") for line in lines), (name, result.stdout)
    assert "MediaPipe found the face" in result.stdout
    assert "onnxruntime" in result.stdout
    (matcher,) = [line for line in lines if line.startswith("ok  matcher ")]
    assert re.search(r" chosen, (1 song switch|\d+ song switches);", matcher), matcher
    assert "(s)" not in result.stdout


class _SoundCard(NullBackend):
    """A back end whose outputs count as real sound (the engine plays through them, not silently)."""

    def open(self, device, samplerate, blocksize, render):
        sink = super().open(device, samplerate, blocksize, render)
        sink.silent = False
        return sink


def test_without_a_sound_output_every_stage_runs_and_the_exit_status_says_no_sound():
    out, err = io.StringIO(), io.StringIO()
    code = selftest.run_self_test(out=out, err=err, audio_backend=NullBackend())
    assert code == selftest.EXIT_NO_SOUND
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("No sound output: Playing silently: null output")
    assert lines[1].startswith("Moodsic ")
    for name in STAGE_NAMES:
        assert any(line.startswith(f"ok  {name} ") for line in lines), (name, out.getvalue())
    assert "passed" in lines[-1] and "no sound output" in lines[-1]
    assert err.getvalue().strip().splitlines()[-1].startswith("self-test FAILED at sound output: ")


def test_with_a_sound_output_the_self_test_passes_without_a_sound_warning():
    out, err = io.StringIO(), io.StringIO()
    code = selftest.run_self_test(out=out, err=err, audio_backend=_SoundCard())
    assert code == selftest.EXIT_OK, out.getvalue() + err.getvalue()
    assert "No sound" not in out.getvalue()
    assert out.getvalue().splitlines()[-1].startswith("self-test passed in ")
    assert "output: Playing through null output" in out.getvalue()


def test_a_failing_stage_gives_1_even_without_sound():
    out, err = io.StringIO(), io.StringIO()

    def broken(run):
        raise RuntimeError("boom")

    stages = [("broken", broken), ("audio", selftest._stage_audio)]
    code = selftest.run_self_test(out=out, err=err, audio_backend=NullBackend(), stages=stages)
    assert code == selftest.EXIT_FAILED
    assert out.getvalue().startswith("No sound output: ")
    assert err.getvalue().strip().splitlines() == ["self-test FAILED at broken: RuntimeError: boom"]


def test_a_model_that_does_not_load_fails_with_one_clear_line(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "broken.onnx").write_bytes(b"this is not an ONNX model")
    result = run_main({"MOODSIC_HOME": str(tmp_path)}, timeout=120)
    assert result.returncode == 1
    (line,) = failure_lines(result.stderr)
    assert line.startswith("self-test FAILED at models: the model ")
    assert "broken.onnx" in line
    assert "ok  clip" not in result.stdout  # the run stops at the first failure
    assert "Traceback" not in result.stderr


def test_a_stage_that_raises_stops_the_run_with_its_name():
    out, err = io.StringIO(), io.StringIO()
    ran = []

    def fine(run):
        ran.append("fine")
        return "all good"

    def broken(run):
        raise RuntimeError("boom\nsecond line")

    def never(run):
        ran.append("never")
        return ""

    code = selftest.run_self_test(out=out, err=err, stages=[("first", fine), ("second", broken), ("third", never)])
    assert code == selftest.EXIT_FAILED
    assert ran == ["fine"]
    assert "ok  first      all good" in out.getvalue()
    assert err.getvalue().strip().splitlines() == ["self-test FAILED at second: RuntimeError: boom"]


def test_a_failing_face_detector_fails_perception(monkeypatch):
    """The pipeline keeps going when an expert raises; the self-test must not."""
    from moodsic_desktop.perception.faces import MediaPipeFaceDetector

    def detect(self, frame):
        raise RuntimeError("the detector is broken")

    monkeypatch.setattr(MediaPipeFaceDetector, "detect", detect)
    out, err = io.StringIO(), io.StringIO()
    code = selftest.run_self_test(out=out, err=err, audio_backend=NullBackend(), stages=selftest.STAGES[:4])
    assert code == selftest.EXIT_FAILED, out.getvalue()
    (line,) = failure_lines(err.getvalue())
    assert line.startswith("self-test FAILED at perception: ")
    assert "face detector" in line and "the detector is broken" in line


def test_a_bad_library_folder_fails_the_library_stage(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    code = selftest.run_self_test(tmp_path / "no-such-deam", out=out, err=err, stages=selftest.STAGES[:3])
    assert code == selftest.EXIT_FAILED
    (line,) = failure_lines(err.getvalue())
    assert line.startswith("self-test FAILED at library: cannot use the library: ")


def test_the_report_goes_to_a_file_when_there_is_no_console(tmp_path, monkeypatch):
    monkeypatch.setenv("MOODSIC_HOME", str(tmp_path))
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    code = selftest.run_self_test(stages=[("only", lambda run: "done")])
    assert code == selftest.EXIT_OK
    text = (tmp_path / selftest.REPORT_FILE).read_text(encoding="utf-8")
    assert "ok  only" in text and "self-test passed" in text


def test_a_face_model_in_the_box_that_does_not_run_fails_the_models_stage(tmp_path, monkeypatch):
    broken = tmp_path / "fer2013-mini-xception.onnx"
    broken.write_bytes(b"not a model")
    monkeypatch.setattr("moodsic_desktop.perception.fer_expert.bundled_model_path", lambda: broken)
    out, err = io.StringIO(), io.StringIO()
    code = selftest.run_self_test(out=out, err=err, stages=[("models", selftest._stage_models)])
    assert code == selftest.EXIT_FAILED
    (line,) = failure_lines(err.getvalue())
    assert line.startswith(f"self-test FAILED at models: the face model in the box {broken} does not run (")


def test_the_models_stage_runs_the_face_model_in_the_box(tmp_path, monkeypatch):
    monkeypatch.setenv("MOODSIC_HOME", str(tmp_path))
    out, err = io.StringIO(), io.StringIO()
    assert selftest.run_self_test(out=out, err=err, stages=[("models", selftest._stage_models)]) == selftest.EXIT_OK
    assert "runs the face model in the box on the CPU" in out.getvalue()


@pytest.mark.parametrize(
    ("argv", "asks"),
    [
        (["--self-test"], True),
        (["--library", "music", "--self-test", "-v"], True),
        (["--source", "--self-test"], False),  # a source called "--self-test"
        (["analyze", "clip.mp4", "--self-test"], False),  # a command's argument, not the self-test
        ([], False),
    ],
)
def test_the_self_test_is_asked_for_before_any_command_word(argv, asks):
    assert selftest.asks_for_self_test(argv) is asks


def test_moodsic_self_test_comes_to_the_self_test_entry_with_its_options(monkeypatch, tmp_path):
    from moodsic_desktop.cli.main import main

    calls = []
    monkeypatch.setattr(selftest, "run_self_test", lambda library, verbose: calls.append((library, verbose)) or 3)
    assert main(["--library", str(tmp_path), "--self-test", "--verbose"]) == 3
    assert calls == [(tmp_path, True)]
    with pytest.raises(SystemExit):
        selftest.main(["--library", str(tmp_path)])  # the entry is the self-test's alone


def test_the_clip_holds_a_face_mediapipe_finds(tmp_path):
    import cv2

    from moodsic_desktop.perception.faces import MediaPipeFaceDetector

    face = cv2.imread(str(paths.resources_dir() / selftest.FACE_PHOTO))
    assert face is not None
    clip = write_face_clip(tmp_path / "clip.mp4", face, segment_s=0.5)
    capture = cv2.VideoCapture(str(clip))
    ok, frame = capture.read()
    capture.release()
    assert ok
    with MediaPipeFaceDetector() as detector:
        faces = detector.detect(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    assert len(faces) == 1
    assert 80 < faces[0].width < 160


def test_the_self_test_module_imports_no_qt():
    import ast

    tree = ast.parse(Path(selftest.__file__).read_text(encoding="utf-8"))
    modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not [name for name in modules if name.split(".")[0] == "PySide6"]


def test_the_help_text_names_the_exit_statuses():
    from moodsic_desktop.cli.main import build_parser

    text = " ".join(build_parser().format_help().split())
    assert f"{selftest.EXIT_NO_SOUND}: every stage passed but no sound output opens" in text
    assert f"{selftest.EXIT_FAILED}: a stage failed" in text
