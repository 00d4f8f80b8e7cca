"""The music library index: a SQLite file (``music/library.sqlite``) that the program keeps between runs.

It holds the songs (V-A in reference space [-1, 1], title, artist, genre, audio path, file facts: duration
in seconds, sample rate in Hz, channels; a playable flag with the reason when not playable; the origin,
"deam" or "folder"), the station model fitted on the playable songs, the play history and the banned
songs.

Rules:

* Importing is idempotent: songs are upserted by ``song_id`` (DEAM's id; ``user-<hash of the path>`` for
  the user's own files), so importing the same folder twice changes nothing.
* Each import, ``check`` and refit runs in one transaction: an import that fails or is interrupted
  (``KeyboardInterrupt`` included) leaves the index exactly as it was.
* A song whose audio is missing or unreadable is stored with ``playable = 0`` and its reason, listed in the
  import report and kept out of playback, never silently dropped. ``check`` decodes every file again and
  restores songs whose audio plays again.
* The station model (``StationModel.to_dict`` as JSON) is refitted inside the transaction that changed
  the set of playable songs or their V-A, and only then; with too few distinct songs none is stored.
* The schema version is SQLite's ``PRAGMA user_version``; ``_MIGRATIONS`` upgrades older files step by
  step. A file that is not a SQLite database, is damaged, or was written by a newer version is never
  modified or deleted: opening it raises ``LibraryIndexError`` naming the path.

Threads: a ``LibraryIndex`` owns one ``sqlite3`` connection and may be used only by the thread that opened
it (sqlite3 refuses other threads). Open one ``LibraryIndex`` per thread; the file is in WAL mode, so a
reader (the GUI) and a writer (an import) can work at the same time. Imports and ``check`` block for as
long as they read files: call them from a worker thread or the CLI, never from the GUI thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import soundfile as sf

from moodsic_desktop.audio import decoding
from moodsic_desktop.closing import ClosesOnExit
from moodsic_desktop.core.library import AUDIO_DIR, Song, _read_table, read_deam
from moodsic_desktop.core.scales import EmotionScaleAligner
from moodsic_desktop.core.stations import StationModel

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
APPLICATION_ID = 0x4D4F4F44  # "MOOD": marks the file as a Moodsic library index
INDEX_FILENAME = "library.sqlite"
AUDIO_EXTENSIONS = (".mp3", ".wav", ".flac", ".ogg")
ORIGINS = ("deam", "folder")
SCALES = ("deam", "reference")
DEFAULT_N_STATIONS = 5
DEFAULT_SEED = 0

ProgressFn = Callable[[int, int], None]
"""``progress(done, total)``, called on the calling thread after each song or file."""


class LibraryIndexError(Exception):
    """The index file cannot be used (missing, damaged, not a Moodsic index, or from a newer version).
    The message names the file and says that it was left as it is."""


def default_index_path() -> Path:
    """``music/library.sqlite`` beside the program (``MOODSIC_HOME`` moves it; see ``moodsic_desktop.paths``)."""
    from moodsic_desktop.paths import music_dir

    return music_dir() / INDEX_FILENAME


def fit_station_model(
    songs: Sequence[Song], n_stations: int = DEFAULT_N_STATIONS, seed: int = DEFAULT_SEED
) -> StationModel | None:
    """Fit the stations of a library, or ``None`` when it has fewer than ``2 · max(n_stations, 2)`` songs
    with distinct V-A (too few for a mixture to mean anything). Any thread."""
    if not songs:
        return None
    points = np.array([[s.valence, s.arousal] for s in songs], dtype=float)
    if len(np.unique(points, axis=0)) < max(n_stations, 2) * 2:
        return None
    return StationModel.fit(points[:, 0], points[:, 1], n_stations=n_stations, seed=seed)


def mp3_supported() -> bool:
    """Whether the libsndfile under soundfile reads MP3 (version 1.1 or later; soundfile's wheels bundle one)."""
    return "MP3" in sf.available_formats()


# --------------------------------------------------------------------------------------------------------
# Reports


class SongProblem(NamedTuple):
    """A song (or CSV row) that cannot play or was not imported: ``where`` is its audio path, or the CSV
    file and line; ``reason`` says why."""

    song_id: str
    where: str
    reason: str


@dataclass(frozen=True)
class IndexedSong:
    """A song with what the index knows about it. ``song.path`` is ``None`` when it is not playable;
    ``path`` is always the file the song should play from. ``sample_rate`` in Hz."""

    song: Song
    path: Path | None
    origin: str
    playable: bool
    problem: str
    sample_rate: int | None
    channels: int | None
    banned: bool


@dataclass
class ImportReport:
    """What an import did. ``new`` / ``updated`` / ``unchanged`` count the songs written (or found equal);
    ``not_playable`` lists every imported song kept out of playback with its reason; ``skipped`` lists the
    rows that were not imported at all (bad values, missing files named in a CSV …) with their reason;
    ``unlisted`` the audio files in the folder that the CSV does not name. ``stations`` is the number of
    stations of the stored model after the import (None: too few songs), ``refitted`` whether the import
    changed it. ``seconds`` is wall-clock time."""

    source: str
    origin: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    playable: int = 0
    not_playable: list[SongProblem] = field(default_factory=list)
    skipped: list[SongProblem] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    stations: int | None = None
    refitted: bool = False
    seconds: float = 0.0

    @property
    def imported(self) -> int:
        """Songs now in the index from this source (new, updated or unchanged)."""
        return self.new + self.updated + self.unchanged

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the counts and every listed song or row."""
        data = asdict(self)
        data["imported"] = self.imported
        for key in ("not_playable", "skipped"):
            data[key] = [problem._asdict() for problem in getattr(self, key)]
        return data


@dataclass
class CheckReport:
    """What ``check`` found: ``checked`` files decoded, ``ok`` of them play; ``broken`` lists every song that
    does not play now, ``newly_broken`` and ``restored`` the ids whose state changed. ``stations`` and
    ``refitted`` as in ``ImportReport``."""

    checked: int = 0
    ok: int = 0
    broken: list[SongProblem] = field(default_factory=list)
    newly_broken: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    stations: int | None = None
    refitted: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["broken"] = [problem._asdict() for problem in self.broken]
        return data


class Play(NamedTuple):
    """One entry of the play history: ``when`` in seconds since the epoch (UTC)."""

    when: float
    song_id: str


# --------------------------------------------------------------------------------------------------------
# Schema


def _migrate_to_1(conn: sqlite3.Connection) -> None:
    """The first schema. (Statements one by one: ``executescript`` would commit the open transaction.)"""
    statements = (
        """CREATE TABLE songs (
            song_id     TEXT PRIMARY KEY,
            valence     REAL NOT NULL CHECK (valence BETWEEN -1.0 AND 1.0),
            arousal     REAL NOT NULL CHECK (arousal BETWEEN -1.0 AND 1.0),
            title       TEXT NOT NULL DEFAULT '',
            artist      TEXT NOT NULL DEFAULT '',
            genre       TEXT NOT NULL DEFAULT '',
            path        TEXT,
            duration_s  REAL,
            sample_rate INTEGER,
            channels    INTEGER,
            playable    INTEGER NOT NULL DEFAULT 0 CHECK (playable IN (0, 1)),
            problem     TEXT NOT NULL DEFAULT '',
            origin      TEXT NOT NULL CHECK (origin IN ('deam', 'folder')),
            source      TEXT NOT NULL DEFAULT '',
            added_at    REAL NOT NULL,
            updated_at  REAL NOT NULL
        )""",
        "CREATE INDEX songs_playable ON songs (playable)",
        "CREATE TABLE plays (id INTEGER PRIMARY KEY AUTOINCREMENT, played_at REAL NOT NULL, song_id TEXT NOT NULL)",
        "CREATE INDEX plays_time ON plays (played_at)",
        "CREATE TABLE bans (song_id TEXT PRIMARY KEY, banned_at REAL NOT NULL)",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )
    for statement in statements:
        conn.execute(statement)


# Version n's entry upgrades a file of version n - 1 to n; each step runs in the same transaction as the
# version bump. Add a function and bump SCHEMA_VERSION to change the schema; never edit an old step.
_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _migrate_to_1}

_SONG_COLUMNS = (
    "song_id",
    "valence",
    "arousal",
    "title",
    "artist",
    "genre",
    "path",
    "duration_s",
    "sample_rate",
    "channels",
    "playable",
    "problem",
    "origin",
    "source",
)
# Columns whose change counts as an update on re-import (not the timestamps).
_COMPARED = _SONG_COLUMNS[1:]


def _kept(path: Path) -> str:
    return f"the file {path} was left as it is; move it away to start a new index"


# --------------------------------------------------------------------------------------------------------
# The index


class LibraryIndex(ClosesOnExit):
    """The persistent library (rules in the module docstring). Use as a context manager or call ``close``.

    ``LibraryIndex(path)`` opens ``path`` (default ``music/library.sqlite``), creating it and its folder
    when ``create`` is true and it does not exist; with ``create=False`` a missing file raises
    ``LibraryIndexError``. ``n_stations`` and ``seed`` are used when the station model is refitted. A
    write waits up to ``busy_timeout_s`` seconds while another connection writes, then raises
    ``LibraryIndexError``. Only the thread that opened it may use it.
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
                "or moodsic library add-folder FOLDER --va FILE.csv)"
            )
        if not exists:
            self.path.parent.mkdir(parents=True, exist_ok=True)
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
                f"the library index {self.path} is damaged or not a SQLite database ({error}); {_kept(self.path)}"
            ) from None
        if app_id != APPLICATION_ID and (tables or version):
            raise LibraryIndexError(
                f"{self.path} is a SQLite database but not a Moodsic library index; {_kept(self.path)}"
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
        with self._transaction():
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have won
            for target in range(version + 1, SCHEMA_VERSION + 1):
                log.info("library index %s: migrating the schema to version %d", self.path, target)
                _MIGRATIONS[target](self._conn)
                self._conn.execute(f"PRAGMA user_version = {target:d}")
            self._conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception (KeyboardInterrupt included). SQLite's
        own errors (busy, read-only, disk full) become ``LibraryIndexError``; nothing is changed then."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise LibraryIndexError(
                f"the library index {self.path} cannot be written now ({error}; another Moodsic may be "
                "importing); nothing was changed"
            ) from None
        try:
            yield self._conn
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

    # ---- importing

    def import_deam(self, folder: str | Path, progress: ProgressFn | None = None) -> ImportReport:
        """Import a DEAM folder (layout in ``core.library``): every annotated song, with its audio
        ``MEMD_audio/<id>.mp3`` probed for duration, rate and channels. Songs whose audio is missing or
        unreadable are stored as not playable and listed; bad annotation rows are listed in ``skipped``.
        One transaction. Raises ``FileNotFoundError`` (not a DEAM folder) or ``ValueError`` (no usable
        song); the index is unchanged then. Blocks while it reads the files (a worker thread or the CLI)."""
        started = time.perf_counter()
        folder = Path(folder)
        deam = read_deam(folder)
        if not deam.songs:
            raise ValueError(f"no usable song in the DEAM folder {folder} ({deam.skipped_rows} bad rows)")
        report = ImportReport(source=str(folder.resolve()), origin="deam")
        report.skipped = [
            SongProblem("", problem.split(":", 1)[0], problem.split(": ", 1)[-1]) for problem in deam.problems
        ]
        audio_dir = (folder / AUDIO_DIR).resolve()
        annotated = {song.song_id for song in deam.songs}
        if audio_dir.is_dir():
            report.unlisted = sorted(
                p.name for p in audio_dir.iterdir() if p.suffix.lower() == ".mp3" and p.stem not in annotated
            )
        with self._transaction():
            existing = self._existing_rows()
            for done, song in enumerate(deam.songs, start=1):
                path = audio_dir / f"{song.song_id}.mp3"
                row = self._row_for(song, path, origin="deam", source=report.source)
                self._upsert(row, existing, report)
                if progress is not None:
                    progress(done, len(deam.songs))
            self._refit_if_changed(report)
        report.seconds = time.perf_counter() - started
        return report

    def add_folder(
        self, folder: str | Path, va_csv: str | Path, scale: str = "deam", progress: ProgressFn | None = None
    ) -> ImportReport:
        """Add the user's own audio files (mp3, wav, flac, ogg) under ``folder`` with their song-level V-A
        from ``va_csv`` (columns ``file, valence, arousal``; optional ``title, artist, genre``; ``file``
        relative to ``folder``). ``scale`` is "deam" (1..9) or "reference" ([-1, 1]). Rows that name a
        missing file or an unsupported type, or whose values are not numbers or out of range, are listed
        in ``skipped`` and not imported; files that exist but do not decode are imported as not playable.
        One transaction. Raises ``FileNotFoundError`` / ``ValueError`` for an unusable folder, CSV or scale.
        Blocks while it reads the files (a worker thread or the CLI)."""
        started = time.perf_counter()
        folder, va_csv = Path(folder), Path(va_csv)
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
        if not folder.is_dir():
            raise FileNotFoundError(f"music folder not found: {folder}")
        if not va_csv.is_file():
            raise FileNotFoundError(f"V-A table not found: {va_csv}")
        rows = _read_table(va_csv)
        missing = [column for column in ("file", "valence", "arousal") if rows and column not in rows[0]]
        if not rows:
            raise ValueError(f"the V-A table {va_csv} has no rows (expected columns file, valence, arousal)")
        if missing:
            raise ValueError(
                f"the V-A table {va_csv} lacks the column(s) {', '.join(missing)} "
                f"(found {', '.join(rows[0]) or 'none'}; expected file, valence, arousal)"
            )
        folder = folder.resolve()
        report = ImportReport(source=str(folder), origin="folder")
        aligner = EmotionScaleAligner(strict=True)
        accepted: list[tuple[Song, Path]] = []
        first_line: dict[Path, int] = {}
        for line, row in enumerate(rows, start=2):
            where = f"{va_csv.name} line {line}"
            result = self._parse_csv_row(row, folder, scale, aligner)
            if isinstance(result, str):
                report.skipped.append(SongProblem("", where, result))
                continue
            song, path = result
            if path in first_line:
                report.skipped.append(
                    SongProblem(song.song_id, where, f"{path.name} is listed twice (first on line {first_line[path]})")
                )
                continue
            first_line[path] = line
            accepted.append((song, path))
        listed = set(first_line)
        report.unlisted = sorted(
            str(p.relative_to(folder))
            for p in folder.rglob("*")
            if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file() and p.resolve() not in listed
        )
        with self._transaction():
            existing = self._existing_rows()
            for done, (song, path) in enumerate(accepted, start=1):
                self._upsert(self._row_for(song, path, origin="folder", source=report.source), existing, report)
                if progress is not None:
                    progress(done, len(accepted))
            self._refit_if_changed(report)
        report.seconds = time.perf_counter() - started
        return report

    @staticmethod
    def _parse_csv_row(
        row: dict[str, str], folder: Path, scale: str, aligner: EmotionScaleAligner
    ) -> tuple[Song, Path] | str:
        """A song and its resolved path, or the reason the row is not imported."""
        name = row.get("file", "").strip()
        if not name:
            return "no file named"
        path = Path(name) if Path(name).is_absolute() else folder / name
        if path.suffix.lower() not in AUDIO_EXTENSIONS:
            return f"{name}: unsupported file type {path.suffix or '(none)'} (expected {', '.join(AUDIO_EXTENSIONS)})"
        if not path.is_file():
            return f"{name}: file not found ({path})"
        low, high = (1.0, 9.0) if scale == "deam" else (-1.0, 1.0)
        values = []
        for column in ("valence", "arousal"):
            text = row.get(column, "").strip()
            try:
                value = float(text)
            except ValueError:
                return f"{name}: {column} {text!r} is not a number"
            if not low <= value <= high:  # also false for NaN
                return f"{name}: {column} {text} is outside the {scale} scale [{low:g}, {high:g}]"
            values.append(value)
        v, a = (float(x) for x in aligner.deam_static_to_reference(*values)) if scale == "deam" else values
        path = path.resolve()
        song_id = "user-" + hashlib.sha1(str(path).encode("utf-8")).hexdigest()[:12]
        title = row.get("title", "").strip() or path.stem.replace("_", " ")
        song = Song(
            song_id, v, a, title=title, artist=row.get("artist", "").strip(), genre=row.get("genre", "").strip()
        )
        return song, path

    @staticmethod
    def _row_for(song: Song, path: Path, origin: str, source: str) -> dict[str, Any]:
        """The songs-table row for ``song`` with the facts of its audio file (probed now)."""
        row: dict[str, Any] = {
            "song_id": song.song_id,
            "valence": float(song.valence),
            "arousal": float(song.arousal),
            "title": song.title,
            "artist": song.artist,
            "genre": song.genre,
            "path": str(path),
            "duration_s": None,
            "sample_rate": None,
            "channels": None,
            "playable": 0,
            "problem": "",
            "origin": origin,
            "source": source,
        }
        try:
            info = decoding.probe(path)
        except decoding.AudioDecodeError as error:
            row["problem"] = error.reason
            if path.suffix.lower() == ".mp3" and path.is_file() and not mp3_supported():
                row["problem"] = f"MP3 needs libsndfile 1.1 or later (this one is {sf.__libsndfile_version__})"
        else:
            row.update(duration_s=info.duration_s, sample_rate=info.samplerate, channels=info.channels, playable=1)
        return row

    def _existing_rows(self) -> dict[str, tuple]:
        columns = ", ".join(_SONG_COLUMNS)
        return {row[0]: row[1:] for row in self._conn.execute(f"SELECT {columns} FROM songs")}

    def _upsert(self, row: dict[str, Any], existing: dict[str, tuple], report: ImportReport) -> None:
        old = existing.get(row["song_id"])
        new = tuple(row[column] for column in _COMPARED)
        if row["playable"]:
            report.playable += 1
        else:
            report.not_playable.append(SongProblem(row["song_id"], row["path"], row["problem"]))
        if old is not None and old == new:
            report.unchanged += 1
            return
        now = time.time()
        columns = ", ".join(_SONG_COLUMNS)
        placeholders = ", ".join(f":{column}" for column in _SONG_COLUMNS)
        updates = ", ".join(f"{column} = excluded.{column}" for column in _COMPARED)
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

    # ---- the station model

    def _fingerprint(self) -> str:
        """A digest of the playable songs' ids and V-A and of the fit settings."""
        digest = hashlib.sha256(f"{self.n_stations}/{self.seed}".encode())
        for song_id, valence, arousal in self._conn.execute(
            "SELECT song_id, valence, arousal FROM songs WHERE playable = 1 ORDER BY song_id"
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

    def _refit_if_changed(self, report: ImportReport | CheckReport) -> None:
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

    def refit_stations(self) -> StationModel | None:
        """Refit the station model on the playable songs now and store it (one transaction); returns it."""
        with self._transaction():
            self._set_meta("station_fingerprint", "")
            self._refit_if_changed(CheckReport())
        return self.station_model()

    def station_model(self) -> StationModel | None:
        """The stored station model, or None (too few songs, never fitted, or unusable: logged); raises
        ``LibraryIndexError`` when its record is not JSON (a damaged index)."""
        data = self._meta_json("station_model")
        if data is None:
            return None
        try:
            return StationModel.from_dict(data)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            log.warning("library index %s: the stored station model is unusable (%s)", self.path, error)
            return None

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
            "SELECT song_id, valence, arousal, title, artist, genre, path, duration_s, sample_rate, channels, "
            f"playable, problem, origin FROM songs {where} ORDER BY rowid"
        ).fetchall()
        out = []
        for song_id, v, a, title, artist, genre, path, duration, rate, channels, playable, problem, origin in rows:
            file = Path(path) if path else None
            song = Song(song_id, v, a, title, artist, genre, file if playable else None, duration)
            out.append(IndexedSong(song, file, origin, bool(playable), problem, rate, channels, song_id in banned))
        return out

    def songs(self, playable_only: bool = True) -> list[Song]:
        """The songs (V-A in reference space), in import order; only those that play unless told
        otherwise (a song that does not play has ``path`` None). Banned songs are included: the
        matcher skips them (``banned_ids``)."""
        return [entry.song for entry in self.entries(playable_only)]

    def stats(self) -> dict[str, Any]:
        """Counts and totals: songs, playable, not playable, by origin, banned, plays, total playable
        duration (s), sample rates and channel counts of the playable songs, stations."""
        c = self._conn
        total, playable, duration = c.execute(
            "SELECT count(*), coalesce(sum(playable), 0), coalesce(sum(CASE WHEN playable = 1 THEN duration_s END), 0) "
            "FROM songs"
        ).fetchone()
        model = self.station_model()
        return {
            "path": str(self.path),
            "schema_version": self.schema_version,
            "songs": total,
            "playable": playable,
            "not_playable": total - playable,
            "by_origin": dict(c.execute("SELECT origin, count(*) FROM songs GROUP BY origin ORDER BY origin")),
            "banned": c.execute("SELECT count(*) FROM bans").fetchone()[0],
            "plays": c.execute("SELECT count(*) FROM plays").fetchone()[0],
            "playable_duration_s": float(duration),
            "sample_rates": dict(
                c.execute("SELECT sample_rate, count(*) FROM songs WHERE playable = 1 GROUP BY sample_rate")
            ),
            "channels": dict(c.execute("SELECT channels, count(*) FROM songs WHERE playable = 1 GROUP BY channels")),
            "stations": model.describe() if model is not None else None,
        }

    # ---- checking

    def check(self, progress: ProgressFn | None = None, workers: int | None = None) -> CheckReport:
        """Decode every song's file again (in ``workers`` threads, default up to 4): mark what no longer
        decodes as not playable with the reason, restore what decodes again, refresh the file facts, and
        refit the stations if that changed the playable songs. Files are read outside the transaction;
        the changes are written in one. Blocks for a while (a worker thread or the CLI)."""
        started = time.perf_counter()
        report = CheckReport()
        rows = self._conn.execute("SELECT song_id, path, playable, problem FROM songs ORDER BY rowid").fetchall()
        workers = workers or min(4, os.cpu_count() or 1)
        results: list[tuple[str, decoding.AudioInfo | None, str]] = []

        def read(path_text: str | None) -> tuple[decoding.AudioInfo | None, str]:
            if not path_text:
                return None, "no audio file known for this song"
            try:
                return decoding.check_file(path_text), ""
            except decoding.AudioDecodeError as error:
                return None, error.reason

        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="moodsic-check") as pool:
            try:
                for done, (row, (info, problem)) in enumerate(
                    zip(rows, pool.map(read, [r[1] for r in rows]), strict=True), 1
                ):
                    results.append((row[0], info, problem))
                    if progress is not None:
                        progress(done, len(rows))
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        was_playable = {row[0]: bool(row[2]) for row in rows}
        paths = {row[0]: row[1] for row in rows}
        with self._transaction():
            for song_id, info, problem in results:
                report.checked += 1
                if info is not None:
                    report.ok += 1
                    if not was_playable[song_id]:
                        report.restored.append(song_id)
                    self._conn.execute(
                        "UPDATE songs SET playable = 1, problem = '', duration_s = ?, sample_rate = ?, channels = ?, "
                        "updated_at = ? WHERE song_id = ?",
                        (info.duration_s, info.samplerate, info.channels, time.time(), song_id),
                    )
                else:
                    report.broken.append(SongProblem(song_id, paths[song_id] or "", problem))
                    if was_playable[song_id]:
                        report.newly_broken.append(song_id)
                    self._conn.execute(
                        "UPDATE songs SET playable = 0, problem = ?, updated_at = ? WHERE song_id = ?",
                        (problem, time.time(), song_id),
                    )
            self._refit_if_changed(report)
        report.seconds = time.perf_counter() - started
        return report

    # ---- play history and bans

    def record_play(self, song_id: str, when: float | None = None) -> None:
        """Add a play of ``song_id`` at ``when`` (seconds since the epoch; default now) to the history.
        Raises ``LibraryIndexError`` when another connection holds the index longer than the busy timeout."""
        with self._transaction():
            self._conn.execute(
                "INSERT INTO plays (played_at, song_id) VALUES (?, ?)",
                (time.time() if when is None else float(when), song_id),
            )

    def recent_plays(self, n: int = 20) -> list[Play]:
        """The last ``n`` plays, newest first."""
        rows = self._conn.execute(
            "SELECT played_at, song_id FROM plays ORDER BY played_at DESC, id DESC LIMIT ?", (max(0, int(n)),)
        )
        return [Play(float(when), song_id) for when, song_id in rows]

    def ban(self, song_id: str) -> None:
        """Never choose ``song_id`` (a library song or a built-in piece) again, until ``unban``. Raises
        ``KeyError`` for an id the index does not know."""
        from moodsic_desktop.audio.builtin_station import builtin_songs

        known = self._conn.execute("SELECT 1 FROM songs WHERE song_id = ?", (song_id,)).fetchone() is not None
        if not known and song_id not in {song.song_id for song in builtin_songs()}:
            raise KeyError(f"no song {song_id!r} in the library index {self.path}")
        with self._transaction():
            self._conn.execute(
                "INSERT INTO bans (song_id, banned_at) VALUES (?, ?) ON CONFLICT (song_id) DO NOTHING",
                (song_id, time.time()),
            )

    def unban(self, song_id: str) -> None:
        """Allow ``song_id`` again (nothing happens when it was not banned)."""
        with self._transaction():
            self._conn.execute("DELETE FROM bans WHERE song_id = ?", (song_id,))

    def banned_ids(self) -> set[str]:
        """The ids of the banned songs."""
        return {row[0] for row in self._conn.execute("SELECT song_id FROM bans")}


__all__ = [
    "AUDIO_EXTENSIONS",
    "INDEX_FILENAME",
    "SCALES",
    "SCHEMA_VERSION",
    "CheckReport",
    "ImportReport",
    "IndexedSong",
    "LibraryIndex",
    "LibraryIndexError",
    "Play",
    "SongProblem",
    "default_index_path",
    "fit_station_model",
]
