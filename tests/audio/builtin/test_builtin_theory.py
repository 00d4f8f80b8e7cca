"""Music theory of the built-in station: pitches, chords, and the choices made from a target V-A point."""

from __future__ import annotations

import dataclasses

import pytest

from moodsic_desktop.audio.builtin.catalogue import PIECE_DURATION_S
from moodsic_desktop.audio.builtin.theory import (
    TAIL_S,
    chord_pitch_classes,
    midi_to_hz,
    piece_parameters,
    scale_pitch,
    snap_to_chord,
)


def params(mode: str, tonic_pc: int, valence: float = 0.5):
    return dataclasses.replace(piece_parameters(0.5, 0.5, seed=1), mode=mode, tonic_pc=tonic_pc, valence=valence)


def test_midi_notes_become_equal_tempered_frequencies():
    assert midi_to_hz(69) == 440.0 and midi_to_hz(81) == 880.0 and midi_to_hz(57) == 220.0
    assert midi_to_hz(60) == pytest.approx(261.6256, abs=1e-4)
    assert midi_to_hz(69.5) == pytest.approx(440.0 * 2 ** (1 / 24))  # a quarter tone: 50 cents


def test_scale_degrees_count_from_the_tonic_and_wrap_into_octaves():
    major, minor = params("major", 0), params("minor", 9)
    assert [scale_pitch(major, d, 60) for d in range(8)] == [60, 62, 64, 65, 67, 69, 71, 72]
    assert [scale_pitch(minor, d, 57) for d in range(8)] == [57, 59, 60, 62, 64, 65, 67, 69]
    assert scale_pitch(major, -1, 60) == 59 and scale_pitch(major, 9, 60) == 76


def test_chords_are_diatonic_and_a_sad_minor_key_gets_its_leading_tone():
    c_major = params("major", 0)
    assert chord_pitch_classes(c_major, 0, seventh=False) == [0, 4, 7]
    assert chord_pitch_classes(c_major, 0, seventh=True) == [0, 4, 7, 11]
    assert chord_pitch_classes(c_major, 4, seventh=False) == [7, 11, 2]  # G major
    assert chord_pitch_classes(params("major", 2), 0, seventh=False) == [2, 6, 9]  # D major
    assert chord_pitch_classes(params("minor", 9, valence=-0.2), 4, seventh=False) == [4, 7, 11]  # E minor
    assert chord_pitch_classes(params("minor", 9, valence=-0.6), 4, seventh=False) == [4, 8, 11]  # E major
    assert chord_pitch_classes(params("minor", 9, valence=-0.6), 0, seventh=False) == [9, 0, 4]  # A minor


def test_snapping_picks_the_nearest_chord_tone_and_ties_go_down():
    c_major = [0, 4, 7]
    assert snap_to_chord(60, c_major) == 60
    assert snap_to_chord(61, c_major) == 60
    assert snap_to_chord(62, c_major) == 60  # 60 and 64 are both two semitones away
    assert snap_to_chord(63, c_major) == 64
    assert snap_to_chord(70, c_major) == 72
    assert snap_to_chord(66, []) == 66


def test_tempo_fills_whole_phrases_before_the_final_chord():
    p = piece_parameters(0.1, 0.0, seed=3)  # a' = 0.5: nominally 96 bpm, 2.5 s per bar, 22.8 bars
    assert p.bars == 24 and p.tempo_bpm == pytest.approx(24 * 240.0 / (PIECE_DURATION_S - TAIL_S))
    assert p.beat_s == pytest.approx(60.0 / p.tempo_bpm) and p.bar_s == pytest.approx(4 * p.beat_s)
    short = piece_parameters(0.1, 0.0, seed=3, duration_s=10.0)
    assert short.bars == 4 and short.bars * short.bar_s == pytest.approx(10.0 - TAIL_S)


def test_thresholds_and_ranges_of_the_choices():
    assert piece_parameters(0.0, -0.2, seed=1).drums == "none"
    assert piece_parameters(0.0, 0.25, seed=1).drums == "light"
    assert piece_parameters(0.0, 0.26, seed=1).drums == "full"
    assert [piece_parameters(0.0, a, seed=1).bass_pattern for a in (-0.5, 0.0, 0.5)] == ["whole", "half", "eighths"]
    lowest, highest = piece_parameters(-1.0, -1.0, seed=1), piece_parameters(1.0, 1.0, seed=1)
    assert (lowest.brightness, highest.brightness) == (pytest.approx(0.2), 1.0)
    assert (lowest.melody_centre, highest.melody_centre) == (55, 71)
    assert (lowest.melody_grid, highest.melody_grid) == (4, 8)
    assert (lowest.reverb_decay_s, highest.reverb_decay_s) == (pytest.approx(2.4), pytest.approx(1.2))
    assert 31 <= lowest.bass_tonic <= 42 and (lowest.bass_tonic - lowest.tonic_pc) % 12 == 0
    assert piece_parameters(-0.01, 0.0, seed=1).mode == "minor" and piece_parameters(0.0, 0.0, seed=1).mode == "major"


def test_parameters_follow_the_target():
    grid = [(v, a) for v in (-0.8, -0.2, 0.3, 0.9) for a in (-0.8, -0.3, 0.2, 0.8)]
    params = {(v, a): piece_parameters(v, a, seed=1) for v, a in grid}
    for (v, _), p in params.items():
        assert p.mode == ("major" if v >= 0 else "minor")
        assert p.bars % 4 == 0 and abs(p.bars * p.bar_s - (PIECE_DURATION_S - 3.0)) < 1e-9
    for v in (-0.8, 0.9):
        column = [params[v, a] for a in (-0.8, -0.3, 0.2, 0.8)]
        assert [p.tempo_bpm for p in column] == sorted(p.tempo_bpm for p in column)
        assert column[0].tempo_bpm < column[-1].tempo_bpm
        assert [p.drums for p in column] == ["none", "none", "light", "full"]
        assert column[0].melody_grid < column[-1].melody_grid
        assert column[0].note_probability < column[-1].note_probability
    for a in (-0.8, 0.8):
        row = [params[v, a] for v in (-0.8, -0.2, 0.3, 0.9)]
        assert [p.brightness for p in row] == sorted(p.brightness for p in row)
        assert row[0].melody_centre < row[-1].melody_centre
    assert piece_parameters(0.5, 0.5, seed=7) == piece_parameters(0.5, 0.5, seed=7)
