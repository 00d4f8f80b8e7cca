"""Mood features measured on real decoded audio: generated pieces whose contrasts are known, bounded
excerpts, key finding, bad files and the process pool."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from moodsic_desktop.audio import decoding
from moodsic_desktop.audio.library.analysis_pool import analyse_files
from moodsic_desktop.audio.library.mood_features import (
    ANALYSIS_RATE,
    EXCERPT_S,
    MAJOR_PROFILE,
    MINOR_PROFILE,
    MoodAnalysisError,
    MoodFeatures,
    analyse_file,
    estimate_key,
    features_from_excerpts,
)
from tests.mood_music import synth_song, write_song


@pytest.fixture(scope="module")
def contrasts():
    """Features of slow, quiet, minor pieces and of fast, loud, major ones (three seeds each)."""
    calm_sad = [features_from_excerpts([synth_song(-0.8, -0.8, 15, seed=s)]) for s in range(3)]
    lively_happy = [features_from_excerpts([synth_song(0.8, 0.8, 15, seed=s)]) for s in range(3)]
    return calm_sad, lively_happy


def test_fast_loud_major_pieces_measure_louder_denser_brighter_and_major(contrasts):
    calm_sad, lively_happy = contrasts
    for name in ("loudness_db", "onset_rate", "centroid_hz", "rolloff_hz", "percussive_share", "mode"):
        low = max(getattr(f, name) for f in calm_sad)
        high = min(getattr(f, name) for f in lively_happy)
        assert high > low, name
    assert all(f.mode < 0 and f.key.endswith("minor") for f in calm_sad)
    assert all(f.mode > 0 and f.key.endswith("major") for f in lively_happy)


def test_the_loudness_is_the_rms_level_in_dbfs():
    t = np.arange(10 * ANALYSIS_RATE) / ANALYSIS_RATE
    for amplitude in (0.5, 0.05):
        tone = (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        expected = 20 * np.log10(amplitude / np.sqrt(2))
        assert features_from_excerpts([tone]).loudness_db == pytest.approx(expected, abs=0.5)


def test_key_finding_names_the_rotated_profile():
    # Krumhansl-Schmuckler on the profiles themselves: G major is C major moved up 7 semitones.
    assert estimate_key(np.roll(MAJOR_PROFILE, 7))[0] == "G major"
    assert estimate_key(np.roll(MINOR_PROFILE, 9))[0] == "A minor"
    name, clarity, mode = estimate_key(np.roll(MINOR_PROFILE, 2))
    assert name == "D minor" and clarity == pytest.approx(1.0) and mode < 0
    assert estimate_key(np.ones(12)) == ("", 0.0, 0.0)


def test_features_survive_a_round_trip_and_refuse_another_version():
    features = features_from_excerpts([synth_song(0.2, 0.1, 8, seed=4)])
    assert MoodFeatures.from_dict(features.to_dict()) == features
    with pytest.raises(ValueError, match="version"):
        MoodFeatures.from_dict({**features.to_dict(), "version": 0})


def test_an_hour_long_file_is_analysed_on_three_excerpts(tmp_path):
    rate = 8000
    long_file = tmp_path / "long.wav"
    with sf.SoundFile(str(long_file), "w", rate, 1, "PCM_16") as out:
        # A tone whose pitch steps up 10 Hz every 100 s (at 50 s, 150 s, …), so each window hears one pitch
        # that says where in the file it was taken.
        t = np.arange(50 * rate) / rate
        for chunk in range(72):
            step = (chunk * 50 + 50) // 100
            out.write((0.3 * np.sin(2 * np.pi * (200 + 10 * step) * t)).astype(np.float32))
    info, excerpts = decoding.decode_excerpts(long_file, ANALYSIS_RATE, EXCERPT_S, (0.25, 0.5, 0.75))
    assert info.duration_s == pytest.approx(3600)
    assert [len(e) for e in excerpts] == [round(EXCERPT_S * ANALYSIS_RATE)] * 3
    pitches = [np.argmax(np.abs(np.fft.rfft(e))) / EXCERPT_S for e in excerpts]
    assert pitches == pytest.approx([200 + 10 * 9, 200 + 10 * 18, 200 + 10 * 27], abs=1.0)  # 900, 1800, 2700 s
    assert analyse_file(long_file).seconds_analysed == pytest.approx(3 * EXCERPT_S, abs=0.1)


def test_a_short_file_is_analysed_whole_once(tmp_path):
    path = write_song(tmp_path / "short.flac", 0.0, 0.0, seconds=40)
    _, excerpts = decoding.decode_excerpts(path, ANALYSIS_RATE, EXCERPT_S, (0.25, 0.5, 0.75))
    assert len(excerpts) == 1 and len(excerpts[0]) == pytest.approx(40 * ANALYSIS_RATE, abs=2)


def test_silence_garbage_and_truncation_are_reported_with_the_file(tmp_path):
    silent = tmp_path / "silent.wav"
    sf.write(str(silent), np.zeros(5 * 22050, np.float32), 22050)
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(b"\x00\x01 not audio " * 500)
    truncated = tmp_path / "truncated.wav"
    data = write_song(tmp_path / "whole.wav", 0, 0, seconds=100).read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    for path, reason in ((silent, "silent"), (garbage, "unreadable"), (truncated, "truncated")):
        with pytest.raises(MoodAnalysisError, match=reason) as raised:
            analyse_file(path)
        assert str(path) in str(raised.value)


def test_the_process_pool_keeps_the_order_and_reports_bad_files_without_stopping(tmp_path):
    paths = [write_song(tmp_path / f"s{i}.wav", -0.8 + 0.4 * i, 0.0, seconds=6, seed=i) for i in range(5)]
    bad = tmp_path / "bad.ogg"
    bad.write_bytes(b"OggS but not really")
    paths.insert(2, bad)
    paths += [write_song(tmp_path / f"t{i}.wav", 0.5, 0.5, seconds=6, seed=10 + i) for i in range(2)]
    progress = []
    results = analyse_files(paths, workers=2, progress=lambda done, total: progress.append((done, total)))
    assert isinstance(results[2], str) and "unreadable" in results[2]
    assert all(isinstance(r, MoodFeatures) for i, r in enumerate(results) if i != 2)
    in_process = [analyse_file(p) for p in paths if p != bad]
    assert [r for r in results if not isinstance(r, str)] == in_process
    assert progress[-1] == (len(paths), len(paths)) and len(progress) == len(paths)
