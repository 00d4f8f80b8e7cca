"""The built-in station: a dozen short pieces spread over the V-A plane, used when no library exists.

The catalogue says where each piece sits in reference V-A space [-1, 1], its title and length. The audio
is synthesised with numpy from those targets the first time it is needed (``ensure_builtin_audio``) and
cached as 16-bit FLAC (44.1 kHz stereo) under ``music/builtin/``; until then ``path`` is ``None``. Titles
say plainly that the pieces are built in.

How a target becomes music (``piece_parameters``), with v, a the target V-A and v' = (v + 1)/2,
a' = (a + 1)/2 in [0, 1]:

* mode: major when v ≥ 0, natural minor otherwise (with a major V chord, the harmonic-minor leading tone,
  when v < -0.4);
* tempo ≈ 60 + 72·a' beats per minute, adjusted so that a whole number of 4-bar phrases fills the piece;
* register: the melody centres on MIDI note 62 + 4·v + 5·a; the bass sits in the octave G1–G2;
* brightness b = 0.2 + 0.45·a' + 0.35·v' sets the harmonic roll-off of every instrument (harmonic k has
  amplitude k^-(p0 - p1·b));
* note density: a melody on a quarter-note grid (a' < 0.4) or an eighth-note grid, with an onset
  probability rising with arousal; bass from whole notes (calm) to an eighth-note pulse (lively);
* drums: none below a = -0.2, light percussion (soft kick, shaker, rim clicks) up to a = 0.25, a full
  kit (kick, snare, hi-hats, fills) above.

A piece is a 4-bar chord progression repeated with a two-bar intro, a melody of two repeated 2-bar motifs
whose strong-beat notes snap to chord tones, a pad, a bass line, an arpeggio in lively pieces, a short
breakdown, and a final tonic chord that rings out. Notes are wavetable voices with attack/decay/release
envelopes (plucked voices also darken as they decay); a convolution reverb adds the smear of a room.
The mix is normalised to an RMS level (-20 dBFS calm … -17 dBFS lively) with peaks at most -3 dBFS.
Everything is seeded by the piece's number, so synthesis is deterministic.

Threads: ``builtin_songs``, ``piece_parameters`` and ``render_piece`` are pure (any thread).
``ensure_builtin_audio`` writes files and takes a few seconds the first time: call it from a worker
thread or the CLI, never from the GUI thread or the audio callback.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from moodsic_desktop.core.library import Song

log = logging.getLogger(__name__)

BUILTIN_ARTIST = "Moodsic built-in station"
PIECE_DURATION_S = 60.0
SAMPLE_RATE = 44100
SYNTH_VERSION = 1
"""Bumped whenever the synthesis changes, so that cached files from an older version are made again."""
CACHE_SUBDIR = "builtin"
MANIFEST_NAME = "manifest.json"
PEAK_LIMIT = 10 ** (-3.0 / 20)  # -3 dBFS
MAX_SYNTH_THREADS = 3  # each piece in the making holds about 0.2 GB

# (title, valence, arousal) in reference space, covering the four quadrants and the centre.
_CATALOGUE: tuple[tuple[str, float, float], ...] = (
    ("Grey Morning", -0.6, -0.6),
    ("Slow Rain", -0.3, -0.7),
    ("Quiet Hours", 0.0, -0.6),
    ("Warm Tea", 0.4, -0.5),
    ("Sunday Garden", 0.7, -0.3),
    ("Long Shadows", -0.5, -0.1),
    ("Easy Afternoon", 0.1, 0.0),
    ("Open Window", 0.5, 0.2),
    ("Restless Streets", -0.5, 0.5),
    ("City Pulse", 0.0, 0.5),
    ("Bright Market", 0.5, 0.6),
    ("Festival", 0.8, 0.8),
)


def builtin_songs() -> list[Song]:
    """The built-in pieces as ``Song``s (V-A in reference space; ``path`` None until synthesised). No genre:
    the artist already says "built-in station", and the window shows artist and genre on one line."""
    return [
        Song(
            song_id=f"builtin-{number:02d}",
            valence=valence,
            arousal=arousal,
            title=f"{title} (built-in)",
            artist=BUILTIN_ARTIST,
            path=None,
            duration_s=PIECE_DURATION_S,
        )
        for number, (title, valence, arousal) in enumerate(_CATALOGUE, start=1)
    ]


# --------------------------------------------------------------------------------------------------------
# Musical choices

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
# Chord roots as 0-based scale degrees, one chord per bar.
_MAJOR_PROGRESSIONS = ((0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 0, 4), (3, 4, 2, 5))
_MINOR_PROGRESSIONS = ((0, 5, 2, 6), (0, 3, 5, 4), (0, 6, 5, 6), (0, 3, 4, 0))
_TONICS = (0, 2, 3, 5, 7, 9, 10)  # C, D, Eb, F, G, A, Bb
_TAIL_S = 3.0  # the final chord rings out for this long


@dataclass(frozen=True)
class PieceParameters:
    """The musical choices for one piece (formulas in the module docstring). ``tonic_pc`` is the tonic's
    pitch class (0 = C); MIDI note numbers for registers; ``tempo_bpm`` in beats per minute; ``brightness``
    in [0, 1]; ``melody_grid`` onsets per 4/4 bar; ``reverb_decay_s`` the reverb's T60 in seconds."""

    valence: float
    arousal: float
    seed: int
    mode: str
    tonic_pc: int
    progression: tuple[int, ...]
    tempo_bpm: float
    bars: int
    melody_centre: int
    bass_tonic: int
    pad_low: int
    brightness: float
    melody_grid: int
    note_probability: float
    bass_pattern: str
    drums: str
    arpeggio: bool
    reverb_wet: float
    reverb_decay_s: float

    @property
    def scale(self) -> tuple[int, ...]:
        return MAJOR_SCALE if self.mode == "major" else MINOR_SCALE

    @property
    def beat_s(self) -> float:
        return 60.0 / self.tempo_bpm

    @property
    def bar_s(self) -> float:
        return 4.0 * self.beat_s


