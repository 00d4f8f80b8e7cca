"""From audio features to a mood point: the literature's default mapping, and a model learned on the library.

Both take ``MoodFeatures`` (``mood_features``) and give a ``MoodPoint``: valence and arousal in reference
space [-1, 1] with the expected squared error of each (reference units², the program's ``var``), so an
estimate carries its own uncertainty into the matcher.

**Inputs.** Each song's features become the vector ``INPUT_NAMES``: log₂ of tempo (BPM), onset rate
(onsets/s + 0.25), spectral centroid and roll-off (Hz); beat strength, loudness (dBFS), dynamic range (dB),
percussive share, mode and key clarity as measured.

**Default mapping** (no model learned yet). The music-emotion literature agrees on the direction of the
main cues: tempo, loudness, note (onset) density, percussive attack and brightness raise arousal; major
mode, and to a lesser degree brightness and a faster tempo, raise valence (Gabrielsson & Lindström 2010,
"The role of structure in the musical expression of emotions", Handbook of Music and Emotion; Eerola,
Friberg & Bresin 2013, "Emotional expression in music: contribution, linearity, and additivity of
primary musical cues", Frontiers in Psychology 4:487, where mode is the strongest cue for valence and
tempo and loudness for arousal). With each cue centred and scaled to a typical range,

    z_tempo = log₂(tempo / 110) / 0.5       z_loud = (loudness_db + 20) / 8
    z_onset = log₂((onset_rate + 0.25) / 3)  z_perc = (percussive_share - 0.25) / 0.15
    z_bright = log₂(centroid_hz / 1500)      z_mode = mode / 0.15

    arousal = tanh(0.35 z_loud + 0.30 z_onset + 0.20 z_perc + 0.15 z_tempo + 0.15 z_bright)
    valence = tanh(0.60 z_mode + 0.25 z_bright + 0.10 z_tempo)

The weights order the cues as those studies do; their sizes are a judgement, not a fit. Its uncertainty
is ``DEFAULT_SIGMA`` = 0.5 on each dimension (a quarter of the scale), larger than any learned model's.

**Learned model** (``fit_mood_model``, ``moodsic library learn-moods``): a ridge regression per dimension
on the standardised inputs (scikit-learn ``RidgeCV``, the penalty chosen by leave-one-out within the
training data), judged by k-fold cross-validation (default 5 folds, shuffled with a fixed seed):
each song is predicted by a model that never saw it, and MAE, Spearman ρ and Lin's CCC are taken over
those predictions, in reference units and DEAM's 1..9 units (MAE × 4). The final model is fitted on all
songs; its uncertainty is the cross-validated mean squared error of each dimension. It is stored as
plain numbers in JSON (``to_dict``), never as a pickle, and predicts with numpy alone.

Threads: everything here is pure (any thread); ``fit_mood_model`` takes a second or so for a few
thousand songs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from moodsic_desktop.audio.library.mood_features import FEATURES_VERSION, MoodFeatures
from moodsic_desktop.core.metrics import agreement_metrics
from moodsic_desktop.core.song import SongMood

INPUT_NAMES = (
    "log2_tempo_bpm",
    "beat_strength",
    "loudness_db",
    "dynamic_range_db",
    "log2_onset_rate",
    "log2_centroid_hz",
    "log2_rolloff_hz",
    "percussive_share",
    "mode",
    "key_clarity",
)
DEFAULT_SIGMA = 0.5
MIN_LABELLED_SONGS = 30
DEFAULT_FOLDS = 5
MODEL_VERSION = 1
_ALPHAS = tuple(float(a) for a in np.logspace(-2, 3, 11))
_MIN_VAR = 0.01 * 0.01


class MoodPoint(NamedTuple):
    """An estimated mood: ``valence``, ``arousal`` in reference space [-1, 1]; ``var_valence``,
    ``var_arousal`` the expected squared errors (reference units²); ``method`` "default" or "learned"."""

    valence: float
    arousal: float
    var_valence: float
    var_arousal: float
    method: str

    @property
    def song_mood(self) -> SongMood:
        """The estimate as a song's mood: source "estimated", with both variances."""
        return SongMood(self.valence, self.arousal, "estimated", self.var_valence, self.var_arousal)


