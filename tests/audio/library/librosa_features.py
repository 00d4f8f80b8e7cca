"""The mood features as the program measured them with librosa (and numba) up to issue 22, kept as the
reference that ``signal_measures`` must reproduce: ``tests/audio/library/test_signal_measures.py`` and
``benchmarks/bench_features_without_numba.py`` compare the two. Needs librosa (``pip install librosa``)."""

from __future__ import annotations

from collections.abc import Sequence

import librosa
import numpy as np

from moodsic_desktop.audio.library.mood_features import (
    ANALYSIS_RATE,
    HPSS_KERNEL,
    SILENCE_DB,
    MoodFeatures,
    SongMeasures,
)

N_FFT = 2048
HOP = 512


def librosa_features(excerpts: Sequence[np.ndarray], samplerate: int = ANALYSIS_RATE) -> MoodFeatures:
    """``mood_features.features_from_excerpts`` as it was written with librosa 0.11."""
    excerpts = [np.asarray(e, dtype=np.float32) for e in excerpts if len(e) >= N_FFT]
    if not excerpts:
        raise ValueError("no excerpt long enough to analyse")
    song = SongMeasures()
    for y in excerpts:
        song.seconds += len(y) / samplerate
        magnitude = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
        rms = librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP)[0][: magnitude.shape[1]]
        level = librosa.amplitude_to_db(rms, ref=1.0, top_db=None)
        sounding = level > SILENCE_DB
        if not sounding.any():
            continue
        song.rms_db.append(level[sounding])
        song.centroid.append(librosa.feature.spectral_centroid(S=magnitude, sr=samplerate)[0][sounding])
        rolloff = librosa.feature.spectral_rolloff(S=magnitude, sr=samplerate, roll_percent=0.85)[0]
        song.rolloff.append(rolloff[sounding])
        chroma = librosa.feature.chroma_stft(S=magnitude**2, sr=samplerate, n_fft=N_FFT, tuning=0.0)
        song.chroma_sum += (chroma[:, sounding] * (10.0 ** (level[sounding] / 20.0))).sum(axis=1)
        mel = librosa.feature.melspectrogram(S=magnitude**2, sr=samplerate, n_fft=N_FFT)
        envelope = librosa.onset.onset_strength(S=librosa.power_to_db(mel), sr=samplerate)
        tempo, beats = librosa.beat.beat_track(onset_envelope=envelope, sr=samplerate, hop_length=HOP)
        onsets = len(librosa.onset.onset_detect(onset_envelope=envelope, sr=samplerate, hop_length=HOP))
        song.add_rhythm(envelope, float(np.atleast_1d(tempo)[0]), beats, onsets)
        h, p = librosa.decompose.hpss(mel[::2] + mel[1::2], kernel_size=HPSS_KERNEL)
        song.harmonic, song.percussive = song.harmonic + float(h.sum()), song.percussive + float(p.sum())
    return song.features()
