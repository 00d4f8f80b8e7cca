"""``moodsic library …``: the parser of every library action; list, stats, check, history, ban and place.
Importing songs and learning their moods: :mod:`moodsic_desktop.cli.library_import`."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from moodsic_desktop.audio.builtin.catalogue import builtin_songs
from moodsic_desktop.audio.library.reports import LibraryIndexError
from moodsic_desktop.audio.library.sources import printable
from moodsic_desktop.cli._common import EXIT_OK, ProgressBar, UserError, positive_int, write_json_report
from moodsic_desktop.cli.library_common import (
    ADD_MUSIC,
    builtin_station,
    existing_index,
    index_path,
    open_index,
    print_problems,
    station_lines,
    stations_refitted,
    what_plays,
)
from moodsic_desktop.cli.library_import import add_import_actions
from moodsic_desktop.core.scales import EmotionScaleAligner
from moodsic_desktop.core.song import Song
from moodsic_desktop.core.stations import songs_for_stations

SQLITE_MAX_INT = 2**63 - 1  # the largest number SQLite takes (a LIMIT beyond it is an OverflowError)


def add_library_parser(commands: argparse._SubParsersAction) -> None:
    """The ``library`` sub-command and its actions."""
    library = commands.add_parser(
        "library",
        help="import, list and check the music library index",
        description="The music library index (SQLite, default music/library.sqlite beside the program): "
        "import a DEAM download or your own files, list, summarise and check them. V-A values are shown "
        "in reference space [-1, 1].",
    )
    actions = library.add_subparsers(dest="library_command", required=True, metavar="ACTION")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--index",
        type=Path,
        default=None,
        metavar="PATH",
        help="the index file (default: music/library.sqlite beside the program)",
    )
    common.add_argument("--quiet", action="store_true", help="no progress bar")
    reporting = argparse.ArgumentParser(add_help=False)
    reporting.add_argument(
        "--report", type=Path, metavar="FILE", help="also write the full report (every song and row) as JSON"
    )

    add_import_actions(actions, common, reporting)

    place = actions.add_parser(
        "place",
        parents=[common],
        help="put a song at a mood point by hand (kept across re-imports), or --reset",
        description="Place SONG_ID at a mood point of your choosing: it plays there, as an exact point, "
        "across re-imports and re-estimates. --reset returns it to its rated or estimated point.",
    )
    place.add_argument("song_id", metavar="SONG_ID", help="an id from `moodsic library list`")
    place.add_argument("--valence", type=float, metavar="V", help="valence (reference [-1, 1] unless --scale deam)")
    place.add_argument("--arousal", type=float, metavar="A", help="arousal (reference [-1, 1] unless --scale deam)")
    place.add_argument("--reset", action="store_true", help="undo the placement")
    place.add_argument(
        "--scale", choices=("reference", "deam"), default="reference", help="scale of V and A (default %(default)s)"
    )
    place.set_defaults(run=run_library_place)

    listing = actions.add_parser("list", parents=[common], help="list the playable songs")
    listing.add_argument("--all", action="store_true", help="also the songs that do not play, with the reason")
    listing.set_defaults(run=run_library_list)

    stats = actions.add_parser("stats", parents=[common], help="counts, durations, formats and stations")
    stats.set_defaults(run=run_library_stats)

    check = actions.add_parser(
        "check",
        parents=[common, reporting],
        help="decode every file again; report what no longer plays",
        description="Decode every song's file again: songs that no longer decode are kept out of playback, "
        "songs whose files decode again are restored.",
    )
    check.set_defaults(run=run_library_check)

    history = actions.add_parser("history", parents=[common], help="the songs played last, newest first")
    history.add_argument("-n", "--last", type=positive_int, default=20, metavar="N", help="how many plays (default 20)")
    history.set_defaults(run=run_library_history)

    for action, words in (("ban", "never play SONG_ID again"), ("unban", "let SONG_ID play again")):
        parser = actions.add_parser(action, parents=[common], help=words, description=f"{words.capitalize()}.")
        parser.add_argument("song_id", metavar="SONG_ID", help="an id from `moodsic library list` (or builtin-NN)")
        parser.set_defaults(run=run_library_ban, ban=action == "ban")


def run_library_place(args: argparse.Namespace) -> int:
    """``moodsic library place SONG_ID --valence V --arousal A [--scale …]`` or ``--reset``."""
    given = args.valence is not None or args.arousal is not None
    if args.reset == given or (given and (args.valence is None or args.arousal is None)):
        raise UserError("give either both --valence and --arousal, or --reset")
    with open_index(args, create=False) as index:
        try:
            if args.reset:
                was = index.unplace(args.song_id)
                print(
                    f"{args.song_id} plays at its own mood point again"
                    if was
                    else f"{args.song_id} was not placed; nothing changed"
                )
                return EXIT_OK
            try:
                if args.scale == "deam":
                    v, a = (
                        float(x)
                        for x in EmotionScaleAligner(strict=True).deam_static_to_reference(args.valence, args.arousal)
                    )
                else:
                    v, a = args.valence, args.arousal
                index.place(args.song_id, v, a)
            except ValueError as error:
                raise UserError(str(error)) from None
        except KeyError:
            raise UserError(f"no song {args.song_id!r} in {index.path}; `moodsic library list` shows the ids") from None
    print(
        f"placed {args.song_id} at valence {v:+.2f}, arousal {a:+.2f} (reference space); "
        f"`moodsic library place {args.song_id} --reset` undoes it"
    )
    return EXIT_OK


def _song_rows(rows: Sequence[tuple[Song, str, list[str]]]) -> None:
    """Print a header and one line per ``(song, mood, notes)``: id, V, A, mood, length, title — artist.
    Names come from files and tables: control characters (escape codes, line breaks) are shown escaped."""
    print(f"{'id':<18} {'valence':>7} {'arousal':>7} {'mood':<15} {'length':>7}  title — artist")
    for song, mood, notes in rows:
        length = f"{song.duration_s:6.1f}s" if song.duration_s else "      -"
        suffix = f"  [{printable('; '.join(notes), 400)}]" if notes else ""
        print(
            f"{printable(song.song_id):<18} {song.valence:7.3f} {song.arousal:7.3f} {mood:<15} {length}  "
            f"{printable(song.display_name, 400)}{suffix}"
        )


def run_library_list(args: argparse.Namespace) -> int:
    """``moodsic library list [--all]``: one line per song (id, V, A, length, title — artist, state); the
    built-in pieces when they are what plays (no index yet, or none of its songs playable)."""
    index = existing_index(args)
    if index is None:
        entries, banned = [], set()
        print(f"no library index at {index_path(args)} yet: the built-in station plays")
    else:
        with index:
            entries = index.entries(playable_only=not args.all)
            banned = index.banned_ids() if not any(entry.playable for entry in entries) else set()
        if not entries:
            print(f"no {'' if args.all else 'playable '}songs in {index.path}: the built-in station plays")
    if not entries:
        pieces, _ = builtin_station()
        _song_rows([(song, "built-in", ["banned"] if song.song_id in banned else []) for song in pieces])
        print(f"{len(pieces)} built-in pieces; {ADD_MUSIC}")
        return EXIT_OK
    rows = []
    for entry in entries:
        song = entry.song
        notes = ([] if entry.playable else [f"not playable: {entry.problem}"]) + (["banned"] if entry.banned else [])
        mood: str = song.mood.source  # the source, or for an estimate its source and spread
        if mood == "estimated":
            mood = f"estimated ±{song.mood.spread:.2f}"
        rows.append((song, mood, notes))
    _song_rows(rows)
    playable = sum(entry.playable for entry in entries)
    print(f"{len(entries)} songs" + (f", {playable} playable" if args.all else ""))
    return EXIT_OK


def run_library_history(args: argparse.Namespace) -> int:
    """``moodsic library history [-n N]``: the last plays, newest first (local time, id, title — artist)."""
    index = existing_index(args)
    if index is None:
        print(
            f"no plays recorded: there is no library index at {index_path(args)} yet; the built-in station's "
            "plays are not recorded, your own songs' plays are once you add them (`moodsic library add-folder FOLDER`)"
        )
        return EXIT_OK
    with index:
        plays = index.recent_plays(min(args.last, SQLITE_MAX_INT))  # more than SQLite can count: every play
        names = {song.song_id: song.display_name for song in [*builtin_songs(), *index.songs(playable_only=False)]}
    if not plays:
        print(f"no plays recorded in {index.path}")
        return EXIT_OK
    for play in plays:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(play.when))
        name = printable(names.get(play.song_id, "(no longer in the library)"), 400)
        print(f"{when}  {printable(play.song_id):<18} {name}")
    return EXIT_OK


def _ban_without_an_index(args: argparse.Namespace) -> int:
    """``ban|unban SONG_ID`` on a fresh install: bans are kept in the library index, so banning a built-in
    piece makes the (empty) index to keep it; nothing else does."""
    path = index_path(args)
    pieces = {song.song_id: song for song in builtin_station()[0]}
    if not args.ban:
        print(f"{args.song_id} was not banned; nothing changed (there is no library index at {path} yet)")
        return EXIT_OK
    if args.song_id not in pieces:
        raise UserError(
            f"no song {args.song_id!r}: there is no library index at {path} yet, so only the built-in station "
            "plays; `moodsic library list` shows its pieces"
        )
    with open_index(args, create=True) as index:
        index.ban(args.song_id)
    print(
        f"banned {args.song_id} ({pieces[args.song_id].display_name}): it will not be chosen again "
        f"(`moodsic library unban {args.song_id}` undoes it); bans are kept in the library index, so {path} was "
        "made to keep it (it holds no songs yet)"
    )
    return EXIT_OK


def run_library_ban(args: argparse.Namespace) -> int:
    """``moodsic library ban|unban SONG_ID``."""
    index = existing_index(args)
    if index is None:
        return _ban_without_an_index(args)
    with index:
        if args.ban:
            try:
                index.ban(args.song_id)
            except KeyError:
                raise UserError(
                    f"no song {args.song_id!r} in {index.path}; `moodsic library list` shows the ids"
                ) from None
            print(
                f"banned {args.song_id}: it will not be chosen again (`moodsic library unban {args.song_id}` undoes it)"
            )
        else:
            was = args.song_id in index.banned_ids()
            index.unban(args.song_id)
            print(f"{args.song_id} may play again" if was else f"{args.song_id} was not banned; nothing changed")
    return EXIT_OK


def run_library_stats(args: argparse.Namespace) -> int:
    """``moodsic library stats``."""
    index = existing_index(args)
    if index is None:
        pieces, stations = builtin_station()
        print(f"no library index at {index_path(args)} yet: no songs added, no plays recorded, nothing banned")
        print(f"what plays: the built-in station, {len(pieces)} pieces made by Moodsic, in {len(stations)} stations:")
        for line in station_lines(stations):
            print(line)
        print(
            f"{ADD_MUSIC}; once added, your songs play instead of the built-in station, and stations need at least "
            f"{songs_for_stations()} songs with distinct mood points (with fewer, the music is chosen from all of "
            "them, without stations)"
        )
        return EXIT_OK
    with index:
        try:
            stats = index.stats()
        except LibraryIndexError as error:  # a damaged station record
            raise UserError(str(error)) from None
        playable_songs = index.songs(playable_only=True)
    origins = ", ".join(f"{count} {origin}" for origin, count in stats["by_origin"].items()) or "none"
    rates = ", ".join(f"{count} at {rate} Hz" for rate, count in sorted(stats["sample_rates"].items())) or "-"
    channels = ", ".join(f"{count} × {ch} ch" for ch, count in sorted(stats["channels"].items())) or "-"
    hours = stats["playable_duration_s"] / 3600
    print(f"index: {stats['path']} (schema {stats['schema_version']})")
    print(f"songs: {stats['songs']} ({origins}); playable: {stats['playable']}; not playable: {stats['not_playable']}")
    print(f"playable music: {hours:.2f} h; sample rates: {rates}; channels: {channels}")
    print(f"banned: {stats['banned']}; plays recorded: {stats['plays']}")
    moods = stats["moods"]
    model = stats["mood_model"]
    learned = (
        f"learned {time.strftime('%Y-%m-%d %H:%M', time.localtime(model['fitted_at']))} from {model['n_songs']} "
        f"rated songs (cross-validated MAE valence {model['cv']['reference']['mae_valence']:.3f}, arousal "
        f"{model['cv']['reference']['mae_arousal']:.3f})"
        if model
        else "the default mapping from the literature (no model learned)"
    )
    print(
        f"mood points: {moods.get('rated', 0)} rated, {moods.get('estimated', 0)} estimated from the audio, "
        f"{moods['placed']} placed by hand; estimates use {learned}"
    )
    fitted = stats["stations"] if playable_songs else None
    print(what_plays(playable_songs, len(fitted) if fitted else None) + (":" if fitted else ""))
    for line in station_lines(fitted or []):
        print(line)
    return EXIT_OK


def run_library_check(args: argparse.Namespace) -> int:
    """``moodsic library check``: decode every file; exit 0 even when some do not play (they are listed)."""
    with open_index(args, create=False) as index, ProgressBar(args, "check", unit="file") as bar:
        try:
            report = index.check(progress=bar.update)
        except LibraryIndexError as error:
            raise UserError(str(error)) from None
    print(
        f"checked {report.checked} songs: {report.ok} play, {len(report.broken)} do not "
        f"({len(report.newly_broken)} newly broken, {len(report.restored)} restored) in {report.seconds:.1f} s"
    )
    # What this check found broken comes first and is marked: it is what the user has to act on now.
    new = set(report.newly_broken)
    broken = [p._replace(reason=f"[new] {p.reason}") for p in report.broken if p.song_id in new]
    broken += [p for p in report.broken if p.song_id not in new]
    hint = "--report FILE or `moodsic library list --all` shows every one"
    print_problems("not playable (newly broken first, marked [new])", broken, hint)
    if report.refitted:
        print(stations_refitted(report.stations))
    write_json_report(args.report, report.to_dict())
    return EXIT_OK
