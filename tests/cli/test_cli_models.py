"""``moodsic models export | list | verify`` and ``moodsic bench`` through the command line."""

from __future__ import annotations

import re
import shutil

import pytest

pytest.importorskip("torch", reason="these commands need the models extra")

from moodsic_desktop.cli.main import main
from moodsic_desktop.perception.model_store import read_manifest
from tests import model_files


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """``moodsic models export emonet`` of an upstream-style checkpoint into a fresh models folder."""
    folder = tmp_path_factory.mktemp("cli-models")
    checkpoint = model_files.emonet_checkpoint(tmp_path_factory)
    out = folder / "emonet-8.onnx"
    assert main(["models", "export", "emonet", "--checkpoint", str(checkpoint), "--out", str(out)]) == 0
    return folder


def test_export_registers_the_model_with_its_licence(exported):
    (entry,) = read_manifest(exported)["models"]
    assert entry["name"] == "emonet-8" and entry["kind"] == "emonet"
    assert entry["licence"] == "CC BY-NC-ND 4.0" and entry["commercial_use"] is False
    assert entry["files"]["model"]["path"] == "emonet-8.onnx"


def test_list_shows_the_models_and_the_active_experts(exported, capsys):
    assert main(["models", "list", "--dir", str(exported)]) == 0
    out = capsys.readouterr().out
    assert "emonet-8 (face expert, emonet): ready" in out
    assert "licence: CC BY-NC-ND 4.0, non-commercial use only" in out
    assert re.search(r"face: emonet-8 \(ONNX\) on (CPU|GPU \(\w+\))", out)
    assert "scene: scene-statistics (built-in) (no scene model installed" in out


def test_verify_checks_checksums_and_parity(exported, capsys):
    assert main(["models", "verify", "--dir", str(exported)]) == 0
    out = capsys.readouterr().out
    assert "emonet-8 (face expert, emonet): files and checksums ok" in out
    assert re.search(r"model emonet-8.onnx: parity ok: largest relative error \S+ \(tolerance 1e-04\)", out)
    assert out.rstrip().endswith("all models verified")


def test_verify_reports_a_corrupt_file_and_register_adopts_unlisted_ones(exported, tmp_path, capsys):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(exported / "emonet-8.onnx", folder / "copied.onnx")
    assert main(["models", "verify", "--dir", str(folder)]) == 0
    assert "copied.onnx is not listed in manifest.json" in capsys.readouterr().out
    assert main(["models", "verify", "--dir", str(folder), "--register"]) == 0
    out = capsys.readouterr().out
    assert "registered in" in out
    assert read_manifest(folder)["models"][0]["name"] == "emonet-8"
    data = bytearray((folder / "copied.onnx").read_bytes())
    data[-100] ^= 0xFF
    (folder / "copied.onnx").write_bytes(bytes(data))
    assert main(["models", "verify", "--dir", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "corrupt: copied.onnx does not match its recorded SHA-256" in out
    assert "1 problem(s) found" in out


def test_export_refuses_a_checkpoint_that_is_not_emonet(tmp_path, capsys):
    import torch

    bad = tmp_path / "resnet.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, bad)
    assert main(["models", "export", "emonet", "--checkpoint", str(bad), "--out", str(tmp_path / "x.onnx")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("moodsic models export emonet: error:") and "is not an EmoNet checkpoint" in err
    assert not (tmp_path / "x.onnx").exists()


def test_bench_prints_ratios_that_scripts_can_read(capsys):
    assert main(["bench", "--tiny", "--frames", "2", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    ratios = dict(re.findall(r"^ratio (\S+): ([0-9.]+)$", out, flags=re.MULTILINE))
    assert set(ratios) == {
        "emonet-onnxruntime-vs-pytorch",
        "scene-onnxruntime-vs-pytorch",
        "mc-dropout-head-only-vs-full-passes",
        "end-to-end-fps",
        "end-to-end-fps-scene-every-frame",
        "fer2013-vs-emonet",
        "end-to-end-fps-8-faces-vs-1",
        "end-to-end-fps-8-faces-cues-vs-without",
        "end-to-end-fps-8-faces-lanes-vs-one-lane",
        "end-to-end-fps-8-faces-tiles-in-turns-vs-every-call",
    }
    assert all(float(value) > 0 for value in ratios.values())
    assert re.search(r"^emonet ms per face: [0-9.]+ ", out, flags=re.MULTILINE)
    assert re.search(r"^fer2013 ms per face: [0-9.]+ \(batch of 1\), [0-9.]+ \(batch of 8\)$", out, flags=re.MULTILINE)
    assert re.search(r"^end-to-end fps with 8 faces in view: [0-9.]+$", out, flags=re.MULTILINE)
    cues = r"^arousal cues ms per frame: face mesh [0-9.]+, room energy [0-9.]+, tracker [0-9.]+$"
    assert re.search(cues, out, flags=re.MULTILINE)
    read = re.search(r"FER-2013: [0-9.]+ fps with 8 faces in view \(([0-9.]+) read per frame\)", out)
    assert read and float(read.group(1)) >= 4  # most of the crowd is read each frame
    stages = re.search(
        r"^end to end with 8 faces, ms per frame: detection and tracker ([0-9.]+), faces \(FER-2013 and face mesh\) "
        r"([0-9.]+), room energy [0-9.]+, scene [0-9.]+, fusion, stabiliser, matcher [0-9.]+ "
        r"\(detection on [0-9]+ lane\(s\)\)$",
        out,
        flags=re.MULTILINE,
    )
    assert stages and all(float(stages.group(k)) > 0 for k in (1, 2)), out
    pairs = re.search(
        r"^side by side with 8 faces: ([0-9.]+) fps vs ([0-9.]+) on one lane; ([0-9.]+) fps vs ([0-9.]+) with every "
        r"tile on every frame; ([0-9.]+) fps vs ([0-9.]+) without the arousal cues$",
        out,
        flags=re.MULTILINE,
    )
    assert pairs and all(float(value) > 0 for value in pairs.groups()), out


def test_verify_refuses_a_model_whose_shapes_the_program_cannot_use(tmp_path, capsys):
    """A FER-2013 entry whose input is 48 x 48 instead of 64 x 64: checksums fine, but every face would fail."""
    from moodsic_desktop.perception.model_store import make_entry, register_model
    from tests.perception.test_fer_expert import _tiny_model

    folder = tmp_path / "models"
    folder.mkdir()
    path = _tiny_model(folder / "fer-wrong.onnx", input_size=48)
    register_model(make_entry("fer-wrong", "fer2013", {"model": path}, folder, licence="test"), folder)
    assert main(["models", "verify", "--dir", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "fer-wrong (face expert, fer2013): files and checksums ok" in out
    assert "cannot be used by the program" in out and "N x 1 x 64 x 64" in out
    assert "all models verified" not in out
