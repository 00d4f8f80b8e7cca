"""The signal measures of the mood features (numpy and scipy, no numba) against librosa's own, measure by
measure and feature by feature, on generated pieces and a built-in one; and the analysis loads neither
librosa nor numba."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from moodsic_desktop.audio.builtin.arrangement import render_piece
from moodsic_desktop.audio.library import signal_measures as measures
from moodsic_desktop.audio.library.mood_features import ANALYSIS_RATE, features_from_excerpts
from tests.mood_music import synth_song

librosa = pytest.importorskip("librosa")
from tests.audio.library.librosa_features import librosa_features  # noqa: E402  (needs librosa)

REPO = Path(__file__).resolve().parents[3]
SR = ANALYSIS_RATE
MOODS = [(-0.8, -0.8), (0.8, 0.8), (0.3, -0.4), (-0.5, 0.6)]


def builtin_excerpt(number: int, seconds: float = 30.0) -> np.ndarray:
    """The middle ``seconds`` of built-in piece ``number``, mono at ``SR`` (as the import decodes it)."""
    stereo = render_piece(number=number, sample_rate=SR)
    mono = stereo.mean(axis=1).astype(np.float32)
    start = (len(mono) - int(seconds * SR)) // 2
    return mono[start : start + int(seconds * SR)]


@pytest.fixture(scope="module", params=range(len(MOODS)), ids=[f"v{v:+}a{a:+}" for v, a in MOODS])
def piece(request):
    """A 20 s generated piece and its spectra, as librosa computes them."""
    valence, arousal = MOODS[request.param]
    y = synth_song(valence, arousal, 20, seed=request.param)
    magnitude = np.abs(librosa.stft(y, n_fft=measures.N_FFT, hop_length=measures.HOP))
    mel = librosa.feature.melspectrogram(S=magnitude**2, sr=SR, n_fft=measures.N_FFT)
    envelope = librosa.onset.onset_strength(S=librosa.power_to_db(mel), sr=SR)
    return y, magnitude, mel, envelope


def test_the_spectra_and_levels_are_librosas(piece):
    y, magnitude, mel, _ = piece
    ours = measures.stft_magnitude(y)
    assert ours.shape == magnitude.shape
    np.testing.assert_allclose(ours, magnitude, rtol=1e-5, atol=1e-6 * magnitude.max())
    rms = librosa.feature.rms(y=y, frame_length=measures.N_FFT, hop_length=measures.HOP)[0]
    np.testing.assert_allclose(measures.frame_rms(y), rms, rtol=1e-5)
    np.testing.assert_allclose(
        measures.spectral_centroid(magnitude, SR), librosa.feature.spectral_centroid(S=magnitude, sr=SR)[0], rtol=1e-9
    )
    np.testing.assert_array_equal(
        measures.spectral_rolloff(magnitude, SR),
        librosa.feature.spectral_rolloff(S=magnitude, sr=SR, roll_percent=0.85)[0],
    )
    power = magnitude**2
    np.testing.assert_allclose(
        measures.chroma(power, SR),
        librosa.feature.chroma_stft(S=power, sr=SR, n_fft=measures.N_FFT, tuning=0.0),
        rtol=1e-5,
        atol=1e-7,
    )
    np.testing.assert_allclose(measures.mel_filters(SR) @ power, mel, rtol=1e-5, atol=1e-7 * mel.max())
    np.testing.assert_allclose(measures.power_to_db(mel), librosa.power_to_db(mel), atol=1e-4)


def test_onsets_beats_tempo_and_hpss_are_librosas(piece):
    _, _, mel, envelope = piece
    np.testing.assert_allclose(measures.onset_strength(librosa.power_to_db(mel)), envelope, atol=1e-5)
    tempo, beats = librosa.beat.beat_track(onset_envelope=envelope, sr=SR, hop_length=measures.HOP)
    our_tempo, our_beats = measures.beat_track(envelope, SR)
    assert our_tempo == pytest.approx(float(np.atleast_1d(tempo)[0]))
    np.testing.assert_array_equal(our_beats, beats)
    onsets = librosa.onset.onset_detect(onset_envelope=envelope, sr=SR, hop_length=measures.HOP)
    np.testing.assert_array_equal(measures.onset_frames(envelope, SR), onsets)
    bands = mel[::2] + mel[1::2]
    harmonic, percussive = librosa.decompose.hpss(bands, kernel_size=13)
    ours = measures.hpss(bands, 13)
    np.testing.assert_allclose(ours[0], harmonic, rtol=1e-5, atol=1e-7 * bands.max())
    np.testing.assert_allclose(ours[1], percussive, rtol=1e-5, atol=1e-7 * bands.max())


def test_edge_cases_follow_librosa():
    silent = np.zeros(300, dtype=np.float32)
    assert measures.beat_track(silent, SR)[0] == 0.0 and len(measures.beat_track(silent, SR)[1]) == 0
    assert len(measures.onset_frames(silent, SR)) == 0
    # 3 s: the beat tracker's window (two beats at the slowest tempo) is longer than the envelope
    y = synth_song(0.0, 0.9, 3, seed=7)
    magnitude = np.abs(librosa.stft(y))
    envelope = librosa.onset.onset_strength(S=librosa.power_to_db(librosa.feature.melspectrogram(S=magnitude**2)))
    tempo, beats = librosa.beat.beat_track(onset_envelope=envelope, sr=SR)
    our_tempo, our_beats = measures.beat_track(envelope, SR)
    assert our_tempo == pytest.approx(float(np.atleast_1d(tempo)[0]))
    np.testing.assert_array_equal(our_beats, beats)
    for window in (7, 344, 2048):
        np.testing.assert_allclose(measures.periodic_hann(window), np.hanning(window + 1)[:-1], atol=1e-15)


@pytest.mark.parametrize("source", ["generated", "built-in"])
def test_the_features_are_those_librosa_measured(source):
    if source == "generated":
        excerpts = [synth_song(v, a, 30, seed=k) for k, (v, a) in enumerate(MOODS[:3])]
    else:
        excerpts = [builtin_excerpt(3), builtin_excerpt(10)]
    before, after = librosa_features(excerpts), features_from_excerpts(excerpts)
    assert after.key == before.key
    for field in fields(after):
        if field.name != "key":
            assert getattr(after, field.name) == pytest.approx(getattr(before, field.name), rel=1e-6), field.name


def test_the_analysis_loads_neither_librosa_nor_numba():
    # The frozen app leaves both out (build/bundle_config.py): a measure that needed them would fail there.
    script = (
        "import sys, numpy as np\n"
        "from moodsic_desktop.audio.library.analysis_pool import analyse_files\n"
        "from moodsic_desktop.audio.library.mood_features import features_from_excerpts\n"
        "t = np.arange(5 * 22050) / 22050\n"
        "features_from_excerpts([(0.3 * np.sin(2 * np.pi * 440 * t) * (t % 0.5 < 0.1)).astype(np.float32)])\n"
        "loaded = sorted({'librosa', 'numba', 'llvmlite'} & set(sys.modules))\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
