"""Sound synthesis of the built-in station: wavetables, voices, drums and the reverb, measured directly."""

from __future__ import annotations

import numpy as np
import pytest

from moodsic_desktop.audio.builtin.synthesis import (
    TABLE_SIZE,
    Renderer,
    Voice,
    drum_kit,
    fast_fft_size,
    reverb,
    wavetable,
)

SR = 8000


def test_a_one_harmonic_wavetable_is_one_period_of_a_sine():
    table = wavetable(1.0, 1)
    assert table.shape == (TABLE_SIZE + 1,) and table[0] == table[-1]
    np.testing.assert_allclose(table[:-1], np.sin(2 * np.pi * np.arange(TABLE_SIZE) / TABLE_SIZE), atol=1e-12)


def test_wavetables_are_peak_normalised_and_rolloff_sets_the_harmonics():
    for rolloff, harmonics, odd_weight in ((1.0, 10, 1.0), (3.0, 5, 1.0), (2.0, 8, 2.5)):
        assert np.abs(wavetable(rolloff, harmonics, odd_weight)).max() == pytest.approx(1.0)
    bright, dark = (np.abs(np.fft.rfft(wavetable(r, 8)[:-1])) for r in (1.0, 3.0))
    assert bright[1] > 0 and bright[5] / bright[1] == pytest.approx(5.0**-1.0)
    assert dark[5] / dark[1] == pytest.approx(5.0**-3.0)
    hollow = np.abs(np.fft.rfft(wavetable(0.0, 4, odd_weight=4.0)[:-1]))
    assert hollow[2] / hollow[1] == pytest.approx(0.25) and hollow[3] / hollow[1] == pytest.approx(1.0)


def test_fast_fft_sizes_are_the_smallest_5_smooth_numbers():
    def smooth(n: int) -> bool:
        for p in (2, 3, 5):
            while n % p == 0:
                n //= p
        return n == 1

    for minimum in range(1, 3000):
        expected = next(n for n in range(minimum, 2 * minimum + 1) if smooth(n))
        assert fast_fft_size(minimum) == expected, minimum


def sine_voice(**envelope) -> Voice:
    table = wavetable(1.0, 1)
    settings = {"attack_s": 0.01, "decay_s": 1.0, "sustain": 1.0, "release_s": 0.1, "darken_s": 1.0}
    return Voice(table, table, **(settings | envelope))


def test_a_note_has_its_pitch_length_and_envelope():
    renderer = Renderer(SR, 10 * SR)
    voice = sine_voice()
    note = renderer.note(voice, 69, 0.5)
    assert note.dtype == np.float32 and len(note) == round(0.6 * SR)
    spectrum = np.abs(np.fft.rfft(note[: SR // 2]))
    assert np.argmax(spectrum) * SR / (SR // 2) == pytest.approx(440.0, abs=2.0)
    assert np.abs(note[: int(0.005 * SR)]).max() < 0.55  # still rising halfway through the 10 ms attack
    assert np.abs(note[int(0.1 * SR) : int(0.5 * SR)]).max() == pytest.approx(1.0, abs=1e-3)
    assert abs(note[-1]) < 0.01  # the cosine release ends at silence
    assert renderer.note(voice, 69, 0.5) is note  # identical notes are rendered once
    assert renderer.note(voice, 69, 0.5, detune_cents=5.0) is not note


def test_sounds_are_mixed_at_their_start_time_and_cut_at_the_bus_end():
    renderer = Renderer(SR, 100)
    bus = np.zeros(100, dtype=np.float32)
    sound = np.ones(30, dtype=np.float32)
    renderer.add(bus, sound, start_s=10 / SR, gain=0.5)
    renderer.add(bus, sound, start_s=90 / SR, gain=2.0)
    renderer.add(bus, sound, start_s=1.0, gain=1.0)  # after the end: nothing
    assert bus[:10].sum() == 0 and np.all(bus[10:40] == 0.5) and bus[40:90].sum() == 0 and np.all(bus[90:] == 2.0)


def test_the_drum_kit_is_six_peak_normalised_one_shots():
    kit = drum_kit(SR, np.random.default_rng(0))
    assert sorted(kit) == ["hat", "kick", "open_hat", "rim", "shaker", "snare"]
    for sound in kit.values():
        assert sound.dtype == np.float32 and np.abs(sound).max() == pytest.approx(1.0)
    assert len(kit["kick"]) == int(0.45 * SR) and len(kit["rim"]) == int(0.03 * SR)
    for a, b in zip(kit.values(), drum_kit(SR, np.random.default_rng(0)).values(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_reverb_smears_an_impulse_into_a_decaying_stereo_tail():
    sr, decay_s = 16000, 1.0
    send = np.zeros(3 * sr, dtype=np.float32)
    send[:4] = 1.0
    left, right = reverb(send, sr, decay_s, np.random.default_rng(0))
    assert left.dtype == right.dtype == np.float32 and len(left) == len(right) == len(send)
    assert np.abs(left[: int(0.008 * sr)]).max() < 1e-3  # the 12 ms pre-delay
    early = np.sqrt(np.mean(left[int(0.05 * sr) : int(0.15 * sr)] ** 2))
    late = np.sqrt(np.mean(left[int(0.55 * sr) : int(0.65 * sr)] ** 2))
    assert 20 * np.log10(early / late) == pytest.approx(30.0, abs=6.0)  # -60 dB per decay_s: -30 dB in 0.5 s
    assert abs(np.corrcoef(left[:sr], right[:sr])[0, 1]) < 0.3  # two different room responses
