"""The built-in station's cache: twelve FLAC files written once, checked against the manifest, remade when
missing or damaged, and played by ``load_library`` when there is no library."""

from __future__ import annotations

import json
import time

import soundfile as sf

from moodsic_desktop.audio.builtin.arrangement import SAMPLE_RATE, SYNTH_VERSION
from moodsic_desktop.audio.builtin.cache import MANIFEST_NAME, ensure_builtin_audio, read_manifest
from moodsic_desktop.audio.builtin.catalogue import BUILTIN_ARTIST, PIECE_DURATION_S, builtin_songs
from moodsic_desktop.session.assembly import BUILTIN_ORIGIN, load_library

FRAMES = round(PIECE_DURATION_S * SAMPLE_RATE)


def test_twelve_pieces_are_written_as_60_s_stereo_flac(builtin_cache):
    folder, songs, seconds = builtin_cache
    print(f"synthesising and writing the 12 pieces took {seconds:.1f} s")
    assert [s.song_id for s in songs] == [s.song_id for s in builtin_songs()]
    assert sorted(p.name for p in folder.glob("*.flac")) == sorted(f"{s.song_id}.flac" for s in songs)
    for song in songs:
        info = sf.info(song.path)
        assert (info.samplerate, info.channels, info.frames, info.format) == (SAMPLE_RATE, 2, FRAMES, "FLAC")
        assert song.path.parent == folder and song.duration_s == PIECE_DURATION_S
        assert "(built-in)" in song.title and song.artist == BUILTIN_ARTIST
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    assert manifest["synth_version"] == SYNTH_VERSION and len(manifest["files"]) == 12
    assert not list(folder.glob(".*")), "no temporary files are left behind"


def test_a_second_call_uses_the_cache(builtin_cache):
    folder, songs, _ = builtin_cache
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    again = ensure_builtin_audio(folder)
    assert [s.path for s in again] == [s.path for s in songs]
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_missing_or_corrupt_files_are_made_again(builtin_cache, tmp_path):
    source, _, _ = builtin_cache
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


def test_a_manifest_from_another_version_is_not_trusted(tmp_path):
    folder = tmp_path / "builtin"
    folder.mkdir()
    (folder / MANIFEST_NAME).write_text(json.dumps({"synth_version": -1, "files": {"builtin-01.flac": {}}}))
    assert read_manifest(folder) == {}
    (folder / MANIFEST_NAME).write_text("{ broken")
    assert read_manifest(folder) == {}


def test_load_library_plays_the_cached_builtin_station(builtin_cache, tmp_path, monkeypatch):
    folder, songs, _ = builtin_cache
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
