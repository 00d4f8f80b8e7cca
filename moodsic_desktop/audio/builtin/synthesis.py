"""Sound for the built-in station, with numpy: wavetable voices, drum one-shots and a room reverb.

Notes are wavetable voices with attack/decay/release envelopes (times in seconds; plucked voices also darken
as they decay), rendered at a sample rate in Hz into mono float32 buses. Drums are one-shot float32 sounds
peak-normalised to 1. The reverb is a convolution with a synthetic room response (T60 in seconds).
Deterministic given the ``numpy.random.Generator`` passed in. Pure: any thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from moodsic_desktop.audio.builtin.theory import midi_to_hz

TABLE_SIZE = 2048


def wavetable(rolloff: float, harmonics: int, odd_weight: float = 1.0) -> np.ndarray:
    """One period of Σ_k w_k · k^-rolloff · sin(2πkx), k = 1..harmonics, with w_k = 1 for odd k and
    1/odd_weight for even k (a hollow, flute-like tone when odd_weight > 1); peak-normalised, the first
    sample repeated at the end for interpolation."""
    x = np.arange(TABLE_SIZE) / TABLE_SIZE
    table = np.zeros(TABLE_SIZE)
    for k in range(1, harmonics + 1):
        weight = k**-rolloff * (1.0 if k % 2 else 1.0 / odd_weight)
        table += weight * np.sin(2 * np.pi * k * x)
    table /= np.abs(table).max()
    return np.append(table, table[0])


@dataclass(frozen=True)
class Voice:
    """A wavetable instrument: ``bright`` sounds at the attack and fades towards ``dark`` with time
    constant ``darken_s``; the amplitude envelope is attack (linear), exponential decay to ``sustain``,
    and a cosine release of ``release_s`` after the note's end. Times are in seconds, ``sustain`` a fraction
    of the peak, ``bright`` and ``dark`` tables from ``wavetable``; ``vibrato_cents`` is the depth of a
    5.2 Hz vibrato that fades in from 0.25 s."""

    bright: np.ndarray
    dark: np.ndarray
    attack_s: float
    decay_s: float
    sustain: float
    release_s: float
    darken_s: float
    vibrato_cents: float = 0.0


class Renderer:
    """Adds notes to mono buses of ``n_samples`` samples at ``sample_rate`` Hz; identical notes are rendered
    once and reused."""

    def __init__(self, sample_rate: int, n_samples: int) -> None:
        self.sr = sample_rate
        self.n = n_samples
        self._cache: dict[tuple, np.ndarray] = {}
        self._grid = np.arange(TABLE_SIZE + 1, dtype=np.float64)

    def note(self, voice: Voice, midi: float, duration_s: float, detune_cents: float = 0.0) -> np.ndarray:
        """One note of ``voice`` at MIDI pitch ``midi`` (fractional allowed) detuned by ``detune_cents``, held
        ``duration_s`` seconds plus the voice's release: float32 mono samples, peak at most 1."""
        length = round((duration_s + voice.release_s) * self.sr)
        key = (id(voice), round(midi * 100), length, round(detune_cents * 10))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        freq = midi_to_hz(midi + detune_cents / 100.0)
        t = np.arange(length) / self.sr
        if voice.vibrato_cents:
            depth = voice.vibrato_cents / 1200.0 * np.log(2.0) * np.clip((t - 0.25) / 0.4, 0.0, 1.0)
            ratio = 1.0 + depth * np.sin(2 * np.pi * 5.2 * t)
            phase = np.cumsum(freq * ratio) / self.sr
        else:
            phase = freq * t
        x = (phase % 1.0) * TABLE_SIZE
        bright = np.interp(x, self._grid, voice.bright)
        if voice.dark is voice.bright:
            wave = bright
        else:
            dark = np.interp(x, self._grid, voice.dark)
            wave = dark + np.exp(-t / voice.darken_s) * (bright - dark)
        env = voice.sustain + (1.0 - voice.sustain) * np.exp(-t / voice.decay_s)
        env *= np.minimum(t / voice.attack_s, 1.0)
        end = round(duration_s * self.sr)
        release = length - end
        if release > 0:
            env[end:] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, release))
        out = (wave * env).astype(np.float32)
        self._cache[key] = out
        return out

    def add(self, bus: np.ndarray, sound: np.ndarray, start_s: float, gain: float) -> None:
        """Mix ``sound`` into ``bus`` from ``start_s`` seconds on, scaled by the linear ``gain``; what would fall
        beyond the bus's end is cut off."""
        start = max(0, round(start_s * self.sr))
        if start >= self.n:
            return
        stop = min(self.n, start + len(sound))
        bus[start:stop] += gain * sound[: stop - start]


