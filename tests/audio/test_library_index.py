"""The library index: DEAM import (the real 1,802-song fixture with generated MP3s), re-import, interrupted
import, bad rows and missing or broken files, add-folder, check, a damaged index file, bans and history,
and the stored station model."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from moodsic_desktop.audio import decoding, library_index
from moodsic_desktop.audio.library_index import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    LibraryIndex,
    LibraryIndexError,
    fit_station_model,
)
from moodsic_desktop.core.library import load_deam
from moodsic_desktop.core.stations import StationModel
from moodsic_desktop.session.assembly import BUILTIN_ORIGIN, load_library
from tests.conftest import write_deam_folder
from tests.library_files import add_deam_audio, copy_deam_layout, require_mp3, write_audio

N_AUDIO = 36  # fixture songs that get a generated MP3


def song_rows(index: LibraryIndex) -> list[tuple]:
    """Every row of the songs table except the timestamps, in a stable order."""
    columns = ", ".join(library_index._SONG_COLUMNS)
    return index._conn.execute(f"SELECT {columns} FROM songs ORDER BY song_id").fetchall()


def meta(index: LibraryIndex) -> dict[str, str]:
    return dict(index._conn.execute("SELECT key, value FROM meta"))


@pytest.fixture(scope="module")
def deam_with_audio(deam_fixture, tmp_path_factory) -> tuple[Path, list[str]]:
    """A copy of the fixture's layout with real MP3s for the first ``N_AUDIO`` songs (several rates,
    mono and stereo), and the ids of those songs."""
    folder = copy_deam_layout(deam_fixture, tmp_path_factory.mktemp("deam") / "DEAM")
    ids = [song.song_id for song in load_deam(folder)[:N_AUDIO]]
    add_deam_audio(folder, ids)
    return folder, ids


@pytest.fixture
def index(tmp_path) -> LibraryIndex:
    with LibraryIndex(tmp_path / "music" / "library.sqlite") as opened:
        yield opened


# ---- the DEAM fixture


def test_fixture_import_keeps_every_song_and_lists_the_ones_without_audio(deam_fixture, deam_with_audio, index):
    folder, with_audio = deam_with_audio
    calls = []
    report = index.import_deam(folder, progress=lambda done, total: calls.append((done, total)))
    assert (report.new, report.updated, report.unchanged, report.imported) == (1802, 0, 0, 1802)
    assert report.playable == N_AUDIO and len(report.not_playable) == 1802 - N_AUDIO
    assert report.skipped == [] and report.unlisted == []
    assert calls[-1] == (1802, 1802) and len(calls) == 1802
    # every song without audio is listed with its expected path and the reason
    missing = {problem.song_id: problem for problem in report.not_playable}
    assert set(missing).isdisjoint(with_audio)
    some = next(iter(missing.values()))
    assert some.where.endswith(f"MEMD_audio/{some.song_id}.mp3") and "not found" in some.reason
    # V-A as load_deam reads it (reference space); file facts from the MP3 headers
    expected = {s.song_id: s for s in load_deam(deam_fixture)}
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
    report = index.import_deam(deam_fixture)
    assert report.imported == 1802 and report.playable == 0 and len(report.not_playable) == 1802
    assert report.stations is None and index.station_model() is None and index.songs() == []


def test_reimport_is_idempotent(deam_with_audio, index):
    folder, _ = deam_with_audio
    index.import_deam(folder)
    rows, stored = song_rows(index), meta(index)
    again = index.import_deam(folder)
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
    index.import_deam(small)
    rows, stored = song_rows(index), meta(index)
    model = index.station_model()

    def interrupt(done: int, total: int) -> None:
        if done == 900:  # half-way through the 1,802 songs, after 900 rows were written
            raise interruption("stop")

    with pytest.raises(interruption):
        index.import_deam(folder, progress=interrupt)
    assert song_rows(index) == rows and meta(index) == stored
    assert not index._conn.in_transaction
    np.testing.assert_allclose(
        index.station_model().predict_proba([0.3, -0.2], [0.1, 0.5]), model.predict_proba([0.3, -0.2], [0.1, 0.5])
    )
    # and the index still works: the same import now completes
    assert index.import_deam(folder).imported == 1802


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
        index.import_deam(deam_fixture)
    with LibraryIndex(path) as index:
        assert index.songs(playable_only=False) == [] and index.station_model() is None


def test_bad_rows_missing_and_broken_files_are_reported(tmp_path, index):
    require_mp3()
    rows = ["1,5,,5,", "2,abc,,5,", "3,7,,3,", "4,12,,5,", "5,4,,4,", "6,2,,8,", "3,6,,6,"]
    folder = write_deam_folder(tmp_path / "deam", rows, audio_ids=["5"])  # 5.mp3: one zero byte
    write_audio(folder / "MEMD_audio" / "1.mp3")
    (folder / "MEMD_audio" / "6.mp3").write_bytes(np.random.default_rng(1).integers(0, 256, 4000, np.uint8).tobytes())
    write_audio(folder / "MEMD_audio" / "99.mp3")  # audio without an annotation
    report = index.import_deam(folder)
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
    assert library_index.mp3_supported(), "soundfile's bundled libsndfile reads MP3 (1.1 or later)"
    folder = write_deam_folder(tmp_path / "deam", ["1,5,,5,"], audio_ids=["1"])
    monkeypatch.setattr(library_index, "mp3_supported", lambda: False)  # as with an old system libsndfile
    report = index.import_deam(folder)
    assert "MP3 needs libsndfile 1.1 or later" in report.not_playable[0].reason


def test_not_a_deam_folder_changes_nothing(tmp_path, index):
    with pytest.raises(FileNotFoundError, match="DEAM annotations not found"):
        index.import_deam(tmp_path)
    with pytest.raises(FileNotFoundError):
        index.import_deam(tmp_path / "nowhere")
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
    report = index.add_folder(own_folder, csv, scale="deam")
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
    again = index.add_folder(own_folder, csv, scale="deam")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 5) and not again.refitted


def test_add_folder_in_reference_space(own_folder, tmp_path, index):
    csv = tmp_path / "ref.csv"
    csv.write_text("file;valence;arousal\na.wav;0.5;-0.25\nd.mp3;-1;1\nb.flac;1.5;0\nsub/c.ogg;0;-1.01\n")
    report = index.add_folder(own_folder, csv, scale="reference")
    assert report.new == 2 and report.playable == 2
    assert [p.where for p in report.skipped] == ["ref.csv line 4", "ref.csv line 5"]
    assert all("outside the reference scale [-1, 1]" in p.reason for p in report.skipped)
    va = {Path(e.path).name: (e.song.valence, e.song.arousal) for e in index.entries()}
    assert va == {"a.wav": (0.5, -0.25), "d.mp3": (-1.0, 1.0)}


def test_add_folder_rejects_an_unusable_table(own_folder, tmp_path, index):
    with pytest.raises(FileNotFoundError, match="V-A table not found"):
        index.add_folder(own_folder, tmp_path / "none.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("path,v,a\na.wav,5,5\n")
    with pytest.raises(ValueError, match="lacks the column"):
        index.add_folder(own_folder, bad)
    with pytest.raises(ValueError, match="unknown scale"):
        index.add_folder(own_folder, bad, scale="percent")
    with pytest.raises(FileNotFoundError, match="music folder not found"):
        index.add_folder(tmp_path / "nowhere", bad)
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
    first = index.add_folder(folder, csv)
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
    first = index.import_deam(folder)
    assert first.playable == 0
    write_audio(folder / "MEMD_audio" / "2.mp3")
    report = index.check()
    assert report.restored == ["2"] and [s.song_id for s in index.songs()] == ["2"]


# ---- the file itself


def test_new_index_has_the_schema_version_and_marks_itself(tmp_path):
    path = tmp_path / "deep" / "folder" / "library.sqlite"
    with LibraryIndex(path) as index:
        assert index.schema_version == SCHEMA_VERSION
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()
    assert sorted(library_index._MIGRATIONS) == list(range(1, SCHEMA_VERSION + 1))


def test_an_empty_file_is_reported_never_turned_into_an_index(tmp_path):
    """A 0-byte file at the index path is the user's (a placeholder, a failed copy): SQLite would adopt it
    as a new database, so it is reported and left as it is, also with ``create=True``."""
    path = tmp_path / "library.sqlite"
    path.write_bytes(b"")
    for create in (True, False):
        with pytest.raises(LibraryIndexError, match="empty file"):
            LibraryIndex(path, create=create)
    assert path.read_bytes() == b"" and [p.name for p in tmp_path.iterdir()] == ["library.sqlite"]


def test_a_missing_index_is_only_created_when_asked(tmp_path):
    with pytest.raises(LibraryIndexError, match="no library index at"):
        LibraryIndex(tmp_path / "library.sqlite", create=False)
    assert not (tmp_path / "library.sqlite").exists()


def damaged_copy(source: Path, target: Path) -> Path:
    data = bytearray(source.read_bytes())
    data[4096:8192] = b"\xa5" * 4096  # the second page (first table pages) overwritten
    target.write_bytes(bytes(data))
    return target


@pytest.mark.parametrize("damage", ["garbage", "text", "overwritten-page", "truncated"])
def test_a_damaged_index_is_a_clear_error_and_is_kept(deam_with_audio, tmp_path, damage):
    path = tmp_path / "library.sqlite"
    if damage == "garbage":
        path.write_bytes(np.random.default_rng(3).integers(0, 256, 10000, np.uint8).tobytes())
    elif damage == "text":
        path.write_text("this is my shopping list, not a database\n")
    else:
        good = tmp_path / "good.sqlite"
        with LibraryIndex(good) as index:
            index.import_deam(deam_with_audio[0])
            index._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if damage == "overwritten-page":
            damaged_copy(good, path)
        else:
            data = good.read_bytes()
            path.write_bytes(data[: len(data) // 2])
    before = path.read_bytes()
    with pytest.raises(LibraryIndexError) as raised:
        LibraryIndex(path)
    message = str(raised.value)
    assert str(path) in message and "left as it is" in message and "\n" not in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("library")) == ["library.sqlite"]


def test_other_databases_and_newer_versions_are_refused(tmp_path):
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(LibraryIndexError, match="not a Moodsic library index"):
        LibraryIndex(other)
    newer = tmp_path / "newer.sqlite"
    LibraryIndex(newer).close()
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = newer.read_bytes()
    with pytest.raises(LibraryIndexError, match="newer Moodsic"):
        LibraryIndex(newer)
    assert newer.read_bytes() == before


def test_one_connection_per_thread(index):
    errors = []

    def use() -> None:
        try:
            index.songs()
        except sqlite3.ProgrammingError as error:
            errors.append(error)

    worker = threading.Thread(target=use)
    worker.start()
    worker.join()
    assert errors, "sqlite3 objects must not cross threads"
    with LibraryIndex(index.path) as other:  # a second connection (another thread would open its own)
        assert other.songs() == []


def test_a_busy_index_is_a_clear_error_and_changes_nothing(tmp_path):
    folder = write_deam_folder(tmp_path / "deam", ["1,5,,5,", "2,3,,7,"])
    path = tmp_path / "library.sqlite"
    with LibraryIndex(path) as holder, LibraryIndex(path, busy_timeout_s=0.05) as waiting:
        holder._conn.execute("BEGIN IMMEDIATE")  # another writer holds the index (an import in progress)
        with pytest.raises(LibraryIndexError, match=r"cannot be written now.*nothing was changed"):
            waiting.import_deam(folder)
        with pytest.raises(LibraryIndexError, match="locked"):
            waiting.record_play("1", 5.0)
        holder._conn.execute("ROLLBACK")
        assert waiting.songs(playable_only=False) == [] and waiting.recent_plays() == []
        assert waiting.import_deam(folder).imported == 2


# ---- history, bans, stations


def test_play_history_and_bans_persist(tmp_path):
    path = tmp_path / "library.sqlite"
    folder = write_deam_folder(tmp_path / "deam", ["1,5,,5,", "2,3,,7,", "3,7,,2,"])
    with LibraryIndex(path) as index:
        index.import_deam(folder)
        for when, song_id in [(100.0, "1"), (160.0, "2"), (130.0, "3"), (220.0, "builtin-04")]:
            index.record_play(song_id, when)
        index.ban("2")
        index.ban("builtin-07")
        index.ban("2")  # twice is fine
        with pytest.raises(KeyError, match="no song 'nope'"):
            index.ban("nope")
    with LibraryIndex(path) as index:
        assert index.recent_plays(3) == [(220.0, "builtin-04"), (160.0, "2"), (130.0, "3")]
        assert index.recent_plays(0) == [] and len(index.recent_plays(10)) == 4
        assert index.banned_ids() == {"2", "builtin-07"}
        assert [e.song.song_id for e in index.entries() if e.banned] == ["2"]
        index.unban("2")
        index.unban("never-banned")
        assert index.banned_ids() == {"builtin-07"}
        assert index.stats()["plays"] == 4 and index.stats()["banned"] == 1


def test_station_model_is_stored_reloaded_and_refitted_after_a_change(deam_with_audio, tmp_path):
    folder, _ = deam_with_audio
    path = tmp_path / "library.sqlite"
    probe_v, probe_a = np.linspace(-0.9, 0.9, 25), np.linspace(0.8, -0.8, 25)
    with LibraryIndex(path) as index:
        index.import_deam(folder)
        songs = index.songs()
        stored_at = meta(index)["station_fitted_at"]
    fresh = StationModel.fit([s.valence for s in songs], [s.arousal for s in songs], n_stations=5, seed=0)
    with LibraryIndex(path) as index:
        reloaded = index.station_model()
        assert index.station_settings() == (5, 0)
        np.testing.assert_allclose(
            reloaded.predict_proba(probe_v, probe_a), fresh.predict_proba(probe_v, probe_a), atol=1e-9
        )
        assert reloaded.names == fresh.names
        # a library change (new songs that play) refits, in the same transaction as the import
        own = tmp_path / "own"
        for k in range(6):
            write_audio(own / f"x{k}.wav", freq=300.0 + 20 * k)
        csv = tmp_path / "va.csv"
        csv.write_text("file,valence,arousal\n" + "".join(f"x{k}.wav,9,{1 + k}\n" for k in range(6)))
        report = index.add_folder(own, csv)
        assert report.refitted and meta(index)["station_fitted_at"] != stored_at
        changed = index.station_model()
        assert not np.allclose(changed.predict_proba(probe_v, probe_a), fresh.predict_proba(probe_v, probe_a))
        everything = index.songs()
        expected = fit_station_model(everything)
        np.testing.assert_allclose(changed.centres, expected.centres, atol=1e-9)


def test_too_few_songs_store_no_model(tmp_path, index):
    require_mp3()
    folder = write_deam_folder(tmp_path / "deam", [f"{i},{i},,{10 - i},," for i in range(1, 9)])
    add_deam_audio(folder, [str(i) for i in range(1, 10)])
    report = index.import_deam(folder)
    assert report.playable == 8 and report.stations is None and index.station_model() is None
    assert fit_station_model(index.songs()) is None  # 8 < 2 · 5 distinct songs


# ---- load_library


def test_load_library_prefers_an_index_with_playable_songs(deam_with_audio, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("MOODSIC_HOME", str(home))
    with LibraryIndex() as index:
        assert index.path == home / "music" / "library.sqlite"
        index.import_deam(deam_with_audio[0])
        index.ban(deam_with_audio[1][0])
        played = [song.song_id for song in index.songs()][:3]
        for when, song_id in enumerate(played):
            index.record_play(song_id, when=1000.0 + when)
        stored = index.station_model()
    library = load_library(None)
    assert library.recent == tuple(played)  # oldest first, for the matcher's recent-song memory
    assert library.origin == f"library index {home / 'music' / 'library.sqlite'}"
    assert len(library.songs) == N_AUDIO and all(s.path is not None for s in library.songs)
    assert library.banned == {deam_with_audio[1][0]} and library.index_path == home / "music" / "library.sqlite"
    np.testing.assert_allclose(library.stations.centres, stored.centres)
    # other station settings: refitted in memory, the stored model is kept
    seven = load_library(None, n_stations=3)
    assert seven.stations.n_stations == 3
    with LibraryIndex() as index:
        assert index.station_settings() == (5, 0)
    # a DEAM folder given explicitly is still read directly
    direct = load_library(deam_with_audio[0])
    assert len(direct.songs) == 1802 and direct.origin.startswith("DEAM folder")


def test_load_library_falls_back_to_the_builtin_station(deam_fixture, tmp_path, monkeypatch):
    from moodsic_desktop.audio.builtin import cache
    from moodsic_desktop.audio.builtin.catalogue import builtin_songs

    home = tmp_path / "home"
    monkeypatch.setenv("MOODSIC_HOME", str(home))

    def fake_audio():  # the real synthesis is tested in tests/audio/builtin/
        songs = builtin_songs()
        for song in songs:
            song.path = home / "music" / "builtin" / f"{song.song_id}.flac"
        return songs

    monkeypatch.setattr(cache, "ensure_builtin_audio", fake_audio)
    assert load_library(None).origin == BUILTIN_ORIGIN  # no index
    with LibraryIndex() as index:
        index.import_deam(deam_fixture)  # 1,802 songs, none playable
    library = load_library(None)
    assert library.origin == BUILTIN_ORIGIN and len(library.songs) == 12
    assert all(s.path is not None and s.song_id.startswith("builtin-") for s in library.songs)
    assert library.stations is not None
    # a damaged index: reported with the library (for the banner), left alone, and the built-in station plays
    index_file = home / "music" / "library.sqlite"
    index_file.write_bytes(b"garbage" * 1000)
    library = load_library(None)
    assert library.origin == BUILTIN_ORIGIN
    assert "left as it is" in library.problem and index_file.read_bytes() == b"garbage" * 1000