def model_inputs(features: MoodFeatures) -> np.ndarray:
    """The input vector (``INPUT_NAMES``) of one song's features."""
    f = features
    return np.array(
        [
            math.log2(max(f.tempo_bpm, 1.0)),
            f.beat_strength,
            f.loudness_db,
            f.dynamic_range_db,
            math.log2(f.onset_rate + 0.25),
            math.log2(max(f.centroid_hz, 1.0)),
            math.log2(max(f.rolloff_hz, 1.0)),
            f.percussive_share,
            f.mode,
            f.key_clarity,
        ],
        dtype=float,
    )


def default_estimate(features: MoodFeatures) -> MoodPoint:
    """The literature's default mapping (formulas in the module docstring)."""
    f = features
    z_tempo = math.log2(max(f.tempo_bpm, 1.0) / 110.0) / 0.5
    z_loud = (f.loudness_db + 20.0) / 8.0
    z_onset = math.log2((f.onset_rate + 0.25) / 3.0)
    z_perc = (f.percussive_share - 0.25) / 0.15
    z_bright = math.log2(max(f.centroid_hz, 1.0) / 1500.0)
    z_mode = f.mode / 0.15
    arousal = math.tanh(0.35 * z_loud + 0.30 * z_onset + 0.20 * z_perc + 0.15 * z_tempo + 0.15 * z_bright)
    valence = math.tanh(0.60 * z_mode + 0.25 * z_bright + 0.10 * z_tempo)
    var = DEFAULT_SIGMA**2
    return MoodPoint(valence, arousal, var, var, "default")


def _to_deam(metrics: dict[str, Any]) -> dict[str, Any]:
    """MAE in DEAM's 1..9 units (4 × reference); correlations do not change with the scale."""
    return {k: (v * 4.0 if k.startswith("mae") and v is not None else v) for k, v in metrics.items()}