def piece_parameters(
    valence: float, arousal: float, seed: int, duration_s: float = PIECE_DURATION_S
) -> PieceParameters:
    """Mode, key, tempo, register, brightness, density and drums for a target V-A (reference space).
    Deterministic for a given ``seed``."""
    rng = np.random.default_rng(seed)
    v01, a01 = (valence + 1.0) / 2.0, (arousal + 1.0) / 2.0
    mode = "major" if valence >= 0.0 else "minor"
    progressions = _MAJOR_PROGRESSIONS if mode == "major" else _MINOR_PROGRESSIONS
    progression = progressions[int(rng.integers(len(progressions)))]
    tonic_pc = int(_TONICS[int(rng.integers(len(_TONICS)))])
    nominal_bpm = 60.0 + 72.0 * a01
    music_s = duration_s - _TAIL_S
    bars = max(4, 4 * round(music_s / (4 * 240.0 / nominal_bpm)))
    tempo_bpm = bars * 240.0 / music_s
    melody_centre = int(np.clip(round(62 + 4 * valence + 5 * arousal), 55, 74))
    bass_tonic = 31 + (tonic_pc - 31) % 12  # G1 (31) … F#2 (42)
    pad_low = 52 + round(3 * valence)
    brightness = float(np.clip(0.2 + 0.45 * a01 + 0.35 * v01, 0.0, 1.0))
    melody_grid = 4 if a01 < 0.4 else 8
    note_probability = float(np.clip(0.35 + 0.5 * a01, 0.35, 0.85))
    bass_pattern = "whole" if arousal < -0.35 else "half" if arousal < 0.25 else "eighths"
    drums = "none" if arousal <= -0.2 else "light" if arousal <= 0.25 else "full"
    return PieceParameters(
        valence=valence,
        arousal=arousal,
        seed=seed,
        mode=mode,
        tonic_pc=tonic_pc,
        progression=progression,
        tempo_bpm=tempo_bpm,
        bars=bars,
        melody_centre=melody_centre,
        bass_tonic=bass_tonic,
        pad_low=pad_low,
        brightness=brightness,
        melody_grid=melody_grid,
        note_probability=note_probability,
        bass_pattern=bass_pattern,
        drums=drums,
        arpeggio=arousal > -0.15,
        reverb_wet=float(0.32 - 0.14 * a01),
        reverb_decay_s=float(2.4 - 1.2 * a01),
    )


