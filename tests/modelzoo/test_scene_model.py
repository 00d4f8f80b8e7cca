"""Scene backbone and head in PyTorch, exported as two graphs: parity, metadata, MC-dropout head, files."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the scene model needs the models extra (torch, transformers)")

from moodsic_desktop.modelzoo.scene import (  # noqa: E402
    BACKBONES,
    BackboneMissingError,
    HeadCheckpoint,
    MCDropoutHead,
    SceneHead,
    backbone_id,
    export_backbone,
    export_scene,
    input_spec,
    load_backbone,
    load_head_checkpoint,
    parse_input_size,
    save_head_checkpoint,
    save_random_backbone,
)
from moodsic_desktop.perception.model_check import check_parity  # noqa: E402
from moodsic_desktop.perception.model_store import read_onnx_metadata  # noqa: E402
from moodsic_desktop.perception.onnx_runtime import RuntimeConfig, create_session  # noqa: E402
from moodsic_desktop.perception.onnx_scene_expert import OnnxSceneExpert, prepare_image  # noqa: E402
from tests import model_files  # noqa: E402


def test_input_sizes_are_width_by_height_and_multiples_of_the_patch():
    spec = BACKBONES["dinov3-s16"]
    assert parse_input_size(None, spec) == (224, 224)
    assert parse_input_size("800x608", spec) == (608, 800)
    for bad in ("800x600", "big", "8x16"):
        with pytest.raises(ValueError):
            parse_input_size(bad, spec)


def test_head_is_layernorm_dropout_linear_gelu_linear_sigmoid():
    head = SceneHead(16, hidden=8, dropout=0.25)
    kinds = [type(m).__name__ for m in head.children()]
    assert kinds == ["LayerNorm", "Dropout", "Linear", "GELU", "Linear"]
    features = torch.randn(5, 16)
    out = head.eval()(features)
    assert out.shape == (5, 2) and torch.all((out > 0) & (out < 1))
    ones = torch.ones(5, 3, 16)
    torch.testing.assert_close(MCDropoutHead(head)(features, ones), out.unsqueeze(1).expand(5, 3, 2))


def test_clip_backbone_export_parity_and_metadata(tmp_path_factory):
    files = model_files.tiny_scene_files(tmp_path_factory)
    meta = read_onnx_metadata(files["backbone"])
    assert meta["moodsic.kind"] == "scene-backbone" and meta["moodsic.backbone"] == "clip-b32"
    spec = json.loads(meta["moodsic.input"])
    assert spec["size"] == [224, 224] and spec["fit"] == "letterbox" and len(spec["mean"]) == 3
    assert meta["moodsic.feature_dim"] == "32"
    assert read_onnx_metadata(files["head"])["moodsic.backbone_id"] == meta["moodsic.backbone_id"]
    for path in files.values():
        result = check_parity(create_session(path, RuntimeConfig(device="cpu")))
        assert result.ok, result.describe()
    head = create_session(files["head"], RuntimeConfig(device="cpu"))
    assert head.input_names == ["features", "mask"] and head.output_names == ["va"]
    (va,) = head.run({"features": np.zeros((2, 32), np.float32), "mask": np.ones((2, 5, 32), np.float32)})
    assert va.shape == (2, 5, 2)  # batch and samples both dynamic


def test_dinov3_with_a_letterboxed_non_square_input(tmp_path_factory, tmp_path):
    from skimage import data

    astronaut = data.astronaut()
    folder = model_files.tiny_backbone_dir(tmp_path_factory, "dinov3-s16")
    backbone = load_backbone("dinov3-s16", folder)
    spec_input = input_spec(backbone.spec, parse_input_size("96x64", backbone.spec))
    result = export_backbone(backbone, tmp_path / "dino.onnx", spec_input, name="dino")
    assert result.ok and max(result.errors.values()) <= 1e-4
    session = create_session(tmp_path / "dino.onnx", RuntimeConfig(device="cpu"))
    pixels = prepare_image(astronaut, spec_input)
    assert pixels.shape == (1, 3, 64, 96)
    (features,) = session.run({"pixel_values": pixels})
    with torch.no_grad():
        reference = backbone(torch.from_numpy(pixels)).numpy()
    assert np.abs(features - reference).max() / np.abs(reference).max() <= 1e-4


def test_missing_backbone_says_what_to_fetch(tmp_path):
    with pytest.raises(BackboneMissingError, match="moodsic models fetch clip-b32"):
        load_backbone("clip-b32", tmp_path)
    with pytest.raises(KeyError):
        load_backbone("resnet", tmp_path)


def test_head_file_round_trip_and_scene_export(tmp_path_factory, tmp_path):
    folder = model_files.tiny_backbone_dir(tmp_path_factory)
    backbone = load_backbone("clip-b32", folder)
    spec_input = input_spec(backbone.spec, (224, 224))
    torch.manual_seed(1)
    head = SceneHead(32, hidden=16, dropout=0.2)
    calibration = {"valence": [1.1, 0.05], "arousal": [0.9, -0.02]}
    checkpoint = HeadCheckpoint(
        head, "clip-b32", backbone_id(backbone, spec_input), spec_input, calibration, (0.2, 0.3)
    )
    path = save_head_checkpoint(checkpoint, tmp_path / "scene.head.pt")
    loaded = load_head_checkpoint(path)
    assert loaded.calibration == calibration and loaded.residual_std == (0.2, 0.3)
    assert all(
        torch.equal(a, b) for a, b in zip(loaded.head.state_dict().values(), head.state_dict().values(), strict=True)
    )
    result = export_scene(path, tmp_path / "out", backbone_dir=folder, name="scene-x", samples=6)
    assert all(parity.ok for parity in result.parity.values())
    expert = OnnxSceneExpert(result.backbone, result.head)
    assert expert.samples == 6 and expert.calibration == calibration and expert.residual_std == (0.2, 0.3)
    assert "non-commercial" in expert.terms.licence and expert.terms.commercial_use is False
    other = save_random_backbone("clip-b32", tmp_path / "other", tiny=True, seed=5)
    with pytest.raises(ValueError, match="trained on other clip-b32 weights"):
        export_scene(path, tmp_path / "out2", backbone_dir=other)
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a readable scene head"):
        load_head_checkpoint(tmp_path / "junk.pt")
