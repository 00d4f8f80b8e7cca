"""What the ``moodsic library`` commands share: opening the index, what plays, listing problems."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from moodsic_desktop.audio.builtin.catalogue import builtin_songs
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.reports import LibraryIndexError, SongProblem
from moodsic_desktop.audio.library.schema import default_index_path
from moodsic_desktop.audio.library.sources import printable
from moodsic_desktop.cli._common import UserError, plural
from moodsic_desktop.core.song import Song
from moodsic_desktop.core.stations import fit_station_model, songs_for_stations

LIST_LIMIT = 20  # problems printed per report; the JSON report (--report) and `library list --all` have all


def open_index(args: argparse.Namespace, create: bool) -> LibraryIndex:
    try:
        return LibraryIndex(args.index, create=create)
    except LibraryIndexError as error:
        raise UserError(str(error)) from None


def index_path(args: argparse.Namespace) -> Path:
    """The library index file the command works on (``--index``, else ``music/library.sqlite``)."""
    return args.index if args.index is not None else default_index_path()


def existing_index(args: argparse.Namespace) -> LibraryIndex | None:
    """The library index, or None when there is no file at its path yet (a fresh install: the built-in
    station plays). A damaged one ends the command with its one-line message."""
    if not index_path(args).exists():
        return None
    return open_index(args, create=False)


ADD_MUSIC = (
    "add your music with `moodsic library add-folder FOLDER` (moods from the audio) or "
    "`moodsic library import-deam DEAM_FOLDER`"
)


def builtin_station() -> tuple[list[Song], list[dict]]:
    """The built-in pieces and their stations, as the window and `moodsic analyze` fit them."""
    songs = builtin_songs()
    model = fit_station_model(songs)
    return songs, model.describe() if model is not None else []


def station_lines(stations: Sequence[dict]) -> list[str]:
    return [
        f"  {s['name']}: centre V {s['valence']:+.2f}, A {s['arousal']:+.2f}, weight {s['weight']:.2f}"
        for s in stations
    ]


def what_plays(songs: Sequence[Song], n_stations: int | None) -> str:
    """What the window and `moodsic analyze` without --library play (``assembly.load_library``), in one
    line: the index's playable ``songs`` (in ``n_stations`` stations, the stored model's, once there are
    enough songs), else the built-in station."""
    need = songs_for_stations()
    if not songs:
        pieces, stations = builtin_station()
        return (
            f"what plays: the built-in station ({len(pieces)} pieces made by Moodsic, in {len(stations)} stations), "
            f"since this index has no playable song; {ADD_MUSIC}"
        )
    they = "it plays" if len(songs) == 1 else "they play"
    head = f"what plays: {plural(len(songs), 'playable song')} of this index ({they} in the window and in analyze)"
    if n_stations:
        return f"{head}, in {n_stations} stations"
    distinct = len({(song.valence, song.arousal) for song in songs})
    if distinct >= need:
        return f"{head}; their stations are fitted when they play"
    return (
        f"{head}; stations need at least {need} songs with distinct mood points (here {distinct}): until then "
        "the music is chosen from all of them, without stations"
    )


def stations_refitted(stations: int | None) -> str:
    """The line that says the station model changed: how many stations, or that there are none now."""
    if not stations:
        return (
            f"station model refitted: no stations (they need at least {songs_for_stations()} playable songs with "
            "distinct mood points; until then the music is chosen from all of them)"
        )
    return f"station model refitted: {plural(stations, 'station')}"


def print_problems(title: str, problems: Sequence[SongProblem], hint: str) -> None:
    """``title (count):`` and one line per problem (names and reasons shown printably), at most
    ``LIST_LIMIT``, then ``hint``."""
    if not problems:
        return
    print(f"{title} ({len(problems)}):")
    for problem in problems[:LIST_LIMIT]:
        name = f"song {printable(problem.song_id)}" if problem.song_id else printable(problem.where, 400)
        where = f" ({printable(problem.where, 400)})" if problem.song_id and problem.where else ""
        print(f"  {name}{where}: {printable(problem.reason, 400)}")
    if len(problems) > LIST_LIMIT:
        print(f"  … and {len(problems) - LIST_LIMIT} more ({hint})")
