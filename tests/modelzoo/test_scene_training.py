"""``moodsic models train-scene`` on a tiny generated FindingEmo-layout dataset with a tiny random backbone."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch", reason="training needs the models extra (torch, transformers)")

from moodsic_desktop.cli.main import main
from moodsic_desktop.core import findingemo
from moodsic_desktop.modelzoo import scene_training
from moodsic_desktop.modelzoo.scene_training import (
    Sample,
    binned_split,
    ccc,
    findingemo_metrics,
    fit_calibration,
    read_findingemo,
)
from moodsic_desktop.perception.model_store import scan_models
from moodsic_desktop.session.assembly import EngineSettings, select_experts
from tests import model_files


def test_reading_skips_missing_images_and_bad_rows(tmp_path):
    root = model_files.write_findingemo(tmp_path, 12)
    samples, counts = read_findingemo(root)
    assert len(samples) == 12
    assert counts["missing"] == 1 and counts["bad_rows"] == 1 and counts["rows"] == 14
    assert all(-3 <= s.valence <= 3 and 0 <= s.arousal <= 6 for s in samples)
    with pytest.raises(FileNotFoundError, match=r"annotations_single\.ann"):
        read_findingemo(tmp_path / "empty")


def test_the_split_is_70_15_15_within_every_valence_arousal_bin():
    rng = np.random.default_rng(0)
    samples = [Sample(None, f"k{i}", float(rng.uniform(-3, 3)), float(rng.uniform(0, 6))) for i in range(2000)]
    splits = binned_split(samples, seed=1)
    sizes = {k: len(v) for k, v in splits.items()}
    assert sum(sizes.values()) == 2000
    assert sizes["train"] == pytest.approx(1400, abs=10) and sizes["val"] == pytest.approx(300, abs=10)
    assert len({s.key for v in splits.values() for s in v}) == 2000
    for split in splits.values():  # each split covers the whole plane
        assert {findingemo._bin(s) for s in split} == {(v, a) for v in range(3) for a in range(3)}
    assert binned_split(samples, seed=1) == splits


def test_metrics_are_in_findingemo_units():
    truth = np.array([[-0.8, -0.8], [0.0, 0.0], [0.8, 0.8]])  # reference space
    perfect = findingemo_metrics(truth, truth)
    assert perfect["mae_mean"] == 0.0 and perfect["ccc_valence"] == pytest.approx(1.0)
    assert perfect["spearman_arousal"] == pytest.approx(1.0)
    shifted = findingemo_metrics(truth + np.array([0.1, 0.0]), truth)
    assert shifted["mae_valence"] == pytest.approx(0.3)  # 0.1 reference units = 0.3 on [-3, 3]
    assert ccc(np.array([1.0, 1.0]), np.array([1.0, 1.0])) is None


def test_calibration_undoes_an_affine_distortion():
    rng = np.random.default_rng(0)
    truth = rng.uniform(-0.8, 0.8, (200, 2))
    predicted = (truth - [0.1, -0.2]) / [1.5, 0.8]
    calibration = fit_calibration(predicted, truth)
    assert calibration["valence"] == pytest.approx([1.5, 0.1], abs=1e-6)
    assert calibration["arousal"] == pytest.approx([0.8, -0.2], abs=1e-6)


def test_train_scene_end_to_end_then_the_program_uses_it(tmp_path_factory, tmp_path, capsys, monkeypatch):
    data = model_files.write_findingemo(tmp_path / "findingemo", 60)
    backbone = model_files.tiny_backbone_dir(tmp_path_factory)
    models = tmp_path / "models"
    args = ["models", "train-scene", "--findingemo", str(data), "--backbone", "clip-b32"]
    args += ["--backbone-dir", str(backbone), "--out-dir", str(models), "--epochs", "60", "--calibrate", "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "59 images found" not in out and "60 images found, 1 missing" in out
    assert "registered scene-clip-b32" in out
    report = json.loads((models / "scene-clip-b32.report.json").read_text())
    assert report["data"]["split"] == {"train": 42, "val": 9, "test": 9}
    for key in ("mae_valence", "mae_arousal", "mae_mean", "spearman_valence", "ccc_arousal"):
        assert key in report["test"]
    assert report["test"]["mae_mean"] < report["baseline_test_constant"]["mae_mean"]  # it learned the colours
    assert report["calibration"] is not None and "test_uncalibrated" in report
    assert report["training"]["best_epoch"] <= report["training"]["epochs_run"] <= 60
    assert (models / "cache").is_dir() and (models / "scene-clip-b32.head.pt").is_file()
    (status,) = scan_models(models).usable("scene")
    assert status.name == "scene-clip-b32"
    selection = select_experts(EngineSettings(), models)
    assert selection.scene.model == "scene-clip-b32"
    assert selection.scene.expert.calibration == report["calibration"]

    # A second run reads the cached features and reuses the exported backbone.
    monkeypatch.setattr(scene_training, "prepare_image", lambda *a: pytest.fail("features were recomputed"))
    assert main([*args, "--name", "scene-again"]) == 0
    assert "exporting clip-b32" in capsys.readouterr().out  # another name: its own backbone file, same cache


def test_unusable_input_is_one_clear_line(tmp_path, capsys):
    assert main(["models", "train-scene", "--findingemo", str(tmp_path), "--backbone", "clip-b32"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("moodsic models train-scene: error: no FindingEmo annotation file")
