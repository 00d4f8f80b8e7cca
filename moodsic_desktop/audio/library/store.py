"""The core of the library index: opening (checks and migrations), transactions, writing and reading
the songs and their moods, the audio-feature cache, the learned mood model and the station model stored
with them. ``IndexStore`` is the base of ``LibraryIndex`` (``index.py``: history, stats, check); the
importers (``importers.RatedImporter``, ``mood_imports.MoodImporter``) are classes that take an index and
write through the methods here: only this class touches the connection.

Threads: an ``IndexStore`` owns one ``sqlite3`` connection and may be used only by the thread that opened it
(sqlite3 refuses other threads); the writes of one connection therefore all happen on that thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from moodsic_desktop.audio.library.mood_estimation import LearnedMoodModel
from moodsic_desktop.audio.library.reports import (
    CheckReport,
    ImportReport,
    IndexedSong,
    LearnReport,
    LibraryIndexError,
    SongProblem,
)
from moodsic_desktop.audio.library.schema import (
    APPLICATION_ID,
    COMPARED_COLUMNS,
    EFFECTIVE_VA,
    MIGRATIONS,
    SCHEMA_VERSION,
    SONG_COLUMNS,
    default_index_path,
)
from moodsic_desktop.closing import ClosesOnExit
from moodsic_desktop.core.song import Song, SongMood, validate_mood_source
from moodsic_desktop.core.stations import DEFAULT_N_STATIONS, DEFAULT_SEED, StationModel, fit_station_model
from moodsic_desktop.regular_files import kind_of

log = logging.getLogger(__name__)


def _kept(path: Path) -> str:
    return f"the file {path} was left as it is; move it away to start a new index"


class IndexStore(ClosesOnExit):
    """The core of ``LibraryIndex`` (its rules: ``moodsic_desktop.audio.library.index``). Use as a context
    manager or call ``close``.

    ``LibraryIndex(path)`` opens ``path`` (default ``music/library.sqlite``), creating it and its folder
    when ``create`` is true and it does not exist; with ``create=False`` a missing file raises
    ``LibraryIndexError``, and so does an existing empty (0-byte) file, which is never turned into an
    index. ``n_stations`` and ``seed`` are used when the station model is refitted. A write waits up to
    ``busy_timeout_s`` seconds while another connection writes, then raises ``LibraryIndexError``. Only
    the thread that opened it may use it.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        create: bool = True,
        n_stations: int = DEFAULT_N_STATIONS,
        seed: int = DEFAULT_SEED,
        busy_timeout_s: float = 10.0,
    ) -> None:
        self.path = Path(path) if path is not None else default_index_path()
        self.n_stations = n_stations
        self.seed = seed
        if self.path.is_dir():
            raise LibraryIndexError(f"the library index {self.path} is a folder, not a file")
        exists = self.path.exists()
        if not exists and not create:
            raise LibraryIndexError(
                f"no library index at {self.path} (import songs first: moodsic library import-deam FOLDER, "
                "or moodsic library add-folder FOLDER)"
            )
        if not exists:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.is_file():  # SQLite would wait forever on a FIFO
            kind = kind_of(self.path.stat().st_mode)
            raise LibraryIndexError(f"{self.path} is {kind}, not a library index file; {_kept(self.path)}")
        elif self.path.stat().st_size == 0:
            # SQLite would take an empty file for a new database and write one into it: the user's file.
            raise LibraryIndexError(
                f"{self.path} is an empty file (0 bytes), not a Moodsic library index; {_kept(self.path)}"
            )
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=busy_timeout_s)
        except sqlite3.Error as error:
            raise LibraryIndexError(f"cannot open the library index {self.path}: {error}") from None
        try:
            self._check_and_migrate()
        except BaseException:
            self._conn.close()
            raise

    # ---- opening

    def _check_and_migrate(self) -> None:
        conn = self._conn
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()
            if result is None or result[0] != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {result[0] if result else 'no answer'}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise LibraryIndexError(
                f"the library index {self.path} is damaged or not a SQLite database "
                f"({' '.join(str(error).split())}); {_kept(self.path)}"
            ) from None
        if app_id != APPLICATION_ID and (tables or version):
            raise LibraryIndexError(
                f"{self.path} is a SQLite database but not a Moodsic library index; {_kept(self.path)}"
            )
        if version < 0:  # no Moodsic writes one; a migration from it would start at a step that does not exist
            raise LibraryIndexError(
                f"the library index {self.path} has an unknown schema version {version} (this Moodsic knows 0 to "
                f"{SCHEMA_VERSION}); {_kept(self.path)}"
            )
        if version > SCHEMA_VERSION:
            raise LibraryIndexError(
                f"the library index {self.path} was written by a newer Moodsic (schema {version}, this one "
                f"reads up to {SCHEMA_VERSION}); {_kept(self.path)}"
            )
        conn.execute("PRAGMA foreign_keys = ON")
        if version < SCHEMA_VERSION:
            self._migrate()
        with contextlib.suppress(sqlite3.DatabaseError):
            conn.execute("PRAGMA journal_mode = WAL")

    def _migrate(self) -> None:
        with self.transaction():
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have won
            for target in range(version + 1, SCHEMA_VERSION + 1):
                log.info("library index %s: migrating the schema to version %d", self.path, target)
                MIGRATIONS[target](self._conn)
                self._conn.execute(f"PRAGMA user_version = {target:d}")
            self._conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception (KeyboardInterrupt included). SQLite's
        own errors (busy, read-only, disk full) become ``LibraryIndexError``; nothing is changed then.
        The writes below that say "inside a transaction" run in one."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise LibraryIndexError(
                f"the library index {self.path} cannot be written now ({error}; another Moodsic may be "
                "importing); nothing was changed"
            ) from None
        try:
            yield  # not the connection: only this class touches it
            self._conn.execute("COMMIT")
        except BaseException as error:
            if self._conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise LibraryIndexError(
                    f"the library index {self.path} could not be written ({error}); nothing was changed"
                ) from error
            raise

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._conn.close()

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    # ---- writing songs

    def existing_rows(self) -> dict[str, tuple]:
        """Every song's compared columns (``schema.COMPARED_COLUMNS``) by id, to tell new, updated and
        unchanged songs apart during an import."""
        columns = ", ".join(SONG_COLUMNS)
        return {row[0]: row[1:] for row in self._conn.execute(f"SELECT {columns} FROM songs")}

    def upsert(self, row: dict[str, Any], existing: dict[str, tuple], report: ImportReport) -> None:
        """Inside a transaction: insert or update one songs-table row (``sources.song_row``), count it in
        ``report`` and keep ``existing`` up to date."""
        old = existing.get(row["song_id"])
        new = tuple(row[column] for column in COMPARED_COLUMNS)
        if row["playable"]:
            report.playable += 1
        else:
            report.not_playable.append(SongProblem(row["song_id"], row["path"], row["problem"]))
        if old is not None and old == new:
            report.unchanged += 1
            return
        now = time.time()
        columns = ", ".join(SONG_COLUMNS)
        placeholders = ", ".join(f":{column}" for column in SONG_COLUMNS)
        updates = ", ".join(f"{column} = excluded.{column}" for column in COMPARED_COLUMNS)
        self._conn.execute(
            f"INSERT INTO songs ({columns}, added_at, updated_at) VALUES ({placeholders}, :now, :now) "
            f"ON CONFLICT (song_id) DO UPDATE SET {updates}, updated_at = excluded.updated_at",
            {**row, "now": now},
        )
        existing[row["song_id"]] = new
        if old is None:
            report.new += 1
        else:
            report.updated += 1

    # ---- moods, the audio-feature cache and the learned mood model

    def stored_moods(self) -> dict[str, SongMood]:
        """Every song's imported mood (rated or estimated, with its variances; the owner's placement left
        aside) by id."""
        rows = self._conn.execute("SELECT song_id, valence, arousal, mood_source, valence_var, arousal_var FROM songs")
        return {row[0]: self._mood(row[0], *row[1:]) for row in rows}

    def rated_songs_with_audio(self) -> list[tuple[str, str, SongMood]]:
        """``(song_id, path, mood)`` of every playable song with a rated mood, in import order."""
        rows = self._conn.execute(
            "SELECT song_id, path, valence, arousal FROM songs "
            "WHERE mood_source = 'rated' AND playable = 1 AND path IS NOT NULL ORDER BY rowid"
        )
        return [(song_id, path, SongMood(valence, arousal)) for song_id, path, valence, arousal in rows]

    def estimated_songs_features(self) -> list[tuple[str, str]]:
        """``(song_id, features JSON)`` of every song with an estimated mood whose file's features are
        cached."""
        return self._conn.execute(
            "SELECT s.song_id, f.features FROM songs AS s JOIN mood_features AS f ON f.path = s.path "
            "WHERE s.mood_source = 'estimated'"
        ).fetchall()

    def set_estimated_mood(self, song_id: str, mood: SongMood) -> None:
        """Inside a transaction: give the song ``song_id`` a new estimate (its point and variances)."""
        self._conn.execute(
            "UPDATE songs SET valence = ?, arousal = ?, valence_var = ?, arousal_var = ?, updated_at = ? "
            "WHERE song_id = ?",
            (mood.valence, mood.arousal, mood.valence_var, mood.arousal_var, time.time(), song_id),
        )

    def cached_features(self, path: Path, size: int, mtime_ns: int) -> str | None:
        """The features JSON cached for ``path`` at this size and modification time, or None."""
        row = self._conn.execute(
            "SELECT features FROM mood_features WHERE path = ? AND size = ? AND mtime_ns = ?",
            (str(path), size, mtime_ns),
        ).fetchone()
        return None if row is None else str(row[0])

    def store_features(self, rows: Sequence[tuple[str, int, int, str, float]]) -> None:
        """Inside a transaction: remember features by ``(path, size, mtime_ns, features JSON, analysed_at)``."""
        self._conn.executemany(
            "INSERT INTO mood_features (path, size, mtime_ns, features, analysed_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
            "features = excluded.features, analysed_at = excluded.analysed_at",
            rows,
        )

    def mood_model(self) -> LearnedMoodModel | None:
        """The learned mood model, or None (never learned, or unusable: logged; estimates then use the
        default mapping)."""
        stored = self._meta("mood_model")
        if not stored:
            return None
        try:
            return LearnedMoodModel.from_dict(json.loads(stored))
        except (ValueError, TypeError, KeyError) as error:
            log.warning("library index %s: the stored mood model is unusable (%s)", self.path, error)
            return None

    def set_mood_model(self, model: LearnedMoodModel) -> None:
        """Inside a transaction: store the learned mood model."""
        self._set_meta("mood_model", json.dumps(model.to_dict()))

    def _mood(self, song_id: str, valence: float, arousal: float, source: str, var_v: float, var_a: float) -> SongMood:
        """A stored mood; ``LibraryIndexError`` for a row written around the schema's CHECK (which admits
        only known sources and variances ≥ 0)."""
        try:
            return SongMood(valence, arousal, validate_mood_source(source), float(var_v), float(var_a))
        except ValueError as error:
            raise LibraryIndexError(f"the library index {self.path} is damaged: song {song_id}: {error}") from None

    # ---- the station model

    def _fingerprint(self) -> str:
        """A digest of the playable songs' ids and V-A and of the fit settings."""
        digest = hashlib.sha256(f"{self.n_stations}/{self.seed}".encode())
        for song_id, valence, arousal in self._conn.execute(
            f"SELECT song_id, {EFFECTIVE_VA} FROM songs WHERE playable = 1 ORDER BY song_id"
        ):
            digest.update(f"\n{song_id}\t{valence!r}\t{arousal!r}".encode())
        return digest.hexdigest()

    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def refit_if_changed(self, report: ImportReport | CheckReport | LearnReport) -> None:
        """Inside a transaction: refit and store the station model when the playable songs changed."""
        fingerprint = self._fingerprint()
        try:
            current = self._meta("station_fingerprint") == fingerprint
            count = self._stored_station_count() if current else None
            if current:
                self.station_settings()  # raises when damaged
        except LibraryIndexError:
            current = False  # a damaged record is fitted and written again
        if not current:
            model = fit_station_model(self.songs(), self.n_stations, self.seed)
            self._set_meta("station_model", json.dumps(model.to_dict()) if model is not None else "null")
            self._set_meta("station_settings", json.dumps({"n_stations": self.n_stations, "seed": self.seed}))
            self._set_meta("station_fingerprint", fingerprint)
            self._set_meta("station_fitted_at", repr(time.time()))
            report.refitted = True
            report.stations = model.n_stations if model is not None else None
        else:
            report.stations = count

    def station_model(self) -> StationModel | None:
        """The stored station model, or None (too few songs, never fitted, or unusable: logged); raises
        ``LibraryIndexError`` when its record is not JSON (a damaged index)."""
        data = self._meta_json("station_model")
        if data is None:
            return None
        try:
            model = StationModel.from_dict(data)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            log.warning("library index %s: the stored station model is unusable (%s)", self.path, error)
            return None
        return model.named_for(self.songs())  # named after the music it was fitted on

    def station_settings(self) -> tuple[int, int] | None:
        """``(n_stations, seed)`` the stored model was fitted with (None before the first fit); raises
        ``LibraryIndexError`` when its record is damaged."""
        data = self._meta_json("station_settings")
        if data is None:
            return None
        try:
            return int(data["n_stations"]), int(data["seed"])
        except (KeyError, TypeError, ValueError, OverflowError) as error:
            raise self._damaged("station_settings", f"not usable: {error!r}") from None

    def _meta_json(self, key: str) -> Any:
        """A meta record read as JSON (None when absent, empty or ``null``); raises ``LibraryIndexError``
        naming the index and the record when it is not JSON. The file is never changed here."""
        stored = self._meta(key)
        if stored is None or stored == "":
            return None
        try:
            return json.loads(stored)
        except (TypeError, ValueError, RecursionError) as error:  # RecursionError: nested too deeply
            reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
            raise self._damaged(key, f"not JSON ({reason})") from None

    def _stored_station_count(self) -> int | None:
        """The number of stations in the stored model (None: none stored); raises ``LibraryIndexError``."""
        data = self._meta_json("station_model")
        if data is None:
            return None
        weights = data.get("weights") if isinstance(data, dict) else None
        if not isinstance(weights, list):
            raise self._damaged("station_model", "not a station model")
        return len(weights)

    def _damaged(self, key: str, why: str) -> LibraryIndexError:
        return LibraryIndexError(
            f"the library index {self.path} is damaged: its {key} record is {why} "
            "(`moodsic library check` fits and writes it again)"
        )

    # ---- reading

    def entries(self, playable_only: bool = False) -> list[IndexedSong]:
        """Every song with its facts, in import order."""
        banned = self.banned_ids()
        where = "WHERE playable = 1" if playable_only else ""
        rows = self._conn.execute(
            f"SELECT song_id, {EFFECTIVE_VA}, title, artist, genre, path, duration_s, sample_rate, channels, "
            "playable, problem, origin, mood_source, valence_var, arousal_var, placed_valence IS NOT NULL "
            f"FROM songs {where} ORDER BY rowid"
        ).fetchall()
        out = []
        for row in rows:
            song_id, v, a, title, artist, genre, path, duration, rate, channels, playable, problem, origin = row[:13]
            mood_source, var_v, var_a, placed = row[13:]
            file = Path(path) if path else None
            mood = SongMood(v, a, "placed") if placed else self._mood(song_id, v, a, mood_source, var_v, var_a)
            song = Song(song_id, mood, title, artist, genre, file if playable else None, duration)
            out.append(IndexedSong(song, file, origin, bool(playable), problem, rate, channels, song_id in banned))
        return out

    def songs(self, playable_only: bool = True) -> list[Song]:
        """The songs (V-A in reference space), in import order; only those that play unless told
        otherwise (a song that does not play has ``path`` None). Banned songs are included: the
        matcher skips them (``banned_ids``)."""
        return [entry.song for entry in self.entries(playable_only)]

    def banned_ids(self) -> set[str]:
        """The ids of the banned songs."""
        return {row[0] for row in self._conn.execute("SELECT song_id FROM bans")}
