"""The library index file: where it lives, its tables, its schema version and the migrations to it.

The schema version is SQLite's ``PRAGMA user_version``; ``MIGRATIONS`` upgrades older files step by step
(``store.IndexStore`` runs them when it opens a file). Existing index files must keep opening: never edit
an old step, add one. Plain data and functions on a ``sqlite3.Connection``; they run on the thread that
owns the connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from moodsic_desktop.paths import music_dir

SCHEMA_VERSION = 2
APPLICATION_ID = 0x4D4F4F44  # "MOOD": marks the file as a Moodsic library index
INDEX_FILENAME = "library.sqlite"
ORIGINS = ("deam", "folder")


def default_index_path() -> Path:
    """``music/library.sqlite`` beside the program (``MOODSIC_HOME`` moves it; see ``moodsic_desktop.paths``)."""
    return music_dir() / INDEX_FILENAME


def migrate_to_1(conn: sqlite3.Connection) -> None:
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


def migrate_to_2(conn: sqlite3.Connection) -> None:
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
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: migrate_to_1, 2: migrate_to_2}

SONG_COLUMNS = (
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
COMPARED_COLUMNS = SONG_COLUMNS[1:]


# The point a song plays at: the owner's placement when there is one, else the rated or estimated point.
EFFECTIVE_VA = "coalesce(placed_valence, valence), coalesce(placed_arousal, arousal)"
