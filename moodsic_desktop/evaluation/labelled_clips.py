"""``moodsic eval clips``: the face reading on a folder of emotion clips labelled by their file names.

Corpora name their clips by a convention; two are read (others are listed as skipped):

- CREMA-D (Cao et al. 2014): ``1001_DFA_ANG_XX.flv`` — actor, sentence, emotion (``ANG`` angry, ``DIS``
  disgust, ``FEA`` fearful, ``HAP`` happy, ``NEU`` neutral, ``SAD`` sad), intensity;
- RAVDESS (Livingstone & Russo 2018): ``01-01-05-01-02-01-12.mp4`` — modality (01 audio-video, 02 video
  only; 03 audio only is skipped), channel, emotion (01 neutral, 02 calm, 03 happy, 04 sad, 05 angry,
  06 fearful, 07 disgust, 08 surprised), intensity, statement, repetition, actor.

Each clip runs through the pipeline the settings choose (reset between clips); a clip's reading is the
mean over its frames of the room's face reading (``StepRecord.face``, frames where a face was read) and
of the fused reading (faces, scene and the room's energy). What is printed and written:

- valence sign accuracy: the share of clips of a pleasant (happy, calm) or unpleasant (angry, disgust,
  fearful, sad) emotion whose mean face valence has that sign (neutral and surprised have no sign);
- arousal AUC: the probability that a high-arousal clip (angry, disgust, fearful, happy, surprised) has a
  higher mean face arousal than a low one (neutral, calm, sad), ties half (Mann-Whitney);
- per-class means of face valence and arousal, and of the fused arousal.

Values in reference space [-1, 1]. Main thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moodsic_desktop import atomic_files
from moodsic_desktop.core import strict_json
from moodsic_desktop.evaluation.datasets import eval_library
from moodsic_desktop.perception.sources import SourceError, VideoFileSource
from moodsic_desktop.session.assembly import EngineSettings, build_pipeline, select_experts

__all__ = ["ClipResult", "arousal_auc", "clip_label", "evaluate_clips", "summary"]

CLIP_SUFFIXES = (".mp4", ".flv", ".avi", ".mov", ".mkv", ".webm")
CREMA_D = re.compile(r"^\d+_[A-Za-z]+_(ANG|DIS|FEA|HAP|NEU|SAD)_[A-Za-z]+$")
CREMA_D_EMOTIONS = {"ANG": "angry", "DIS": "disgust", "FEA": "fearful", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
RAVDESS = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
RAVDESS_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
PLEASANT = {"happy", "calm"}
UNPLEASANT = {"angry", "disgust", "fearful", "sad"}
HIGH_AROUSAL = {"angry", "disgust", "fearful", "happy", "surprised"}
LOW_AROUSAL = {"neutral", "calm", "sad"}


def clip_label(path: Path) -> tuple[str, str] | None:
    """(corpus, emotion) from a clip's file name, or ``None`` when it follows no known convention (or is a
    RAVDESS audio-only file). Pure."""
    match = CREMA_D.match(path.stem)
    if match:
        return "CREMA-D", CREMA_D_EMOTIONS[match.group(1).upper()]
    match = RAVDESS.match(path.stem)
    if match and match.group(1) in ("01", "02") and match.group(3) in RAVDESS_EMOTIONS:
        return "RAVDESS", RAVDESS_EMOTIONS[match.group(3)]
    return None


@dataclass(frozen=True)
class ClipResult:
    """One clip: its name, corpus and emotion, the frames decoded and those with a face read, and the
    means over those frames of the face valence and arousal and of the fused arousal (``None`` without)."""

    name: str
    corpus: str
    emotion: str
    frames: int
    face_frames: int
    face_valence: float | None
    face_arousal: float | None
    fused_arousal: float | None


def arousal_auc(results: Sequence[ClipResult], key: str = "face_arousal") -> float | None:
    """Probability that a high-arousal clip reads above a low one on ``key`` (ties half); ``None`` without
    a clip of each kind."""
    high = [getattr(r, key) for r in results if r.emotion in HIGH_AROUSAL and getattr(r, key) is not None]
    low = [getattr(r, key) for r in results if r.emotion in LOW_AROUSAL and getattr(r, key) is not None]
    if not high or not low:
        return None
    return float(np.mean([1.0 if h > q else 0.5 if h == q else 0.0 for h in high for q in low]))


def summary(results: Sequence[ClipResult]) -> dict[str, Any]:
    """Valence sign accuracy, arousal AUC (face and fused) and the per-class means (module docstring)."""
    signed = [r for r in results if r.face_valence is not None and r.emotion in PLEASANT | UNPLEASANT]
    right = [(r.face_valence > 0) == (r.emotion in PLEASANT) for r in signed if r.face_valence is not None]
    classes: dict[str, dict[str, Any]] = {}
    for emotion in sorted({r.emotion for r in results}):
        of_class = [r for r in results if r.emotion == emotion]

        def mean(key: str, clips: list[ClipResult] = of_class) -> float | None:
            values = [getattr(r, key) for r in clips if getattr(r, key) is not None]
            return float(np.mean(values)) if values else None

        classes[emotion] = {
            "clips": len(of_class),
            "face_valence": mean("face_valence"),
            "face_arousal": mean("face_arousal"),
            "fused_arousal": mean("fused_arousal"),
        }
    return {
        "clips": len(results),
        "clips_with_faces": sum(r.face_valence is not None for r in results),
        "valence_sign_accuracy": float(np.mean(right)) if right else None,
        "valence_signed_clips": len(right),
        "arousal_auc": arousal_auc(results),
        "fused_arousal_auc": arousal_auc(results, "fused_arousal"),
        "classes": classes,
    }


def find_clips(folder: Path) -> tuple[list[tuple[Path, str, str]], list[str]]:
    """The labelled clips in ``folder`` (sorted; with corpus and emotion) and the names of the files skipped.
    Raises ``FileNotFoundError``/``NotADirectoryError`` naming the folder."""
    if not folder.exists():
        raise FileNotFoundError(f"no such folder: {folder}")
    if not folder.is_dir():
        raise NotADirectoryError(f"not a folder: {folder}")
    clips, skipped = [], []
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        label = clip_label(path) if path.suffix.lower() in CLIP_SUFFIXES else None
        if label is None:
            skipped.append(path.name)
        else:
            clips.append((path, *label))
    return clips, skipped


def evaluate_clips(
    folder: Path,
    settings: EngineSettings,
    out: Path | None = None,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run every labelled clip of ``folder`` (at most ``limit``) and return the summary with the clips, the
    files skipped, the clips that could not be read, and the experts; with ``out``, write ``clips.json``
    there (the folder is created; nothing else in it is touched)."""
    clips, skipped = find_clips(folder)
    clips = clips[:limit] if limit else clips
    experts = select_experts(settings)
    pipeline = build_pipeline_for_eval(settings, experts)
    results, problems = [], []
    try:
        for number, (path, corpus, emotion) in enumerate(clips, start=1):
            try:
                results.append(_run_clip(pipeline, path, corpus, emotion))
            except SourceError as error:
                problems.append(str(error))
            if progress is not None:
                progress(number, len(clips))
    finally:
        pipeline.close()
    report = summary(results)
    report.update(
        folder=str(folder),
        skipped=skipped,
        problems=problems,
        experts=experts.to_dict(),
        results=[r.__dict__ for r in results],
    )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        path = out / "clips.json"
        atomic_files.write_text(path, strict_json.dumps(report, indent=2) + "\n")
        report["files"] = [str(path)]
    return report


def build_pipeline_for_eval(settings: EngineSettings, experts: Any) -> Any:
    """The pipeline the program would run with ``settings`` and ``experts``, matching against the built-in
    list (nothing plays)."""
    return build_pipeline(eval_library(), settings, experts)


def _run_clip(pipeline: Any, path: Path, corpus: str, emotion: str) -> ClipResult:
    pipeline.reset()
    valence, arousal, fused = [], [], []
    frames = 0
    with VideoFileSource(path) as source:
        while (frame := source.read()) is not None:
            frames += 1
            step = pipeline.process(frame.image, frame.timestamp_s)
            if step.face_fresh and step.face is not None:
                valence.append(step.face.valence)
                arousal.append(step.face.arousal)
                if step.fused is not None:
                    fused.append(step.fused.arousal)

    def mean(values: list[float]) -> float | None:
        return float(np.mean(values)) if values else None

    return ClipResult(path.name, corpus, emotion, frames, len(valence), mean(valence), mean(arousal), mean(fused))
