"""Crude musical measurements of synthesised audio for the built-in station's tests (not a test module).

They catch test tones, silence, a wrong mode or tempo mapping, not taste. Onsets come from rises of
half-octave band energies (as in spectral-flux onset detection); the key check correlates a pitch-class
profile with the Krumhansl–Kessler major and minor profiles. All take mono float64 samples at
``SAMPLE_RATE`` Hz.
"""

from __future__ import annotations

import itertools

import numpy as np

from moodsic_desktop.audio.builtin.arrangement import SAMPLE_RATE

# Krumhansl & Kessler (1982) key profiles, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def frames_of(x: np.ndarray, size: int, hop: int) -> np.ndarray:
    """Overlapping frames of ``size`` samples every ``hop`` samples (a view, no copy): (frames, size)."""
    return np.lib.stride_tricks.sliding_window_view(x, size)[::hop]


def band_energies_db(mono: np.ndarray, size: int = 2048, hop: int = 441) -> np.ndarray:
    """Energy (dB) per 10 ms frame in half-octave bands from 60 Hz to 10 kHz: (frames, bands)."""
    power = np.abs(np.fft.rfft(frames_of(mono, size, hop) * np.hanning(size), axis=1)) ** 2
    freqs = np.fft.rfftfreq(size, 1 / SAMPLE_RATE)
    edges = 60 * 2.0 ** np.arange(0, 7.5, 0.5)
    membership = np.stack([(freqs >= lo) & (freqs < hi) for lo, hi in itertools.pairwise(edges)], axis=1)
    bands = power @ membership.astype(np.float64)
    return 10 * np.log10(bands + bands.max() * 1e-6)


def onsets_per_second(mono: np.ndarray, threshold_db: float = 2.0) -> float:
    """Peaks of the mean 20 ms rise of the band energies above ``threshold_db``, at least 50 ms apart."""
    db = band_energies_db(mono)
    detection = np.maximum(db[2:] - db[:-2], 0.0).mean(axis=1)
    peaks = (
        np.flatnonzero(
            (detection[1:-1] > detection[:-2]) & (detection[1:-1] >= detection[2:]) & (detection[1:-1] > threshold_db)
        )
        + 1
    )
    kept: list[int] = []
    for peak in peaks:
        if not kept or peak - kept[-1] >= 5:
            kept.append(int(peak))
    return len(kept) / (len(mono) / SAMPLE_RATE)


def pitch_class_profile(mono: np.ndarray) -> np.ndarray:
    """Spectral power between 60 Hz and 2 kHz folded onto the 12 pitch classes (0 = C)."""
    size = 8192
    power = (np.abs(np.fft.rfft(frames_of(mono, size, size // 2) * np.hanning(size), axis=1)) ** 2).sum(axis=0)
    freqs = np.fft.rfftfreq(size, 1 / SAMPLE_RATE)
    chosen = (freqs > 60) & (freqs < 2000)
    classes = np.round(12 * np.log2(freqs[chosen] / 440.0) + 69).astype(int) % 12
    return np.bincount(classes, weights=power[chosen], minlength=12)


def octave_levels_db(mono: np.ndarray) -> np.ndarray:
    """Energy per octave from 55 Hz to 14 kHz (8 octaves), in dB below the strongest."""
    spectrum = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / SAMPLE_RATE)
    edges = 55 * 2.0 ** np.arange(9)
    energy = np.array([spectrum[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in itertools.pairwise(edges)])
    return 10 * np.log10(energy / energy.max())
