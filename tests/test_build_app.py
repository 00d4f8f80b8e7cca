"""``build/build_app.py``'s choice of what is bundled in place of the installed builds, and its reading of what a
bundle carries, without building (pip and the environment's versions faked)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def build_app(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("build_app_under_test", REPO / "build" / "build_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "WORK", tmp_path / "work")
    monkeypatch.setattr(module, "say", lambda text: None)
    return module


def fake_environment(build_app, monkeypatch, installed: dict[str, str]) -> list[list[str]]:
    """The environment's distributions are ``installed``; pip's runs are recorded (and make the folder)."""
    runs: list[list[str]] = []

    def run(command, check=False):
        runs.append(command)
        Path(command[command.index("--target") + 1]).mkdir(parents=True, exist_ok=True)
        return SimpleNamespace(returncode=0)

    monkeypatch.setattr(build_app, "installed_version", installed.get)
    monkeypatch.setattr(build_app.subprocess, "run", run)
    return runs


def test_the_cpu_flavour_installs_the_lighter_builds_once(build_app, monkeypatch):
    runs = fake_environment(build_app, monkeypatch, {"onnxruntime-gpu": "1.31.1", "opencv-contrib-python": "4.11.0.86"})
    folder = build_app.replacement_path("cpu")
    assert folder == build_app.WORK / "replacements-cpu"
    assert len(runs) == 1 and runs[0][0] == sys.executable
    assert runs[0][-2:] == ["onnxruntime==1.31.1", "opencv-python-headless==4.11.0.86"]
    assert json.loads((folder / "installed.json").read_text()) == {
        "onnxruntime": "1.31.1",
        "opencv-python-headless": "4.11.0.86",
    }
    assert build_app.replacement_path("cpu") == folder and len(runs) == 1  # reused
    monkeypatch.setattr(build_app, "installed_version", {"onnxruntime-gpu": "1.32.0"}.get)
    build_app.replacement_path("cpu")
    assert runs[-1][-1] == "onnxruntime==1.32.0"  # another version installed: made again


def test_the_gpu_flavour_needs_onnxruntime_gpu_and_keeps_it(build_app, monkeypatch):
    runs = fake_environment(build_app, monkeypatch, {"onnxruntime": "1.31.1"})
    with pytest.raises(build_app.BuildError, match="onnxruntime-gpu, which is not installed"):
        build_app.replacement_path("gpu")
    assert build_app.replacement_path("cpu") is None and runs == []  # macOS: nothing to replace
    fake_environment(build_app, monkeypatch, {"onnxruntime-gpu": "1.31.1", "opencv-contrib-python": "4.11.0.86"})
    folder = build_app.replacement_path("gpu")
    assert json.loads((folder / "installed.json").read_text()) == {"opencv-python-headless": "4.11.0.86"}


def test_a_failed_pip_install_stops_the_build_and_leaves_no_half_folder(build_app, monkeypatch):
    monkeypatch.setattr(build_app, "installed_version", {"onnxruntime-gpu": "1.31.1"}.get)
    monkeypatch.setattr(build_app.subprocess, "run", lambda command, check=False: SimpleNamespace(returncode=1))
    with pytest.raises(build_app.BuildError, match="pip could not install"):
        build_app.replacement_path("cpu")
    assert not (build_app.WORK / "replacements-cpu").exists()


def test_what_a_bundle_carries_is_read_from_its_files(build_app, tmp_path):
    bundle = tmp_path / "Moodsic" / "_internal"
    (bundle / "onnxruntime" / "capi").mkdir(parents=True)
    (bundle / "onnxruntime" / "capi" / "libonnxruntime_providers_shared.so").touch()
    assert build_app.bundled_builds(tmp_path / "Moodsic") == {"onnxruntime": "cpu", "opencv": "headless"}
    (bundle / "onnxruntime" / "capi" / "libonnxruntime_providers_cuda.so").touch()
    (bundle / "libQt5Core-e7f476e2.so.5.15.16").touch()
    assert build_app.bundled_builds(tmp_path / "Moodsic") == {"onnxruntime": "gpu", "opencv": "with Qt 5"}
