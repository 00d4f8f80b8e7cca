"""Fixtures for the built-in station's tests: the twelve pieces synthesised once per session, and the
measurements the musical tests use."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from moodsic_desktop.audio.builtin.arrangement import SAMPLE_RATE
from moodsic_desktop.audio.builtin.cache import ensure_builtin_audio
from tests.audio.builtin.music_measures import (
    band_energies_db,
    octave_levels_db,
    onsets_per_second,
    pitch_class_profile,
)


@pytest.fixture(scope="session")
def builtin_cache(moodsic_home) -> tuple[Path, list, float]:
    """The twelve pieces synthesised into the session's (empty) ``music/builtin`` (folder, songs, seconds it
    took); later tests that play the built-in station (``moodsic analyze`` without a library) reuse it."""
    folder = moodsic_home / "music" / "builtin"
    started = time.perf_counter()
    songs = ensure_builtin_audio(folder)
    return folder, songs, time.perf_counter() - started


@pytest.fixture(scope="session")
def features(builtin_cache) -> dict[str, dict]:
    """Per piece (by song id): the measurements the musical tests use, from the cached files."""
    _, songs, _ = builtin_cache
    out = {}
    for song in songs:
        audio, rate = sf.read(song.path, dtype="float32")
        assert rate == SAMPLE_RATE
        mono = (0.5 * (audio[:, 0] + audio[:, 1])).astype(np.float64)
        body = mono[6 * SAMPLE_RATE : 36 * SAMPLE_RATE]  # 30 s after the intro
        out[song.song_id] = {
            "onsets": onsets_per_second(body),
            "profile": pitch_class_profile(mono),
            "octaves": octave_levels_db(mono[: 1 << 21]),
            "flux": float(np.maximum(np.diff(band_energies_db(body[: 5 * SAMPLE_RATE]), axis=0), 0).sum()),
            "peak": float(np.abs(audio).max()),
            "rms_db": 10 * np.log10(np.mean(audio.astype(np.float64) ** 2)),
            "lr_correlation": float(np.corrcoef(audio[:, 0], audio[:, 1])[0, 1]),
            "edges": (float(np.abs(audio[:10]).max()), float(np.abs(audio[-441:]).max())),
        }
    return out
