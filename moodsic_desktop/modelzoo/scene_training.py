r"""Training the scene head on FindingEmo (``moodsic models train-scene``).

Data: a FindingEmo folder — the annotation file (``annotations_single.ann`` as shipped by the
findingemo-light package: CSV with ``image_path``, ``valence`` in [-3, 3], ``arousal`` in [0, 6]) and the
images the user downloaded, at ``<folder>/<image_path>``. Rows whose image is missing or unreadable are
counted and left out; several rows for one image are averaged.

Split: valence-arousal bins (valence < -0.5, within ±0.5, > 0.5; arousal < 2, 2..4, ≥ 4 — nine bins),
each shuffled with the seed and cut 70 / 15 / 15 into train, validation and test, so every split covers
the whole plane.

Features: the backbone is exported to ONNX first and the features are computed with onnxruntime, exactly
as the running program computes them, and cached (``features-<backbone id>.npz`` in the cache folder):
a second run, or another head on the same backbone, does not run the backbone again.

Head: :class:`~moodsic_desktop.modelzoo.scene.SceneHead` trained with AdamW on the mean squared error in
[0, 1] units (targets from ``EmotionScaleAligner.findingemo_to_reference``, :math:`u = (x_{ref} + 1)/2`);
early stopping on the validation mean absolute error with ``patience`` epochs, keeping the best epoch.

Optional calibration (``calibrate=True``): per dimension an affine map :math:`x' = a x + b` in reference
space, least squares on the validation predictions, slope clipped to [0.25, 4]; stored in the head's
metadata. The residual standard deviation on validation (reference units, after calibration) is stored
too and becomes the scene expert's floor of uncertainty.

Report (``<name>.report.json`` next to the model, also inside the head file): per split, in FindingEmo
units, MAE of valence and arousal and their mean, Spearman :math:`\rho`, and Lin's concordance correlation
:math:`CCC = 2\,\mathrm{cov}(x, y) / (\sigma_x^2 + \sigma_y^2 + (\mu_x - \mu_y)^2)`, for eval-mode
predictions; and the same for a constant predictor (the training mean) for scale.

Main thread of the ``moodsic models`` command.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from moodsic_desktop import atomic_files
from moodsic_desktop.core.findingemo import (
    SPLITS,
    Sample,
    binned_split,
    find_annotations,
    findingemo_metrics,
    read_findingemo,
)
from moodsic_desktop.core.metrics import ccc  # re-exported (see __all__)
from moodsic_desktop.core.scales import EmotionScaleAligner
from moodsic_desktop.modelzoo.scene import (
    BACKBONES,
    HeadCheckpoint,
    SceneHead,
    backbone_id,
    export_backbone,
    export_head,
    head_licence,
    input_spec,
    load_backbone,
    parse_input_size,
    save_head_checkpoint,
    scene_file_names,
)
from moodsic_desktop.paths import models_dir
from moodsic_desktop.perception.model_store import META_PREFIX, make_entry, read_onnx_metadata, register_model
from moodsic_desktop.perception.onnx_runtime import OnnxModel, RuntimeConfig, create_session
from moodsic_desktop.perception.onnx_scene_expert import prepare_image, units_to_reference

__all__ = [
    "Sample",
    "TrainOptions",
    "TrainResult",
    "binned_split",
    "ccc",
    "extract_features",
    "find_annotations",
    "findingemo_metrics",
    "fit_calibration",
    "read_findingemo",
    "train_head",
    "train_scene",
]

_ALIGNER = EmotionScaleAligner()


def _read_rgb(path: Path) -> np.ndarray | None:
    data = np.fromfile(str(path), dtype=np.uint8)  # np.fromfile + imdecode: non-ASCII paths on Windows
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def extract_features(
    samples: Sequence[Sample],
    backbone: OnnxModel,
    spec_input: dict[str, Any],
    cache_file: Path | None,
    *,
    batch_size: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Backbone features (n x d float32) of the samples' images, from the cache where present, and a mask
    of the samples whose image could be decoded. The cache is saved every few hundred images."""
    cached: dict[str, np.ndarray] = {}
    if cache_file is not None and cache_file.is_file():
        with np.load(cache_file, allow_pickle=False) as data:
            cached = dict(zip(data["keys"].tolist(), data["features"], strict=True))
    todo = [s for s in samples if s.key not in cached]
    unreadable: set[str] = set()
    dirty = 0
    for start in range(0, len(todo), batch_size):
        chunk, inputs = [], []
        for sample in todo[start : start + batch_size]:
            image = _read_rgb(sample.image)
            if image is None:
                unreadable.add(sample.key)
                continue
            chunk.append(sample)
            inputs.append(prepare_image(image, spec_input))
        if inputs:
            (features,) = backbone.run({"pixel_values": np.concatenate(inputs)}, ["features"])
            cached.update({s.key: f.astype(np.float32) for s, f in zip(chunk, features, strict=True)})
            dirty += len(chunk)
        if progress is not None:
            progress(min(start + batch_size, len(todo)), len(todo))
        if cache_file is not None and dirty >= 256:
            _save_cache(cache_file, cached)
            dirty = 0
    if cache_file is not None and dirty:
        _save_cache(cache_file, cached)
    ok = np.array([s.key in cached for s in samples], dtype=bool)
    dim = next(iter(cached.values())).shape[0] if cached else 0
    features = np.stack([cached[s.key] for s in samples if s.key in cached]) if ok.any() else np.zeros((0, dim))
    return features.astype(np.float32), ok


