"""Music theory for the built-in station: how a target V-A point becomes musical choices.

With v, a the target V-A (reference space [-1, 1]) and v' = (v + 1)/2, a' = (a + 1)/2 in [0, 1]:

* mode: major when v ≥ 0, natural minor otherwise (with a major V chord, the harmonic-minor leading tone,
  when v < -0.4);
* tempo ≈ 60 + 72·a' beats per minute, adjusted so that a whole number of 4-bar phrases fills the piece
  (its length in seconds less the ``TAIL_S`` seconds the final chord rings);
* register: the melody centres on MIDI note 62 + 4·v + 5·a; the bass sits in the octave G1–G2 (MIDI 31–42);
* brightness b = 0.2 + 0.45·a' + 0.35·v' in [0, 1] sets the harmonic roll-off of every instrument (harmonic
  k has amplitude k^-(p0 - p1·b));
* note density: a melody on a quarter-note grid (a' < 0.4) or an eighth-note grid, with an onset
  probability rising with arousal; bass from whole notes (calm) to an eighth-note pulse (lively);
* drums: none below a = -0.2, light percussion (soft kick, shaker, rim clicks) up to a = 0.25, a full
  kit (kick, snare, hi-hats, fills) above.

Pitches are MIDI note numbers (69 = A4 = 440 Hz), pitch classes 0..11 with 0 = C, scale degrees 0-based.
Pure functions: any thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moodsic_desktop.audio.builtin.catalogue import PIECE_DURATION_S

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
# Chord roots as 0-based scale degrees, one chord per bar.
_MAJOR_PROGRESSIONS = ((0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 0, 4), (3, 4, 2, 5))
_MINOR_PROGRESSIONS = ((0, 5, 2, 6), (0, 3, 5, 4), (0, 6, 5, 6), (0, 3, 4, 0))
_TONICS = (0, 2, 3, 5, 7, 9, 10)  # C, D, Eb, F, G, A, Bb
TAIL_S = 3.0  # the final chord rings out for this long


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
    music_s = duration_s - TAIL_S
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


def scale_pitch(params: PieceParameters, degree: int, base: int) -> int:
    """MIDI note of a scale degree (0-based; negative or ≥ 7 wrap into other octaves) counted from ``base``,
    a MIDI note of the tonic."""
    octave, index = divmod(degree, 7)
    return base + 12 * octave + params.scale[index]


def chord_pitch_classes(params: PieceParameters, root_degree: int, seventh: bool) -> list[int]:
    """Pitch classes (relative to C) of the diatonic triad (or seventh chord) on a scale degree."""
    degrees = [root_degree, root_degree + 2, root_degree + 4] + ([root_degree + 6] if seventh else [])
    pcs = [(params.tonic_pc + scale_pitch(params, d, 0)) % 12 for d in degrees]
    if params.mode == "minor" and root_degree % 7 == 4 and params.valence < -0.4:
        pcs[1] = (pcs[1] + 1) % 12  # harmonic minor: a major dominant, with the leading tone
    return pcs


def midi_to_hz(note: float) -> float:
    """The frequency in Hz of a MIDI note number (69 = A4 = 440 Hz; fractions are cents / 100)."""
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def snap_to_chord(pitch: int, chord_pcs: list[int]) -> int:
    """The MIDI note nearest to ``pitch`` whose pitch class is in ``chord_pcs`` (ties go down); ``pitch``
    itself when none lies within 6 semitones."""
    for distance in range(7):
        for candidate in (pitch - distance, pitch + distance):
            if candidate % 12 in chord_pcs:
                return candidate
    return pitch
