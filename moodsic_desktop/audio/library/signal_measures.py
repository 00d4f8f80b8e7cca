"""The signal measures behind a song's mood features, with numpy and scipy alone (no numba, no librosa).

Each function computes what the librosa 0.11 function named in its docstring computes with the
arguments ``mood_features`` passes (librosa's own definitions, its defaults and its edge cases;
``tests/audio/library/test_signal_measures.py`` compares them with librosa where it is installed).
librosa compiles its beat tracker, peak picker and local maxima with numba, and numba's LLVM library is
about 170 MB of the frozen app: these need neither, and the dynamic programme of the beat tracker runs as
one numpy step per frame.

Shapes: a spectrogram is ``(bins, frames)``; a signal or an envelope is 1-D. Frames are ``HOP`` samples
apart and centred (the signal is padded with ``N_FFT // 2`` zeros on each side, as librosa's
``center=True, pad_mode="constant"``). Frequencies in Hz, levels in dB, tempi in beats per minute.

Threads: everything here is pure and may run in any thread or process.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.ndimage

N_FFT = 2048
HOP = 512
N_MELS = 128
N_CHROMA = 12
AMIN_POWER = 1e-10
"""The smallest power turned into dB (-100 dB), as librosa's ``amin``."""
TOP_DB = 80.0
"""A mel spectrogram in dB is floored this far below its loudest cell (librosa's ``power_to_db`` default)."""
START_BPM = 120.0
TEMPO_AC_S = 8.0
"""Length of the onset autocorrelation window of the tempo estimate (s)."""
MAX_TEMPO = 320.0
TIGHTNESS = 100.0
"""How strictly the beat tracker keeps to the estimated tempo."""
ONSET_DELTA = 0.07
"""An onset stands this far above the local mean of the normalised envelope (0..1)."""


def _tiny(x: np.ndarray) -> float:
    """The smallest normal number of ``x``'s float type (float32 for anything else), as librosa's ``util.tiny``."""
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)
    return float(np.finfo(dtype).tiny)


def periodic_hann(length: int) -> np.ndarray:
    """The periodic Hann window of ``length`` samples (float64), as ``scipy.signal.get_window("hann",
    length, fftbins=True)``: one period of a raised cosine, first sample 0."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(length) / length)


def _centred_frames(y: np.ndarray) -> np.ndarray:
    """``(frames, N_FFT)`` views of ``y`` padded with ``N_FFT // 2`` zeros on each side, ``HOP`` apart."""
    padded = np.pad(y, N_FFT // 2, mode="constant")
    return np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]


def stft_magnitude(y: np.ndarray) -> np.ndarray:
    """``|STFT|`` of the float32 signal ``y``: Hann window of ``N_FFT`` samples, ``HOP`` apart, centred;
    ``(N_FFT // 2 + 1, 1 + len(y) // HOP)`` float32 (librosa's ``abs(stft(y))``)."""
    spectrum = np.fft.rfft(_centred_frames(y) * periodic_hann(N_FFT), axis=-1).astype(np.complex64)
    return np.abs(spectrum).T


def frame_rms(y: np.ndarray) -> np.ndarray:
    """Root mean square of each centred frame of ``N_FFT`` samples (full scale = 1), as librosa's
    ``feature.rms(y=y)[0]``."""
    frames = _centred_frames(y)
    return np.sqrt(np.mean(np.square(frames), axis=-1, dtype=y.dtype))


def power_to_db(power: np.ndarray, top_db: float | None = TOP_DB) -> np.ndarray:
    """``10 log10(power)`` (power relative to 1), floored at ``AMIN_POWER`` and, with ``top_db``, at
    ``top_db`` below the largest value."""
    db = 10.0 * np.log10(np.maximum(AMIN_POWER, power))
    if top_db is not None:
        db = np.maximum(db, db.max() - top_db)
    return db


def fft_frequencies(samplerate: float) -> np.ndarray:
    """The centre frequency (Hz) of each STFT bin."""
    return np.fft.rfftfreq(N_FFT, 1.0 / samplerate)


def _normalise_columns(matrix: np.ndarray, norm: float) -> np.ndarray:
    """Each column divided by its ``norm`` (1, 2 or inf); columns whose norm is below the float type's
    tiny number stay as they are (librosa's ``util.normalize(axis=0)``)."""
    magnitude = np.abs(matrix).astype(float)
    if norm == np.inf:
        length = magnitude.max(axis=0, keepdims=True)
    else:
        length = np.sum(magnitude**norm, axis=0, keepdims=True) ** (1.0 / norm)
    length[length < _tiny(matrix)] = 1.0
    out = np.empty_like(matrix)
    out[:] = matrix / length
    return out


