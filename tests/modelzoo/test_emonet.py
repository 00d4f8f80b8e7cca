"""EmoNet in PyTorch against ../shared/fixtures/emonet: every parameter name and shape, the golden outputs of
the upstream definition, strict checkpoint loading, and the ONNX export's parity and metadata."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="EmoNet needs the models extra (torch)")

from moodsic_desktop.modelzoo.emonet import (  # noqa: E402
    EMONET_CLASSES,
    CheckpointError,
    EmoNet,
    load_emonet_checkpoint,
    load_emonet_state,
    synthetic_state_dict,
)
from moodsic_desktop.perception.model_check import check_parity  # noqa: E402
from moodsic_desktop.perception.model_store import read_onnx_metadata, sha256_file  # noqa: E402
from moodsic_desktop.perception.onnx_runtime import RuntimeConfig, create_session  # noqa: E402
from tests import model_files  # noqa: E402

FIXTURE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "emonet"


@pytest.fixture(scope="module")
def manifest() -> dict:
    path = FIXTURE / "state_dict_manifest.json"
    if not path.is_file():
        pytest.skip(f"../shared/fixtures/emonet is absent (looked for {path}): cannot check the upstream layout")
    return json.loads(path.read_text())


@pytest.mark.parametrize("n", [8, 5])
def test_names_shapes_order_and_parameter_count_match_upstream(manifest, n):
    state = EmoNet(n_expression=n).state_dict()
    expected = manifest["state_dict"][str(n)]
    assert list(state) == [name for name, _, _ in expected]
    assert {k: list(v.shape) for k, v in state.items()} == {name: shape for name, shape, _ in expected}
    assert {k: str(v.dtype) for k, v in state.items()} == {name: dtype for name, _, dtype in expected}
    parameters = sum(p.numel() for p in EmoNet(n_expression=n).parameters())
    assert parameters == manifest["parameter_count"][str(n)]
    assert list(EMONET_CLASSES[n]) == manifest[f"expression_classes_{n}"]


@pytest.fixture(autouse=True)
def flush_denormals():
    """The synthetic weights produce denormal floats, which slow PyTorch's CPU kernels tenfold; flushing them
    changes values by less than 1e-37."""
    torch.set_flush_denormal(True)
    yield
    torch.set_flush_denormal(False)


@pytest.fixture(scope="module")
def golden_input(manifest) -> torch.Tensor:
    del manifest
    return torch.from_numpy(np.random.default_rng(12345).random((2, 3, 256, 256)).astype(np.float32))


@pytest.mark.parametrize("n", [8, 5])
def test_golden_outputs_of_the_synthetic_state_dict(manifest, golden_input, n):
    model = load_emonet_state(synthetic_state_dict(n))
    with torch.no_grad():
        out = model(golden_input)
    golden = manifest["golden"]["results"][str(n)]
    tolerance = {"rtol": 1e-3, "atol": 1e-5}
    np.testing.assert_allclose(out["expression"].numpy(), golden["expression"], **tolerance)
    np.testing.assert_allclose(out["valence"].numpy(), golden["valence_raw"], **tolerance)
    np.testing.assert_allclose(out["arousal"].numpy(), golden["arousal_raw"], **tolerance)
    heatmap = out["heatmap"].numpy()
    assert heatmap.shape == (2, 68, 64, 64)
    np.testing.assert_allclose(heatmap.mean(), golden["heatmap_mean"], **tolerance)
    np.testing.assert_allclose(heatmap.std(), golden["heatmap_std"], **tolerance)
    np.testing.assert_allclose(heatmap[0, 0, 32, 32], golden["heatmap_0_0_32_32"], **tolerance)
    np.testing.assert_allclose(heatmap[1, 67, 10, 50], golden["heatmap_1_67_10_50"], **tolerance)


def test_upstream_style_checkpoint_loads_strictly(tmp_path_factory):
    """``module.`` prefixes stripped, missing num_batches_tracked tolerated, classes read from the head."""
    path = model_files.emonet_checkpoint(tmp_path_factory)
    loaded = load_emonet_checkpoint(path)
    assert loaded.n_expression == 8 and not loaded.model.training
    assert loaded.sha256 == sha256_file(path)
    reference = synthetic_state_dict(8)
    assert all(torch.equal(loaded.model.state_dict()[k], v) for k, v in reference.items())


def _state(n=8, drop=(), add=None, reshape=None):
    state = synthetic_state_dict(n)
    for key in drop:
        del state[key]
    state.update(add or {})
    for key, shape in (reshape or {}).items():
        state[key] = torch.zeros(shape)
    return state


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (lambda: _state(drop=["m0.b1_4.conv1.weight"]), "missing keys: m0.b1_4.conv1.weight"),
        (lambda: _state(add={"extra.weight": torch.zeros(1)}), "unexpected keys: extra.weight"),
        (lambda: _state(reshape={"conv1.bias": (32,)}), r"wrong shapes: conv1.bias \(32,\) \(expected \(64,\)\)"),
        (lambda: _state(reshape={"emo_fc_2.3.weight": (6, 128)}), "is not an EmoNet checkpoint"),
        (lambda: {"conv1.weight": "text"}, "not a state dict"),
        (dict, "holds no state dict"),
    ],
)
def test_anything_else_fails_with_a_clear_message(state, message):
    with pytest.raises(CheckpointError, match=message):
        load_emonet_state(state())


def test_files_that_are_not_checkpoints_fail_clearly(tmp_path):
    garbage = tmp_path / "emonet_8.pth"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        load_emonet_checkpoint(garbage)
    with pytest.raises(FileNotFoundError):
        load_emonet_checkpoint(tmp_path / "absent.pth")
    wrapped = tmp_path / "wrapped.pth"
    torch.save({"state_dict": _state(5), "epoch": 3}, wrapped)
    assert load_emonet_checkpoint(wrapped).n_expression == 5


def test_onnx_export_has_named_outputs_dynamic_batch_metadata_and_parity(tmp_path_factory):
    path = model_files.emonet_onnx(tmp_path_factory)
    meta = read_onnx_metadata(path)
    assert meta["moodsic.kind"] == "emonet"
    assert json.loads(meta["moodsic.classes"]) == list(EMONET_CLASSES[8])
    assert json.loads(meta["moodsic.input"])["size"] == [256, 256]
    assert "[0, 1]" in json.loads(meta["moodsic.input"])["scaling"]
    assert meta["moodsic.licence"] == "CC BY-NC-ND 4.0" and meta["moodsic.commercial_use"] == "false"
    assert meta["moodsic.source_sha256"] == sha256_file(model_files.emonet_checkpoint(tmp_path_factory))
    model = create_session(path, RuntimeConfig(device="cpu"))
    assert model.output_names == ["valence", "arousal", "expression"]
    assert check_parity(model).ok and max(check_parity(model).errors.values()) <= 1e-4
    batch = np.random.default_rng(7).random((3, 3, 256, 256), dtype=np.float32)
    valence, arousal, expression = model.run({"image": batch})
    assert valence.shape == (3,) and arousal.shape == (3,) and expression.shape == (3, 8)
    assert np.all(np.abs(valence) <= 1) and np.all(np.abs(arousal) <= 1)
    torch_model = load_emonet_checkpoint(model_files.emonet_checkpoint(tmp_path_factory)).model
    with torch.no_grad():
        reference = torch_model(torch.from_numpy(batch))
    scale = np.abs(reference["expression"].numpy()).max()
    assert np.abs(expression - reference["expression"].numpy()).max() / scale <= 1e-4