def _save_cache(path: Path, cached: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted(cached)
    with atomic_files.replacing(path) as temporary, open(temporary, "wb") as out:  # a file: savez adds no ".npz"
        np.savez(out, keys=np.array(keys), features=np.stack([cached[k] for k in keys]))


def _units(samples: Sequence[Sample]) -> np.ndarray:
    v, a = _ALIGNER.findingemo_to_reference([s.valence for s in samples], [s.arousal for s in samples])
    return ((np.stack([v, a], axis=1) + 1.0) / 2.0).astype(np.float32)


def train_head(
    train_x: np.ndarray,
    train_y: np.ndarray,
    val_x: np.ndarray,
    val_y: np.ndarray,
    *,
    hidden: int = 256,
    dropout: float = 0.3,
    lr: float = 1e-3,
    weight_decay: float = 1e-2,
    epochs: int = 300,
    patience: int = 20,
    batch_size: int = 256,
    seed: int = 0,
) -> tuple[SceneHead, dict[str, Any]]:
    """Train a head on features (n x d) and [0, 1]-unit targets (n x 2) with early stopping on the
    validation MAE (units); returns the best head (eval mode) and the history."""
    torch.manual_seed(seed)
    head = SceneHead(train_x.shape[1], hidden=hidden, dropout=dropout)
    optimiser = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    x, y = torch.from_numpy(train_x), torch.from_numpy(train_y)
    vx, vy = torch.from_numpy(val_x), torch.from_numpy(val_y)
    generator = torch.Generator().manual_seed(seed)
    best = (math.inf, 0, {k: v.clone() for k, v in head.state_dict().items()})
    history: list[float] = []
    for epoch in range(1, epochs + 1):
        head.train()
        for index in torch.randperm(len(x), generator=generator).split(batch_size):
            optimiser.zero_grad()
            loss = torch.nn.functional.mse_loss(head(x[index]), y[index])
            loss.backward()
            optimiser.step()
        head.eval()
        with torch.no_grad():
            val_mae = float((head(vx) - vy).abs().mean()) if len(vx) else float(loss)
        history.append(val_mae)
        if val_mae < best[0] - 1e-6:
            best = (val_mae, epoch, {k: v.clone() for k, v in head.state_dict().items()})
        elif epoch - best[1] >= patience:
            break
    head.load_state_dict(best[2])
    info = {"epochs_run": len(history), "best_epoch": best[1], "best_val_mae_units": best[0], "val_mae_units": history}
    return head.eval(), info


def fit_calibration(pred_ref: np.ndarray, true_ref: np.ndarray) -> dict[str, list[float]]:
    """Per-dimension affine ``[slope, intercept]`` (reference space) by least squares, slope in [0.25, 4]."""
    calibration = {}
    for index, name in enumerate(("valence", "arousal")):
        x, y = pred_ref[:, index], true_ref[:, index]
        slope = float(np.cov(x, y, bias=True)[0, 1] / x.var()) if len(x) > 1 and x.var() > 1e-12 else 1.0
        slope = float(np.clip(slope, 0.25, 4.0))
        calibration[name] = [slope, float(y.mean() - slope * x.mean())]
    return calibration


@dataclass
class TrainOptions:
    """Everything ``moodsic models train-scene`` takes (defaults as on the command line)."""

    findingemo: Path
    backbone: str = "clip-b32"
    backbone_dir: Path | None = None
    annotations: Path | None = None
    input_size: str | None = None
    fit: str = "letterbox"
    out_dir: Path | None = None
    name: str | None = None
    cache_dir: Path | None = None
    hidden: int = 256
    dropout: float = 0.3
    lr: float = 1e-3
    epochs: int = 300
    patience: int = 20
    batch_size: int = 256
    samples: int = 16
    seed: int = 0
    calibrate: bool = False
    register: bool = True


@dataclass
class TrainResult:
    """Where the files went and the report."""

    backbone_onnx: Path
    head_onnx: Path
    checkpoint: Path
    report_path: Path
    report: dict[str, Any]
    manifest: Path | None = None
    notes: list[str] = field(default_factory=list)


def _predict(head: SceneHead, features: np.ndarray, calibration: dict | None) -> np.ndarray:
    with torch.no_grad():
        units = head.eval()(torch.from_numpy(features)).numpy()
    return units_to_reference(units, calibration)


def _features_for_training(
    options: TrainOptions,
    spec_input: dict[str, Any],
    backbone_file: Path,
    name: str,
    say: Callable[[str], None],
    progress: Callable | None,
) -> tuple[list[Sample], np.ndarray, dict[str, Any], str]:
    """Read the data, export (or reuse) the backbone, and compute or load the cached features. Returns the
    samples whose image decoded, their features, the data counts and the backbone identity."""
    samples, counts = read_findingemo(options.findingemo, options.annotations)
    say(
        f"annotations: {counts['annotations']} ({counts['images']} images, {counts['bad_rows']} bad rows); "
        f"{len(samples)} images found, {counts['missing']} missing"
    )
    if len(samples) < 10:
        raise ValueError(f"only {len(samples)} annotated images were found in {options.findingemo}; need at least 10")
    backbone = load_backbone(options.backbone, options.backbone_dir)
    identity = backbone_id(backbone, spec_input)
    if backbone_file.is_file() and _metadata_of(backbone_file).get(META_PREFIX + "backbone_id") == identity:
        say(f"backbone: reusing {backbone_file}")
    else:
        height, width = spec_input["size"]
        say(f"backbone: exporting {options.backbone} ({width}x{height}, {spec_input['fit']}) to {backbone_file}")
        say(f"backbone: {export_backbone(backbone, backbone_file, spec_input, name=name).describe()}")
    del backbone
    session = create_session(backbone_file, RuntimeConfig.from_environment())
    out_dir = backbone_file.parent
    cache_dir = Path(options.cache_dir) if options.cache_dir is not None else out_dir / "cache"
    cache_file = cache_dir / f"features-{identity}.npz"
    features, ok = extract_features(samples, session, spec_input, cache_file, progress=progress)
    counts["unreadable"] = int((~ok).sum())
    return [s for s, good in zip(samples, ok, strict=True) if good], features, counts, identity


def _evaluate(
    head: SceneHead, xs: dict[str, np.ndarray], ys: dict[str, np.ndarray], calibrate: bool
) -> tuple[dict[str, Any], dict[str, list[float]] | None, tuple[float, float]]:
    """Metrics per split (FindingEmo units), the calibration (when asked) and the validation residual std."""
    truth = {k: v * 2.0 - 1.0 for k, v in ys.items()}
    raw = {k: _predict(head, xs[k], None) for k in SPLITS}
    calibration = fit_calibration(raw["val"], truth["val"]) if calibrate else None
    predictions = {k: _predict(head, xs[k], calibration) for k in SPLITS}
    residual = tuple(float(x) for x in np.std(predictions["val"] - truth["val"], axis=0))
    constant = np.repeat(truth["train"].mean(axis=0, keepdims=True), len(truth["test"]), axis=0)
    metrics = {
        "test": findingemo_metrics(predictions["test"], truth["test"]),
        "validation": findingemo_metrics(predictions["val"], truth["val"]),
        "baseline_test_constant": findingemo_metrics(constant, truth["test"]),
    }
    if calibration:
        metrics["test_uncalibrated"] = findingemo_metrics(raw["test"], truth["test"])
    return metrics, calibration, residual  # type: ignore[return-value]


def train_scene(
    options: TrainOptions, say: Callable[[str], None] = print, progress: Callable | None = None
) -> TrainResult:
    """The whole ``train-scene`` command: read, split, export the backbone, cache features, train, calibrate,
    report, export the head, register (see the module docstring). Raises ``ValueError`` /
    ``FileNotFoundError`` with a clear message for unusable input."""
    spec = BACKBONES[options.backbone]
    spec_input = input_spec(spec, parse_input_size(options.input_size, spec), options.fit)
    out_dir = Path(options.out_dir) if options.out_dir is not None else models_dir()
    name = options.name or f"scene-{options.backbone}"
    files = {role: out_dir / file for role, file in scene_file_names(name).items()}
    samples, features, counts, identity = _features_for_training(
        options, spec_input, files["backbone"], name, say, progress
    )
    feature_of = dict(zip((s.key for s in samples), features, strict=True))
    splits = binned_split(samples, seed=options.seed)
    say(f"split: {', '.join(f'{k} {len(v)}' for k, v in splits.items())} ({counts['unreadable']} images unreadable)")
    xs = {k: np.stack([feature_of[s.key] for s in v]) if v else features[:0] for k, v in splits.items()}
    ys = {k: _units(v) if v else np.zeros((0, 2), np.float32) for k, v in splits.items()}
    if not len(xs["train"]) or not len(xs["val"]):
        raise ValueError("too few images for a train and a validation split")
    hyper = {k: getattr(options, k) for k in ("hidden", "dropout", "lr", "epochs", "patience", "batch_size", "seed")}
    head, info = train_head(xs["train"], ys["train"], xs["val"], ys["val"], **hyper)
    say(
        f"head: best epoch {info['best_epoch']} of {info['epochs_run']} "
        f"(validation MAE {info['best_val_mae_units']:.4f} units)"
    )
    metrics, calibration, residual = _evaluate(head, xs, ys, options.calibrate)
    report: dict[str, Any] = {
        "model": name,
        "backbone": options.backbone,
        "input": spec_input,
        "units": "FindingEmo: valence [-3, 3], arousal [0, 6]; eval-mode predictions",
        "data": {**counts, "split": {k: len(v) for k, v in splits.items()}},
        "training": {**{k: v for k, v in info.items() if k != "val_mae_units"}, **hyper},
        **metrics,
        "calibration": calibration,
        "residual_std_reference": list(residual),
    }
    data_licence = "FindingEmo annotations: non-commercial use only"
    checkpoint = HeadCheckpoint(
        head, options.backbone, identity, spec_input, calibration, residual, report, data_licence
    )
    save_head_checkpoint(checkpoint, files["checkpoint"])
    licence = head_licence(spec, data_licence)
    parity = export_head(checkpoint, files["head"], name=name, samples=options.samples, licence=licence)
    say(f"head: exported to {files['head']}; {parity.describe()}")
    report["parity"] = {"head": parity.errors}
    atomic_files.write_text(files["report"], json.dumps(report, indent=1) + "\n")
    test = report["test"]
    say(
        f"test ({test['n']} images, FindingEmo units): MAE valence {test['mae_valence']:.3f}, arousal "
        f"{test['mae_arousal']:.3f}, mean {test['mae_mean']:.3f}; report written to {files['report']}"
    )
    manifest = None
    if options.register:
        entry = make_entry(
            name,
            "scene",
            {"backbone": files["backbone"], "head": files["head"]},
            out_dir,
            licence=licence,
            commercial_use=False,
            source={"backbone": spec.hub_id, "trained_on": "FindingEmo", "report": files["report"].name},
        )
        manifest = register_model(entry, out_dir)
        say(f"registered {name} in {manifest}")
    return TrainResult(files["backbone"], files["head"], files["checkpoint"], files["report"], report, manifest)


def _metadata_of(path: Path) -> dict[str, str]:
    try:
        return read_onnx_metadata(path)
    except (OSError, ValueError):
        return {}
