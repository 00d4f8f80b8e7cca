"""The mood features as the program measured them with librosa (and numba) up to issue 22, kept as the
reference that ``signal_measures`` must reproduce: ``tests/audio/library/test_signal_measures.py`` and
``benchmarks/bench_features_without_numba.py`` compare the two. Needs librosa (``pip install librosa``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import librosa
import numpy as np

from moodsic_desktop.audio.library.mood_features import (
    ANALYSIS_RATE,
    HPSS_KERNEL,
    SILENCE_DB,
    MoodAnalysisError,
    MoodFeatures,
    estimate_key,
)

N_FFT = 2048
HOP = 512


def librosa_features(excerpts: Sequence[np.ndarray], samplerate: int = ANALYSIS_RATE) -> MoodFeatures:
    """``mood_features.features_from_excerpts`` as it was written with librosa 0.11."""
    excerpts = [np.asarray(e, dtype=np.float32) for e in excerpts if len(e) >= N_FFT]
    if not excerpts:
        raise ValueError("no excerpt long enough to analyse")
    rms_db, centroid, rolloff, chroma_sum = [], [], [], np.zeros(12)
    tempos, beat_ratio, onsets, harmonic, percussive, seconds = [], [], 0, 0.0, 0.0, 0.0
    for y in excerpts:
        seconds += len(y) / samplerate
        magnitude = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
        rms = librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP)[0][: magnitude.shape[1]]
        level = librosa.amplitude_to_db(rms, ref=1.0, top_db=None)
        sounding = level > SILENCE_DB
        if not sounding.any():
            continue
        rms_db.append(level[sounding])
        centroid.append(librosa.feature.spectral_centroid(S=magnitude, sr=samplerate)[0][sounding])
        rolloff.append(librosa.feature.spectral_rolloff(S=magnitude, sr=samplerate, roll_percent=0.85)[0][sounding])
        chroma = librosa.feature.chroma_stft(S=magnitude**2, sr=samplerate, n_fft=N_FFT, tuning=0.0)
        chroma_sum += (chroma[:, sounding] * (10.0 ** (level[sounding] / 20.0))).sum(axis=1)
        mel = librosa.feature.melspectrogram(S=magnitude**2, sr=samplerate, n_fft=N_FFT)
        envelope = librosa.onset.onset_strength(S=librosa.power_to_db(mel), sr=samplerate)
        tempo, beats = librosa.beat.beat_track(onset_envelope=envelope, sr=samplerate, hop_length=HOP)
        tempos.append(float(np.atleast_1d(tempo)[0]))
        mean_strength = float(envelope.mean())
        if len(beats) and mean_strength > 0:
            beat_ratio.append(float(envelope[beats].mean()) / mean_strength)
        onsets += len(librosa.onset.onset_detect(onset_envelope=envelope, sr=samplerate, hop_length=HOP))
        h, p = librosa.decompose.hpss(mel[::2] + mel[1::2], kernel_size=HPSS_KERNEL)
        harmonic, percussive = harmonic + float(h.sum()), percussive + float(p.sum())
    if not rms_db:
        raise MoodAnalysisError("-", f"silent: no sound above {SILENCE_DB:g} dBFS in the analysed excerpts")
    levels = np.concatenate(rms_db)
    power_mean = float(np.mean(10.0 ** (levels / 10.0)))
    key, clarity, mode = estimate_key(chroma_sum)
    return MoodFeatures(
        tempo_bpm=float(np.median(tempos)),
        beat_strength=float(np.mean(beat_ratio)) if beat_ratio else 0.0,
        loudness_db=10.0 * math.log10(power_mean),
        dynamic_range_db=float(np.percentile(levels, 95) - np.percentile(levels, 10)),
        onset_rate=onsets / seconds,
        centroid_hz=float(np.concatenate(centroid).mean()),
        rolloff_hz=float(np.concatenate(rolloff).mean()),
        percussive_share=percussive / (harmonic + percussive) if harmonic + percussive > 0 else 0.0,
        mode=mode,
        key_clarity=clarity,
        key=key,
        seconds_analysed=seconds,
    )
