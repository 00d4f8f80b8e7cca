"""The arrangement of a built-in piece, bar by bar, and its stereo mix.

A piece is a 4-bar chord progression repeated with a two-bar intro, a melody of two repeated 2-bar motifs
whose strong-beat notes snap to chord tones, a pad, a bass line, an arpeggio in lively pieces, a short
breakdown, and a final tonic chord that rings out for ``TAIL_S`` seconds. The buses are panned (equal
power), sent to a convolution reverb, faded in (20 ms) and out (0.8 s), and normalised to an RMS level
(-20 dBFS calm … -17 dBFS lively) with peaks at most -3 dBFS (``PEAK_LIMIT``, linear full scale).
Everything is seeded by the piece's number (and ``SYNTH_VERSION``), so rendering is deterministic.

``render_piece`` and ``piece_for`` are pure: any thread.
"""

from __future__ import annotations

import math

import numpy as np

from moodsic_desktop.audio.builtin.catalogue import CATALOGUE, PIECE_DURATION_S
from moodsic_desktop.audio.builtin.synthesis import Renderer, Voice, drum_kit, reverb, wavetable
from moodsic_desktop.audio.builtin.theory import (
    TAIL_S,
    PieceParameters,
    chord_pitch_classes,
    piece_parameters,
    scale_pitch,
    snap_to_chord,
)
from moodsic_desktop.core.song import Song

SAMPLE_RATE = 44100
SYNTH_VERSION = 1
"""Bumped whenever the synthesis changes, so that cached files from an older version are made again."""
PEAK_LIMIT = 10 ** (-3.0 / 20)  # -3 dBFS

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


class _Piece:
    """Arranges and renders one piece bar by bar (see the module docstring for the form)."""

    def __init__(self, params: PieceParameters, sample_rate: int, duration_s: float) -> None:
        self.p = params
        self.sr = sample_rate
        self.n = round(duration_s * sample_rate)
        self.rng = np.random.default_rng(params.seed + 7)
        self.renderer = Renderer(sample_rate, self.n)
        self.buses = {name: np.zeros(self.n, dtype=np.float32) for name in _BUSES}
        b = params.brightness
        self.calm = params.arousal < 0.0
        pad_table = wavetable(2.8 - 1.2 * b, 10)
        self.pad = Voice(
            pad_table,
            pad_table,
            attack_s=0.9 - 0.6 * b,
            decay_s=2.5,
            sustain=0.75,
            release_s=1.2 - 0.5 * b,
            darken_s=3.0,
        )
        if self.calm and params.valence >= 0.3:  # pastoral: a soft, hollow, flute-like lead with vibrato
            self.lead = Voice(
                wavetable(2.2 - 0.8 * b, 8, odd_weight=2.5),
                wavetable(3.0, 5, odd_weight=2.5),
                attack_s=0.05,
                decay_s=1.2,
                sustain=0.6,
                release_s=0.35,
                darken_s=1.5,
                vibrato_cents=9.0,
            )
        elif self.calm:  # a soft piano: a struck attack that darkens and dies away slowly
            self.lead = Voice(
                wavetable(1.8 - 0.6 * b, 12),
                wavetable(3.2, 5),
                attack_s=0.01,
                decay_s=0.9,
                sustain=0.12,
                release_s=0.4,
                darken_s=0.5,
            )
        else:  # a plucked, electric-piano-like lead
            self.lead = Voice(
                wavetable(1.4 - 0.5 * b, 14),
                wavetable(2.6, 6),
                attack_s=0.004,
                decay_s=0.45,
                sustain=0.2,
                release_s=0.12,
                darken_s=0.25,
            )
        self.arp = Voice(
            wavetable(1.5 - 0.4 * b, 12),
            wavetable(2.8, 5),
            attack_s=0.003,
            decay_s=0.2,
            sustain=0.0,
            release_s=0.06,
            darken_s=0.12,
        )
        self.bass = Voice(
            wavetable(2.4 - 0.8 * b, 7),
            wavetable(3.5, 3),
            attack_s=0.008,
            decay_s=0.5,
            sustain=0.55,
            release_s=0.08,
            darken_s=0.3,
        )
        self.pad_gain = 0.12 if self.calm else 0.16
        self.kit = drum_kit(sample_rate, self.rng)
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
            chord = chord_pitch_classes(self.p, degree, seventh=self.calm and self.p.mode == "major" and not final)
            start = index * self.p.bar_s
            self.pad_bar(chord, start, final)
            self.bass_bar(chord, start, final)
            if self.p.arpeggio and 2 <= index < self.p.bars and index not in self.breakdown:
                self.arpeggio_bar(chord, start)
            if final:
                self.play(
                    "melody", self.renderer.note(self.lead, snap_to_chord(self.anchor, chord), TAIL_S - 0.8), start, 0.3
                )
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
        length = TAIL_S - 0.6 if final else self.p.bar_s * 0.98
        for pc in chord:
            note = self.p.pad_low + (pc - self.p.pad_low) % 12
            self.play("pad_l", self.renderer.note(self.pad, note, length, -5.0), start, self.pad_gain)
            self.play("pad_r", self.renderer.note(self.pad, note, length, 5.0), start, self.pad_gain)

    def bass_bar(self, chord: list[int], start: float, final: bool) -> None:
        """The chord's root: one long note (calm or final), root and fifth, or an eighth-note pulse."""
        root = self.p.bass_tonic + (chord[0] - self.p.bass_tonic) % 12
        beat, note = self.p.beat_s, self.renderer.note
        if final:
            self.play("bass", note(self.bass, root, TAIL_S - 0.8), start, 0.5)
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
            pitch = scale_pitch(self.p, offset, self.anchor)
            strong = local % (grid // 2) == 0
            phrase_end = bar_in_phrase == 3 and local + length >= grid
            if strong or phrase_end:
                pitch = snap_to_chord(pitch, chord)
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
        wet_l, wet_r = reverb(send, self.sr, self.p.reverb_decay_s, self.rng)
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
        level = np.float32(min(target / rms if rms > 0 else 1.0, PEAK_LIMIT / peak if peak > 0 else 1.0))
        return np.stack([left * level, right * level], axis=1)


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
    if not 1 <= number <= len(CATALOGUE):
        raise ValueError(f"no built-in piece number {number} (1..{len(CATALOGUE)})")
    return _Piece(piece_for(number, duration_s), sample_rate, duration_s).render()


def piece_for(number: int, duration_s: float = PIECE_DURATION_S) -> PieceParameters:
    """The parameters of catalogue piece ``number`` (1-based), with its fixed seed."""
    _, valence, arousal = CATALOGUE[number - 1]
    return piece_parameters(valence, arousal, seed=1000 * SYNTH_VERSION + number, duration_s=duration_s)
