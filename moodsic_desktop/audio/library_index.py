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
* Each song's mood point has a source (``songs.mood_source``): "rated" (from a V-A table or DEAM's
  ratings; exact) or "estimated" (measured from its audio by ``add_folder_estimated``, with the expected
  squared errors ``valence_var`` / ``arousal_var``). The owner may place a song by hand
  (``placed_valence`` / ``placed_arousal``, set by ``place``): a placed point wins over the other two and
  is kept across re-imports and re-estimates until ``unplace``. A re-import with a V-A table replaces an
  estimate; an import without one never replaces a rated point.
* Audio features (``mood_features``) are cached in the ``mood_features`` table by path, size and
  modification time, so importing a folder again analyses only new or changed files. ``learn_moods`` fits
  the mapping from features to mood on the rated songs and stores it (JSON) in ``meta``; estimates use it
  from then on (until then the literature's default mapping, ``mood_estimation``).
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
from moodsic_desktop.audio.mood_estimation import MIN_LABELLED_SONGS, LearnedMoodModel, estimate, fit_mood_model
from moodsic_desktop.audio.mood_features import FEATURES_VERSION, MoodFeatures, analyse_files
from moodsic_desktop.closing import ClosesOnExit
from moodsic_desktop.core.library import AUDIO_DIR, DeamImport, Song, _read_table, printable, read_deam
from moodsic_desktop.core.scales import EmotionScaleAligner
from moodsic_desktop.core.stations import StationModel

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
APPLICATION_ID = 0x4D4F4F44  # "MOOD": marks the file as a Moodsic library index
INDEX_FILENAME = "library.sqlite"
AUDIO_EXTENSIONS = (".mp3", ".wav", ".flac", ".ogg")
ORIGINS = ("deam", "folder")
SCALES = ("deam", "reference")
VA_COLUMNS = ("file", "valence", "arousal")
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


def songs_for_stations(n_stations: int = DEFAULT_N_STATIONS) -> int:
    """The fewest songs with distinct mood points that get a station model: ``2 · max(n_stations, 2)``.
    With fewer, the matcher chooses from all songs, without stations."""
    return max(n_stations, 2) * 2


def fit_station_model(
    songs: Sequence[Song], n_stations: int = DEFAULT_N_STATIONS, seed: int = DEFAULT_SEED
) -> StationModel | None:
    """Fit the stations of a library, or ``None`` when it has fewer than ``songs_for_stations(n_stations)``
    songs with distinct V-A (too few for a mixture to mean anything). Any thread."""
    if not songs:
        return None
    points = np.array([[s.valence, s.arousal] for s in songs], dtype=float)
    if len(np.unique(points, axis=0)) < songs_for_stations(n_stations):
        return None
    return StationModel.fit(points[:, 0], points[:, 1], n_stations=n_stations, seed=seed)


def mp3_supported() -> bool:
    """Whether the libsndfile under soundfile reads MP3 (version 1.1 or later; soundfile's wheels bundle one)."""
    return "MP3" in sf.available_formats()


# --------------------------------------------------------------------------------------------------------
# Reading what an import takes in (no index needed: the CLI checks its input before it makes an index)


def read_deam_songs(folder: str | Path) -> DeamImport:
    """``read_deam(folder)``, and a ``ValueError`` when it yields no usable song. Raises what
    ``read_deam`` raises (``FileNotFoundError``, ``TableError``, ``OSError``). Any thread."""
    deam = read_deam(folder)
    if not deam.songs:
        raise ValueError(f"no usable song in the DEAM folder {folder} ({deam.skipped_rows} bad rows)")
    return deam


def audio_files_in(folder: str | Path) -> list[Path]:
    """Every audio file (``AUDIO_EXTENSIONS``) under ``folder``, resolved and sorted. Raises
    ``FileNotFoundError`` for a missing folder and ``ValueError`` for one without audio files. Any thread."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"music folder not found: {folder}")
    files = sorted(
        p.resolve() for p in folder.resolve().rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file()
    )
    if not files:
        raise ValueError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in the folder {folder.resolve()}")
    return files


def read_va_table(folder: str | Path, va_csv: str | Path, scale: str = "deam") -> list[dict[str, str]]:
    """The rows of an ``add_folder`` V-A table, checked: ``scale`` known, ``folder`` a folder, the table a
    readable CSV with the columns ``file, valence, arousal`` and at least one row. Raises ``ValueError``
    (``TableError`` for a table that does not parse) or ``FileNotFoundError``, each naming the file. The
    values of the rows are checked later, row by row. Any thread."""
    folder, va_csv = Path(folder), Path(va_csv)
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
    if not folder.is_dir():
        raise FileNotFoundError(f"music folder not found: {folder}")
    if not va_csv.is_file():
        raise FileNotFoundError(f"V-A table not found: {va_csv}")
    rows = _read_table(va_csv, required=VA_COLUMNS)
    if not rows:
        raise ValueError(f"the V-A table {va_csv} has no rows (expected columns {', '.join(VA_COLUMNS)})")
    return rows


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
    changed it. ``seconds`` is wall-clock time. An import without a V-A table (``add_folder_estimated``)
    also counts the songs whose mood was ``estimated`` from their audio (by ``method``: "default" or
    "learned"), the files ``analysed`` now and those whose features came ``from_cache``, and the songs
    that kept their rated point (``kept_rated``); files whose mood cannot be measured are in ``skipped``."""

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
    estimated: int = 0
    analysed: int = 0
    from_cache: int = 0
    kept_rated: int = 0
    method: str = ""

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


@dataclass
class LearnReport:
    """What ``learn_moods`` did: ``labelled`` rated songs with audio, ``used`` of them analysed and fitted
    (``failed`` lists the others with the reason), ``analysed`` / ``from_cache`` as in ``ImportReport``,
    ``reestimated`` the estimated songs given the new model's point; ``model`` the fitted model (its
    ``cv`` and ``cv_default`` hold the cross-validated metrics)."""

    model: LearnedMoodModel
    labelled: int = 0
    used: int = 0
    failed: list[SongProblem] = field(default_factory=list)
    analysed: int = 0
    from_cache: int = 0
    reestimated: int = 0
    stations: int | None = None
    refitted: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "model"}
        data["failed"] = [problem._asdict() for problem in self.failed]
        data["model"] = self.model.to_dict()
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


