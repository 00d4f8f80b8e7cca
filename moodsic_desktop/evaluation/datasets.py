"""``moodsic eval``: how well the mood reading follows labelled data (VEATIC videos, FindingEmo images).

Perceive once, fuse and stabilise per ablation (:mod:`moodsic_desktop.evaluation.ablations`): the pipeline runs
over every frame (or every ``every``-th) with the experts the settings choose, its per-step scene and face
readings are kept, and each ablation (scene only, face only, fusion without gating, fusion with gating)
replays fusion and stabilisation on them.

VEATIC (``video/<id>.mp4``, ``rating_averaged/<id>_valence.csv`` and ``_arousal.csv``, rows
``frame_index,value``): ratings are checked to lie in [-1, 1] and converted with
``EmotionScaleAligner.veatic_to_reference`` (the identity); predictions are in reference space, so MAE is
in reference units. The prediction for a rated frame is the output in force at that frame (the last
processed frame at or before it); ratings past the last decoded frame are dropped and counted. "raw" is
the fused estimate, "stabilized" the stabiliser's output. Overall rows pool the rated frames of all videos.

FindingEmo (test split of ``core.findingemo.binned_split``, the split the scene head was not trained on):
one pipeline step per image; labels are converted with ``findingemo_to_reference`` and metrics are
computed in FindingEmo units (valence [-3, 3], arousal [0, 6]) through ``reference_to_findingemo``, as the
``train-scene`` report does. Still images have nothing to smooth, so the outputs are "raw" (every image
with a reading) and "gated" (only images whose reading passes the gate, sigma <= tau on both dimensions,
as the stabiliser would accept it; for the ablation without gating it equals raw).

Runs on the CLI's main thread. Plots use matplotlib's Agg back end (no window).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from moodsic_desktop import atomic_files
from moodsic_desktop.audio.builtin.catalogue import builtin_songs
from moodsic_desktop.core import strict_json
from moodsic_desktop.core.findingemo import Sample, binned_split, findingemo_metrics, read_findingemo
from moodsic_desktop.core.fusion import fuse_step
from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.metrics import agreement_metrics
from moodsic_desktop.core.pipeline import Pipeline, StepRecord
from moodsic_desktop.core.scales import VEATIC_RANGE, EmotionScaleAligner
from moodsic_desktop.evaluation.ablations import ABLATIONS, OUTPUTS, AblationTrace, Reading, align_to_frames, replay
from moodsic_desktop.perception.sources import SourceError, VideoFileSource
from moodsic_desktop.session.assembly import EngineSettings, build_pipeline, select_experts

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm")
TEST_FRACTION = 0.30  # VEATIC's benchmark tests on the last 30 % of each video's frames
METRIC_COLUMNS = (
    "n",
    "coverage",
    "mae_valence",
    "mae_arousal",
    "mae_mean",
    "spearman_valence",
    "spearman_arousal",
    "ccc_valence",
    "ccc_arousal",
)
VEATIC_COLUMNS = ("video", "ablation", "output", "rated_frames", *METRIC_COLUMNS, "face_coverage")
FINDINGEMO_COLUMNS = ("split", "ablation", "output", "images", *METRIC_COLUMNS, "face_coverage")
VEATIC_SCALES = (
    "VEATIC ratings (valence and arousal, checked to lie in [-1, 1]) -> reference [-1, 1]: x_ref = x "
    "(EmotionScaleAligner.veatic_to_reference); predictions are in reference space; MAE in reference units"
)
FINDINGEMO_SCALES = (
    "FindingEmo labels (valence [-3, 3], arousal [0, 6]) -> reference: v_ref = v / 3, a_ref = a / 3 - 1 "
    "(EmotionScaleAligner.findingemo_to_reference); predictions (reference) -> FindingEmo: v = 3 v_ref, "
    "a = 3 (a_ref + 1) (reference_to_findingemo); MAE in FindingEmo units"
)
_ALIGNER = EmotionScaleAligner(strict=True)


class EvaluationError(ValueError):
    """Unusable evaluation input; the message is one line naming the file or folder."""


# ---- reading VEATIC


@dataclass(frozen=True)
class Ratings:
    """One video's per-frame ratings: frame indices (sorted) and reference-space valence and arousal."""

    indices: np.ndarray
    valence: np.ndarray
    arousal: np.ndarray
    observed_range: tuple[float, float]