@dataclass(frozen=True)
class LearnedMoodModel:
    """A ridge regression per dimension on standardised inputs (see the module docstring). ``mean`` and
    ``scale`` standardise ``model_inputs``; ``coef`` is 2 × inputs (valence row, arousal row) and
    ``intercept`` 2 values, all in reference units; ``var`` the cross-validated squared errors.
    ``cv`` (this model) and ``cv_default`` (the default mapping on the same songs) hold the
    cross-validated metrics, ``{"reference": {...}, "deam": {...}}``; ``fitted_at`` is seconds since
    the epoch."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[tuple[float, ...], tuple[float, ...]]
    intercept: tuple[float, float]
    alpha: tuple[float, float]
    var: tuple[float, float]
    n_songs: int
    folds: int
    fitted_at: float
    cv: dict[str, Any] = field(default_factory=dict)
    cv_default: dict[str, Any] = field(default_factory=dict)

    def estimate(self, features: MoodFeatures) -> MoodPoint:
        """The model's mood point for one song, clipped to [-1, 1]."""
        z = (model_inputs(features) - np.asarray(self.mean)) / np.asarray(self.scale)
        v, a = np.clip(np.asarray(self.coef) @ z + np.asarray(self.intercept), -1.0, 1.0)
        return MoodPoint(float(v), float(a), self.var[0], self.var[1], "learned")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers and names (no pickle)."""
        return {
            "kind": "ridge",
            "version": MODEL_VERSION,
            "features_version": FEATURES_VERSION,
            "inputs": list(INPUT_NAMES),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": [list(row) for row in self.coef],
            "intercept": list(self.intercept),
            "alpha": list(self.alpha),
            "var": list(self.var),
            "n_songs": self.n_songs,
            "folds": self.folds,
            "fitted_at": self.fitted_at,
            "cv": self.cv,
            "cv_default": self.cv_default,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LearnedMoodModel:
        """The inverse of ``to_dict``. Raises ``ValueError`` for a model of another kind or version, for
        other inputs or feature definitions, or for numbers of the wrong shape or not finite."""
        if data.get("kind") != "ridge" or data.get("version") != MODEL_VERSION:
            raise ValueError(f"a model of kind {data.get('kind')!r} version {data.get('version')!r}")
        if data.get("features_version") != FEATURES_VERSION or list(data.get("inputs", ())) != list(INPUT_NAMES):
            raise ValueError("a model learned on other features (run `moodsic library learn-moods` again)")
        n = len(INPUT_NAMES)
        mean, scale = np.asarray(data["mean"], float), np.asarray(data["scale"], float)
        coef, intercept = np.asarray(data["coef"], float), np.asarray(data["intercept"], float)
        var, alpha = np.asarray(data["var"], float), np.asarray(data["alpha"], float)
        shapes = (mean.shape, scale.shape, coef.shape, intercept.shape, var.shape, alpha.shape)
        if shapes != ((n,), (n,), (2, n), (2,), (2,), (2,)):
            raise ValueError(f"model numbers of the wrong shape {shapes}")
        arrays = (mean, scale, coef, intercept, var, alpha)
        if not all(np.isfinite(x).all() for x in arrays) or (scale <= 0).any() or (var < 0).any():
            raise ValueError("model numbers that are not finite, or a scale or variance out of range")
        return cls(
            mean=tuple(mean.tolist()),
            scale=tuple(scale.tolist()),
            coef=(tuple(coef[0].tolist()), tuple(coef[1].tolist())),
            intercept=(float(intercept[0]), float(intercept[1])),
            alpha=(float(alpha[0]), float(alpha[1])),
            var=(float(var[0]), float(var[1])),
            n_songs=int(data["n_songs"]),
            folds=int(data["folds"]),
            fitted_at=float(data["fitted_at"]),
            cv=dict(data.get("cv") or {}),
            cv_default=dict(data.get("cv_default") or {}),
        )


def fit_mood_model(
    features: Sequence[MoodFeatures],
    valence: Sequence[float],
    arousal: Sequence[float],
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
) -> LearnedMoodModel:
    """Fit and cross-validate the learned model on songs with known V-A (reference space). Raises
    ``ValueError`` with fewer than ``MIN_LABELLED_SONGS`` songs, or labels that do not vary."""
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n = len(features)
    if n < MIN_LABELLED_SONGS:
        raise ValueError(f"{n} songs with a rated mood and audio; learning needs at least {MIN_LABELLED_SONGS}")
    x = np.array([model_inputs(f) for f in features])
    y = np.column_stack([np.asarray(valence, float), np.asarray(arousal, float)])
    if y.shape != (n, 2) or not np.isfinite(y).all():
        raise ValueError("every song needs a finite valence and arousal")
    if np.ptp(y[:, 0]) == 0 or np.ptp(y[:, 1]) == 0:
        raise ValueError("the rated songs all share one valence or one arousal; nothing to learn from")

    def model():
        return make_pipeline(StandardScaler(), RidgeCV(alphas=_ALPHAS, alpha_per_target=True))

    folds = max(2, min(int(folds), n))
    splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    predicted = np.clip(cross_val_predict(model(), x, y, cv=splitter), -1.0, 1.0)
    default = np.array([default_estimate(f)[:2] for f in features])
    cv = agreement_metrics(predicted, y)
    cv_default = agreement_metrics(default, y)
    fitted = model().fit(x, y)
    scaler, ridge = fitted[0], fitted[1]
    var = np.maximum(((predicted - y) ** 2).mean(axis=0), _MIN_VAR)
    alpha = np.broadcast_to(np.asarray(ridge.alpha_, dtype=float), (2,))
    return LearnedMoodModel(
        mean=tuple(scaler.mean_.tolist()),
        scale=tuple(scaler.scale_.tolist()),
        coef=(tuple(ridge.coef_[0].tolist()), tuple(ridge.coef_[1].tolist())),
        intercept=(float(ridge.intercept_[0]), float(ridge.intercept_[1])),
        alpha=(float(alpha[0]), float(alpha[1])),
        var=(float(var[0]), float(var[1])),
        n_songs=n,
        folds=folds,
        fitted_at=time.time(),
        cv={"reference": cv, "deam": _to_deam(cv)},
        cv_default={"reference": cv_default, "deam": _to_deam(cv_default)},
    )


def estimate(features: MoodFeatures, model: LearnedMoodModel | None) -> MoodPoint:
    """The learned model's point when there is one, else the default mapping's."""
    return model.estimate(features) if model is not None else default_estimate(features)


__all__ = [
    "DEFAULT_FOLDS",
    "DEFAULT_SIGMA",
    "INPUT_NAMES",
    "MIN_LABELLED_SONGS",
    "LearnedMoodModel",
    "MoodPoint",
    "default_estimate",
    "estimate",
    "fit_mood_model",
    "model_inputs",
]