def _pitch(params: PieceParameters, degree: int, base: int) -> int:
    """MIDI note of a scale degree (0-based; negative or ≥ 7 wrap into other octaves) counted from ``base``,
    a MIDI note of the tonic."""
    octave, index = divmod(degree, 7)
    return base + 12 * octave + params.scale[index]


def _chord_pcs(params: PieceParameters, root_degree: int, seventh: bool) -> list[int]:
    """Pitch classes (relative to C) of the diatonic triad (or seventh chord) on a scale degree."""
    degrees = [root_degree, root_degree + 2, root_degree + 4] + ([root_degree + 6] if seventh else [])
    pcs = [(params.tonic_pc + _pitch(params, d, 0)) % 12 for d in degrees]
    if params.mode == "minor" and root_degree % 7 == 4 and params.valence < -0.4:
        pcs[1] = (pcs[1] + 1) % 12  # harmonic minor: a major dominant, with the leading tone
    return pcs


def _midi_to_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


# --------------------------------------------------------------------------------------------------------
# Voices


_TABLE_SIZE = 2048


def _wavetable(rolloff: float, harmonics: int, odd_weight: float = 1.0) -> np.ndarray:
    """One period of Σ_k w_k · k^-rolloff · sin(2πkx), k = 1..harmonics, with w_k = 1 for odd k and
    1/odd_weight for even k (a hollow, flute-like tone when odd_weight > 1); peak-normalised, the first
    sample repeated at the end for interpolation."""
    x = np.arange(_TABLE_SIZE) / _TABLE_SIZE
    table = np.zeros(_TABLE_SIZE)
    for k in range(1, harmonics + 1):
        weight = k**-rolloff * (1.0 if k % 2 else 1.0 / odd_weight)
        table += weight * np.sin(2 * np.pi * k * x)
    table /= np.abs(table).max()
    return np.append(table, table[0])


@dataclass(frozen=True)
class _Voice:
    """A wavetable instrument: ``bright`` sounds at the attack and fades towards ``dark`` with time
    constant ``darken_s``; the amplitude envelope is attack (linear), exponential decay to ``sustain``,
    and a cosine release of ``release_s`` after the note's end."""

    bright: np.ndarray
    dark: np.ndarray
    attack_s: float
    decay_s: float
    sustain: float
    release_s: float
    darken_s: float
    vibrato_cents: float = 0.0


class _Renderer:
    """Adds notes to mono buses; identical notes are rendered once and reused."""

    def __init__(self, sample_rate: int, n_samples: int) -> None:
        self.sr = sample_rate
        self.n = n_samples
        self._cache: dict[tuple, np.ndarray] = {}
        self._grid = np.arange(_TABLE_SIZE + 1, dtype=np.float64)

    def note(self, voice: _Voice, midi: float, duration_s: float, detune_cents: float = 0.0) -> np.ndarray:
        length = round((duration_s + voice.release_s) * self.sr)
        key = (id(voice), round(midi * 100), length, round(detune_cents * 10))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        freq = _midi_to_hz(midi + detune_cents / 100.0)
        t = np.arange(length) / self.sr
        if voice.vibrato_cents:
            depth = voice.vibrato_cents / 1200.0 * np.log(2.0) * np.clip((t - 0.25) / 0.4, 0.0, 1.0)
            ratio = 1.0 + depth * np.sin(2 * np.pi * 5.2 * t)
            phase = np.cumsum(freq * ratio) / self.sr
        else:
            phase = freq * t
        x = (phase % 1.0) * _TABLE_SIZE
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
        start = max(0, round(start_s * self.sr))
        if start >= self.n:
            return
        stop = min(self.n, start + len(sound))
        bus[start:stop] += gain * sound[: stop - start]


