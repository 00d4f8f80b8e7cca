"""Audio features that carry a song's mood, measured on a bounded set of excerpts.

A song is analysed on three windows of ``EXCERPT_S`` = 30 s centred at 25 %, 50 % and 75 % of its
length (a song of up to 90 s is analysed whole), decoded by the program's own decoder
(``decoding.decode_excerpts``), mixed to mono and resampled to ``ANALYSIS_RATE`` = 22 050 Hz, so an
hour-long file costs the same as a song. One magnitude STFT (2048-point Hann window, hop 512 samples,
about 23 ms) per excerpt feeds every feature; the frames of the excerpts are pooled. The measures are
librosa's definitions computed with numpy and scipy (``signal_measures``: no numba, so the frozen app
carries no LLVM); the tests check them against librosa's own.

* ``tempo_bpm`` (beats per minute) and ``beat_strength``: Ellis's dynamic-programming beat tracker on the onset-strength
  envelope (median tempo of the excerpts); beat strength is the mean onset strength on the beats over the
  mean onset strength of all frames (1 = beats no stronger than the rest, larger = a clear pulse).
* ``loudness_db`` (dBFS, full-scale sine ≈ -3 dB) and ``dynamic_range_db`` (dB): the mean of the frame
  RMS levels, and the spread of the 95th over the 10th percentile of them, over the frames above
  ``SILENCE_DB``.
* ``onset_rate`` (onsets per second): an onset detector (peak picking on the same envelope).
* ``centroid_hz`` and ``rolloff_hz`` (Hz): mean spectral centroid and 85 % roll-off of the sounding frames,
  the usual measures of brightness.
* ``percussive_share`` (0..1): the percussive part of the energy after harmonic/percussive source
  separation (median-filtering HPSS, on a 64-band mel spectrogram to keep it cheap).
* ``mode`` and ``key_clarity`` (correlations, -1..1): the mean chroma is correlated with the 24 rotations
  of the Krumhansl–Kessler major and minor key profiles (Krumhansl & Kessler 1982; the
  Krumhansl–Schmuckler key-finding algorithm); ``key`` names the best one, ``key_clarity`` is its
  correlation and ``mode`` the best major minus the best minor correlation (> 0: major).

A file whose excerpts hold no frame above ``SILENCE_DB`` raises ``MoodAnalysisError`` ("silent").

Threads: everything here is pure and may run in any thread or process. ``analysis_pool.analyse_files``
runs many files in worker *processes* (much of the work holds Python's GIL).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from moodsic_desktop.audio import decoding
from moodsic_desktop.audio.library import signal_measures as signal
from moodsic_desktop.audio.library.signal_measures import N_FFT

log = logging.getLogger(__name__)

ANALYSIS_RATE = 22050
EXCERPT_S = 30.0
EXCERPT_POSITIONS = (0.25, 0.5, 0.75)
SILENCE_DB = -60.0
HPSS_KERNEL = 13  # median filter length (frames across time, bands across frequency)
FEATURES_VERSION = 1
"""Bumped whenever a feature's definition changes, so cached features of an older version are measured again."""

# Krumhansl & Kessler (1982), probe-tone ratings for C major and C minor (C, C#, …, B).
MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


