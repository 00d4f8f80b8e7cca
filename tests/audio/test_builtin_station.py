"""The built-in station: twelve synthesised pieces, cached and checked, that sound like music.

The musical checks are crude on purpose: they catch test tones, silence, a wrong mode or tempo mapping,
not taste. Onsets come from rises of half-octave band energies (as in spectral-flux onset detection);
the key check correlates a pitch-class profile with the Krumhansl–Kessler major and minor profiles.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from moodsic_desktop.audio import builtin_station
from moodsic_desktop.audio.builtin_station import (
    MANIFEST_NAME,
    PIECE_DURATION_S,
    SAMPLE_RATE,
    builtin_songs,
    ensure_builtin_audio,
    piece_for,
    piece_parameters,
    render_piece,
)
from moodsic_desktop.session.assembly import BUILTIN_ORIGIN, load_library

FRAMES = round(PIECE_DURATION_S * SAMPLE_RATE)
# Krumhansl & Kessler (1982) key profiles, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def frames_of(x: np.ndarray, size: int, hop: int) -> np.ndarray:
    """Overlapping frames of ``size`` samples every ``hop`` samples (a view, no copy): (frames, size)."""
    return np.lib.stride_tricks.sliding_window_view(x, size)[::hop]


def band_energies_db(mono: np.ndarray, size: int = 2048, hop: int = 441) -> np.ndarray:
    """Energy (dB) per 10 ms frame in half-octave bands from 60 Hz to 10 kHz: (frames, bands)."""
    power = np.abs(np.fft.rfft(frames_of(mono, size, hop) * np.hanning(size), axis=1)) ** 2
    freqs = np.fft.rfftfreq(size, 1 / SAMPLE_RATE)
    edges = 60 * 2.0 ** np.arange(0, 7.5, 0.5)
    membership = np.stack([(freqs >= lo) & (freqs < hi) for lo, hi in itertools.pairwise(edges)], axis=1)
    bands = power @ membership.astype(np.float64)
    return 10 * np.log10(bands + bands.max() * 1e-6)


def onsets_per_second(mono: np.ndarray, threshold_db: float = 2.0) -> float:
    """Peaks of the mean 20 ms rise of the band energies above ``threshold_db``, at least 50 ms apart."""
    db = band_energies_db(mono)
    detection = np.maximum(db[2:] - db[:-2], 0.0).mean(axis=1)
    peaks = (
        np.flatnonzero(
            (detection[1:-1] > detection[:-2]) & (detection[1:-1] >= detection[2:]) & (detection[1:-1] > threshold_db)
        )
        + 1
    )
    kept: list[int] = []
    for peak in peaks:
        if not kept or peak - kept[-1] >= 5:
            kept.append(int(peak))
    return len(kept) / (len(mono) / SAMPLE_RATE)


def pitch_class_profile(mono: np.ndarray) -> np.ndarray:
    """Spectral power between 60 Hz and 2 kHz folded onto the 12 pitch classes (0 = C)."""
    size = 8192
    power = (np.abs(np.fft.rfft(frames_of(mono, size, size // 2) * np.hanning(size), axis=1)) ** 2).sum(axis=0)
    freqs = np.fft.rfftfreq(size, 1 / SAMPLE_RATE)
    chosen = (freqs > 60) & (freqs < 2000)
    classes = np.round(12 * np.log2(freqs[chosen] / 440.0) + 69).astype(int) % 12
    return np.bincount(classes, weights=power[chosen], minlength=12)


def octave_levels_db(mono: np.ndarray) -> np.ndarray:
    """Energy per octave from 55 Hz to 14 kHz (8 octaves), in dB below the strongest."""
    spectrum = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / SAMPLE_RATE)
    edges = 55 * 2.0 ** np.arange(9)
    energy = np.array([spectrum[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in itertools.pairwise(edges)])
    return 10 * np.log10(energy / energy.max())


@pytest.fixture(scope="module")
def cache(moodsic_home) -> tuple[Path, list, float]:
    """The twelve pieces synthesised into the session's (empty) ``music/builtin`` (folder, songs, seconds it
    took); later tests that play the built-in station (``moodsic analyze`` without a library) reuse it."""
    folder = moodsic_home / "music" / "builtin"
    started = time.perf_counter()
    songs = ensure_builtin_audio(folder)
    return folder, songs, time.perf_counter() - started


@pytest.fixture(scope="module")
def features(cache) -> dict[str, dict]:
    """Per piece (by song id): the measurements the musical tests use, from the cached files."""
    _, songs, _ = cache
    out = {}
    for song in songs:
        audio, rate = sf.read(song.path, dtype="float32")
        assert rate == SAMPLE_RATE
        mono = (0.5 * (audio[:, 0] + audio[:, 1])).astype(np.float64)
        body = mono[6 * SAMPLE_RATE : 36 * SAMPLE_RATE]  # 30 s after the intro
        out[song.song_id] = {
            "onsets": onsets_per_second(body),
            "profile": pitch_class_profile(mono),
            "octaves": octave_levels_db(mono[: 1 << 21]),
            "flux": float(np.maximum(np.diff(band_energies_db(body[: 5 * SAMPLE_RATE]), axis=0), 0).sum()),
            "peak": float(np.abs(audio).max()),
            "rms_db": 10 * np.log10(np.mean(audio.astype(np.float64) ** 2)),
            "lr_correlation": float(np.corrcoef(audio[:, 0], audio[:, 1])[0, 1]),
            "edges": (float(np.abs(audio[:10]).max()), float(np.abs(audio[-441:]).max())),
        }
    return out


# ---- the files


def test_twelve_pieces_are_written_as_60_s_stereo_flac(cache):
    folder, songs, seconds = cache
    print(f"synthesising and writing the 12 pieces took {seconds:.1f} s")
    assert [s.song_id for s in songs] == [s.song_id for s in builtin_songs()]
    assert sorted(p.name for p in folder.glob("*.flac")) == sorted(f"{s.song_id}.flac" for s in songs)
    for song in songs:
        info = sf.info(song.path)
        assert (info.samplerate, info.channels, info.frames, info.format) == (SAMPLE_RATE, 2, FRAMES, "FLAC")
        assert song.path.parent == folder and song.duration_s == PIECE_DURATION_S
        assert "(built-in)" in song.title and song.artist == builtin_station.BUILTIN_ARTIST
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    assert manifest["synth_version"] == builtin_station.SYNTH_VERSION and len(manifest["files"]) == 12
    assert not list(folder.glob(".*")), "no temporary files are left behind"


def test_a_second_call_uses_the_cache(cache):
    folder, songs, _ = cache
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    again = ensure_builtin_audio(folder)
    assert [s.path for s in again] == [s.path for s in songs]
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_missing_or_corrupt_files_are_made_again(cache, tmp_path):
    source, _, _ = cache
    folder = tmp_path / "builtin"
    folder.mkdir()
    for path in source.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "builtin-02.flac").unlink()
    damaged = bytearray((folder / "builtin-05.flac").read_bytes())
    damaged[len(damaged) // 2 : len(damaged) // 2 + 64] = bytes(64)  # same size, garbled middle
    (folder / "builtin-05.flac").write_bytes(bytes(damaged))
    (folder / "builtin-09.flac").write_bytes(b"not audio")
    before = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.flac")}
    time.sleep(0.01)
    songs = ensure_builtin_audio(folder)
    after = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.flac")}
    remade = {name for name in after if after[name] != before.get(name)}
    assert remade == {"builtin-02.flac", "builtin-05.flac", "builtin-09.flac"}
    for name in remade:  # deterministic: exactly the original file again
        assert (folder / name).read_bytes() == (source / name).read_bytes()
    assert all(s.path.is_file() for s in songs)


def test_a_manifest_from_another_version_is_not_trusted(tmp_path, monkeypatch):
    folder = tmp_path / "builtin"
    folder.mkdir()
    (folder / MANIFEST_NAME).write_text(json.dumps({"synth_version": -1, "files": {"builtin-01.flac": {}}}))
    assert builtin_station._read_manifest(folder) == {}
    (folder / MANIFEST_NAME).write_text("{ broken")
    assert builtin_station._read_manifest(folder) == {}


def test_synthesis_is_deterministic_and_matches_the_cache(cache):
    _, songs, _ = cache
    first, second = render_piece(number=3), render_piece(songs[2])
    np.testing.assert_array_equal(first, second)
    assert first.dtype == np.float32 and first.shape == (FRAMES, 2)
    cached, _ = sf.read(songs[2].path, dtype="float32")
    assert np.abs(cached - first).max() <= 1.0 / 32768 + 1e-6  # 16-bit rounding only
    other, _ = sf.read(songs[3].path, dtype="float32", frames=100_000)
    assert not np.array_equal(other, cached[:100_000])


# ---- the music


def test_levels_leave_headroom_and_fade_at_the_ends(features):
    for song_id, f in features.items():
        assert f["peak"] <= builtin_station.PEAK_LIMIT + 1e-4, song_id
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


def test_load_library_plays_the_cached_builtin_station(cache, tmp_path, monkeypatch):
    folder, songs, _ = cache
    home = tmp_path / "home"
    (home / "music").mkdir(parents=True)
    (home / "music" / "builtin").symlink_to(folder, target_is_directory=True)
    monkeypatch.setenv("MOODSIC_HOME", str(home))
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    library = load_library(None)
    assert library.origin == BUILTIN_ORIGIN and library.stations is not None
    assert [s.path.name for s in library.songs] == [s.path.name for s in songs]
    assert all(s.path.is_file() for s in library.songs)
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_an_unwritable_cache_leaves_the_station_without_audio(tmp_path, monkeypatch, caplog):
    home = tmp_path / "home"
    home.mkdir()
    (home / "music").write_text("a file where the music folder should be")
    monkeypatch.setenv("MOODSIC_HOME", str(home))
    library = load_library(None)
    assert library.origin == BUILTIN_ORIGIN and len(library.songs) == 12
    assert all(s.path is None for s in library.songs) and "cannot write" in caplog.text


def test_a_piece_says_built_in_once_beside_its_title():
    """The window shows "artist · genre" under the title: "Moodsic built-in station · built-in" said it twice."""
    for song in builtin_songs():
        details = " · ".join(part for part in (song.artist, song.genre) if part)
        assert details == builtin_station.BUILTIN_ARTIST and details.count("built-in") == 1
