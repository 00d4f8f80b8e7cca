"""The library the matcher chooses from: its songs, where they came from, and their station model.

Plain data, built by ``session/assembly.py`` (from the library index, a DEAM folder or the built-in
station); any thread may read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from moodsic_desktop.core.song import Song
from moodsic_desktop.core.stations import StationModel


@dataclass
class MusicLibrary:
    """The songs to choose from, where they came from, and their station model (None if too few songs).
    ``banned`` holds the ids the matcher must never choose; ``recent`` the ids of the last songs played in
    earlier sessions, oldest first (from the index's play history); ``index_path`` is the library index
    the songs came from (None for a DEAM folder or the built-in station); ``problem`` says, in one line,
    why this is not the library that was asked for (a damaged index), for a banner or a warning."""

    songs: list[Song]
    origin: str
    stations: StationModel | None
    skipped_rows: int = 0
    banned: frozenset[str] = frozenset()
    recent: tuple[str, ...] = ()
    index_path: Path | None = None
    problem: str | None = None
