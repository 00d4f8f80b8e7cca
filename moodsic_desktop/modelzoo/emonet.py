"""EmoNet (Toisoul, Kossaifi, Bulat, Tzimiropoulos & Pantic 2021) in PyTorch, with its checkpoint loader
and ONNX export.

Architecture (written here to match the upstream checkpoints ``emonet_8.pth`` / ``emonet_5.pth`` of
face-analysis/emonet parameter for parameter; the layout is in ``../shared/fixtures/emonet``):

- Stem: 7x7 stride-2 convolution (3 → 64) + norm + ReLU, then bottleneck blocks 64 → 128 (followed by
  2x2 max-pooling), 128 → 128, 128 → 256. A 256 x 256 input becomes 256 x 64 x 64.
- Two stacked hourglasses (depth 4, 256 channels), each followed by a block, a 1x1 convolution + norm +
  ReLU, and a 1x1 convolution to 68 landmark heatmaps (64 x 64). Between the stacks the features and the
  heatmaps are mapped back (1x1) and added to the stack's input.
- Emotion branch: the features after each stack, multiplied by an attention mask (the sum of the last
  stack's 68 heatmaps over channels), concatenated with the stem output (768 channels) → 1x1 conv to 256
  → four blocks each followed by 2x2 max-pooling (64 → 4) → 4x4 average pooling → Linear 256 → 128 →
  norm → ReLU → Linear 128 → n + 2: n expression logits, valence, arousal.

Every "norm" is ``BatchNorm2d`` (upstream aliases ``InstanceNorm2d`` to it), used with its running
statistics in eval mode. A bottleneck block (:class:`ConvBlock`) is pre-activation: three 3x3
convolutions giving out/2, out/4 and out/4 channels, concatenated, plus the input (through norm, ReLU and
a 1x1 convolution when the channel counts differ).

Input: N x 3 x 256 x 256 RGB in [0, 1] (pixel / 255, no mean or standard deviation). Outputs: valence and
arousal in [-1, 1] after clamping (raw values may leave it), expression logits, heatmaps.

Licence: EmoNet's code and weights are CC BY-NC-ND 4.0 — non-commercial use only; weights are never
bundled, the user downloads them (``moodsic models fetch emonet-8``).

Main thread of ``moodsic models`` / ``moodsic bench`` (PyTorch); the program itself runs the exported ONNX
file through :mod:`moodsic_desktop.perception.emonet_expert`.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from torch import nn

from moodsic_desktop.modelzoo.onnx_export import export_with_probe
from moodsic_desktop.perception.model_check import ParityResult
from moodsic_desktop.perception.model_store import sha256_file

__all__ = [
    "EMONET_CLASSES",
    "EMONET_LICENCE",
    "CheckpointError",
    "EmoNet",
    "EmoNetForExport",
    "LoadedCheckpoint",
    "export_emonet",
    "load_emonet_checkpoint",
    "synthetic_state_dict",
]

EMONET_CLASSES = {
    8: ("Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger", "Contempt"),
    5: ("Neutral", "Happy", "Sad", "Surprise", "Fear"),
}
EMONET_LICENCE = "CC BY-NC-ND 4.0"
EMONET_SOURCE = "https://github.com/face-analysis/emonet"
INPUT_SIZE = 256
N_LANDMARKS = 68
N_REGRESSION = 2


def _conv3x3(in_planes: int, out_planes: int) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=1, padding=1, bias=False)


class ConvBlock(nn.Module):
    """Pre-activation bottleneck: three 3x3 convolutions (out/2, out/4, out/4 channels) concatenated, plus
    the input (projected by norm → ReLU → 1x1 convolution when ``in_planes != out_planes``)."""

    def __init__(self, in_planes: int, out_planes: int) -> None:
        super().__init__()
        half, quarter = out_planes // 2, out_planes // 4
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = _conv3x3(in_planes, half)
        self.bn2 = nn.BatchNorm2d(half)
        self.conv2 = _conv3x3(half, quarter)
        self.bn3 = nn.BatchNorm2d(quarter)
        self.conv3 = _conv3x3(quarter, quarter)
        self.downsample = (
            nn.Sequential(
                nn.BatchNorm2d(in_planes),
                nn.ReLU(inplace=True),
                nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=1, bias=False),
            )
            if in_planes != out_planes
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out1 = self.conv1(F.relu(self.bn1(x)))
        out2 = self.conv2(F.relu(self.bn2(out1)))
        out3 = self.conv3(F.relu(self.bn3(out2)))
        residual = x if self.downsample is None else self.downsample(x)
        return torch.cat((out1, out2, out3), dim=1) + residual


class HourGlass(nn.Module):
    """Recursive hourglass of ``depth`` levels on 256 channels. Level L: an upper branch block ``b1_L`` at
    full resolution; a lower branch that max-pools by 2, applies ``b2_L``, recurses (or ``b2_plus_1`` at
    the bottom), applies ``b3_L`` and upsamples by 2 (nearest); the sum of both branches."""

    def __init__(self, depth: int = 4, features: int = 256) -> None:
        super().__init__()
        self.depth = depth
        self._add_level(depth, features)

    def _add_level(self, level: int, features: int) -> None:
        # Registration order is upstream's (it fixes the state dict's key order).
        self.add_module(f"b1_{level}", ConvBlock(features, features))
        self.add_module(f"b2_{level}", ConvBlock(features, features))
        if level > 1:
            self._add_level(level - 1, features)
        else:
            self.add_module(f"b2_plus_{level}", ConvBlock(features, features))
        self.add_module(f"b3_{level}", ConvBlock(features, features))

    def _level(self, level: int, x: torch.Tensor) -> torch.Tensor:
        upper = self.get_submodule(f"b1_{level}")(x)
        lower = self.get_submodule(f"b2_{level}")(F.max_pool2d(x, 2, stride=2))
        lower = self._level(level - 1, lower) if level > 1 else self.get_submodule(f"b2_plus_{level}")(lower)
        lower = self.get_submodule(f"b3_{level}")(lower)
        return upper + F.interpolate(lower, scale_factor=2.0, mode="nearest")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._level(self.depth, x)


class EmoNet(nn.Module):
    """EmoNet with ``n_expression`` classes (8 or 5) and 2 stacked hourglasses (see the module docstring).

    ``forward(x)`` takes N x 3 x 256 x 256 RGB in [0, 1] and returns a dict: ``heatmap`` (N x 68 x 64 x 64),
    ``expression`` (N x n logits), ``valence`` and ``arousal`` (N, raw: not clamped).
    """

    def __init__(self, n_expression: int = 8, num_modules: int = 2, n_blocks: int = 4) -> None:
        super().__init__()
        self.n_expression = n_expression
        self.num_modules = num_modules
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = ConvBlock(64, 128)
        self.conv3 = ConvBlock(128, 128)
        self.conv4 = ConvBlock(128, 256)
        for i in range(num_modules):
            self.add_module(f"m{i}", HourGlass(4, 256))
            self.add_module(f"top_m_{i}", ConvBlock(256, 256))
            self.add_module(f"conv_last{i}", nn.Conv2d(256, 256, kernel_size=1, stride=1, padding=0))
            self.add_module(f"bn_end{i}", nn.BatchNorm2d(256))
            self.add_module(f"l{i}", nn.Conv2d(256, N_LANDMARKS, kernel_size=1, stride=1, padding=0))
            if i < num_modules - 1:
                self.add_module(f"bl{i}", nn.Conv2d(256, 256, kernel_size=1, stride=1, padding=0))
                self.add_module(f"al{i}", nn.Conv2d(N_LANDMARKS, 256, kernel_size=1, stride=1, padding=0))
        self.conv1x1_input_emo_2 = nn.Conv2d(256 * (num_modules + 1), 256, kernel_size=1, stride=1, padding=0)
        blocks: list[nn.Module] = []
        for _ in range(n_blocks):
            blocks += [ConvBlock(256, 256), nn.MaxPool2d(2, 2)]
        self.emo_net_2 = nn.Sequential(*blocks)
        self.avg_pool_2 = nn.AvgPool2d(4)
        self.emo_fc_2 = nn.Sequential(
            nn.Linear(256, 128), nn.BatchNorm1d(128), nn.ReLU(inplace=True), nn.Linear(128, n_expression + N_REGRESSION)
        )

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(self.conv2(x), 2, stride=2)
        x = self.conv4(self.conv3(x))
        previous = x
        features = []
        heatmap = x  # replaced in the loop
        for i in range(self.num_modules):
            out = self.get_submodule(f"top_m_{i}")(self.get_submodule(f"m{i}")(previous))
            out = F.relu(self.get_submodule(f"bn_end{i}")(self.get_submodule(f"conv_last{i}")(out)))
            heatmap = self.get_submodule(f"l{i}")(out)
            if i < self.num_modules - 1:
                out = self.get_submodule(f"bl{i}")(out)
                previous = previous + out + self.get_submodule(f"al{i}")(heatmap)
            features.append(out)
        mask = heatmap.sum(dim=1, keepdim=True)
        emotion = torch.cat((x, torch.cat(features, dim=1) * mask), dim=1)
        emotion = self.emo_net_2(self.conv1x1_input_emo_2(emotion))
        emotion = self.avg_pool_2(emotion).flatten(1)
        emotion = self.emo_fc_2(emotion)
        return {
            "heatmap": heatmap,
            "expression": emotion[:, :-2],
            "valence": emotion[:, -2],
            "arousal": emotion[:, -1],
        }


class EmoNetForExport(nn.Module):
    """EmoNet with the exported outputs as a tuple: valence, arousal (clamped to [-1, 1]), expression
    logits, and the heatmaps when ``keep_heatmap``."""

    def __init__(self, emonet: EmoNet, keep_heatmap: bool = False) -> None:
        super().__init__()
        self.emonet = emonet
        self.keep_heatmap = keep_heatmap

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.emonet(image)
        result = (out["valence"].clamp(-1.0, 1.0), out["arousal"].clamp(-1.0, 1.0), out["expression"])
        return (*result, out["heatmap"]) if self.keep_heatmap else result


# ---------------------------------------------------------------------------------------------- checkpoints
class CheckpointError(ValueError):
    """A checkpoint that is not an EmoNet state dict; the message lists what is wrong."""


@dataclass
class LoadedCheckpoint:
    """An EmoNet with a checkpoint loaded (eval mode), its class count and the file's SHA-256."""

    model: EmoNet
    n_expression: int
    sha256: str | None
    path: Path | None


