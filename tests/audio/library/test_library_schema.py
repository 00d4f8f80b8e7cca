"""The library index file itself: its schema version and mark, migrations, empty, missing, damaged,
foreign and newer files (refused and kept), one connection per thread, and a busy index."""

from __future__ import annotations

import contextlib
import sqlite3
import stat
import threading
from pathlib import Path

import numpy as np
import pytest

from moodsic_desktop.audio.library import schema
from moodsic_desktop.audio.library.importers import RatedImporter
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.reports import LibraryIndexError
from moodsic_desktop.audio.library.schema import APPLICATION_ID, SCHEMA_VERSION
from moodsic_desktop.core.song import SongMood
from tests.cli.cli_helpers import one_error_line, run
from tests.conftest import write_deam_folder
from tests.special_files import fifo_that_cannot_hang

# ---- the file itself


def test_new_index_has_the_schema_version_and_marks_itself(tmp_path):
    path = tmp_path / "deep" / "folder" / "library.sqlite"
    with LibraryIndex(path) as index:
        assert index.schema_version == SCHEMA_VERSION
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()
    assert sorted(schema.MIGRATIONS) == list(range(1, SCHEMA_VERSION + 1))


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
            RatedImporter(index).import_deam(deam_with_audio[0])
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
    stamp_version(newer, SCHEMA_VERSION + 1)
    before = newer.read_bytes()
    with pytest.raises(LibraryIndexError, match="newer Moodsic"):
        LibraryIndex(newer)
    assert newer.read_bytes() == before


def stamp_version(path, version: int) -> None:
    """Write ``version`` as the file's schema version (SQLite's ``user_version``), as another program might."""
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("version", [-1, -2147483648])
def test_a_negative_schema_version_is_a_clear_error_and_the_file_is_unchanged(tmp_path, capsys, version):
    path = tmp_path / "library.sqlite"
    LibraryIndex(path).close()
    stamp_version(path, version)
    before = path.read_bytes()
    with pytest.raises(LibraryIndexError, match=f"unknown schema version {version}.*left as it is"):
        LibraryIndex(path)
    assert path.read_bytes() == before
    code, _, err = run(capsys, "library", "list", "--index", str(path))
    assert code == 1 and f"unknown schema version {version}" in one_error_line(err)
    assert path.read_bytes() == before


def test_an_index_path_that_is_a_fifo_is_refused_without_waiting(tmp_path, capsys):
    with fifo_that_cannot_hang(tmp_path / "library.sqlite") as fifo:
        with pytest.raises(LibraryIndexError, match=r"named pipe \(FIFO\), not a library index file.*left as it is"):
            LibraryIndex(fifo)
        code, _, err = run(capsys, "library", "stats", "--index", str(fifo))
        assert code == 1 and "named pipe (FIFO)" in one_error_line(err)
        assert stat.S_ISFIFO(fifo.stat().st_mode)


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
            RatedImporter(waiting).import_deam(folder)
        with pytest.raises(LibraryIndexError, match="locked"):
            waiting.record_play("1", 5.0)
        holder._conn.execute("ROLLBACK")
        assert waiting.songs(playable_only=False) == [] and waiting.recent_plays() == []
        assert RatedImporter(waiting).import_deam(folder).imported == 2


def test_an_index_of_schema_1_opens_with_its_songs_rated(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    schema.migrate_to_1(conn)
    conn.execute(
        "INSERT INTO songs (song_id, valence, arousal, path, playable, origin, added_at, updated_at) "
        "VALUES ('7', 0.25, -0.5, NULL, 0, 'deam', 0, 0)"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.close()
    with LibraryIndex(path) as index:
        assert index.schema_version == SCHEMA_VERSION == 2
        (song,) = index.songs(playable_only=False)
        assert song.mood == SongMood(0.25, -0.5, "rated", 0.0, 0.0)
        assert index.stats()["moods"] == {"placed": 0, "rated": 1}


def test_an_index_written_before_songs_carried_one_mood_opens_with_each_mood_whole(tmp_path):
    """The rows as the program wrote them before ``SongMood`` (issue 24): a rated point, an estimate with
    a variance per axis, and an estimate the owner placed. Each reads back as one value, nothing summed
    or lost, and its rows are left as they are."""
    path = tmp_path / "library.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    for step in (schema.migrate_to_1, schema.migrate_to_2):
        step(conn)
    columns = "song_id, valence, arousal, path, playable, origin, mood_source, valence_var, arousal_var"
    conn.executemany(
        f"INSERT INTO songs ({columns}, placed_valence, placed_arousal, added_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
        [
            ("rated", 0.25, -0.5, None, 0, "deam", "rated", 0.0, 0.0, None, None),
            ("guess", 0.5, 0.1, None, 0, "folder", "estimated", 0.04, 0.09, None, None),
            ("moved", -0.3, 0.6, None, 0, "folder", "estimated", 0.25, 0.25, 0.7, -0.8),
        ],
    )
    conn.execute("PRAGMA user_version = 2")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.close()

    def rows() -> list[tuple]:
        with contextlib.closing(sqlite3.connect(path)) as reader:
            return reader.execute("SELECT * FROM songs ORDER BY song_id").fetchall()

    before = rows()
    with LibraryIndex(path, create=False) as index:
        moods = {song.song_id: song.mood for song in index.songs(playable_only=False)}
        assert moods == {
            "rated": SongMood(0.25, -0.5, "rated", 0.0, 0.0),
            "guess": SongMood(0.5, 0.1, "estimated", 0.04, 0.09),
            "moved": SongMood(0.7, -0.8, "placed", 0.0, 0.0),
        }
        assert index.stored_moods()["moved"] == SongMood(-0.3, 0.6, "estimated", 0.25, 0.25)  # under the placement
        assert index.stats()["moods"] == {"placed": 1, "rated": 1, "estimated": 1}
    assert rows() == before
