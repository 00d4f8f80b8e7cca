"""FindingEmo annotations and the V-A-binned split (shared by ``moodsic models train-scene`` and
``moodsic eval findingemo``, so both use the same test split).

Data: a FindingEmo folder — the annotation file (``annotations_single.ann`` as shipped by the
findingemo-light package: CSV with ``image_path``, ``valence`` in [-3, 3], ``arousal`` in [0, 6]) and the
images the user downloaded, at ``<folder>/<image_path>``. Rows whose image is missing are counted and left
out; several rows for one image are averaged. Values stay in FindingEmo units here; conversion to reference
space goes through ``EmotionScaleAligner.findingemo_to_reference``.

Split: valence-arousal bins (valence < -0.5, within ±0.5, > 0.5; arousal < 2, 2..4, ≥ 4 — nine bins),
each shuffled with the seed and cut 70 / 15 / 15 into train, validation and test, so every split covers
the whole plane. Pure apart from reading the annotation table and checking that images exist.
"""

from __future__ import annotations

import contextlib
import csv
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from moodsic_desktop.core.metrics import agreement_metrics
from moodsic_desktop.core.scales import EmotionScaleAligner

__all__ = [
    "ANNOTATION_NAMES",
    "FRACTIONS",
    "SPLITS",
    "Sample",
    "binned_split",
    "find_annotations",
    "findingemo_metrics",
    "read_findingemo",
    "split_sizes",
]

SPLITS = ("train", "val", "test")
FRACTIONS = (0.70, 0.15, 0.15)
ANNOTATION_NAMES = ("annotations_single.ann", "annotations.ann", "annotations.csv")


def split_sizes(total: int, fractions: Sequence[float]) -> list[int]:
    """Sizes of consecutive parts of ``total`` items for ``fractions`` (rounded; the last part takes the
    rest). Pure."""
    sizes = [round(total * f) for f in fractions[:-1]]
    while sum(sizes) > total:
        sizes[sizes.index(max(sizes))] -= 1
    return [*sizes, total - sum(sizes)]


@dataclass(frozen=True)
class Sample:
    """One annotated image: its path, its key (path relative to the dataset folder, for the cache) and its
    FindingEmo valence [-3, 3] and arousal [0, 6]."""

    image: Path
    key: str
    valence: float
    arousal: float


def find_annotations(root: Path, annotations: Path | None = None) -> Path:
    """The annotation file: ``annotations`` when given, else one of :data:`ANNOTATION_NAMES` in ``root``,
    else the file of an installed findingemo-light package. ``FileNotFoundError`` says where it looked."""
    if annotations is not None:
        if not annotations.is_file():
            raise FileNotFoundError(f"annotation file not found: {annotations}")
        return annotations
    for name in ANNOTATION_NAMES:
        if (root / name).is_file():
            return root / name
    with contextlib.suppress(ImportError):
        import findingemo_light  # type: ignore[import-not-found]

        packaged = Path(findingemo_light.__file__).parent / "data" / "annotations_single.ann"
        if packaged.is_file():
            return packaged
    raise FileNotFoundError(
        f"no FindingEmo annotation file in {root} (looked for {', '.join(ANNOTATION_NAMES)}; "
        "`pip install findingemo-light` ships annotations_single.ann, or pass --annotations FILE)"
    )


def read_findingemo(
    root: str | os.PathLike[str], annotations: Path | None = None
) -> tuple[list[Sample], dict[str, str | int]]:
    """The usable samples of a FindingEmo folder and counts: rows, images, images missing, bad rows.
    ``ValueError`` when the file lacks the columns ``image_path``, ``valence``, ``arousal``."""
    root = Path(root)
    path = find_annotations(root, annotations)
    values: dict[str, list[tuple[float, float]]] = defaultdict(list)
    bad_rows = rows = 0
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = {name.strip().lower(): name for name in reader.fieldnames or ()}
        if not {"image_path", "valence", "arousal"} <= set(fields):
            raise ValueError(f"{path} lacks the columns image_path, valence, arousal (has {reader.fieldnames})")
        for row in reader:
            rows += 1
            try:
                v, a = float(row[fields["valence"]]), float(row[fields["arousal"]])
            except (TypeError, ValueError):
                bad_rows += 1
                continue
            if not (-3.0 <= v <= 3.0 and 0.0 <= a <= 6.0) or not row[fields["image_path"]]:
                bad_rows += 1
                continue
            values[row[fields["image_path"]].strip().lstrip("/")].append((v, a))
    samples, missing = [], 0
    for key in sorted(values):
        image = root.joinpath(*key.split("/"))
        if not image.is_file():
            missing += 1
            continue
        v, a = np.mean(values[key], axis=0)
        samples.append(Sample(image, key, float(v), float(a)))
    counts: dict[str, str | int] = {
        "annotations": str(path),
        "rows": rows,
        "bad_rows": bad_rows,
        "images": len(values),
        "missing": missing,
    }
    return samples, counts


def _bin(sample: Sample) -> tuple[int, int]:
    v_bin = 0 if sample.valence < -0.5 else (1 if sample.valence <= 0.5 else 2)
    a_bin = 0 if sample.arousal < 2.0 else (1 if sample.arousal < 4.0 else 2)
    return v_bin, a_bin


def binned_split(
    samples: Sequence[Sample], seed: int = 0, fractions: Sequence[float] = FRACTIONS
) -> dict[str, list[Sample]]:
    """Train / val / test lists, each valence-arousal bin cut by ``fractions`` after a seeded shuffle."""
    bins: dict[tuple[int, int], list[Sample]] = defaultdict(list)
    for sample in samples:
        bins[_bin(sample)].append(sample)
    rng = np.random.default_rng(seed)
    splits: dict[str, list[Sample]] = {name: [] for name in SPLITS}
    for key in sorted(bins):
        members = bins[key]
        order = rng.permutation(len(members))
        start = 0
        for name, size in zip(SPLITS, split_sizes(len(members), fractions), strict=True):
            splits[name] += [members[i] for i in order[start : start + size]]
            start += size
    return splits


def findingemo_metrics(pred_ref: NDArray[np.floating[Any]], true_ref: NDArray[np.floating[Any]]) -> dict[str, Any]:
    """MAE per dimension and mean, Spearman ρ and CCC, in FindingEmo units, of reference-space predictions
    (n x 2) against reference-space truth (n x 2) (definitions in :func:`core.metrics.agreement_metrics`)."""
    aligner = EmotionScaleAligner()
    pv, pa = aligner.reference_to_findingemo(pred_ref[:, 0], pred_ref[:, 1])
    tv, ta = aligner.reference_to_findingemo(true_ref[:, 0], true_ref[:, 1])
    return agreement_metrics(np.stack([pv, pa], axis=1), np.stack([tv, ta], axis=1))