def _describe_keys(keys: list[str], limit: int = 6) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" … ({len(keys)} in all)" if len(keys) > limit else "")


def load_emonet_state(state: Mapping[str, Any], *, source: str = "checkpoint") -> EmoNet:
    """An eval-mode EmoNet from a state dict, loaded strictly.

    A ``module.`` prefix (DataParallel) is stripped; missing ``num_batches_tracked`` buffers are tolerated;
    any other missing or unexpected key, or a shape that differs, raises :class:`CheckpointError`."""
    if not isinstance(state, Mapping) or not state:
        raise CheckpointError(f"{source} holds no state dict")
    cleaned = {}
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{source} is not a state dict (entry {key!r} is not a tensor)")
        cleaned[key.removeprefix("module.")] = value
    head = cleaned.get("emo_fc_2.3.weight")
    if head is None or head.ndim != 2 or head.shape[0] - N_REGRESSION not in EMONET_CLASSES:
        shape = None if head is None else tuple(head.shape)
        raise CheckpointError(
            f"{source} is not an EmoNet checkpoint: emo_fc_2.3.weight is {shape}, expected (10, 128) or (7, 128)"
        )
    n_expression = head.shape[0] - N_REGRESSION
    model = EmoNet(n_expression=n_expression)
    expected = model.state_dict()
    missing = [k for k in expected if k not in cleaned and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in cleaned if k not in expected]
    wrong = [
        f"{k} {tuple(cleaned[k].shape)} (expected {tuple(expected[k].shape)})"
        for k in expected
        if k in cleaned and cleaned[k].shape != expected[k].shape
    ]
    problems = []
    if missing:
        problems.append(f"missing keys: {_describe_keys(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_describe_keys(unexpected)}")
    if wrong:
        problems.append(f"wrong shapes: {_describe_keys(wrong)}")
    if problems:
        raise CheckpointError(f"{source} does not fit EmoNet-{n_expression}: " + "; ".join(problems))
    for key, value in expected.items():
        if key.endswith("num_batches_tracked") and key not in cleaned:
            cleaned[key] = torch.zeros_like(value)
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in cleaned.items()}, strict=True)
    return model.eval()


