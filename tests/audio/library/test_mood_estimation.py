"""Mood points from audio features: the default mapping orders generated pieces and the built-in
station's pieces the right way on both dimensions; the learned model fits, cross-validates and round-trips."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from moodsic_desktop.audio.builtin.arrangement import render_piece
from moodsic_desktop.audio.builtin.catalogue import builtin_songs
from moodsic_desktop.audio.library.mood_estimation import (
    DEFAULT_SIGMA,
    MIN_LABELLED_SONGS,
    LearnedMoodModel,
    default_estimate,
    fit_mood_model,
)
from moodsic_desktop.audio.library.mood_features import ANALYSIS_RATE, MoodFeatures, features_from_excerpts
from moodsic_desktop.core.metrics import spearman
from tests.mood_music import mood_grid, synth_song


def test_the_default_mapping_orders_generated_contrasts():
    corners = {(v, a): [] for v in (-0.8, 0.8) for a in (-0.8, 0.8)}
    for (v, a), points in corners.items():
        for seed in range(2):
            points.append(default_estimate(features_from_excerpts([synth_song(v, a, 15, seed=seed)])))
    for a in (-0.8, 0.8):  # at either arousal, the major pieces read more pleasant than the minor ones
        assert max(p.valence for p in corners[(-0.8, a)]) < min(p.valence for p in corners[(0.8, a)])
    for v in (-0.8, 0.8):  # at either valence, the fast loud pieces read more aroused than the slow quiet ones
        assert max(p.arousal for p in corners[(v, -0.8)]) < min(p.arousal for p in corners[(v, 0.8)])
    assert all(p.var_valence == p.var_arousal == DEFAULT_SIGMA**2 for ps in corners.values() for p in ps)


def test_the_default_mapping_ranks_a_spread_of_generated_pieces():
    targets = mood_grid(16, seed=5)
    points = [
        default_estimate(features_from_excerpts([synth_song(v, a, 12, seed=i)])) for i, (v, a) in enumerate(targets)
    ]
    assert spearman([p.arousal for p in points], [a for _, a in targets]) > 0.8
    assert spearman([p.valence for p in points], [v for v, _ in targets]) > 0.4


@pytest.fixture(scope="module")
def builtin_estimates():
    songs = builtin_songs()
    points = []
    for number, _ in enumerate(songs, start=1):
        audio = render_piece(number=number, sample_rate=ANALYSIS_RATE, duration_s=30.0).mean(axis=1)
        points.append(default_estimate(features_from_excerpts([audio])))
    return songs, points


def test_the_default_mapping_orders_the_builtin_stations_pieces(builtin_estimates):
    songs, points = builtin_estimates
    assert spearman([p.arousal for p in points], [s.arousal for s in songs]) > 0.8
    assert spearman([p.valence for p in points], [s.valence for s in songs]) > 0.4
    # The calmest pieces read calmer than the liveliest, the gloomiest less pleasant than the happiest.
    by_arousal = sorted(zip(songs, points, strict=True), key=lambda sp: sp[0].arousal)
    assert max(p.arousal for _, p in by_arousal[:3]) < min(p.arousal for _, p in by_arousal[-3:])
    by_valence = sorted(zip(songs, points, strict=True), key=lambda sp: sp[0].valence)
    assert np.mean([p.valence for _, p in by_valence[:3]]) < np.mean([p.valence for _, p in by_valence[-3:]])


def _random_features(rng: np.random.Generator, n: int) -> tuple[list[MoodFeatures], np.ndarray]:
    """Features with a known linear truth: valence from mode and brightness, arousal from loudness and
    onset density, plus noise."""
    features, labels = [], []
    for _ in range(n):
        mode, loud, onsets = rng.uniform(-0.3, 0.3), rng.uniform(-35, -12), rng.uniform(0.5, 8)
        centroid = rng.uniform(500, 4000)
        features.append(
            MoodFeatures(
                tempo_bpm=rng.uniform(60, 160),
                beat_strength=rng.uniform(1, 5),
                loudness_db=loud,
                dynamic_range_db=rng.uniform(5, 20),
                onset_rate=onsets,
                centroid_hz=centroid,
                rolloff_hz=2 * centroid,
                percussive_share=rng.uniform(0, 0.5),
                mode=mode,
                key_clarity=rng.uniform(0.5, 0.9),
                key="C major",
                seconds_analysed=90.0,
            )
        )
        v = 2.5 * mode + 0.2 * np.log2(centroid / 1500) + rng.normal(0, 0.05)
        a = (loud + 23.5) / 14 + 0.2 * np.log2(onsets / 2) + rng.normal(0, 0.05)
        labels.append((np.clip(v, -1, 1), np.clip(a, -1, 1)))
    return features, np.array(labels)


def test_the_learned_model_recovers_a_known_mapping_and_beats_the_default():
    rng = np.random.default_rng(0)
    features, labels = _random_features(rng, 80)
    model = fit_mood_model(features, labels[:, 0], labels[:, 1], folds=5)
    ref = model.cv["reference"]
    assert ref["n"] == 80 and model.folds == 5
    assert ref["spearman_valence"] > 0.9 and ref["spearman_arousal"] > 0.9
    assert ref["mae_valence"] < 0.1 and ref["mae_arousal"] < 0.1
    assert model.cv["deam"]["mae_valence"] == pytest.approx(4 * ref["mae_valence"])
    assert model.cv_default["reference"]["mae_mean"] > ref["mae_mean"]
    assert model.var[0] == pytest.approx(ref["mae_valence"] ** 2, rel=1.0) and model.var[1] < 0.02
    # New songs from the same truth are predicted within the cross-validated error.
    test_features, test_labels = _random_features(rng, 40)
    predicted = np.array([model.estimate(f)[:2] for f in test_features])
    assert np.abs(predicted - test_labels).mean() < 2 * ref["mae_mean"]
    assert all(model.estimate(f).method == "learned" for f in test_features[:3])


def test_the_learned_model_is_stored_as_plain_numbers_and_checked_on_loading():
    features, labels = _random_features(np.random.default_rng(1), 40)
    model = fit_mood_model(features, labels[:, 0], labels[:, 1])
    stored = json.loads(json.dumps(model.to_dict()))
    again = LearnedMoodModel.from_dict(stored)
    assert [again.estimate(f) for f in features[:5]] == [model.estimate(f) for f in features[:5]]
    for broken in (
        {**stored, "coef": stored["coef"][:1]},
        {**stored, "scale": [0.0] * len(stored["scale"])},
        {**stored, "inputs": stored["inputs"][::-1]},
        {**stored, "kind": "pickle"},
        {**stored, "intercept": [float("nan"), 0.0]},
    ):
        with pytest.raises(ValueError):
            LearnedMoodModel.from_dict(broken)


def test_learning_refuses_too_few_songs_or_constant_labels():
    features, labels = _random_features(np.random.default_rng(2), MIN_LABELLED_SONGS)
    with pytest.raises(ValueError, match=f"at least {MIN_LABELLED_SONGS}"):
        fit_mood_model(features[:-1], labels[:-1, 0], labels[:-1, 1])
    with pytest.raises(ValueError, match="nothing to learn"):
        fit_mood_model(features, np.zeros(len(features)), labels[:, 1])
    model = fit_mood_model(features, labels[:, 0], labels[:, 1])
    assert dataclasses.asdict(model)["n_songs"] == MIN_LABELLED_SONGS