def spectral_centroid(magnitude: np.ndarray, samplerate: float) -> np.ndarray:
    """The magnitude-weighted mean frequency (Hz) of each frame."""
    weights = _normalise_columns(magnitude, 1.0)
    return np.sum(fft_frequencies(samplerate)[:, None] * weights, axis=0)


def spectral_rolloff(magnitude: np.ndarray, samplerate: float, roll_percent: float = 0.85) -> np.ndarray:
    """The lowest bin frequency (Hz) below which ``roll_percent`` of each frame's magnitude lies."""
    total = np.cumsum(magnitude, axis=0)
    reached = total >= roll_percent * total[-1:]
    return fft_frequencies(samplerate)[np.argmax(reached, axis=0)]


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.atleast_1d(np.asarray(hz, dtype=float))
    mel = hz / (200.0 / 3)
    step = np.log(6.4) / 27.0
    high = hz >= 1000.0
    mel[high] = 15.0 + np.log(hz[high] / 1000.0) / step
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.atleast_1d(np.asarray(mel, dtype=float))
    hz = mel * (200.0 / 3)
    step = np.log(6.4) / 27.0
    high = mel >= 15.0
    hz[high] = 1000.0 * np.exp(step * (mel[high] - 15.0))
    return hz


def mel_filters(samplerate: float, n_mels: int = N_MELS) -> np.ndarray:
    """Triangular filters on Slaney's mel scale from 0 Hz to Nyquist, each of unit area (``norm="slaney"``);
    ``(n_mels, N_FFT // 2 + 1)`` float32, as librosa's ``filters.mel``."""
    low, high = _hz_to_mel(np.array([0.0, samplerate / 2.0]))
    edges = _mel_to_hz(np.linspace(low, high, n_mels + 2))
    widths = np.diff(edges)
    ramps = np.subtract.outer(edges, fft_frequencies(samplerate))
    weights = np.zeros((n_mels, N_FFT // 2 + 1), dtype=np.float32)
    for i in range(n_mels):
        weights[i] = np.maximum(0, np.minimum(-ramps[i] / widths[i], ramps[i + 2] / widths[i + 1]))
    weights *= (2.0 / (edges[2 : n_mels + 2] - edges[:n_mels]))[:, None]
    return weights


def chroma_filters(samplerate: float) -> np.ndarray:
    """Gaussian bumps mapping STFT bins to the 12 pitch classes (C first, A = 440 Hz), weighted around
    octave 5 (±2 octaves), each bin's column of unit length; ``(12, N_FFT // 2 + 1)`` float32, as
    librosa's ``filters.chroma`` with ``tuning=0``."""
    frequencies = np.linspace(0, samplerate, N_FFT, endpoint=False)[1:]
    bins = N_CHROMA * np.log2(frequencies / (440.0 / 16))
    bins = np.concatenate(([bins[0] - 1.5 * N_CHROMA], bins))
    widths = np.concatenate((np.maximum(bins[1:] - bins[:-1], 1.0), [1]))
    distance = np.subtract.outer(bins, np.arange(0, N_CHROMA, dtype="d")).T
    half = np.round(float(N_CHROMA) / 2)
    distance = np.remainder(distance + half + 10 * N_CHROMA, N_CHROMA) - half
    weights = np.exp(-0.5 * (2 * distance / np.tile(widths, (N_CHROMA, 1))) ** 2)
    weights = _normalise_columns(weights, 2.0)
    weights *= np.tile(np.exp(-0.5 * ((bins / N_CHROMA - 5.0) / 2.0) ** 2), (N_CHROMA, 1))
    weights = np.roll(weights, -3, axis=0)  # A first → C first
    return np.ascontiguousarray(weights[:, : N_FFT // 2 + 1], dtype=np.float32)


def chroma(power: np.ndarray, samplerate: float, filters: np.ndarray | None = None) -> np.ndarray:
    """Each frame's energy per pitch class, scaled so its largest class is 1; ``(12, frames)``.
    ``filters``: ``chroma_filters(samplerate)``, when the caller keeps them."""
    filters = chroma_filters(samplerate) if filters is None else filters
    return _normalise_columns(filters @ power, np.inf)


def onset_strength(mel_db: np.ndarray) -> np.ndarray:
    """Spectral flux: the mean over mel bands of each band's rise (dB) from the previous frame, negative
    rises counted as 0, delayed by 1 + ``N_FFT // (2 HOP)`` frames to line up with the centred frames;
    one value per frame (librosa's ``onset.onset_strength(S=mel_db)``)."""
    rise = np.maximum(0.0, mel_db[:, 1:] - mel_db[:, :-1])
    flux = np.mean(rise, axis=0)
    delay = 1 + N_FFT // (2 * HOP)
    return np.pad(flux, (delay, 0), mode="constant")[: mel_db.shape[1]]


def tempo(envelope: np.ndarray, samplerate: float) -> float:
    """The tempo (BPM) whose lag best repeats the onset envelope: the mean over time of the normalised
    autocorrelations of ``TEMPO_AC_S`` windows, weighted by a log-normal prior around ``START_BPM``
    (one octave's spread), nothing above ``MAX_TEMPO`` (librosa's ``feature.tempo``)."""
    lags = int(int(TEMPO_AC_S * samplerate) // HOP)
    count = len(envelope)
    padded = np.pad(envelope, lags // 2, mode="linear_ramp", end_values=(0, 0))
    windows = np.lib.stride_tricks.sliding_window_view(padded, lags)[:count].T
    windowed = windows * periodic_hann(lags)[:, None]
    size = scipy.fft.next_fast_len(2 * lags - 1, real=True)
    power = np.abs(np.fft.rfft(windowed, n=size, axis=0)) ** 2
    autocorrelation = np.fft.irfft(power, n=size, axis=0)[:lags]
    strength = _normalise_columns(autocorrelation, np.inf).mean(axis=1)
    with np.errstate(divide="ignore"):
        bpms = np.concatenate(([np.inf], 60.0 * samplerate / (HOP * np.arange(1.0, lags))))
        prior = -0.5 * (np.log2(bpms) - np.log2(START_BPM)) ** 2
    prior[: int(np.argmax(bpms < MAX_TEMPO))] = -np.inf
    return float(bpms[int(np.argmax(np.log1p(1e6 * strength) + prior))])


def _local_score(onsets: np.ndarray, frames_per_beat: float) -> np.ndarray:
    """The onsets smoothed by a Gaussian of a beat's width (as librosa's numba loop, which leaves out the
    first frame)."""
    window = np.exp(-0.5 * (np.arange(-frames_per_beat, frames_per_beat + 1) * 32.0 / frames_per_beat) ** 2)
    shifted = onsets.astype(float)
    shifted[0] = 0.0
    half = len(window) // 2
    return np.convolve(shifted, window)[half : half + len(onsets)].astype(onsets.dtype)


def _beat_path(score: np.ndarray, frames_per_beat: float) -> tuple[np.ndarray, np.ndarray]:
    """Ellis's dynamic programme: each frame's best previous beat, half a beat to two beats back, scored by
    the cumulative score minus ``TIGHTNESS`` times the squared log-ratio of the gap to a beat. Returns
    (back-links, cumulative scores); -1 where a frame has no previous beat."""
    count = len(score)
    threshold = 0.01 * score.max()
    nearest = int(np.round(frames_per_beat / 2))
    farthest = int(2 * frames_per_beat)
    gaps = np.arange(nearest, farthest + 1)
    penalty = TIGHTNESS * (np.log(gaps) - np.log(frames_per_beat)) ** 2
    backlink = np.full(count, -1, dtype=np.int64)
    cumulative = np.zeros(count, dtype=score.dtype)
    first_beat = True
    for i in range(count):
        reachable = gaps <= i
        best = -1
        if reachable.any():
            candidates = cumulative[i - gaps[reachable]].astype(float) - penalty[reachable]
            pick = int(np.argmax(candidates))  # the nearest of equals, as librosa's backward search
            best = i - int(gaps[reachable][pick])
            cumulative[i] = score[i] + candidates[pick]
        else:
            cumulative[i] = score[i]
        if first_beat and score[i] < threshold:
            backlink[i] = -1
        else:
            backlink[i] = best
            first_beat = False
    return backlink, cumulative


def _last_beat(cumulative: np.ndarray) -> int:
    """The last local maximum of the cumulative score that reaches half the median of its local maxima."""
    peaks = np.zeros(len(cumulative), dtype=bool)
    if len(cumulative) > 1:
        peaks[1:-1] = (cumulative[1:-1] > cumulative[:-2]) & (cumulative[1:-1] >= cumulative[2:])
        peaks[-1] = cumulative[-1] > cumulative[-2]
    threshold = (
        cumulative.dtype.type(0.5 * np.median(cumulative[peaks])) if peaks.any() else cumulative.dtype.type(np.nan)
    )
    for n in range(len(cumulative) - 1, -1, -1):
        if peaks[n] and cumulative[n] >= threshold:
            return n
    return len(cumulative) - 1


def beat_frames(envelope: np.ndarray, bpm: float, samplerate: float) -> np.ndarray:
    """The frames of the beats (sorted ints) of an onset envelope at ``bpm`` (librosa's
    ``beat.beat_track(onset_envelope=…)`` with its defaults; Ellis 2007, "Beat tracking by dynamic
    programming", J. New Music Research 36(1)). Leading and trailing frames whose smoothed onset strength
    is under half the RMS of the beats' are dropped."""
    if not envelope.any():
        return np.array([], dtype=int)
    frames_per_beat = float(np.round(samplerate / HOP * 60.0 / bpm))
    onsets = envelope / (envelope.std(ddof=1) + _tiny(envelope))
    score = _local_score(onsets, frames_per_beat)
    backlink, cumulative = _beat_path(score, frames_per_beat)
    beats = np.zeros(len(envelope), dtype=bool)
    n = _last_beat(cumulative)
    while n >= 0:
        beats[n] = True
        n = int(backlink[n])
    smooth = np.convolve(score[beats], np.hanning(5))[2 : len(score) + 2]
    threshold = 0.5 * np.sqrt(np.mean(smooth**2))
    quiet = score <= threshold
    lead = int(np.argmin(quiet)) if not quiet.all() else len(score)
    trail = int(np.argmin(quiet[::-1])) if not quiet.all() else len(score)
    beats[:lead] = False
    beats[len(score) - trail :] = False
    return np.flatnonzero(beats)


def beat_track(envelope: np.ndarray, samplerate: float) -> tuple[float, np.ndarray]:
    """``(tempo in BPM, beat frames)`` of an onset envelope: ``tempo`` then ``beat_frames``; ``(0.0, [])``
    for an envelope without onsets (librosa's ``beat.beat_track(onset_envelope=…)``)."""
    if not envelope.any():
        return 0.0, np.array([], dtype=int)
    bpm = tempo(envelope, samplerate)
    return bpm, beat_frames(envelope, bpm, samplerate)


def onset_frames(envelope: np.ndarray, samplerate: float) -> np.ndarray:
    """The frames of the onsets (sorted ints): on the envelope scaled to 0..1, a frame that is the largest
    of itself and the one before (30 ms), at least ``ONSET_DELTA`` above the mean of the 100 ms around it,
    and more than 30 ms after the last onset (librosa's ``onset.onset_detect`` with its defaults)."""
    x = envelope - envelope.min()
    x = x / (x.max() + _tiny(x))
    if not x.any() or not np.all(np.isfinite(x)):
        return np.array([], dtype=int)
    pre_max = int(np.ceil(0.03 * samplerate // HOP))
    post_max = int(np.ceil(0.00 * samplerate // HOP + 1))
    pre_avg = int(np.ceil(0.10 * samplerate // HOP))
    post_avg = int(np.ceil(0.10 * samplerate // HOP + 1))
    wait = int(np.ceil(0.03 * samplerate // HOP))
    count = len(x)
    index = np.arange(count)
    cumulative = np.concatenate(([0.0], np.cumsum(x, dtype=float)))
    low, high = np.maximum(0, index - pre_avg), np.minimum(count, index + post_avg)
    local_mean = (cumulative[high] - cumulative[low]) / (high - low)
    padded = np.pad(x, (pre_max, post_max), mode="constant", constant_values=-np.inf)
    local_max = np.lib.stride_tricks.sliding_window_view(padded, pre_max + post_max)[:count].max(axis=1)
    delta = float(np.float32(ONSET_DELTA))
    candidates = np.flatnonzero((x == local_max) & (x >= local_mean + delta))
    picked: list[int] = []
    for n in candidates:
        if not picked or n > picked[-1] + wait:
            picked.append(int(n))
    return np.array(picked, dtype=int)


def _softmask(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``x² / (x² + reference²)``, 0.5 where both are 0 (librosa's ``util.softmask`` with power 2 and
    ``split_zeros``)."""
    scale = np.maximum(x, reference)
    silent = scale < np.finfo(scale.dtype).tiny
    scale[silent] = 1
    mask = (x / scale) ** 2
    other = (reference / scale) ** 2
    mask[~silent] /= mask[~silent] + other[~silent]
    mask[silent] = 0.5
    return mask


def hpss(power: np.ndarray, kernel: int) -> tuple[np.ndarray, np.ndarray]:
    """Harmonic/percussive separation by median filtering (Fitzgerald 2010): a median across ``kernel``
    frames keeps the harmonic part, across ``kernel`` bins the percussive part, and soft masks split
    ``power`` between them; ``(harmonic, percussive)`` (librosa's ``decompose.hpss``)."""
    harmonic = scipy.ndimage.median_filter(power, size=(1, kernel), mode="reflect")
    percussive = scipy.ndimage.median_filter(power, size=(kernel, 1), mode="reflect")
    return power * _softmask(harmonic, percussive), power * _softmask(percussive, harmonic)


__all__ = [
    "HOP",
    "N_FFT",
    "beat_frames",
    "beat_track",
    "chroma",
    "chroma_filters",
    "fft_frequencies",
    "frame_rms",
    "hpss",
    "mel_filters",
    "onset_frames",
    "onset_strength",
    "periodic_hann",
    "power_to_db",
    "spectral_centroid",
    "spectral_rolloff",
    "stft_magnitude",
    "tempo",
]