def load_emonet_checkpoint(path: str | os.PathLike[str]) -> LoadedCheckpoint:
    """Load an upstream checkpoint (``emonet_8.pth`` / ``emonet_5.pth``) strictly (see
    :func:`load_emonet_state`). Also accepts ``{"state_dict": …}`` wrappers. Raises
    :class:`CheckpointError` for files that are not EmoNet checkpoints, ``OSError`` when unreadable."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, ValueError, EOFError, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise CheckpointError(f"{path} is not a readable PyTorch checkpoint ({str(error).splitlines()[0]})") from None
    except Exception as error:  # pickle errors of a weights-only load come in several types
        raise CheckpointError(f"{path} is not a readable PyTorch checkpoint ({type(error).__name__})") from None
    if isinstance(state, Mapping) and "state_dict" in state and isinstance(state["state_dict"], Mapping):
        state = state["state_dict"]
    model = load_emonet_state(state, source=str(path))
    return LoadedCheckpoint(model=model, n_expression=model.n_expression, sha256=sha256_file(path), path=path)


def synthetic_state_dict(n_expression: int = 8) -> dict[str, torch.Tensor]:
    """The deterministic state dict of ``../shared/fixtures/emonet/README.md``: for each key,
    ``rng = default_rng(crc32(name))``, ``z = rng.standard_normal(shape)``; weights of rank ≥ 2
    ``0.5 z sqrt(1 / fan_in)``, ``running_var`` ``1 + 0.1 |z|``, other ``weight`` ``1 + 0.1 z``, the rest
    ``0.1 z``; ``num_batches_tracked`` zeros. A stand-in for real weights (tests, benchmarks)."""
    state = {}
    for name, value in EmoNet(n_expression=n_expression).state_dict().items():
        shape = tuple(value.shape)
        if name.endswith("num_batches_tracked"):
            state[name] = torch.zeros(shape, dtype=torch.int64)
            continue
        z = np.random.default_rng(zlib.crc32(name.encode())).standard_normal(shape)
        if len(shape) >= 2:
            array = 0.5 * z * np.sqrt(1.0 / np.prod(shape[1:]))
        elif name.endswith("running_var"):
            array = 1.0 + 0.1 * np.abs(z)
        elif name.endswith("weight"):
            array = 1.0 + 0.1 * z
        else:
            array = 0.1 * z
        state[name] = torch.from_numpy(np.asarray(array, dtype=np.float32))
    return state


# ---------------------------------------------------------------------------------------------- export
def export_emonet(
    model: EmoNet,
    out: str | os.PathLike[str],
    *,
    source_name: str,
    source_sha256: str | None,
    keep_heatmap: bool = False,
) -> ParityResult:
    """Export an eval-mode EmoNet to ONNX: input ``image`` (N x 3 x 256 x 256, RGB in [0, 1]; N dynamic),
    outputs ``valence``, ``arousal`` (N, clamped to [-1, 1]), ``expression`` (N x n logits) and optionally
    ``heatmap``; metadata (kind, classes, input size and scaling, licence, source and its SHA-256) and a
    parity probe checked with onnxruntime (relative error ≤ 1e-4, else ``ParityError``)."""
    classes = EMONET_CLASSES[model.n_expression]
    outputs = ["valence", "arousal", "expression"] + (["heatmap"] if keep_heatmap else [])
    metadata = {
        "kind": "emonet",
        "expert": "face",
        "name": f"emonet-{model.n_expression}",
        "classes": list(classes),
        "input": {
            "name": "image",
            "layout": "NCHW",
            "channels": "RGB",
            "size": [INPUT_SIZE, INPUT_SIZE],
            "scaling": "pixel / 255, values in [0, 1], no mean/std normalisation",
        },
        "outputs": {
            "valence": "N, reference space, clamped to [-1, 1]",
            "arousal": "N, reference space, clamped to [-1, 1]",
            "expression": f"N x {len(classes)} logits (softmax for probabilities)",
        },
        "licence": EMONET_LICENCE,
        "commercial_use": False,
        "licence_note": "EmoNet code and weights: CC BY-NC-ND 4.0, non-commercial use only "
        "(https://creativecommons.org/licenses/by-nc-nd/4.0/)",
        "source": source_name,
        "source_url": EMONET_SOURCE,
        "source_sha256": source_sha256 or "unknown",
    }
    dynamic = {name: {0: "batch"} for name in ["image", *outputs]}
    return export_with_probe(
        EmoNetForExport(model.eval(), keep_heatmap=keep_heatmap),
        out,
        probe_inputs={"image": {"kind": "uniform", "seed": 0, "shape": [2, 3, INPUT_SIZE, INPUT_SIZE]}},
        input_names=["image"],
        output_names=outputs,
        dynamic_axes=dynamic,
        metadata=metadata,
    )