def _drum_kit(sr: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One-shot drum sounds (float32 mono): kick (pitch-swept sine), snare (noise + body), closed and open
    hats (differentiated noise), shaker (band noise with a soft attack), rim click."""

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


def _fast_fft_size(minimum: int) -> int:
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


def _reverb(send: np.ndarray, sr: int, decay_s: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
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
    size = _fast_fft_size(len(low) + length)
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


# --------------------------------------------------------------------------------------------------------
# A piece

_MELODY_STEPS = (-3, -2, -1, 0, 1, 2, 3)
_MELODY_STEP_WEIGHTS = (0.07, 0.14, 0.24, 0.1, 0.24, 0.14, 0.07)
_BUSES = ("pad_l", "pad_r", "melody", "arp", "bass", "kick", "snare", "hat", "shaker", "rim")
# Equal-power pan positions in [-1 (left), 1 (right)]; the pad has its own left and right buses.
_PANS = {"melody": 0.12, "arp": -0.35, "bass": 0.0, "kick": 0.0, "snare": 0.05, "hat": 0.3, "shaker": -0.25, "rim": 0.2}
_REVERB_SENDS = {"pad_l": 0.5, "pad_r": 0.5, "melody": 0.45, "arp": 0.45, "snare": 0.3, "rim": 0.3, "hat": 0.1}


def _melody_motif(params: PieceParameters, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """A 2-bar motif: (slot, length in slots, degree offset from the phrase anchor) on the melody grid."""
    grid = params.melody_grid
    slots = 2 * grid
    onsets = [0]
    for slot in range(1, slots):
        strong = slot % (grid // 2) == 0
        if rng.random() < params.note_probability + (0.15 if strong else -0.1):
            onsets.append(slot)
    degree = int(rng.integers(0, 3))
    notes = []
    for index, slot in enumerate(onsets):
        length = (onsets[index + 1] if index + 1 < len(onsets) else slots) - slot
        notes.append((slot, length, degree))
        degree = int(np.clip(degree + int(rng.choice(_MELODY_STEPS, p=_MELODY_STEP_WEIGHTS)), -3, 6))
    return notes


def _snap(pitch: int, chord_pcs: list[int]) -> int:
    """The chord tone nearest to ``pitch`` (ties go down)."""
    for distance in range(7):
        for candidate in (pitch - distance, pitch + distance):
            if candidate % 12 in chord_pcs:
                return candidate
    return pitch


class _Piece:
    """Arranges and renders one piece bar by bar (see the module docstring for the form)."""

    def __init__(self, params: PieceParameters, sample_rate: int, duration_s: float) -> None:
        self.p = params
        self.sr = sample_rate
        self.n = round(duration_s * sample_rate)
        self.rng = np.random.default_rng(params.seed + 7)
        self.renderer = _Renderer(sample_rate, self.n)
        self.buses = {name: np.zeros(self.n, dtype=np.float32) for name in _BUSES}
        b = params.brightness
        self.calm = params.arousal < 0.0
        pad_table = _wavetable(2.8 - 1.2 * b, 10)
        self.pad = _Voice(
            pad_table,
            pad_table,
            attack_s=0.9 - 0.6 * b,
            decay_s=2.5,
            sustain=0.75,
            release_s=1.2 - 0.5 * b,
            darken_s=3.0,
        )
        if self.calm and params.valence >= 0.3:  # pastoral: a soft, hollow, flute-like lead with vibrato
            self.lead = _Voice(
                _wavetable(2.2 - 0.8 * b, 8, odd_weight=2.5),
                _wavetable(3.0, 5, odd_weight=2.5),
                attack_s=0.05,
                decay_s=1.2,
                sustain=0.6,
                release_s=0.35,
                darken_s=1.5,
                vibrato_cents=9.0,
            )
        elif self.calm:  # a soft piano: a struck attack that darkens and dies away slowly
            self.lead = _Voice(
                _wavetable(1.8 - 0.6 * b, 12),
                _wavetable(3.2, 5),
                attack_s=0.01,
                decay_s=0.9,
                sustain=0.12,
                release_s=0.4,
                darken_s=0.5,
            )
        else:  # a plucked, electric-piano-like lead
            self.lead = _Voice(
                _wavetable(1.4 - 0.5 * b, 14),
                _wavetable(2.6, 6),
                attack_s=0.004,
                decay_s=0.45,
                sustain=0.2,
                release_s=0.12,
                darken_s=0.25,
            )
        self.arp = _Voice(
            _wavetable(1.5 - 0.4 * b, 12),
            _wavetable(2.8, 5),
            attack_s=0.003,
            decay_s=0.2,
            sustain=0.0,
            release_s=0.06,
            darken_s=0.12,
        )
        self.bass = _Voice(
            _wavetable(2.4 - 0.8 * b, 7),
            _wavetable(3.5, 3),
            attack_s=0.008,
            decay_s=0.5,
            sustain=0.55,
            release_s=0.08,
            darken_s=0.3,
        )
        self.pad_gain = 0.12 if self.calm else 0.16
        self.kit = _drum_kit(sample_rate, self.rng)
        self.motifs = [_melody_motif(params, self.rng), _melody_motif(params, self.rng)]
        self.anchor = params.tonic_pc + 12 * ((params.melody_centre - params.tonic_pc) // 12)
        middle = params.bars // 2 + 2
        self.breakdown = set(range(middle, middle + 2)) if params.bars >= 16 else set()

    def play(self, bus: str, sound: np.ndarray, start_s: float, gain: float) -> None:
        self.renderer.add(self.buses[bus], sound, start_s, gain)

    def render(self) -> np.ndarray:
        for index in range(self.p.bars + 1):
            final = index == self.p.bars
            degree = 0 if final else self.p.progression[index % len(self.p.progression)]
            chord = _chord_pcs(self.p, degree, seventh=self.calm and self.p.mode == "major" and not final)
            start = index * self.p.bar_s
            self.pad_bar(chord, start, final)
            self.bass_bar(chord, start, final)
            if self.p.arpeggio and 2 <= index < self.p.bars and index not in self.breakdown:
                self.arpeggio_bar(chord, start)
            if final:
                self.play("melody", self.renderer.note(self.lead, _snap(self.anchor, chord), _TAIL_S - 0.8), start, 0.3)
                if self.p.drums != "none":
                    self.play("kick", self.kit["kick"], start, 0.7)
                    self.play("hat", self.kit["open_hat"], start, 0.25)
            else:
                if index >= 2:
                    self.melody_bar(index, chord, start)
                if self.p.drums != "none" and index not in self.breakdown:
                    self.drum_bar(index, start)
        return self.mix()

    def pad_bar(self, chord: list[int], start: float, final: bool) -> None:
        """The chord in close position above ``pad_low``, detuned ±5 cents between left and right."""
        length = _TAIL_S - 0.6 if final else self.p.bar_s * 0.98
        for pc in chord:
            note = self.p.pad_low + (pc - self.p.pad_low) % 12
            self.play("pad_l", self.renderer.note(self.pad, note, length, -5.0), start, self.pad_gain)
            self.play("pad_r", self.renderer.note(self.pad, note, length, 5.0), start, self.pad_gain)

    def bass_bar(self, chord: list[int], start: float, final: bool) -> None:
        """The chord's root: one long note (calm or final), root and fifth, or an eighth-note pulse."""
        root = self.p.bass_tonic + (chord[0] - self.p.bass_tonic) % 12
        beat, note = self.p.beat_s, self.renderer.note
        if final:
            self.play("bass", note(self.bass, root, _TAIL_S - 0.8), start, 0.5)
        elif self.p.bass_pattern == "whole":
            self.play("bass", note(self.bass, root, self.p.bar_s * 0.95), start, 0.5)
        elif self.p.bass_pattern == "half":
            fifth = root + 7 if root + 7 <= 45 else root - 5
            self.play("bass", note(self.bass, root, 2 * beat * 0.9), start, 0.5)
            self.play("bass", note(self.bass, fifth, 2 * beat * 0.9), start + 2 * beat, 0.42)
        else:
            for eighth in range(8):
                pitch = root + (12 if eighth in (3, 7) else 0)
                self.play(
                    "bass",
                    note(self.bass, pitch, beat * 0.42),
                    start + eighth * beat / 2,
                    0.5 if eighth % 2 == 0 else 0.36,
                )

    def arpeggio_bar(self, chord: list[int], start: float) -> None:
        """The triad broken in eighth notes an octave above the pad."""
        tones = sorted(self.p.pad_low + 12 + (pc - self.p.pad_low) % 12 for pc in chord[:3])
        step = self.p.beat_s / 2
        for k, pitch in enumerate([*tones, tones[1]] * 2):
            self.play(
                "arp", self.renderer.note(self.arp, pitch, step * 0.8), start + k * step, 0.16 if k % 2 == 0 else 0.11
            )

    def melody_bar(self, index: int, chord: list[int], start: float) -> None:
        """One bar of the motif for this place in the 4-bar phrase (A A B B), strong beats on chord tones."""
        grid = self.p.melody_grid
        bar_in_phrase = (index - 2) % 4
        half = bar_in_phrase % 2
        slot_s = self.p.bar_s / grid
        articulation = 0.92 if self.calm else 0.7
        jitter = 0.004 if self.calm else 0.002
        for slot, length, offset in self.motifs[bar_in_phrase // 2]:
            local = slot - half * grid
            if not 0 <= local < grid:
                continue
            pitch = _pitch(self.p, offset, self.anchor)
            strong = local % (grid // 2) == 0
            phrase_end = bar_in_phrase == 3 and local + length >= grid
            if strong or phrase_end:
                pitch = _snap(pitch, chord)
            note_s = min(length, grid - local) * slot_s * articulation
            velocity = (0.34 if strong else 0.27) * (0.9 + 0.2 * self.rng.random())
            onset = start + local * slot_s + jitter * self.rng.standard_normal()
            self.play("melody", self.renderer.note(self.lead, pitch, note_s), onset, velocity)

    def drum_bar(self, index: int, start: float) -> None:
        """Light percussion (kick on one, rim click on three, shaker eighths) or a full kit (kick, backbeat
        snare, eighth or sixteenth hats, a fill before each new phrase); the intro has hats only."""
        beat, kit, rng = self.p.beat_s, self.kit, self.rng
        if self.p.drums == "light":
            self.play("kick", kit["kick"], start, 0.45)
            if index >= 2:
                self.play("rim", kit["rim"], start + 2 * beat, 0.22)
            for eighth in range(8):
                self.play(
                    "shaker",
                    kit["shaker"],
                    start + eighth * beat / 2 + 0.003 * rng.standard_normal(),
                    (0.16 if eighth % 2 else 0.1) * (0.85 + 0.3 * rng.random()),
                )
            return
        if index < 2:
            for eighth in range(8):
                self.play("hat", kit["hat"], start + eighth * beat / 2, 0.14)
            return
        for quarter in range(4):
            if quarter in (0, 2) or (quarter == 3 and rng.random() < 0.3):
                self.play("kick", kit["kick"], start + quarter * beat, 0.75)
            if quarter in (1, 3):
                self.play("snare", kit["snare"], start + quarter * beat, 0.42)
        steps = 16 if self.p.arousal > 0.7 else 8
        for k in range(steps):
            accent = 0.16 if k % (steps // 4) == 0 else 0.1
            self.play(
                "hat",
                kit["hat"],
                start + k * self.p.bar_s / steps + 0.002 * rng.standard_normal(),
                accent * (0.85 + 0.3 * rng.random()),
            )
        if (index - 1) % 4 == 0 and index > 2:
            for k in range(4):
                self.play("snare", kit["snare"], start + 3 * beat + k * beat / 4, 0.18 + 0.06 * k)

    def mix(self) -> np.ndarray:
        """Pan the buses (equal power), add the reverb, fade in and out, and set the level."""
        n, buses = self.n, self.buses
        left, right = buses["pad_l"].copy(), buses["pad_r"].copy()
        for name, position in _PANS.items():
            angle = (position + 1.0) * math.pi / 4
            left += np.float32(math.cos(angle)) * buses[name]
            right += np.float32(math.sin(angle)) * buses[name]
        send = np.zeros(n, dtype=np.float32)
        for name, gain in _REVERB_SENDS.items():
            send += np.float32(gain) * buses[name]
        wet_l, wet_r = _reverb(send, self.sr, self.p.reverb_decay_s, self.rng)
        left += np.float32(2.0 * self.p.reverb_wet) * wet_l
        right += np.float32(2.0 * self.p.reverb_wet) * wet_r
        fade_in, fade_out = min(n, int(0.02 * self.sr)), min(n, int(0.8 * self.sr))
        ramp_in = np.linspace(0.0, 1.0, fade_in, dtype=np.float32)
        ramp_out = (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, fade_out))).astype(np.float32)
        for samples in (left, right):
            np.subtract(samples, np.float32(samples.mean(dtype=np.float64)), out=samples)
            samples[:fade_in] *= ramp_in
            samples[n - fade_out :] *= ramp_out
        rms = math.sqrt((float(np.dot(left, left)) + float(np.dot(right, right))) / (2 * n))
        target = 10 ** ((-20.0 + 3.0 * (self.p.arousal + 1.0) / 2.0) / 20.0)
        peak = max(float(np.abs(left).max()), float(np.abs(right).max()))
        gain = np.float32(min(target / rms if rms > 0 else 1.0, PEAK_LIMIT / peak if peak > 0 else 1.0))
        return np.stack([left * gain, right * gain], axis=1)


def render_piece(
    song: Song | None = None,
    *,
    number: int | None = None,
    sample_rate: int = SAMPLE_RATE,
    duration_s: float = PIECE_DURATION_S,
) -> np.ndarray:
    """Synthesise one built-in piece: float32 ``(frames, 2)`` at ``sample_rate`` Hz, ``duration_s`` long,
    peaks at most -3 dBFS. Give the catalogue ``song`` (its number is taken from its id) or ``number``
    (1-based). Deterministic. Any thread; about half a second of CPU."""
    if number is None:
        if song is None:
            raise ValueError("render_piece needs a song or a number")
        number = int(song.song_id.rsplit("-", 1)[-1])
    if not 1 <= number <= len(_CATALOGUE):
        raise ValueError(f"no built-in piece number {number} (1..{len(_CATALOGUE)})")
    return _Piece(piece_for(number, duration_s), sample_rate, duration_s).render()


def piece_for(number: int, duration_s: float = PIECE_DURATION_S) -> PieceParameters:
    """The parameters of catalogue piece ``number`` (1-based), with its fixed seed."""
    _, valence, arousal = _CATALOGUE[number - 1]
    return piece_parameters(valence, arousal, seed=1000 * SYNTH_VERSION + number, duration_s=duration_s)


# --------------------------------------------------------------------------------------------------------
# The cache


def builtin_cache_dir() -> Path:
    """``music/builtin`` beside the program (see ``moodsic_desktop.paths``)."""
    from moodsic_desktop.paths import music_dir

    return music_dir() / CACHE_SUBDIR


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_manifest(directory: Path) -> dict[str, dict]:
    """The cached files' facts (name → size, sha256, duration_s), or {} when missing, unreadable or made by
    another synthesis version."""
    try:
        data = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("synth_version") != SYNTH_VERSION:
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def _temporary_name(path: Path) -> Path:
    """A hidden name beside ``path``, unique to this process and thread, to write before renaming."""
    return path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp{path.suffix}")


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = _temporary_name(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _is_cached(path: Path, entry: dict | None) -> bool:
    if not entry or not path.is_file():
        return False
    try:
        return path.stat().st_size == entry.get("size") and _sha256(path) == entry.get("sha256")
    except OSError:
        return False


def _write_piece(song: Song, path: Path) -> dict:
    """Synthesise ``song`` into ``path`` (written under a temporary name, then renamed) → manifest entry."""
    audio = render_piece(song)
    tmp = _temporary_name(path)
    try:
        with sf.SoundFile(tmp, "w", SAMPLE_RATE, 2, subtype="PCM_16", format="FLAC") as out:
            out.title = song.title
            out.artist = song.artist
            out.comment = f"synthesised by Moodsic (built-in station, synthesis version {SYNTH_VERSION})"
            out.write(audio)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return {"size": path.stat().st_size, "sha256": _sha256(path), "duration_s": len(audio) / SAMPLE_RATE}


def ensure_builtin_audio(
    cache_dir: str | Path | None = None, progress: Callable[[int, int], None] | None = None
) -> list[Song]:
    """The built-in pieces with ``path`` set to their cached FLAC files (``cache_dir``, default
    ``music/builtin``), synthesising any that is missing, changed or corrupt (checked against the sizes
    and SHA-256 sums in ``manifest.json``). ``progress(done, total)`` is called after each piece made.
    Raises ``OSError`` when the folder cannot be written. Blocks for a few seconds the first time: a
    worker thread or the CLI, not the GUI thread."""
    directory = Path(cache_dir) if cache_dir is not None else builtin_cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(directory)
    songs = builtin_songs()
    missing = [
        song
        for song in songs
        if not _is_cached(directory / f"{song.song_id}.flac", manifest.get(f"{song.song_id}.flac"))
    ]
    if missing:
        log.info("synthesising %d built-in pieces into %s", len(missing), directory)
        # numpy's FFTs and array arithmetic release the GIL: a few pieces at a time use a few cores
        workers = max(1, min(len(missing), os.cpu_count() or 1, MAX_SYNTH_THREADS))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="moodsic-synth") as pool:
            futures = {pool.submit(_write_piece, song, directory / f"{song.song_id}.flac"): song for song in missing}
            for done, future in enumerate(as_completed(futures), start=1):
                manifest[f"{futures[future].song_id}.flac"] = future.result()
                if progress is not None:
                    progress(done, len(missing))
    if missing:
        document = {
            "synth_version": SYNTH_VERSION,
            "sample_rate": SAMPLE_RATE,
            "files": {name: manifest[name] for name in sorted(manifest)},
        }
        _atomic_write_text(directory / MANIFEST_NAME, json.dumps(document, indent=1) + "\n")
    for song in songs:
        song.path = directory / f"{song.song_id}.flac"
        song.duration_s = float(manifest[song.path.name].get("duration_s", PIECE_DURATION_S))
    return songs


__all__ = [
    "BUILTIN_ARTIST",
    "PIECE_DURATION_S",
    "SAMPLE_RATE",
    "PieceParameters",
    "builtin_cache_dir",
    "builtin_songs",
    "ensure_builtin_audio",
    "piece_for",
    "piece_parameters",
    "render_piece",
]
