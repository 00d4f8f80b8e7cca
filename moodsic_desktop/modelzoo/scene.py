"""Scene model in PyTorch: a transformers image backbone and a small V-A head, exported as TWO ONNX graphs.

Backbones (:data:`BACKBONES`): CLIP ViT-B/32 (``clip-b32``, 224 x 224, about 4.4 GFLOPs, the default) and
DINOv3 ViT-S/16 / ViT-B/16 (``dinov3-s16``, ``dinov3-b16``; any input size divisible by 16, letterboxed —
the research setting 800 x 608 costs about 2.6 s per frame on two CPU cores, so 224 x 224 is the
default). The features are the backbone's pooled output (the final-normed CLS token): 768 (B) or 384 (S)
numbers. Weights come from a local Hugging Face folder (``config.json`` + ``model.safetensors``), by default
``models/hub/<backbone>/``, which ``moodsic models fetch`` fills.

Head (:class:`SceneHead`): LayerNorm → Dropout(p) → Linear(d, h) → GELU → Linear(h, 2) → Sigmoid, giving
(valence, arousal) in [0, 1] units (FindingEmo's scale normalised; see
:func:`moodsic_desktop.perception.onnx_scene_expert.units_to_reference`).

The exported head (:class:`MCDropoutHead`) takes the dropout masks as an INPUT, ``mask`` (B x S x d), and
returns S samples per image (B x S x 2): with a mask of ones it computes exactly the eval-mode head, with
inverted-dropout masks it draws Monte Carlo dropout samples — all S in one call on one backbone pass.

Main thread of the ``moodsic models`` commands.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from moodsic_desktop.modelzoo.onnx_export import export_with_probe
from moodsic_desktop.paths import models_dir
from moodsic_desktop.perception.model_check import ParityResult
from moodsic_desktop.perception.model_store import sha256_file
from moodsic_desktop.perception.onnx_scene_expert import validate_fit

if TYPE_CHECKING:  # transformers is imported when a backbone is used (seconds), not with this module
    from transformers import PretrainedConfig, PreTrainedModel

__all__ = [
    "BACKBONES",
    "BackboneMissingError",
    "BackboneSpec",
    "HeadCheckpoint",
    "MCDropoutHead",
    "SceneBackbone",
    "SceneHead",
    "backbone_id",
    "default_backbone_dir",
    "export_backbone",
    "export_head",
    "input_spec",
    "load_backbone",
    "load_head_checkpoint",
    "parse_input_size",
    "save_head_checkpoint",
    "save_random_backbone",
]

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class BackboneSpec:
    """A supported backbone: Hugging Face repository, default input (height, width) in pixels,
    normalisation, patch size, licence, and whether the repository is gated (needs a login and accepted
    terms)."""

    key: str
    family: str
    hub_id: str
    input_size: tuple[int, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    patch: int
    licence: str
    commercial_use: bool
    gated: bool = False


BACKBONES: dict[str, BackboneSpec] = {
    "clip-b32": BackboneSpec(
        "clip-b32",
        "clip",
        "openai/clip-vit-base-patch32",
        (224, 224),
        CLIP_MEAN,
        CLIP_STD,
        32,
        "MIT (OpenAI CLIP)",
        True,
    ),
    "dinov3-s16": BackboneSpec(
        "dinov3-s16",
        "dinov3",
        "facebook/dinov3-vits16-pretrain-lvd1689m",
        (224, 224),
        IMAGENET_MEAN,
        IMAGENET_STD,
        16,
        "DINOv3 License (Meta; read its terms before commercial use)",
        True,
        gated=True,
    ),
    "dinov3-b16": BackboneSpec(
        "dinov3-b16",
        "dinov3",
        "facebook/dinov3-vitb16-pretrain-lvd1689m",
        (224, 224),
        IMAGENET_MEAN,
        IMAGENET_STD,
        16,
        "DINOv3 License (Meta; read its terms before commercial use)",
        True,
        gated=True,
    ),
}


class BackboneMissingError(FileNotFoundError):
    """No backbone weights where they were looked for; the message says how to get them."""


def parse_input_size(text: str | None, spec: BackboneSpec) -> tuple[int, int]:
    """``"WxH"`` (e.g. ``800x608``) → (height, width); ``None`` → the backbone's default. Sizes must be
    multiples of the patch size. Raises ``ValueError`` otherwise."""
    if text is None:
        return spec.input_size
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"input size must look like 224x224 (width x height), got {text!r}") from None
    if width < spec.patch or height < spec.patch or width % spec.patch or height % spec.patch:
        raise ValueError(f"{spec.key} needs sizes that are multiples of {spec.patch} px, got {width}x{height}")
    return height, width


def input_spec(spec: BackboneSpec, size: tuple[int, int], fit: str = "letterbox") -> dict[str, Any]:
    """The backbone input description stored in its ONNX file (``moodsic.input``) and used by
    ``prepare_image``: size [H, W], fit, per-channel mean and std on the [0, 1] scale."""
    validate_fit(fit)
    return {
        "name": "pixel_values",
        "layout": "NCHW",
        "channels": "RGB",
        "size": [int(size[0]), int(size[1])],
        "fit": fit,
        "mean": list(spec.mean),
        "std": list(spec.std),
        "scaling": "(pixel / 255 - mean) / std",
    }


def default_backbone_dir(key: str) -> Path:
    """Where ``moodsic models fetch`` puts a backbone's Hugging Face files: ``models/hub/<key>/``."""
    return models_dir() / "hub" / key