def drum_kit(sr: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One-shot drum sounds (float32 mono at ``sr`` Hz, peak 1): kick (pitch-swept sine), snare (noise +
    body), closed and open hats (differentiated noise), shaker (band noise with a soft attack), rim click."""

    def t(seconds: float) -> np.ndarray:
        return np.arange(int(seconds * sr)) / sr

    tk = t(0.45)
    kick_phase = np.cumsum(45.0 + 95.0 * np.exp(-tk / 0.035)) / sr
    kick = np.sin(2 * np.pi * kick_phase) * np.exp(-tk / 0.16)
    kick[: int(0.003 * sr)] += 0.4 * rng.standard_normal(int(0.003 * sr))
    ts = t(0.3)
    noise = rng.standard_normal(len(ts))
    snare_noise = np.diff(noise, prepend=0.0) * 0.5
    snare = 0.7 * snare_noise * np.exp(-ts / 0.07) + 0.6 * np.sin(2 * np.pi * 185.0 * ts) * np.exp(-ts / 0.045)
    th = t(0.09)
    hiss = np.diff(np.diff(rng.standard_normal(len(th) + 2)))
    hat = hiss / np.abs(hiss).max() * np.exp(-th / 0.018)
    to = t(0.4)
    hiss_o = np.diff(np.diff(rng.standard_normal(len(to) + 2)))
    open_hat = hiss_o / np.abs(hiss_o).max() * np.exp(-to / 0.12)
    tsh = t(0.12)
    band = np.diff(rng.standard_normal(len(tsh) + 1))
    band = band - np.convolve(band, np.ones(4) / 4, mode="same")
    shaker = band / np.abs(band).max() * np.minimum(tsh / 0.012, 1.0) * np.exp(-tsh / 0.035)
    tr = t(0.03)
    rim = np.sin(2 * np.pi * 1650.0 * tr) * np.exp(-tr / 0.006) + 0.3 * rng.standard_normal(len(tr)) * np.exp(
        -tr / 0.003
    )
    sounds = {"kick": kick, "snare": snare, "hat": hat, "open_hat": open_hat, "shaker": shaker, "rim": rim}
    return {name: (s / np.abs(s).max()).astype(np.float32) for name, s in sounds.items()}


def fast_fft_size(minimum: int) -> int:
    """The smallest 2^i·3^j·5^k ≥ ``minimum`` (sizes pocketfft transforms fast)."""
    best = 1 << math.ceil(math.log2(max(minimum, 1)))
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            size = power35
            while size < minimum:
                size *= 2
            best = min(best, size)
            power35 *= 3
        power5 *= 5
    return best


def reverb(send: np.ndarray, sr: int, decay_s: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stereo room smear of a mono send: convolution with a synthetic room response per channel, white
    noise under the envelope 10^(-3·t/T60) (-60 dB after ``decay_s``) after a 12 ms pre-delay, normalised
    to unit energy. Computed at a quarter of the sample rate (a box-filter decimation; the reverb keeps
    nothing above ~5 kHz, as the air of a room would) with one FFT convolution, then interpolated back."""
    factor = 4
    n = len(send)
    usable = n // factor * factor
    low = send[:usable].reshape(-1, factor).mean(axis=1)
    low_sr = sr / factor
    length = int(decay_s * low_sr)
    t = np.arange(length) / low_sr
    envelope = 10.0 ** (-3.0 * t / decay_s) * np.clip((t - 0.012) / 0.01, 0.0, 1.0)
    size = fast_fft_size(len(low) + length)
    spectrum = np.fft.rfft(low, size)
    channels = []
    for _ in range(2):
        response = rng.standard_normal(length) * envelope
        response = np.convolve(response, (0.25, 0.5, 0.25), mode="same")  # a little darker
        response /= np.sqrt(np.sum(response**2))
        wet = np.fft.irfft(spectrum * np.fft.rfft(response, size), size)[: len(low)].astype(np.float32)
        # linear interpolation back to the full rate: sample k·factor + j lies j/factor of the way to k + 1
        following = np.append(wet[1:], np.float32(0.0))
        fractions = (np.arange(factor, dtype=np.float32) / factor)[None, :]
        full = np.zeros(n, dtype=np.float32)
        full[:usable] = (wet[:, None] + (following - wet)[:, None] * fractions).ravel()
        # a 4-sample moving average has zeros at multiples of sr/4, where the interpolation leaves images
        channels.append(np.convolve(full, np.full(factor, 1.0 / factor, dtype=np.float32), mode="same"))
    return channels[0], channels[1]
