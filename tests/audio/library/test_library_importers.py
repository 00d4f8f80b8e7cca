"""Importing into the library index: the DEAM import (the real 1,802-song fixture with generated MP3s),
re-import, interrupted import, bad rows and missing or broken files, add-folder with a V-A table, and
``check``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from moodsic_desktop.audio import decoding
from moodsic_desktop.audio.library import sources
from moodsic_desktop.audio.library.importers import RatedImporter
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.schema import SCHEMA_VERSION
from moodsic_desktop.audio.library.sources import read_deam
from tests.audio.library.index_rows import N_AUDIO, meta, song_rows
from tests.conftest import write_deam_folder
from tests.library_files import add_deam_audio, require_mp3, write_audio

# ---- the DEAM fixture


def test_fixture_import_keeps_every_song_and_lists_the_ones_without_audio(deam_fixture, deam_with_audio, index):
    folder, with_audio = deam_with_audio
    calls = []
    report = RatedImporter(index).import_deam(folder, progress=lambda done, total: calls.append((done, total)))
    assert (report.new, report.updated, report.unchanged, report.imported) == (1802, 0, 0, 1802)
    assert report.playable == N_AUDIO and len(report.not_playable) == 1802 - N_AUDIO
    assert report.skipped == [] and report.unlisted == []
    assert calls[-1] == (1802, 1802) and len(calls) == 1802
    # every song without audio is listed with its expected path and the reason
    missing = {problem.song_id: problem for problem in report.not_playable}
    assert set(missing).isdisjoint(with_audio)
    some = next(iter(missing.values()))
    assert some.where.endswith(f"MEMD_audio/{some.song_id}.mp3") and "not found" in some.reason
    # V-A as read_deam reads it (reference space); file facts from the MP3 headers
    expected = {s.song_id: s for s in read_deam(deam_fixture).songs}
    entries = index.entries()
    assert len(entries) == 1802 and len({e.song.song_id for e in entries}) == 1802
    for entry in entries:
        assert (entry.song.valence, entry.song.arousal) == (
            expected[entry.song.song_id].valence,
            expected[entry.song.song_id].arousal,
        )
        assert entry.song.title == expected[entry.song.song_id].title and entry.origin == "deam"
    playable = {e.song.song_id: e for e in entries if e.playable}
    assert set(playable) == set(with_audio)
    rates = {(e.sample_rate, e.channels) for e in playable.values()}
    assert rates == {(44100, 2), (48000, 2), (22050, 2), (16000, 1), (44100, 1)}
    assert all(abs(e.song.duration_s - 0.5) < 0.06 and e.song.path == e.path for e in playable.values())
    assert all(e.song.path is None and e.problem for e in entries if not e.playable)
    # playback sees only what plays; the station model is fitted on it
    assert [s.song_id for s in index.songs()] == [e.song.song_id for e in entries if e.playable]
    assert len(index.songs(playable_only=False)) == 1802
    assert report.stations == 5 and report.refitted and index.station_model() is not None
    stats = index.stats()
    assert (stats["songs"], stats["playable"], stats["not_playable"]) == (1802, N_AUDIO, 1802 - N_AUDIO)
    assert stats["by_origin"] == {"deam": 1802} and stats["schema_version"] == SCHEMA_VERSION
    assert stats["sample_rates"][44100] == N_AUDIO // 2 and stats["channels"] == {1: 12, 2: 24}


def test_fixture_without_any_audio_has_no_station_model(deam_fixture, index):
    report = RatedImporter(index).import_deam(deam_fixture)
    assert report.imported == 1802 and report.playable == 0 and len(report.not_playable) == 1802
    assert report.stations is None and index.station_model() is None and index.songs() == []


def test_reimport_is_idempotent(deam_with_audio, index):
    folder, _ = deam_with_audio
    RatedImporter(index).import_deam(folder)
    rows, stored = song_rows(index), meta(index)
    again = RatedImporter(index).import_deam(folder)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1802)
    assert again.playable == N_AUDIO and len(again.not_playable) == 1802 - N_AUDIO
    assert not again.refitted and again.stations == 5
    assert song_rows(index) == rows and meta(index) == stored
    assert index._conn.execute("SELECT count(*), count(DISTINCT song_id) FROM songs").fetchone() == (1802, 1802)


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_interrupted_import_leaves_the_previous_index(deam_with_audio, tmp_path, index, interruption):
    folder, _ = deam_with_audio
    small = write_deam_folder(tmp_path / "small", [f"{i},{1 + i % 9},,{9 - i % 7},," for i in range(1, 30)])
    add_deam_audio(small, [str(i) for i in range(1, 30)])
    RatedImporter(index).import_deam(small)
    rows, stored = song_rows(index), meta(index)
    model = index.station_model()

    def interrupt(done: int, total: int) -> None:
        if done == 900:  # half-way through the 1,802 songs, after 900 rows were written
            raise interruption("stop")

    with pytest.raises(interruption):
        RatedImporter(index).import_deam(folder, progress=interrupt)
    assert song_rows(index) == rows and meta(index) == stored
    assert not index._conn.in_transaction
    np.testing.assert_allclose(
        index.station_model().predict_proba([0.3, -0.2], [0.1, 0.5]), model.predict_proba([0.3, -0.2], [0.1, 0.5])
    )
    # and the index still works: the same import now completes
    assert RatedImporter(index).import_deam(folder).imported == 1802


def test_interrupted_first_import_leaves_an_empty_index(deam_fixture, tmp_path, monkeypatch):
    path = tmp_path / "library.sqlite"
    real_probe = decoding.probe
    calls = []

    def failing_probe(file):
        calls.append(file)
        if len(calls) == 1000:
            raise KeyboardInterrupt
        return real_probe(file)

    monkeypatch.setattr(decoding, "probe", failing_probe)
    with LibraryIndex(path) as index, pytest.raises(KeyboardInterrupt):
        RatedImporter(index).import_deam(deam_fixture)
    with LibraryIndex(path) as index:
        assert index.songs(playable_only=False) == [] and index.station_model() is None


def test_bad_rows_missing_and_broken_files_are_reported(tmp_path, index):
    require_mp3()
    rows = ["1,5,,5,", "2,abc,,5,", "3,7,,3,", "4,12,,5,", "5,4,,4,", "6,2,,8,", "3,6,,6,"]
    folder = write_deam_folder(tmp_path / "deam", rows, audio_ids=["5"])  # 5.mp3: one zero byte
    write_audio(folder / "MEMD_audio" / "1.mp3")
    (folder / "MEMD_audio" / "6.mp3").write_bytes(np.random.default_rng(1).integers(0, 256, 4000, np.uint8).tobytes())
    write_audio(folder / "MEMD_audio" / "99.mp3")  # audio without an annotation
    report = RatedImporter(index).import_deam(folder)
    assert report.imported == 4 and report.playable == 1
    skipped = {problem.where: problem.reason for problem in report.skipped}
    assert set(skipped) == {f"static_annotations_averaged_songs_1_2000.csv line {n}" for n in (3, 5, 8)}
    assert "duplicate" in skipped["static_annotations_averaged_songs_1_2000.csv line 8"]
    not_playable = {problem.song_id: problem.reason for problem in report.not_playable}
    assert set(not_playable) == {"3", "5", "6"}
    assert "not found" in not_playable["3"]
    assert "unreadable" in not_playable["5"] and "unreadable" in not_playable["6"]
    assert report.unlisted == ["99.mp3"]
    assert [s.song_id for s in index.songs()] == ["1"]
    assert {e.song.song_id: e.problem for e in index.entries() if not e.playable} == not_playable


def test_mp3_support_is_checked_and_named(tmp_path, index, monkeypatch):
    assert sources.mp3_supported(), "soundfile's bundled libsndfile reads MP3 (1.1 or later)"
    folder = write_deam_folder(tmp_path / "deam", ["1,5,,5,"], audio_ids=["1"])
    monkeypatch.setattr(sources, "mp3_supported", lambda: False)  # as with an old system libsndfile
    report = RatedImporter(index).import_deam(folder)
    assert "MP3 needs libsndfile 1.1 or later" in report.not_playable[0].reason


def test_not_a_deam_folder_changes_nothing(tmp_path, index):
    with pytest.raises(FileNotFoundError, match="DEAM annotations not found"):
        RatedImporter(index).import_deam(tmp_path)
    with pytest.raises(FileNotFoundError):
        RatedImporter(index).import_deam(tmp_path / "nowhere")
    assert index.songs(playable_only=False) == []


# ---- the user's own folder


@pytest.fixture
def own_folder(tmp_path) -> Path:
    require_mp3()
    folder = tmp_path / "own"
    write_audio(folder / "a.wav", samplerate=48000)
    write_audio(folder / "b.flac", samplerate=22050, channels=1)
    write_audio(folder / "sub" / "c.ogg")
    write_audio(folder / "d.mp3")
    write_audio(folder / "extra.wav")  # not in the CSV
    (folder / "notes.txt").write_text("not audio\n")
    (folder / "broken.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    return folder


def test_add_folder_on_the_deam_scale(own_folder, tmp_path, index):
    csv = tmp_path / "va.csv"
    csv.write_text(
        "File, Valence, Arousal, title\n"
        "a.wav, 9, 1, Morning\n"
        "b.flac, 5, 5,\n"
        "sub/c.ogg, 3, 7,\n"
        "d.mp3, 7.5, 2.5,\n"
        "missing.wav, 5, 5,\n"
        "notes.txt, 5, 5,\n"
        "broken.wav, 6, 6,\n"
        "a.wav, 1, 1,\n"
        "sub/c.ogg, 12, 5,\n"
        "d.mp3, x, 5,\n"
        ", 5, 5,\n"
    )
    report = RatedImporter(index).add_folder(own_folder, csv, scale="deam")
    assert (report.new, report.playable, len(report.not_playable)) == (5, 4, 1)
    reasons = {problem.where: problem.reason for problem in report.skipped}
    assert len(reasons) == 6
    assert "file not found" in reasons["va.csv line 6"]
    assert "unsupported file type .txt" in reasons["va.csv line 7"]
    assert "listed twice (first on line 2)" in reasons["va.csv line 9"]
    assert "arousal" not in reasons["va.csv line 10"] and "outside the deam scale [1, 9]" in reasons["va.csv line 10"]
    assert "not a number" in reasons["va.csv line 11"] and "no file named" in reasons["va.csv line 12"]
    assert report.not_playable[0].where.endswith("broken.wav")
    assert report.unlisted == ["extra.wav"]
    songs = {Path(e.path).name: e for e in index.entries()}
    assert (songs["a.wav"].song.valence, songs["a.wav"].song.arousal) == (1.0, -1.0)
    assert songs["a.wav"].song.title == "Morning" and songs["b.flac"].song.title == "b"
    assert (songs["d.mp3"].song.valence, songs["d.mp3"].song.arousal) == (0.625, -0.625)
    assert (songs["b.flac"].sample_rate, songs["b.flac"].channels) == (22050, 1)
    assert all(e.origin == "folder" and e.song.song_id.startswith("user-") for e in songs.values())
    # idempotent: the same CSV again changes nothing
    again = RatedImporter(index).add_folder(own_folder, csv, scale="deam")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 5) and not again.refitted


def test_add_folder_in_reference_space(own_folder, tmp_path, index):
    csv = tmp_path / "ref.csv"
    csv.write_text("file;valence;arousal\na.wav;0.5;-0.25\nd.mp3;-1;1\nb.flac;1.5;0\nsub/c.ogg;0;-1.01\n")
    report = RatedImporter(index).add_folder(own_folder, csv, scale="reference")
    assert report.new == 2 and report.playable == 2
    assert [p.where for p in report.skipped] == ["ref.csv line 4", "ref.csv line 5"]
    assert all("outside the reference scale [-1, 1]" in p.reason for p in report.skipped)
    va = {Path(e.path).name: (e.song.valence, e.song.arousal) for e in index.entries()}
    assert va == {"a.wav": (0.5, -0.25), "d.mp3": (-1.0, 1.0)}


def test_add_folder_rejects_an_unusable_table(own_folder, tmp_path, index):
    with pytest.raises(FileNotFoundError, match="V-A table not found"):
        RatedImporter(index).add_folder(own_folder, tmp_path / "none.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("path,v,a\na.wav,5,5\n")
    with pytest.raises(ValueError, match="lacks the column"):
        RatedImporter(index).add_folder(own_folder, bad)
    with pytest.raises(ValueError, match="unknown scale"):
        RatedImporter(index).add_folder(own_folder, bad, scale="percent")
    with pytest.raises(FileNotFoundError, match="music folder not found"):
        RatedImporter(index).add_folder(tmp_path / "nowhere", bad)
    assert index.songs(playable_only=False) == []


# ---- check


def test_check_marks_broken_files_and_restores_repaired_ones(tmp_path, index):
    require_mp3()
    folder = tmp_path / "own"
    names = [f"song{k}.{ext}" for k, ext in enumerate(["mp3", "wav", "flac", "ogg"] * 4)]
    for k, name in enumerate(names):
        write_audio(folder / name, seconds=0.6, freq=200.0 + 30 * k)
    csv = tmp_path / "va.csv"
    csv.write_text(
        "file,valence,arousal\n" + "".join(f"{n},{1 + k * 0.5:.2f},{9 - k * 0.45:.2f}\n" for k, n in enumerate(names))
    )
    first = RatedImporter(index).add_folder(folder, csv)
    assert first.playable == 16 and first.stations == 5
    model = index.station_model()
    good = index.check()
    assert (good.checked, good.ok, good.broken, good.newly_broken, good.restored) == (16, 16, [], [], [])
    assert not good.refitted

    # truncate an MP3 (its header still says 0.6 s: only a full decode notices), garble a WAV, delete a FLAC
    mp3, wav, flac = folder / names[0], folder / names[1], folder / names[2]
    saved = {path: path.read_bytes() for path in (mp3, wav, flac)}
    mp3.write_bytes(saved[mp3][: len(saved[mp3]) // 3])
    wav.write_bytes(b"RIFF" + bytes(60))
    flac.unlink()
    report = index.check()
    ids = {Path(e.path).name: e.song.song_id for e in index.entries()}
    assert report.checked == 16 and report.ok == 13
    assert sorted(report.newly_broken) == sorted(ids[p.name] for p in (mp3, wav, flac))
    reasons = {Path(problem.where).name: problem.reason for problem in report.broken}
    assert "truncated" in reasons[mp3.name] and "not found" in reasons[flac.name] and reasons[wav.name]
    assert report.refitted and report.stations == 5
    assert {s.song_id for s in index.songs()} == set(ids.values()) - set(report.newly_broken)
    assert not np.allclose(index.station_model().centres, model.centres)

    for path, data in saved.items():
        path.write_bytes(data)
    restored = index.check()
    assert sorted(restored.restored) == sorted(report.newly_broken) and restored.ok == 16
    assert restored.refitted and len(index.songs()) == 16
    np.testing.assert_allclose(index.station_model().centres, model.centres)


def test_check_restores_a_deam_song_whose_audio_arrives_later(tmp_path, index):
    require_mp3()
    folder = write_deam_folder(tmp_path / "deam", ["1,5,,5,", "2,3,,7,"])
    first = RatedImporter(index).import_deam(folder)
    assert first.playable == 0
    write_audio(folder / "MEMD_audio" / "2.mp3")
    report = index.check()
    assert report.restored == ["2"] and [s.song_id for s in index.songs()] == ["2"]