def read_rating_file(path: Path) -> dict[int, float]:
    """``frame_index,value`` rows (no header, blank lines ignored) as a dict; ``EvaluationError`` naming
    the file and line for a malformed row, a negative or repeated index, or a non-finite value."""
    values: dict[int, float] = {}
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise EvaluationError(f"cannot read the rating file {path}: {error}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        try:
            if len(parts) != 2:
                raise ValueError
            index, value = int(float(parts[0])), float(parts[1])
            if index < 0 or float(parts[0]) != index or not math.isfinite(value):
                raise ValueError
        except ValueError:
            raise EvaluationError(
                f"{path}, line {number}: expected 'frame_index,value' (index >= 0, finite value), got {line.strip()!r}"
            ) from None
        if index in values:
            raise EvaluationError(f"{path}, line {number}: frame {index} is rated twice")
        values[index] = value
    if not values:
        raise EvaluationError(f"the rating file {path} has no rows")
    return values


def read_ratings(annotations: Path, video_id: str) -> Ratings:
    """The valence and arousal ratings of one video, on the frames rated in both files, converted to
    reference space (``EvaluationError`` when a value lies outside [-1, 1])."""
    valence = read_rating_file(annotations / f"{video_id}_valence.csv")
    arousal = read_rating_file(annotations / f"{video_id}_arousal.csv")
    indices = np.array(sorted(set(valence) & set(arousal)), dtype=np.int64)
    if not len(indices):
        raise EvaluationError(f"the valence and arousal ratings of {video_id} share no frame index")
    v = np.array([valence[i] for i in indices])
    a = np.array([arousal[i] for i in indices])
    low, high = float(min(v.min(), a.min())), float(max(v.max(), a.max()))
    try:
        v_ref, a_ref = _ALIGNER.veatic_to_reference(v, a)
    except ValueError as error:
        raise EvaluationError(
            f"ratings of {video_id} lie in [{low:g}, {high:g}], outside VEATIC's [{VEATIC_RANGE[0]:g}, "
            f"{VEATIC_RANGE[1]:g}] ({error})"
        ) from None
    return Ratings(indices, v_ref, a_ref, (low, high))


def find_veatic_videos(videos: Path, annotations: Path) -> tuple[Path, Path, list[tuple[str, Path]], list[str]]:
    """The video and rating folders (``DIR/video`` and ``DIR/rating_averaged`` are used when given the
    dataset root), the (id, video) pairs that have both rating files, and the ids of videos without them."""
    if not videos.is_dir():
        raise EvaluationError(f"video folder not found: {videos}")
    if not annotations.is_dir():
        raise EvaluationError(f"annotation folder not found: {annotations}")
    if (videos / "video").is_dir():
        videos = videos / "video"
    if (annotations / "rating_averaged").is_dir():
        annotations = annotations / "rating_averaged"
    files = sorted(p for p in videos.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
    if not files:
        raise EvaluationError(f"no video ({', '.join(VIDEO_SUFFIXES)}) in {videos}")
    rated, unrated = [], []
    for path in files:
        both = all((annotations / f"{path.stem}_{d}.csv").is_file() for d in ("valence", "arousal"))
        (rated.append((path.stem, path)) if both else unrated.append(path.stem))
    if not rated:
        raise EvaluationError(
            f"none of the {len(files)} videos in {videos} has rating files <id>_valence.csv and <id>_arousal.csv "
            f"in {annotations} (VEATIC layout: video/<id>.mp4, rating_averaged/<id>_valence.csv)"
        )
    return videos, annotations, rated, unrated


# ---- perceiving


def eval_library() -> MusicLibrary:
    """The songs the pipeline's matcher needs to run: the built-in station's list (nothing is played, no
    audio is made)."""
    return MusicLibrary(songs=builtin_songs(), origin="built-in station (matching unused)", stations=None)


def make_pipeline(settings: EngineSettings) -> tuple[Pipeline, dict[str, Any]]:
    """The pipeline the program would run with ``settings``, and the experts it chose (for the report)."""
    experts = select_experts(settings)
    return build_pipeline(eval_library(), settings, experts), experts.to_dict()


def reading_of(step: StepRecord, index: int) -> Reading:
    """The readings a step fused, for the ablation replay."""
    return Reading(step.time, index, step.scene, step.face, step.face_box is not None, step.room)


def perceive_video(pipeline: Pipeline, path: Path, every: int = 1) -> tuple[list[Reading], int, float, float | None]:
    """Run the pipeline over every ``every``-th frame of ``path``. Returns the readings, the frames decoded,
    the frame rate and the face-detection coverage (share of processed frames with a primary face)."""
    readings: list[Reading] = []
    frames = faces = runs = 0
    pipeline.reset()
    with VideoFileSource(path) as source:
        fps = source.fps
        while (frame := source.read()) is not None:
            frames += 1
            if frame.index % every:
                continue
            step = pipeline.process(frame.image, frame.timestamp_s)
            readings.append(reading_of(step, frame.index))
            if step.face_fresh:
                runs += 1
                faces += step.face_box is not None
    return readings, frames, fps, (faces / runs if runs else None)


# ---- scoring


def _metrics_row(pred: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> dict[str, Any]:
    metrics = agreement_metrics(pred[valid], truth[valid])
    metrics["coverage"] = float(valid.mean()) if len(valid) else None
    return metrics


@dataclass
class VideoResult:
    """One video's traces and aligned truth (reference space) for scoring and plotting."""

    video_id: str
    rated: np.ndarray
    truth: np.ndarray
    aligned: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]
    traces: dict[str, AblationTrace]
    face_coverage: float | None
    info: dict[str, Any] = field(default_factory=dict)


def score_video(
    video_id: str,
    readings: Sequence[Reading],
    ratings: Ratings,
    frames: int,
    settings: EngineSettings,
    face_coverage: float | None,
    part: str = "all",
) -> VideoResult:
    """Replay every ablation over one video's readings and align both outputs to the rated frames (only
    the last ``TEST_FRACTION`` of them when ``part`` is "test"; ratings past the last decoded frame are
    dropped)."""
    keep = ratings.indices < frames
    if part == "test":
        keep &= np.arange(len(keep)) >= math.floor(len(keep) * (1.0 - TEST_FRACTION))
    rated = ratings.indices[keep]
    truth = np.stack([ratings.valence[keep], ratings.arousal[keep]], axis=1)
    traces, aligned = {}, {}
    for ablation in ABLATIONS:
        trace = replay(readings, ablation, settings.alpha, settings.tau, settings.scene_only_alpha_factor)
        traces[ablation.name] = trace
        for output in OUTPUTS:
            aligned[(ablation.name, output)] = align_to_frames(trace.indices, trace.output(output), rated)
    info = {
        "frames_decoded": frames,
        "frames_processed": len(readings),
        "ratings": len(ratings.indices),
        "ratings_past_video_end": int((ratings.indices >= frames).sum()),
        "rated_frames_scored": len(rated),
        "rating_range": list(ratings.observed_range),
    }
    return VideoResult(video_id, rated, truth, aligned, traces, face_coverage, info)


def veatic_rows(results: Sequence[VideoResult]) -> list[dict[str, Any]]:
    """CSV rows: per video x ablation x output, then the pooled "ALL" rows."""
    rows: list[dict[str, Any]] = []
    for result in results:
        for (ablation, output), (pred, valid) in result.aligned.items():
            row: dict[str, Any] = {"video": result.video_id, "ablation": ablation, "output": output}
            row |= {"rated_frames": len(result.rated), "face_coverage": result.face_coverage}
            rows.append(row | _metrics_row(pred, result.truth, valid))
    if results:
        truth = np.concatenate([r.truth for r in results])
        runs = [r.face_coverage for r in results if r.face_coverage is not None]
        for key in results[0].aligned:
            pred = np.concatenate([r.aligned[key][0] for r in results])
            valid = np.concatenate([r.aligned[key][1] for r in results])
            row = {"video": "ALL", "ablation": key[0], "output": key[1], "rated_frames": len(truth)}
            row["face_coverage"] = float(np.mean(runs)) if runs else None
            rows.append(row | _metrics_row(pred, truth, valid))
    return rows


def write_csv(path: Path, rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> Path:
    """Rows as CSV with ``columns`` (empty cell for None; floats with 6 significant digits)."""

    def cell(value: Any) -> Any:
        if value is None:
            return ""
        return f"{value:.6g}" if isinstance(value, float) else value

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([cell(row.get(c)) for c in columns])
    return path


# ---- plots (matplotlib, Agg)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_video(result: VideoResult, path: Path, ablation: str = "fusion_gated") -> Path:
    """Valence and arousal over the rated frames: the ratings, and ``ablation``'s raw and stabilised output."""
    plt = _pyplot()
    figure, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    for dim, (axis, name) in enumerate(zip(axes, ("valence", "arousal"), strict=True)):
        axis.plot(result.rated, result.truth[:, dim], color="black", label="rating", linewidth=1.5)
        for output, style in (("raw", ":"), ("stabilized", "-")):
            pred = result.aligned[(ablation, output)][0][:, dim]
            axis.plot(result.rated, pred, style, label=f"{ablation} {output}", linewidth=1.2)
        axis.set_ylim(-1.05, 1.05)
        axis.set_ylabel(f"{name} (reference)")
        axis.grid(alpha=0.3)
    axes[0].legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("frame")
    figure.suptitle(f"VEATIC {result.video_id}")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path


def plot_summary(rows: Sequence[dict[str, Any]], path: Path, title: str, group: str = "ALL") -> Path:
    """Bars of the mean MAE per ablation and output, for the rows of ``group`` (the pooled rows)."""
    plt = _pyplot()
    key = "video" if "video" in (rows[0] if rows else {}) else "split"
    chosen = [r for r in rows if r.get(key) == group]
    ablations = [a.name for a in ABLATIONS]
    outputs = sorted({r["output"] for r in chosen}, key=lambda o: (o != "raw", o))
    figure, axis = plt.subplots(figsize=(7, 4))
    width = 0.8 / max(len(outputs), 1)
    for k, output in enumerate(outputs):
        values = []
        for name in ablations:
            match = [r.get("mae_mean") for r in chosen if r["ablation"] == name and r["output"] == output]
            values.append(match[0] if match and match[0] is not None else np.nan)
        axis.bar(np.arange(len(ablations)) + k * width, values, width, label=output)
    axis.set_xticks(np.arange(len(ablations)) + width * (len(outputs) - 1) / 2, ablations)
    axis.set_ylabel("MAE, mean of valence and arousal")
    axis.set_title(title)
    axis.legend()
    axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path


# ---- the two evaluations


def evaluate_veatic(
    videos: Path,
    annotations: Path,
    out: Path,
    settings: EngineSettings,
    limit: int | None = None,
    every: int = 1,
    part: str = "all",
    say: Callable[[str], None] = print,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """The whole ``moodsic eval veatic``: writes ``veatic_metrics.csv``, ``veatic_report.json`` and PNG
    plots (one per video and ``veatic_summary.png``) into ``out`` and returns the report."""
    videos, annotations, rated, unrated = find_veatic_videos(videos, annotations)
    if limit is not None:
        rated = rated[:limit]
    out.mkdir(parents=True, exist_ok=True)
    ratings = {video_id: read_ratings(annotations, video_id) for video_id, _ in rated}  # fail before running
    pipeline, experts = make_pipeline(settings)
    results, problems = [], []
    try:
        for number, (video_id, path) in enumerate(rated, start=1):
            try:
                readings, frames, fps, coverage = perceive_video(pipeline, path, every)
            except SourceError as error:
                problems.append(f"{video_id}: {error}")
                continue
            result = score_video(video_id, readings, ratings[video_id], frames, settings, coverage, part)
            result.info["fps"] = fps
            results.append(result)
            if progress is not None:
                progress(number, len(rated))
    finally:
        pipeline.close()
    if not results:
        raise EvaluationError("no video could be decoded: " + "; ".join(problems))
    rows = veatic_rows(results)
    files = [write_csv(out / "veatic_metrics.csv", rows, VEATIC_COLUMNS)]
    files += [plot_video(r, out / f"veatic_{r.video_id}.png") for r in results]
    files.append(plot_summary(rows, out / "veatic_summary.png", "VEATIC, all rated frames pooled"))
    report = {
        "dataset": "VEATIC",
        "scales": VEATIC_SCALES,
        "alignment": "prediction at a rated frame = the output in force at that frame (last processed frame "
        "at or before it); ratings past the last decoded frame dropped; ALL rows pool every rated frame",
        "part": "last 30 % of each video's rated frames" if part == "test" else "all rated frames",
        "every": every,
        "ablations": {a.name: a.description for a in ABLATIONS},
        "outputs": {"raw": "fused estimate", "stabilized": "stabiliser output"},
        "experts": experts,
        "engine": settings.to_dict(),
        "videos": {r.video_id: {**r.info, "face_coverage": r.face_coverage} for r in results},
        "videos_without_ratings": unrated,
        "problems": problems,
        "rows": rows,
    }
    report_path = out / "veatic_report.json"
    atomic_files.write_text(report_path, strict_json.dumps(report, indent=1, default=str) + "\n")
    files.append(report_path)
    report["files"] = [str(f) for f in files]
    return report


def _read_rgb(path: Path) -> np.ndarray | None:
    import cv2

    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def findingemo_rows(samples: Sequence[Sample], readings: Sequence[Reading], tau: float, split: str) -> list[dict]:
    """CSV rows per ablation x output ("raw", "gated") in FindingEmo units (see the module docstring)."""
    truth_ref = np.stack(
        _ALIGNER.findingemo_to_reference([s.valence for s in samples], [s.arousal for s in samples]), 1
    )
    runs = [r.face_found for r in readings]
    face_coverage = float(np.mean(runs)) if runs else None
    rows = []
    for ablation in ABLATIONS:
        pred = np.full((len(readings), 2), np.nan)
        passes = np.zeros(len(readings), dtype=bool)
        for i, reading in enumerate(readings):
            fused = fuse_step(reading.scene, reading.face, reading.room, ablation.fusion_mode)
            if fused is not None:
                pred[i] = fused.valence, fused.arousal
                passes[i] = not ablation.gating or max(fused.std_valence, fused.std_arousal) <= tau
        has = np.isfinite(pred).all(axis=1)
        for output, valid in (("raw", has), ("gated", has & passes)):
            metrics = findingemo_metrics(pred[valid], truth_ref[valid])
            metrics["coverage"] = float(valid.mean()) if len(valid) else None
            row = {"split": split, "ablation": ablation.name, "output": output, "images": len(samples)}
            rows.append(row | {"face_coverage": face_coverage} | metrics)
    return rows


def evaluate_findingemo(
    root: Path,
    out: Path,
    settings: EngineSettings,
    annotations: Path | None = None,
    seed: int = 0,
    split: str = "test",
    limit: int | None = None,
    say: Callable[[str], None] = print,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """The whole ``moodsic eval findingemo``: the ablations on one split of the binned split (default the
    test split, seed 0 as ``train-scene``), written to ``findingemo_metrics.csv``, ``findingemo_report.json``
    and ``findingemo_summary.png`` in ``out``."""
    if not root.is_dir():
        raise EvaluationError(f"FindingEmo folder not found: {root}")
    try:
        samples, counts = read_findingemo(root, annotations)
    except (OSError, ValueError) as error:
        raise EvaluationError(str(error)) from None
    chosen = binned_split(samples, seed=seed)[split]
    if limit is not None:
        chosen = chosen[:limit]
    if not chosen:
        raise EvaluationError(f"the {split} split of {root} is empty ({len(samples)} annotated images found)")
    say(f"{split} split: {len(chosen)} of {len(samples)} images (seed {seed}); {counts['missing']} images missing")
    out.mkdir(parents=True, exist_ok=True)
    pipeline, experts = make_pipeline(settings)
    used, readings, unreadable = [], [], []
    try:
        for number, sample in enumerate(chosen, start=1):
            image = _read_rgb(sample.image)
            if image is None:
                unreadable.append(sample.key)
                continue
            pipeline.reset()
            readings.append(reading_of(pipeline.process(image, 0.0), number - 1))
            used.append(sample)
            if progress is not None:
                progress(number, len(chosen))
    finally:
        pipeline.close()
    if not used:
        raise EvaluationError(f"none of the {len(chosen)} {split} images could be decoded")
    rows = findingemo_rows(used, readings, settings.tau, split)
    files = [write_csv(out / "findingemo_metrics.csv", rows, FINDINGEMO_COLUMNS)]
    files.append(plot_summary(rows, out / "findingemo_summary.png", f"FindingEmo {split} split", group=split))
    report = {
        "dataset": "FindingEmo",
        "scales": FINDINGEMO_SCALES,
        "split": {"name": split, "seed": seed, "images": len(chosen), "unreadable": unreadable},
        "data": counts,
        "outputs": {"raw": "every image with a reading", "gated": "only readings with sigma <= tau on both dimensions"},
        "ablations": {a.name: a.description for a in ABLATIONS},
        "experts": experts,
        "engine": settings.to_dict(),
        "rows": rows,
    }
    report_path = out / "findingemo_report.json"
    atomic_files.write_text(report_path, strict_json.dumps(report, indent=1, default=str) + "\n")
    files.append(report_path)
    report["files"] = [str(f) for f in files]
    return report
