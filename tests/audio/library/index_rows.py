"""Helpers of the library index tests: the rows and meta records of an index, to show what changed."""

from __future__ import annotations

from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.schema import SONG_COLUMNS

N_AUDIO = 36  # DEAM fixture songs that get a generated MP3 (``deam_with_audio``)


def song_rows(index: LibraryIndex) -> list[tuple]:
    """Every row of the songs table except the timestamps, in a stable order."""
    columns = ", ".join(SONG_COLUMNS)
    return index._conn.execute(f"SELECT {columns} FROM songs ORDER BY song_id").fetchall()


def meta(index: LibraryIndex) -> dict[str, str]:
    """The meta records (station model, its settings and fingerprint, the mood model …) by key."""
    return dict(index._conn.execute("SELECT key, value FROM meta"))