def _migrate_to_2(conn: sqlite3.Connection) -> None:
    """Mood points with a source and an uncertainty, the owner's placements, and the audio-feature cache.
    Existing songs came from V-A tables or DEAM: they become "rated" with no uncertainty."""
    statements = (
        "ALTER TABLE songs ADD COLUMN mood_source TEXT NOT NULL DEFAULT 'rated' "
        "CHECK (mood_source IN ('rated', 'estimated'))",
        "ALTER TABLE songs ADD COLUMN valence_var REAL NOT NULL DEFAULT 0 CHECK (valence_var >= 0)",
        "ALTER TABLE songs ADD COLUMN arousal_var REAL NOT NULL DEFAULT 0 CHECK (arousal_var >= 0)",
        "ALTER TABLE songs ADD COLUMN placed_valence REAL CHECK (placed_valence BETWEEN -1.0 AND 1.0)",
        "ALTER TABLE songs ADD COLUMN placed_arousal REAL CHECK (placed_arousal BETWEEN -1.0 AND 1.0)",
        """CREATE TABLE mood_features (
            path        TEXT PRIMARY KEY,
            size        INTEGER NOT NULL,
            mtime_ns    INTEGER NOT NULL,
            features    TEXT NOT NULL,
            analysed_at REAL NOT NULL
        )""",
    )
    for statement in statements:
        conn.execute(statement)


# Version n's entry upgrades a file of version n - 1 to n; each step runs in the same transaction as the
# version bump. Add a function and bump SCHEMA_VERSION to change the schema; never edit an old step.
_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _migrate_to_1, 2: _migrate_to_2}

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
    "mood_source",
    "valence_var",
    "arousal_var",
)
# Columns whose change counts as an update on re-import (not the timestamps).
_COMPARED = _SONG_COLUMNS[1:]


