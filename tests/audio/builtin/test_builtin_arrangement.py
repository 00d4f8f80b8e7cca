"""The arranged and mixed pieces: deterministic, with headroom, changing over time, livelier where the target
is livelier, major where it is pleasant (measurements in ``music_measures``: crude on purpose)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from moodsic_desktop.audio.builtin.arrangement import PEAK_LIMIT, SAMPLE_RATE, piece_for, render_piece
from moodsic_desktop.audio.builtin.catalogue import PIECE_DURATION_S, builtin_songs
from tests.audio.builtin.music_measures import MAJOR_PROFILE, MINOR_PROFILE

FRAMES = round(PIECE_DURATION_S * SAMPLE_RATE)


def test_synthesis_is_deterministic_and_matches_the_cache(builtin_cache):
    _, songs, _ = builtin_cache
    first, second = render_piece(number=3), render_piece(songs[2])
    np.testing.assert_array_equal(first, second)
    assert first.dtype == np.float32 and first.shape == (FRAMES, 2)
    cached, _ = sf.read(songs[2].path, dtype="float32")
    assert np.abs(cached - first).max() <= 1.0 / 32768 + 1e-6  # 16-bit rounding only
    other, _ = sf.read(songs[3].path, dtype="float32", frames=100_000)
    assert not np.array_equal(other, cached[:100_000])


def test_a_piece_renders_at_any_rate_and_length():
    audio = render_piece(number=12, sample_rate=8000, duration_s=10.0)
    assert audio.dtype == np.float32 and audio.shape == (80_000, 2)
    assert 0.0 < float(np.abs(audio).max()) <= PEAK_LIMIT + 1e-6


def test_only_catalogue_numbers_render():
    with pytest.raises(ValueError, match="needs a song or a number"):
        render_piece()
    for number in (0, 13):
        with pytest.raises(ValueError, match=f"no built-in piece number {number}"):
            render_piece(number=number)


def test_each_piece_has_its_own_fixed_seed():
    seeds = [piece_for(number).seed for number in range(1, 13)]
    assert len(set(seeds)) == 12 and piece_for(4) == piece_for(4)
    assert piece_for(1).valence == builtin_songs()[0].valence


def test_levels_leave_headroom_and_fade_at_the_ends(features):
    for song_id, f in features.items():
        assert f["peak"] <= PEAK_LIMIT + 1e-4, song_id
        assert -24.0 < f["rms_db"] < -14.0, (song_id, f["rms_db"])
        assert f["edges"][0] < 0.02 and f["edges"][1] < 0.01, song_id
        assert f["lr_correlation"] < 0.995, f"{song_id} should be stereo, not two copies of one channel"


def test_pieces_change_over_time_and_fill_several_octaves(features):
    for song_id, f in features.items():
        assert f["flux"] > 0 and f["onsets"] > 0.1, song_id
        strong = int(np.sum(f["octaves"] > -30.0))
        assert strong >= 4, (song_id, np.round(f["octaves"]))


def test_livelier_pieces_have_more_onsets(features):
    songs = builtin_songs()
    calm = [features[s.song_id]["onsets"] for s in songs if s.arousal <= -0.5]
    lively = [features[s.song_id]["onsets"] for s in songs if s.arousal >= 0.5]
    assert len(calm) >= 3 and len(lively) >= 3
    assert min(lively) > max(calm), (calm, lively)
    assert np.mean(lively) > 2.5 * np.mean(calm)


def test_pleasant_pieces_are_major_and_unpleasant_ones_minor(features):
    checked = 0
    for number, song in enumerate(builtin_songs(), start=1):
        if abs(song.valence) < 0.3:
            continue
        tonic = piece_for(number).tonic_pc
        profile = features[song.song_id]["profile"]
        major = np.corrcoef(profile, np.roll(MAJOR_PROFILE, tonic))[0, 1]
        minor = np.corrcoef(profile, np.roll(MINOR_PROFILE, tonic))[0, 1]
        assert (major > minor) == (song.valence > 0), (song.title, round(major, 2), round(minor, 2))
        checked += 1
    assert checked >= 8