def _model_classes(family: str) -> tuple[type[PretrainedConfig], type[PreTrainedModel]]:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" / "Writing model shards" bars on every load
    if family == "clip":
        from transformers import CLIPVisionConfig, CLIPVisionModel

        return CLIPVisionConfig, CLIPVisionModel
    from transformers import DINOv3ViTConfig, DINOv3ViTModel

    return DINOv3ViTConfig, DINOv3ViTModel


class SceneBackbone(nn.Module):
    """A transformers vision model returning its pooled features (B x d float32) for ``pixel_values``
    (B x 3 x H x W, normalised as in :func:`input_spec`)."""

    def __init__(self, model: PreTrainedModel, spec: BackboneSpec, weights_sha256: str) -> None:
        super().__init__()
        self.model = model
        self.spec = spec
        self.weights_sha256 = weights_sha256
        self.feature_dim = int(model.config.hidden_size)
        self.native_size = int(getattr(model.config, "image_size", 224))

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        if self.spec.family == "clip":
            size_differs = tuple(pixel_values.shape[-2:]) != (self.native_size, self.native_size)
            out = self.model(pixel_values=pixel_values, interpolate_pos_encoding=size_differs)
        else:
            out = self.model(pixel_values=pixel_values)
        return out.pooler_output


def _weights_digest(directory: Path) -> str:
    files = sorted(p for p in directory.iterdir() if p.suffix in (".safetensors", ".bin") and p.is_file())
    if not files:
        raise BackboneMissingError(f"no weights (*.safetensors or *.bin) in {directory}")
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.name}:{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def load_backbone(key: str, directory: str | os.PathLike[str] | None = None) -> SceneBackbone:
    """The backbone ``key`` with the weights of ``directory`` (default ``models/hub/<key>``), in eval mode.

    Raises ``KeyError`` for an unknown key and :class:`BackboneMissingError`, saying what to fetch, when the
    folder holds no weights."""
    if key not in BACKBONES:
        raise KeyError(f"unknown backbone {key!r}; known: {', '.join(BACKBONES)}")
    spec = BACKBONES[key]
    folder = Path(directory) if directory is not None else default_backbone_dir(key)
    if not (folder / "config.json").is_file():
        raise BackboneMissingError(
            f"no {key} backbone in {folder} (needs config.json and the weights from "
            f"https://huggingface.co/{spec.hub_id}): run `moodsic models fetch {key}` or download them by hand"
        )
    digest = _weights_digest(folder)
    _, model_class = _model_classes(spec.family)
    import transformers

    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # a CLIP checkpoint also holds the text tower: expected
    try:
        model = model_class.from_pretrained(str(folder), local_files_only=True)
    finally:
        transformers.logging.set_verbosity(verbosity)
    return SceneBackbone(model.eval(), spec, digest)


def save_random_backbone(
    key: str, directory: str | os.PathLike[str], *, tiny: bool = True, seed: int = 0, image_size: int | None = None
) -> Path:
    """Write a randomly initialised backbone of ``key``'s architecture as a Hugging Face folder (for tests
    and benchmarks, where no weights can be downloaded). ``tiny``: 2 layers of width 32; otherwise the
    real size (CLIP ViT-B/32, DINOv3 ViT-S/16 or ViT-B/16)."""
    spec = BACKBONES[key]
    config_class, model_class = _model_classes(spec.family)
    options: dict[str, Any] = {"patch_size": spec.patch, "image_size": image_size or spec.input_size[0]}
    if tiny:
        options |= {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
    elif key == "dinov3-b16":
        options |= {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12}
    if spec.family == "dinov3":
        options |= {"num_register_tokens": 4}
    torch.manual_seed(seed)
    model = model_class(config_class(**options))
    if spec.family == "dinov3":
        embeddings: Any = model.embeddings  # DINOv3ViTEmbeddings (torch types a submodule as Tensor | Module)
        with torch.no_grad():  # unit-scale prefix tokens: tiny random models are otherwise ill-conditioned
            embeddings.cls_token.normal_()
            embeddings.register_tokens.normal_()
    folder = Path(directory)
    model.save_pretrained(str(folder))
    return folder


def backbone_id(backbone: SceneBackbone, spec_input: Mapping[str, Any]) -> str:
    """A short identity of backbone weights + input preparation; a head fits only the backbone with the same
    identity (stored as ``moodsic.backbone_id`` in both files)."""
    text = json.dumps({"hub": backbone.spec.hub_id, "weights": backbone.weights_sha256, "input": spec_input})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- head
class SceneHead(nn.Module):
    """LayerNorm → Dropout(``dropout``) → Linear(d, ``hidden``) → GELU → Linear(hidden, 2) → Sigmoid:
    (valence, arousal) in [0, 1] units from backbone features (B x d)."""

    def __init__(self, feature_dim: int, hidden: int = 256, dropout: float = 0.3) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.feature_dim, self.hidden, self.p = feature_dim, hidden, dropout
        self.norm = nn.LayerNorm(feature_dim)
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(feature_dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, 2)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc2(self.act(self.fc1(self.dropout(self.norm(features))))))

    def forward_masked(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """S samples per row: ``mask`` (B x S x d) replaces the dropout layer. Returns B x S x 2."""
        x = self.norm(features).unsqueeze(1) * mask
        return torch.sigmoid(self.fc2(self.act(self.fc1(x))))


class MCDropoutHead(nn.Module):
    """The exported head: ``(features B x d, mask B x S x d) → va B x S x 2`` (see the module docstring)."""

    def __init__(self, head: SceneHead) -> None:
        super().__init__()
        self.head = head

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head.forward_masked(features, mask)


@dataclass
class HeadCheckpoint:
    """A trained head and what belongs with it: the backbone it was trained on (key, identity, input),
    affine calibration and residual standard deviations in reference space, the test report, the licence of
    its training data."""

    head: SceneHead
    backbone: str
    backbone_id: str
    input: dict[str, Any]
    calibration: dict[str, list[float]] | None = None
    residual_std: tuple[float, float] = (0.25, 0.25)
    report: dict[str, Any] = field(default_factory=dict)
    data_licence: str = "FindingEmo annotations: non-commercial use only"


def save_head_checkpoint(checkpoint: HeadCheckpoint, path: str | os.PathLike[str]) -> Path:
    """Write the head and its context as a PyTorch file (loadable with ``weights_only=True``)."""
    head = checkpoint.head
    payload = {
        "format": "moodsic-scene-head",
        "version": 1,
        "state_dict": head.state_dict(),
        "feature_dim": head.feature_dim,
        "hidden": head.hidden,
        "dropout": head.p,
        "backbone": checkpoint.backbone,
        "backbone_id": checkpoint.backbone_id,
        "input": json.dumps(checkpoint.input),
        "calibration": json.dumps(checkpoint.calibration),
        "residual_std": list(checkpoint.residual_std),
        "report": json.dumps(checkpoint.report),
        "data_licence": checkpoint.data_licence,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)
    return path


def load_head_checkpoint(path: str | os.PathLike[str]) -> HeadCheckpoint:
    """Read a file written by :func:`save_head_checkpoint`; ``ValueError`` for anything else."""
    try:
        payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as error:
        raise ValueError(f"{path} is not a readable scene head file ({type(error).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != "moodsic-scene-head":
        raise ValueError(f"{path} is not a scene head written by `moodsic models train-scene`")
    head = SceneHead(int(payload["feature_dim"]), int(payload["hidden"]), float(payload["dropout"]))
    head.load_state_dict(payload["state_dict"], strict=True)
    return HeadCheckpoint(
        head=head.eval(),
        backbone=str(payload["backbone"]),
        backbone_id=str(payload["backbone_id"]),
        input=json.loads(payload["input"]),
        calibration=json.loads(payload["calibration"]),
        residual_std=tuple(float(x) for x in payload["residual_std"]),  # type: ignore[arg-type]
        report=json.loads(payload["report"]),
        data_licence=str(payload.get("data_licence", "")),
    )


# ---------------------------------------------------------------------------------------------- export
def export_backbone(
    backbone: SceneBackbone, out: str | os.PathLike[str], spec_input: Mapping[str, Any], *, name: str
) -> ParityResult:
    """Export the backbone: input ``pixel_values`` (N x 3 x H x W, N dynamic, H x W fixed by
    ``spec_input``), output ``features`` (N x d); metadata (kind ``scene-backbone``, backbone, input, feature
    size, licence, source, identity) and a parity probe (relative error ≤ 1e-4)."""
    height, width = spec_input["size"]
    spec = backbone.spec
    metadata = {
        "kind": "scene-backbone",
        "expert": "scene",
        "name": name,
        "backbone": spec.key,
        "input": dict(spec_input),
        "feature_dim": str(backbone.feature_dim),
        "licence": spec.licence,
        "commercial_use": spec.commercial_use,
        "source": f"https://huggingface.co/{spec.hub_id}",
        "source_sha256": backbone.weights_sha256,
        "backbone_id": backbone_id(backbone, spec_input),
    }
    return export_with_probe(
        backbone.eval(),
        out,
        probe_inputs={"pixel_values": {"kind": "normal", "seed": 0, "shape": [2, 3, height, width]}},
        input_names=["pixel_values"],
        output_names=["features"],
        dynamic_axes={"pixel_values": {0: "batch"}, "features": {0: "batch"}},
        metadata=metadata,
    )


def export_head(
    checkpoint: HeadCheckpoint, out: str | os.PathLike[str], *, name: str, samples: int = 16, licence: str
) -> ParityResult:
    """Export the MC-dropout head: inputs ``features`` (B x d) and ``mask`` (B x S x d), output ``va``
    (B x S x 2, [0, 1] units), B and S dynamic; metadata (kind ``scene-head``, dropout p, default samples,
    calibration, residual std, backbone identity, test report, licence) and a parity probe on dropout masks."""
    head = checkpoint.head.eval()
    d = head.feature_dim
    metadata = {
        "kind": "scene-head",
        "expert": "scene",
        "name": name,
        "backbone": checkpoint.backbone,
        "backbone_id": checkpoint.backbone_id,
        "feature_dim": str(d),
        "dropout": repr(float(head.p)),
        "samples": str(int(samples)),
        "output_units": "[0, 1]: FindingEmo valence 6u - 3 in [-3, 3], arousal 6u in [0, 6]",
        "residual_std": list(checkpoint.residual_std),
        "licence": licence,
        "commercial_use": False,
        "data_licence": checkpoint.data_licence,
        "test_report": checkpoint.report,
    }
    if checkpoint.calibration:
        metadata["calibration"] = checkpoint.calibration
    probe = {
        "features": {"kind": "normal", "seed": 0, "shape": [2, d]},
        "mask": {"kind": "dropout_mask", "seed": 1, "shape": [2, 4, d], "p": float(head.p)},
    }
    return export_with_probe(
        MCDropoutHead(head),
        out,
        probe_inputs=probe,
        input_names=["features", "mask"],
        output_names=["va"],
        dynamic_axes={"features": {0: "batch"}, "mask": {0: "batch", 1: "samples"}, "va": {0: "batch", 1: "samples"}},
        metadata=metadata,
    )


def scene_file_names(name: str) -> dict[str, str]:
    """The file names of a scene model called ``name``: backbone, head, head checkpoint and report."""
    return {
        "backbone": f"{name}.backbone.onnx",
        "head": f"{name}.head.onnx",
        "checkpoint": f"{name}.head.pt",
        "report": f"{name}.report.json",
    }


def head_licence(backbone: SceneBackbone | BackboneSpec | str, data_licence: str) -> str:
    """The licence line of a scene model: the backbone's and the training data's."""
    spec = backbone.spec if isinstance(backbone, SceneBackbone) else backbone
    spec = BACKBONES[spec] if isinstance(spec, str) else spec
    return f"backbone {spec.licence}; head trained on data under: {data_licence}"


@dataclass
class SceneExport:
    """Files written by :func:`export_scene` and the parity of each graph."""

    backbone: Path
    head: Path
    parity: dict[str, ParityResult]
    licence: str


def export_scene(
    checkpoint_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    backbone_dir: str | os.PathLike[str] | None = None,
    name: str | None = None,
    samples: int = 16,
) -> SceneExport:
    """Export backbone and head of a trained head file (``*.head.pt``) into ``out_dir`` as
    ``<name>.backbone.onnx`` and ``<name>.head.onnx``. The backbone weights (``backbone_dir``, default
    ``models/hub/<backbone>``) must be those the head was trained on (same identity), else ``ValueError``."""
    checkpoint = load_head_checkpoint(checkpoint_path)
    backbone = load_backbone(checkpoint.backbone, backbone_dir)
    identity = backbone_id(backbone, checkpoint.input)
    if identity != checkpoint.backbone_id:
        raise ValueError(
            f"the head in {checkpoint_path} was trained on other {checkpoint.backbone} weights or input settings "
            f"(identity {checkpoint.backbone_id}, these give {identity})"
        )
    name = name or f"scene-{checkpoint.backbone}"
    files = {role: Path(out_dir) / file for role, file in scene_file_names(name).items()}
    parity = {"backbone": export_backbone(backbone, files["backbone"], checkpoint.input, name=name)}
    licence = head_licence(backbone, checkpoint.data_licence)
    parity["head"] = export_head(checkpoint, files["head"], name=name, samples=samples, licence=licence)
    return SceneExport(files["backbone"], files["head"], parity, licence)