# The point a song plays at: the owner's placement when there is one, else the rated or estimated point.
_EFFECTIVE_VA = "coalesce(placed_valence, valence), coalesce(placed_arousal, arousal)"


def _user_song_id(path: Path) -> str:
    """The id of one of the user's own files: ``user-`` and a hash of its resolved path."""
    return "user-" + hashlib.sha1(str(path).encode("utf-8")).hexdigest()[:12]


def _kept(path: Path) -> str:
    return f"the file {path} was left as it is; move it away to start a new index"


# --------------------------------------------------------------------------------------------------------
# The index


class LibraryIndex(ClosesOnExit):
    """The persistent library (rules in the module docstring). Use as a context manager or call ``close``.

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

    def import_deam(
        self, folder: str | Path, progress: ProgressFn | None = None, *, deam: DeamImport | None = None
    ) -> ImportReport:
        """Import a DEAM folder (layout in ``core.library``): every annotated song, with its audio
        ``MEMD_audio/<id>.mp3`` probed for duration, rate and channels. Songs whose audio is missing or
        unreadable are stored as not playable and listed; bad annotation rows are listed in ``skipped``.
        One transaction. Raises ``FileNotFoundError`` (not a DEAM folder) or ``ValueError`` (no usable
        song); the index is unchanged then. ``deam``: what ``read_deam_songs(folder)`` returned, when the
        caller has read the folder already. Blocks while it reads the files (a worker thread or the CLI)."""
        started = time.perf_counter()
        folder = Path(folder)
        deam = deam if deam is not None else read_deam_songs(folder)
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
        rows = read_va_table(folder, va_csv, scale)
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
        """A song and its resolved path, or the reason (one line) the row is not imported."""
        raw_name = row.get("file", "").strip()
        if not raw_name:
            return "no file named"
        name = printable(raw_name)
        path = Path(raw_name) if Path(raw_name).is_absolute() else folder / raw_name
        if path.suffix.lower() not in AUDIO_EXTENSIONS:
            suffix = printable(path.suffix, 20) or "(none)"
            return f"{name}: unsupported file type {suffix} (expected {', '.join(AUDIO_EXTENSIONS)})"
        try:
            found = path.is_file()
        except OSError as error:  # a name too long for the file system …
            return f"{name}: not a usable file name ({error.strerror or error})"
        if not found:
            return f"{name}: file not found ({printable(str(path), 200)})"
        low, high = (1.0, 9.0) if scale == "deam" else (-1.0, 1.0)
        values = []
        for column in ("valence", "arousal"):
            text = row.get(column, "").strip()
            try:
                value = float(text)
            except ValueError:
                return f"{name}: {column} {printable(repr(text))} is not a number"
            if not low <= value <= high:  # also false for NaN
                return f"{name}: {column} {printable(text)} is outside the {scale} scale [{low:g}, {high:g}]"
            values.append(value)
        v, a = (float(x) for x in aligner.deam_static_to_reference(*values)) if scale == "deam" else values
        path = path.resolve()
        song_id = _user_song_id(path)
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
            "mood_source": "rated",
            "valence_var": 0.0,
            "arousal_var": 0.0,
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

    # ---- moods estimated from the audio

    def add_folder_estimated(
        self, folder: str | Path, progress: ProgressFn | None = None, workers: int | None = None
    ) -> ImportReport:
        """Add every audio file (mp3, wav, flac, ogg) under ``folder`` with a mood point estimated from
        its audio (``mood_features``, then the learned model if there is one, else the default mapping):
        marked "estimated", with its uncertainty. A song already in the index with a rated point keeps
        it; a placed one stays placed. Features come from the cache when the file's size and modification
        time are unchanged; the others are analysed in ``workers`` processes (``analyse_files``), before
        the transaction, with ``progress(done, total)`` per file. Files that cannot be analysed (they do
        not decode, or are silent) are listed in ``skipped`` with the reason and never stop the import;
        one already in the index keeps its point and is stored not playable if it no longer decodes.
        One transaction: an import that fails or is interrupted leaves the index as it was. Raises
        ``FileNotFoundError`` / ``ValueError`` for a missing folder or one without audio files. Blocks
        (a worker thread or the CLI)."""
        started = time.perf_counter()
        files = audio_files_in(folder)
        folder = Path(folder).resolve()
        report = ImportReport(source=str(folder), origin="folder")
        features, cache_rows, report.analysed, report.from_cache = self._features_for(files, progress, workers)
        model = self.mood_model()
        report.method = "learned" if model is not None else "default"
        stored = {
            row[0]: row[1:]
            for row in self._conn.execute(
                "SELECT song_id, valence, arousal, mood_source, valence_var, arousal_var FROM songs"
            )
        }
        with self._transaction():
            self._store_features(cache_rows)
            existing = self._existing_rows()
            for path in files:
                song_id = _user_song_id(path)
                old = stored.get(song_id)
                measured = features[path]
                title = path.stem.replace("_", " ")
                if old is not None and old[2] == "rated":
                    song, source, var = Song(song_id, old[0], old[1], title=title), "rated", (0.0, 0.0)
                    report.kept_rated += 1
                elif isinstance(measured, MoodFeatures):
                    point = estimate(measured, model)
                    song = Song(song_id, point.valence, point.arousal, title=title)
                    source, var = "estimated", (point.var_valence, point.var_arousal)
                    report.estimated += 1
                elif old is not None:  # analysed before, not now: keep its point, let the probe judge the file
                    song, source, var = Song(song_id, old[0], old[1], title=title), old[2], (old[3], old[4])
                    report.skipped.append(SongProblem(song_id, str(path), f"mood not measured again: {measured}"))
                else:
                    report.skipped.append(SongProblem(song_id, str(path), f"mood not estimated: {measured}"))
                    continue
                row = self._row_for(song, path, origin="folder", source=report.source)
                row.update(mood_source=source, valence_var=float(var[0]), arousal_var=float(var[1]))
                self._upsert(row, existing, report)
            self._refit_if_changed(report)
        report.seconds = time.perf_counter() - started
        return report

    def _features_for(
        self, paths: Sequence[Path], progress: ProgressFn | None, workers: int | None
    ) -> tuple[dict[Path, MoodFeatures | str], list[tuple], int, int]:
        """Each file's features (from the cache, or analysed now) or the reason it has none; the cache
        rows to store for those analysed now (failures too, so an unchanged bad file is not analysed on
        every import); how many were analysed and how many came from the cache. Reads only."""
        results: dict[Path, MoodFeatures | str] = {}
        stats: dict[Path, tuple[int, int]] = {}
        for path in paths:
            try:
                info = path.stat()
            except OSError as error:
                results[path] = f"cannot read the file ({error.strerror or error})"
                continue
            stats[path] = (int(info.st_size), int(info.st_mtime_ns))
            cached = self._cached_features(path, *stats[path])
            if cached is not None:
                results[path] = cached
        from_cache = len(results)
        todo = [path for path in paths if path not in results]
        done_before = len(paths) - len(todo)
        if progress is not None:
            progress(done_before, len(paths))

        def advance(done: int, _total: int) -> None:
            if progress is not None:
                progress(done_before + done, len(paths))

        measured = analyse_files(todo, workers=workers, progress=advance) if todo else []
        now = time.time()
        cache_rows = []
        for path, result in zip(todo, measured, strict=True):
            results[path] = result
            if isinstance(result, MoodFeatures):
                stored = result.to_dict()
            else:
                stored = {"version": FEATURES_VERSION, "error": result}
            cache_rows.append((str(path), *stats[path], json.dumps(stored), now))
        return results, cache_rows, len(todo), from_cache

    def _cached_features(self, path: Path, size: int, mtime_ns: int) -> MoodFeatures | str | None:
        """The cached features of an unchanged file, or the reason it could not be analysed; None when
        it must be analysed (never, changed since, or measured by another feature version)."""
        row = self._conn.execute(
            "SELECT features FROM mood_features WHERE path = ? AND size = ? AND mtime_ns = ?",
            (str(path), size, mtime_ns),
        ).fetchone()
        if row is None:
            return None
        try:
            data = json.loads(row[0])
            if data.get("version") == FEATURES_VERSION and isinstance(data.get("error"), str):
                return data["error"]
            return MoodFeatures.from_dict(data)
        except (ValueError, TypeError, AttributeError):
            return None

    def _store_features(self, rows: Sequence[tuple]) -> None:
        """Inside a transaction: remember features by path, size and modification time."""
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

    def learn_moods(
        self, progress: ProgressFn | None = None, workers: int | None = None, folds: int = 5, seed: int = 0
    ) -> LearnReport:
        """Learn the mapping from audio features to mood on every playable song with a rated point
        (``mood_estimation.fit_mood_model``: ridge regression, ``folds``-fold cross-validation), store it,
        and give every estimated song the new model's point (placed songs keep their placement). Features
        come from the cache or are analysed now (before the transaction, ``progress`` per file). Raises
        ``ValueError`` (the index unchanged) when fewer than ``MIN_LABELLED_SONGS`` rated songs have
        audio that can be analysed. One transaction. Blocks (a worker thread or the CLI)."""
        started = time.perf_counter()
        rows = self._conn.execute(
            "SELECT song_id, path, valence, arousal FROM songs "
            "WHERE mood_source = 'rated' AND playable = 1 AND path IS NOT NULL ORDER BY rowid"
        ).fetchall()
        if len(rows) < MIN_LABELLED_SONGS:
            raise ValueError(
                f"learning the moods needs at least {MIN_LABELLED_SONGS} playable songs with a rated mood point; "
                f"the index {self.path} has {len(rows)} (import a DEAM download with its audio, or add songs "
                "with `moodsic library add-folder FOLDER --va FILE.csv`)"
            )
        paths = [Path(row[1]) for row in rows]
        features, cache_rows, analysed, from_cache = self._features_for(paths, progress, workers)
        used = [(row, features[path]) for row, path in zip(rows, paths, strict=True)]
        good = [(row, f) for row, f in used if isinstance(f, MoodFeatures)]
        failed = [SongProblem(row[0], row[1], str(f)) for row, f in used if not isinstance(f, MoodFeatures)]
        if len(good) < MIN_LABELLED_SONGS:
            example = f"{failed[0].where}: {failed[0].reason}" if failed else ""
            raise ValueError(
                f"learning the moods needs at least {MIN_LABELLED_SONGS} rated songs whose audio can be analysed; "
                f"{len(good)} of {len(rows)} could be ({len(failed)} failed, e.g. {example})"
            )
        model = fit_mood_model(
            [f for _, f in good], [row[2] for row, _ in good], [row[3] for row, _ in good], folds=folds, seed=seed
        )
        report = LearnReport(
            model=model,
            labelled=len(rows),
            used=len(good),
            failed=failed,
            analysed=analysed,
            from_cache=from_cache,
        )
        with self._transaction():
            self._store_features(cache_rows)
            self._set_meta("mood_model", json.dumps(model.to_dict()))
            estimated = self._conn.execute(
                "SELECT s.song_id, f.features FROM songs AS s JOIN mood_features AS f ON f.path = s.path "
                "WHERE s.mood_source = 'estimated'"
            ).fetchall()
            for song_id, stored in estimated:
                try:
                    point = model.estimate(MoodFeatures.from_dict(json.loads(stored)))
                except (ValueError, TypeError):
                    continue
                self._conn.execute(
                    "UPDATE songs SET valence = ?, arousal = ?, valence_var = ?, arousal_var = ?, updated_at = ? "
                    "WHERE song_id = ?",
                    (point.valence, point.arousal, point.var_valence, point.var_arousal, time.time(), song_id),
                )
                report.reestimated += 1
            self._refit_if_changed(report)
        report.seconds = time.perf_counter() - started
        return report

    def place(self, song_id: str, valence: float, arousal: float) -> None:
        """The owner puts ``song_id`` at (valence, arousal), reference space [-1, 1]: it plays there, as
        an exact point, across re-imports and re-estimates, until ``unplace``. Refits the stations when
        that changes them. Raises ``KeyError`` for an unknown id and ``ValueError`` for a value outside
        [-1, 1]. One transaction."""
        for name, value in (("valence", valence), ("arousal", arousal)):
            if not -1.0 <= float(value) <= 1.0:  # also false for NaN
                raise ValueError(f"{name} {value} is outside the reference scale [-1, 1]")
        with self._transaction():
            changed = self._conn.execute(
                "UPDATE songs SET placed_valence = ?, placed_arousal = ?, updated_at = ? WHERE song_id = ?",
                (float(valence), float(arousal), time.time(), song_id),
            ).rowcount
            if not changed:
                raise KeyError(f"no song {song_id!r} in the library index {self.path}")
            self._refit_if_changed(CheckReport())

    def unplace(self, song_id: str) -> bool:
        """Undo the owner's placement of ``song_id``: it plays at its rated or estimated point again.
        Returns whether it was placed. Raises ``KeyError`` for an unknown id. One transaction."""
        with self._transaction():
            row = self._conn.execute("SELECT placed_valence FROM songs WHERE song_id = ?", (song_id,)).fetchone()
            if row is None:
                raise KeyError(f"no song {song_id!r} in the library index {self.path}")
            self._conn.execute(
                "UPDATE songs SET placed_valence = NULL, placed_arousal = NULL WHERE song_id = ?", (song_id,)
            )
            self._refit_if_changed(CheckReport())
        return row[0] is not None

    # ---- the station model

    def _fingerprint(self) -> str:
        """A digest of the playable songs' ids and V-A and of the fit settings."""
        digest = hashlib.sha256(f"{self.n_stations}/{self.seed}".encode())
        for song_id, valence, arousal in self._conn.execute(
            f"SELECT song_id, {_EFFECTIVE_VA} FROM songs WHERE playable = 1 ORDER BY song_id"
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
            f"SELECT song_id, {_EFFECTIVE_VA}, title, artist, genre, path, duration_s, sample_rate, channels, "
            "playable, problem, origin, mood_source, valence_var, arousal_var, placed_valence IS NOT NULL "
            f"FROM songs {where} ORDER BY rowid"
        ).fetchall()
        out = []
        for row in rows:
            song_id, v, a, title, artist, genre, path, duration, rate, channels, playable, problem, origin = row[:13]
            mood_source, var_v, var_a, placed = row[13:]
            file = Path(path) if path else None
            source, variance = ("placed", 0.0) if placed else (mood_source, float(var_v) + float(var_a))
            song = Song(song_id, v, a, title, artist, genre, file if playable else None, duration, source, variance)
            out.append(IndexedSong(song, file, origin, bool(playable), problem, rate, channels, song_id in banned))
        return out

    def songs(self, playable_only: bool = True) -> list[Song]:
        """The songs (V-A in reference space), in import order; only those that play unless told
        otherwise (a song that does not play has ``path`` None). Banned songs are included: the
        matcher skips them (``banned_ids``)."""
        return [entry.song for entry in self.entries(playable_only)]

    def stats(self) -> dict[str, Any]:
        """Counts and totals: songs, playable, not playable, by origin, banned, plays, total playable
        duration (s), sample rates and channel counts of the playable songs, stations, songs by mood source
        (rated, estimated, placed) and the learned mood model (None: the default mapping)."""
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
            "moods": {
                "placed": c.execute("SELECT count(*) FROM songs WHERE placed_valence IS NOT NULL").fetchone()[0],
                **dict(
                    c.execute(
                        "SELECT mood_source, count(*) FROM songs WHERE placed_valence IS NULL GROUP BY mood_source"
                    )
                ),
            },
            "mood_model": self._mood_model_summary(),
        }

    def _mood_model_summary(self) -> dict[str, Any] | None:
        """When the mood model was learned, on how many songs, and its cross-validated metrics."""
        model = self.mood_model()
        if model is None:
            return None
        return {"fitted_at": model.fitted_at, "n_songs": model.n_songs, "folds": model.folds, "cv": model.cv}

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
        from moodsic_desktop.audio.builtin.catalogue import builtin_songs

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
    "LearnReport",
    "LibraryIndex",
    "LibraryIndexError",
    "Play",
    "SongProblem",
    "default_index_path",
    "fit_station_model",
    "read_deam_songs",
    "read_va_table",
    "songs_for_stations",
]
