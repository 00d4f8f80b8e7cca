"""A face model that loads but fails when it runs (its graph's shapes clash only at run time): the window
replaces it by the built-in reader with a banner; ``moodsic models list`` and ``verify`` must not call it
ready, and ``moodsic analyze`` must say that it was replaced, on stderr and in its report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("onnx", reason="the test's model is built with onnx (the models extra)")

from moodsic_desktop.cli.main import main
from moodsic_desktop.perception.model_store import make_entry, register_model
from tests.cli.test_cli_analyze import write_face_video


def write_model_that_fails_when_run(path: Path) -> Path:
    """A FER-2013-shaped ONNX model (input ``image`` N x 1 x 64 x 64, output ``expression`` N x 7) whose
    Reshape of 4,096 values into rows of 7 fails on every input: it loads, and fails at run time."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Reshape", ["image", "rows"], ["expression"])],
        "fails-when-run",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 64, 64])],
        [helper.make_tensor_value_info("expression", TensorProto.FLOAT, ["N", 7])],
        [helper.make_tensor("rows", TensorProto.INT64, [2], np.array([-1, 7], np.int64))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    labels = {"kind": "fer2013", "name": "broken-fer", "format": "1", "licence": "MIT", "commercial_use": "true"}
    helper.set_model_props(model, {f"moodsic.{k}": v for k, v in labels.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path)
    return path


@pytest.fixture
def app(tmp_path, monkeypatch) -> Path:
    """A program folder whose models/ holds the failing model, registered as usable."""
    app = tmp_path / "app"
    models = app / "models"
    path = write_model_that_fails_when_run(models / "broken-fer.onnx")
    register_model(
        make_entry("broken-fer", "fer2013", {"model": path}, models, licence="MIT", commercial_use=True), models
    )
    monkeypatch.setenv("MOODSIC_HOME", str(app))
    return app


def test_models_list_does_not_call_a_model_that_fails_when_run_ready(app, capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "broken-fer (face expert, fer2013): ready" not in out
    line = next(line for line in out.splitlines() if line.strip().startswith("broken-fer"))
    assert "fails when run" in line and "Reshape" in line and "\n" not in line
    assert "but it fails when run (see above): the program replaces it by face-geometry (built-in)" in out


def test_models_verify_fails_for_it(app, capsys):
    assert main(["models", "verify"]) == 1
    assert "fails when run" in capsys.readouterr().out


def test_analyze_says_that_the_model_was_replaced(app, tmp_path, capsys):
    video = write_face_video(tmp_path / "shop.mp4")
    out = tmp_path / "report.json"
    assert main(["analyze", str(video), "--out", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("moodsic analyze: warning:")]
    assert len(warnings) == 1 and "broken-fer" in warnings[0] and "failed" in warnings[0], err[-2000:]
    report = json.loads(out.read_text())
    (notice,) = report["notices"]
    assert "broken-fer" in notice["text"] and notice["time"] > 0
    assert report["settings"]["experts"]["face"] == "broken-fer (ONNX)"  # what it started with
