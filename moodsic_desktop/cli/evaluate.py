"""``moodsic eval veatic|findingemo``: the ablations on labelled data (:mod:`moodsic_desktop.evaluation.datasets`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from moodsic_desktop.cli._common import EXIT_OK, ProgressBar, UserError, positive_int
from moodsic_desktop.evaluation.datasets import (
    FINDINGEMO_SCALES,
    VEATIC_SCALES,
    EvaluationError,
    evaluate_findingemo,
    evaluate_veatic,
)
from moodsic_desktop.evaluation.labelled_clips import evaluate_clips
from moodsic_desktop.session.assembly import EngineSettings


def add_eval_parser(commands: argparse._SubParsersAction) -> None:
    """The ``eval`` sub-command and its datasets."""
    evaluate = commands.add_parser(
        "eval",
        help="measure the mood reading against labelled videos (VEATIC) or images (FindingEmo)",
        description="Run the pipeline over labelled data once, then score four ablations (scene only, face "
        "only, fusion without gating, fusion with gating) for raw and stabilised outputs: MAE, Spearman rho, "
        "CCC, face-detection coverage. Writes CSV, JSON and PNG plots; every scale conversion is stated.",
    )
    datasets = evaluate.add_subparsers(dest="eval_dataset", required=True, metavar="DATASET")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", type=Path, default=Path("eval"), help="output folder (default ./eval)")
    common.add_argument("--limit", type=positive_int, help="evaluate only the first N videos or images")
    common.add_argument("--face-expert", default=EngineSettings.face_expert, help="as in the settings (auto)")
    common.add_argument("--scene-expert", default=EngineSettings.scene_expert, help="as in the settings (auto)")
    common.add_argument("--quiet", action="store_true", help="no progress bar")

    veatic = datasets.add_parser(
        "veatic",
        parents=[common],
        help="VEATIC videos with per-frame valence/arousal ratings",
        description="VEATIC layout: VIDEOS/<id>.mp4 and ANNOTATIONS/<id>_valence.csv, <id>_arousal.csv "
        "(rows frame_index,value in [-1, 1]; the dataset root's video/ and rating_averaged/ are found too).",
    )
    veatic.add_argument("--videos", type=Path, required=True, metavar="DIR", help="the folder of videos")
    veatic.add_argument("--annotations", type=Path, required=True, metavar="DIR", help="the rating files")
    veatic.add_argument("--every", type=positive_int, default=1, help="process every N-th frame (default 1)")
    veatic.add_argument(
        "--part",
        choices=("all", "test"),
        default="all",
        help="score all rated frames, or the last 30 %% of each video (VEATIC's test part)",
    )
    veatic.set_defaults(run=run_eval_veatic)

    findingemo = datasets.add_parser(
        "findingemo",
        parents=[common],
        help="FindingEmo images (the test split of `models train-scene`)",
        description="FindingEmo folder (annotation file and images); the V-A-binned split of train-scene, so "
        "the test split is the one the scene head was not trained on. Metrics in FindingEmo units.",
    )
    findingemo.add_argument("--findingemo", type=Path, required=True, metavar="DIR", help="the FindingEmo folder")
    findingemo.add_argument("--annotations", type=Path, metavar="FILE", help="the annotation file, if elsewhere")
    findingemo.add_argument("--seed", type=int, default=0, help="the split's seed (as train-scene; default 0)")
    findingemo.add_argument("--split", choices=("train", "val", "test"), default="test")
    findingemo.set_defaults(run=run_eval_findingemo)

    clips = datasets.add_parser(
        "clips",
        parents=[common],
        help="a folder of emotion clips labelled by their names (CREMA-D, RAVDESS)",
        description="Every clip named by the CREMA-D (1001_DFA_ANG_XX.flv) or RAVDESS (01-01-05-01-02-01-12.mp4) "
        "convention: the mean face reading per clip, then valence sign accuracy, arousal AUC (high: angry, "
        "disgust, fearful, happy, surprised; low: neutral, calm, sad) and per-class means. Writes clips.json.",
    )
    clips.add_argument("--folder", type=Path, required=True, metavar="DIR", help="the folder of clips")
    clips.set_defaults(run=run_eval_clips)


def _settings(args: argparse.Namespace) -> EngineSettings:
    return EngineSettings(face_expert=args.face_expert, scene_expert=args.scene_expert)


def _print_table(rows: list[dict[str, Any]], key: str, group: str) -> None:
    def number(value: Any) -> str:
        return "   -  " if value is None else f"{value:6.3f}"

    print(
        f"{'ablation':<13} {'output':<10} {'cover':>6} {'MAE v':>6} {'MAE a':>6} {'MAE':>6} {'rho v':>6} "
        f"{'rho a':>6} {'CCC v':>6} {'CCC a':>6}"
    )
    for row in rows:
        if row[key] != group:
            continue
        cells = [row.get(c) for c in ("coverage", "mae_valence", "mae_arousal", "mae_mean")]
        cells += [row.get(c) for c in ("spearman_valence", "spearman_arousal", "ccc_valence", "ccc_arousal")]
        print(f"{row['ablation']:<13} {row['output']:<10} " + " ".join(number(c) for c in cells))


def run_eval_veatic(args: argparse.Namespace) -> int:
    """``moodsic eval veatic --videos DIR --annotations DIR``."""

    try:
        with ProgressBar(args, "eval", unit="video") as bar:
            report = evaluate_veatic(
                args.videos,
                args.annotations,
                args.out,
                _settings(args),
                args.limit,
                args.every,
                args.part,
                progress=bar.update,
            )
    except EvaluationError as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(f"cannot write to {args.out}: {error}") from None
    videos = report["videos"]
    print(f"evaluated {len(videos)} videos ({sum(v['rated_frames_scored'] for v in videos.values())} rated frames)")
    if report["videos_without_ratings"]:
        print(f"videos without rating files, skipped: {', '.join(report['videos_without_ratings'])}")
    for problem in report["problems"]:
        print(f"not evaluated: {problem}")
    print(f"scales: {VEATIC_SCALES}")
    print("all videos pooled (MAE in reference units; headline: fusion_gated stabilized):")
    _print_table(report["rows"], "video", "ALL")
    print(f"written to {args.out}: {', '.join(Path(f).name for f in report['files'])}")
    return EXIT_OK


def run_eval_findingemo(args: argparse.Namespace) -> int:
    """``moodsic eval findingemo --findingemo DIR``."""

    try:
        with ProgressBar(args, "eval", unit="image") as bar:
            report = evaluate_findingemo(
                args.findingemo,
                args.out,
                _settings(args),
                args.annotations,
                args.seed,
                args.split,
                args.limit,
                progress=bar.update,
            )
    except EvaluationError as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(f"cannot write to {args.out}: {error}") from None
    print(f"scales: {FINDINGEMO_SCALES}")
    print(f"{args.split} split (MAE in FindingEmo units; headline: fusion_gated):")
    _print_table(report["rows"], "split", args.split)
    print(f"written to {args.out}: {', '.join(Path(f).name for f in report['files'])}")
    return EXIT_OK


def _number(value: float | None, signed: bool = True) -> str:
    return "    -" if value is None else (f"{value:+.2f}" if signed else f"{value:.2f}")


def run_eval_clips(args: argparse.Namespace) -> int:
    """``moodsic eval clips --folder DIR``."""
    try:
        with ProgressBar(args, "eval", unit="clip") as bar:
            report = evaluate_clips(args.folder, _settings(args), args.out, args.limit, progress=bar.update)
    except (FileNotFoundError, NotADirectoryError) as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(f"cannot write to {args.out}: {error}") from None
    if not report["results"]:
        raise UserError(
            f"no labelled clip in {args.folder} (names like 1001_DFA_ANG_XX.flv or 01-01-05-01-02-01-12.mp4)"
        )
    print(f"{'clip':<28} {'emotion':<10} {'faces':>7} {'V face':>7} {'A face':>7} {'A fused':>7}")
    for clip in report["results"]:
        faces = f"{clip['face_frames']}/{clip['frames']}"
        cells = [_number(clip[k]) for k in ("face_valence", "face_arousal", "fused_arousal")]
        print(f"{clip['name']:<28} {clip['emotion']:<10} {faces:>7} " + " ".join(f"{c:>7}" for c in cells))
    print("per class (clip means):")
    for emotion, row in report["classes"].items():
        cells = [_number(row[k]) for k in ("face_valence", "face_arousal", "fused_arousal")]
        print(f"  {emotion:<10} {row['clips']:>3} clips  V {cells[0]}  A {cells[1]}  A fused {cells[2]}")
    accuracy = report["valence_sign_accuracy"]
    signed = report["valence_signed_clips"]
    print(
        f"valence sign accuracy: {_number(accuracy, signed=False)} ({signed} clips with a pleasant or unpleasant label)"
    )
    print(f"arousal AUC (face): {_number(report['arousal_auc'], signed=False)}")
    print(f"arousal AUC (fused, with the scene and the room's energy): {_number(report['fused_arousal_auc'], False)}")
    if report["skipped"]:
        print(f"not named by a known convention, skipped: {', '.join(report['skipped'])}")
    for problem in report["problems"]:
        print(f"not evaluated: {problem}")
    print(f"written to {args.out}: {', '.join(Path(f).name for f in report.get('files', []))}")
    return EXIT_OK