class MoodAnalysisError(ValueError):
    """A file whose mood cannot be measured: it does not decode, or it is silent. ``reason`` says why
    (without the path)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot analyse {self.path}: {reason}")


@dataclass(frozen=True)
class MoodFeatures:
    """The measured features of one song (definitions and units in the module docstring)."""

    tempo_bpm: float
    beat_strength: float
    loudness_db: float
    dynamic_range_db: float
    onset_rate: float
    centroid_hz: float
    rolloff_hz: float
    percussive_share: float
    mode: float
    key_clarity: float
    key: str
    seconds_analysed: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with ``version`` = ``FEATURES_VERSION``."""
        return {"version": FEATURES_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MoodFeatures:
        """The inverse of ``to_dict``; raises ``ValueError`` for another version or missing values."""
        if data.get("version") != FEATURES_VERSION:
            raise ValueError(f"features of version {data.get('version')!r}, this program measures {FEATURES_VERSION}")
        try:
            values = {f.name: data[f.name] for f in fields(cls)}
        except KeyError as error:
            raise ValueError(f"stored features lack {error}") from None
        key = str(values.pop("key"))
        return cls(key=key, **{k: float(v) for k, v in values.items()})


def _key_profiles() -> tuple[np.ndarray, list[str]]:
    """The 24 rotated key profiles, each standardised (zero mean, unit norm), and their names."""
    rows, names = [], []
    for profile, mode in ((MAJOR_PROFILE, "major"), (MINOR_PROFILE, "minor")):
        for tonic in range(12):
            rolled = np.roll(np.asarray(profile, dtype=float), tonic)
            rolled -= rolled.mean()
            rows.append(rolled / np.linalg.norm(rolled))
            names.append(f"{PITCH_CLASSES[tonic]} {mode}")
    return np.array(rows), names


_PROFILES, _KEY_NAMES = _key_profiles()


def estimate_key(chroma_mean: np.ndarray) -> tuple[str, float, float]:
    """Krumhansl–Schmuckler key finding on a 12-bin chroma vector (C first): ``(key name, clarity, mode)``
    with clarity the best Pearson correlation and mode the best major minus the best minor correlation.
    A flat chroma gives ``("", 0.0, 0.0)``."""
    chroma = np.asarray(chroma_mean, dtype=float).reshape(12) - float(np.mean(chroma_mean))
    norm = float(np.linalg.norm(chroma))
    if norm <= 1e-12:
        return "", 0.0, 0.0
    correlations = _PROFILES @ (chroma / norm)
    best = int(np.argmax(correlations))
    return _KEY_NAMES[best], float(correlations[best]), float(correlations[:12].max() - correlations[12:].max())


@dataclass
class SongMeasures:
    """What a song's excerpts measured, gathered excerpt by excerpt and summed up by :meth:`features`: the
    seconds analysed, per sounding frame the level (dBFS), spectral centroid and roll-off (Hz), the
    level-weighted chroma sum, per excerpt the tempo (BPM) and the beats' strength over the mean onset
    strength, the onsets counted, and the harmonic and percussive energy. One thread."""

    seconds: float = 0.0
    rms_db: list[np.ndarray] = field(default_factory=list)
    centroid: list[np.ndarray] = field(default_factory=list)
    rolloff: list[np.ndarray] = field(default_factory=list)
    chroma_sum: np.ndarray = field(default_factory=lambda: np.zeros(12))
    tempos: list[float] = field(default_factory=list)
    beat_ratio: list[float] = field(default_factory=list)
    onsets: int = 0
    harmonic: float = 0.0
    percussive: float = 0.0

    def add_rhythm(self, envelope: np.ndarray, tempo: float, beats: np.ndarray, onsets: int) -> None:
        """One excerpt's tempo, its beats' strength (the onset ``envelope`` at the ``beats`` over its mean)
        and its count of ``onsets``."""
        self.tempos.append(float(tempo))
        mean_strength = float(envelope.mean())
        if len(beats) and mean_strength > 0:
            self.beat_ratio.append(float(envelope[beats].mean()) / mean_strength)
        self.onsets += onsets

    def features(self) -> MoodFeatures:
        """The song's features. Raises ``MoodAnalysisError`` (path "-") when no frame was sounding."""
        if not self.rms_db:
            raise MoodAnalysisError("-", f"silent: no sound above {SILENCE_DB:g} dBFS in the analysed excerpts")
        levels = np.concatenate(self.rms_db)
        power_mean = float(np.mean(10.0 ** (levels / 10.0)))
        key, clarity, mode = estimate_key(self.chroma_sum)
        energy = self.harmonic + self.percussive
        return MoodFeatures(
            tempo_bpm=float(np.median(self.tempos)),
            beat_strength=float(np.mean(self.beat_ratio)) if self.beat_ratio else 0.0,
            loudness_db=10.0 * math.log10(power_mean),
            dynamic_range_db=float(np.percentile(levels, 95) - np.percentile(levels, 10)),
            onset_rate=self.onsets / self.seconds,
            centroid_hz=float(np.concatenate(self.centroid).mean()),
            rolloff_hz=float(np.concatenate(self.rolloff).mean()),
            percussive_share=self.percussive / energy if energy > 0 else 0.0,
            mode=mode,
            key_clarity=clarity,
            key=key,
            seconds_analysed=self.seconds,
        )


def features_from_excerpts(excerpts: Sequence[np.ndarray], samplerate: int = ANALYSIS_RATE) -> MoodFeatures:
    """The features of a song from its mono excerpts (float arrays at ``samplerate`` Hz). Raises
    ``ValueError`` when there is no audio and ``MoodAnalysisError`` (path "-") when every frame is below
    ``SILENCE_DB``. Pure; any thread."""
    excerpts = [np.asarray(e, dtype=np.float32) for e in excerpts if len(e) >= N_FFT]
    if not excerpts:
        raise ValueError("no excerpt long enough to analyse")
    mel_bank, chroma_bank = signal.mel_filters(samplerate), signal.chroma_filters(samplerate)
    song = SongMeasures()
    for y in excerpts:
        song.seconds += len(y) / samplerate
        magnitude = signal.stft_magnitude(y)
        # From the samples, not the STFT: a spectrogram's RMS carries the Hann window's energy (-4.3 dB).
        level = signal.power_to_db(np.square(signal.frame_rms(y)), top_db=None)[: magnitude.shape[1]]
        sounding = level > SILENCE_DB
        if not sounding.any():
            continue
        song.rms_db.append(level[sounding])
        song.centroid.append(signal.spectral_centroid(magnitude, samplerate)[sounding])
        song.rolloff.append(signal.spectral_rolloff(magnitude, samplerate, roll_percent=0.85)[sounding])
        power = magnitude**2
        # chroma bins on A = 440 Hz: estimating the tuning per excerpt cost more than the rest of the chroma
        chroma = signal.chroma(power, samplerate, chroma_bank)
        song.chroma_sum += (chroma[:, sounding] * (10.0 ** (level[sounding] / 20.0))).sum(axis=1)
        mel = mel_bank @ power
        envelope = signal.onset_strength(signal.power_to_db(mel))
        tempo, beats = signal.beat_track(envelope, samplerate)
        song.add_rhythm(envelope, tempo, beats, len(signal.onset_frames(envelope, samplerate)))
        h, p = signal.hpss(mel[::2] + mel[1::2], kernel=HPSS_KERNEL)  # 64 bands: half the cost
        song.harmonic, song.percussive = song.harmonic + float(h.sum()), song.percussive + float(p.sum())
    return song.features()


def analyse_file(path: str | Path) -> MoodFeatures:
    """Decode the excerpts of one file and measure them. Raises ``MoodAnalysisError`` naming the file
    (undecodable, truncated, silent). Any thread or process; about a second of CPU for any length."""
    path = Path(path)
    try:
        _, excerpts = decoding.decode_excerpts(path, ANALYSIS_RATE, EXCERPT_S, EXCERPT_POSITIONS, quality="MQ")
        return features_from_excerpts(excerpts, ANALYSIS_RATE)
    except decoding.AudioDecodeError as error:
        raise MoodAnalysisError(path, error.reason) from None
    except MoodAnalysisError as error:
        raise MoodAnalysisError(path, error.reason) from None
    except ValueError as error:
        raise MoodAnalysisError(path, f"cannot be analysed ({error})") from None


def analyse_quietly(path: str) -> MoodFeatures | str:
    """``analyse_file`` for a worker process: the features, or the reason as text (always picklable)."""
    try:
        return analyse_file(path)
    except MoodAnalysisError as error:
        return error.reason


__all__ = [
    "ANALYSIS_RATE",
    "EXCERPT_POSITIONS",
    "EXCERPT_S",
    "FEATURES_VERSION",
    "MoodAnalysisError",
    "MoodFeatures",
    "SongMeasures",
    "analyse_file",
    "analyse_quietly",
    "estimate_key",
    "features_from_excerpts",
]
