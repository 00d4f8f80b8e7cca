"""The ``moodsic`` command: sub-commands for headless work (``analyze`` …).

Errors in what the user gave (a missing video, a folder that is not a DEAM library) end the command with
one clear line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from moodsic_desktop import __version__
from moodsic_desktop.assembly import EngineSettings, build_pipeline, load_library, quiet_native_logs
from moodsic_desktop.cli_eval import positive_int
from moodsic_desktop.core.fusion import FUSION_MODES
from moodsic_desktop.core.matcher import MATCH_MODES
from moodsic_desktop.core.pipeline import PipelineSettings

if TYPE_CHECKING:
    from moodsic_desktop.audio.library_index import ImportReport, LibraryIndex, SongProblem

EXIT_OK = 0
EXIT_FAILURE = 1


class UserError(Exception):
    """A problem with what the user asked for; its message is shown as one line."""


def finite_number(text: str) -> float:
    """An argparse type: a finite number (``nan`` and ``inf`` are refused: a NaN τ held 98 % of updates)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def _unit_interval(text: str) -> float:
    value = finite_number(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def _non_negative(text: str) -> float:
    value = finite_number(text)
    if value < 0.0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _step_times(text: str) -> tuple[float, ...]:
    try:
        times = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds separated by commas, got {text!r}") from None
    if not times or any(not math.isfinite(t) or t < 0 for t in times):
        raise argparse.ArgumentTypeError(f"expected finite seconds >= 0 separated by commas, got {text!r}")
    return times


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moodsic", description="Moodsic Desktop: music that follows the mood.")
    parser.add_argument("--version", action="version", version=f"moodsic {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="run the whole program headless on a generated clip and exit, as main.py --self-test "
        "(takes --library DEAM_FOLDER and --verbose)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    analyze = commands.add_parser(
        "analyze",
        help="run the mood pipeline over a video file and write a JSON report",
        description="Run PERCEIVE → STABILIZE → MATCH over a video as fast as possible and write a JSON "
        "report (settings, timeline, song switches, metrics). V-A values are in reference space [-1, 1].",
    )
    source = analyze.add_mutually_exclusive_group(required=True)
    source.add_argument("video", nargs="?", type=Path, help="the video file to analyse")
    source.add_argument("--demo", action="store_true", help="analyse a short clip generated on the spot")
    analyze.add_argument("--library", type=Path, help="a DEAM folder (default: the built-in station)")
    analyze.add_argument("--out", type=Path, default=Path("report.json"), help="report path (default report.json)")
    analyze.add_argument(
        "--alpha",
        type=_unit_interval,
        default=EngineSettings.alpha,
        help="EMA weight of an estimate arriving 1 s after the last (default %(default)s)",
    )
    analyze.add_argument(
        "--tau",
        type=_non_negative,
        default=EngineSettings.tau,
        help="hold a dimension while its standard deviation exceeds this (default %(default)s)",
    )
    analyze.add_argument(
        "--dwell",
        type=_non_negative,
        default=EngineSettings.min_dwell_s,
        help="minimum seconds a song plays before a switch (default %(default)s)",
    )
    analyze.add_argument("--mode", choices=MATCH_MODES, default=EngineSettings.mode)
    analyze.add_argument("--fusion", choices=FUSION_MODES, default=PipelineSettings.fusion_mode)
    analyze.add_argument(
        "--scene-interval",
        type=_non_negative,
        default=PipelineSettings.scene_interval_s,
        help="seconds between scene readings (default %(default)s)",
    )
    analyze.add_argument(
        "--mood-steps",
        type=_step_times,
        default=None,
        metavar="T1,T2,…",
        help="seconds at which the video's mood changes, for the step-response metric (--demo: 20,40)",
    )
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")
    analyze.set_defaults(run=run_analyze)
    add_library_parser(commands)
    from moodsic_desktop.cli_models import add_bench_parser, add_models_parser

    add_models_parser(commands)
    add_bench_parser(commands)
    from moodsic_desktop.cli_eval import add_eval_parser

    add_eval_parser(commands)
    return parser


def run_analyze(args: argparse.Namespace) -> int:
    """``moodsic analyze``: the whole pipeline over a file, as fast as it can, into a JSON report."""
    quiet_native_logs()
    from tqdm import tqdm

    from moodsic_desktop.core.report import SessionReport, session_settings
    from moodsic_desktop.perception.sources import SourceError, VideoFileSource
    from moodsic_desktop.perception.synthetic import DEMO_SEGMENT_S, demo_step_times, write_demo_clip

    settings = EngineSettings(
        alpha=args.alpha,
        tau=args.tau,
        min_dwell_s=args.dwell,
        mode=args.mode,
        pipeline=PipelineSettings(
            fusion_mode=args.fusion, scene_interval_s=args.scene_interval, simulate_song_end=True
        ),
    )
    with tempfile.TemporaryDirectory(prefix="moodsic-demo-") as scratch:
        video = write_demo_clip(Path(scratch) / "demo.mp4") if args.demo else args.video
        try:
            source = VideoFileSource(video)
        except SourceError as error:
            raise UserError(str(error)) from None
        with source:
            try:
                library = load_library(args.library, n_stations=settings.n_stations)
            except (OSError, ValueError) as error:
                raise UserError(f"cannot use the library: {error}") from None
            if library.problem:  # a damaged library index: the built-in station plays
                print(f"moodsic analyze: warning: {library.problem}", file=sys.stderr)
            pipeline = build_pipeline(library, settings)
            steps = args.mood_steps
            if steps is None and args.demo:
                steps = demo_step_times(DEMO_SEGMENT_S)
            report = SessionReport(
                session_settings(pipeline, "generated demo clip" if args.demo else str(video), library.origin),
                step_times=steps or (),
            )
            total = source.frame_count or None
            with tqdm(total=total, unit="frame", desc="analyze", disable=args.quiet, file=sys.stderr) as progress:
                while (frame := source.read()) is not None:
                    report.add(pipeline.process(frame.image, frame.timestamp_s))
                    progress.update(1)
            pipeline.close()
    if report.metrics.steps == 0:
        raise UserError(f"no frame could be decoded from {video}")
    try:
        report.write(args.out)
    except OSError as error:
        raise UserError(f"cannot write the report {args.out}: {error}") from None
    summary = report.metrics.summary()
    print(
        f"analysed {summary['steps']} frames ({summary['duration_s']:.1f} s): {summary['switches']} song switches, "
        f"report written to {args.out}"
    )
    print(stability_line(summary))
    return EXIT_OK


def stability_line(summary: dict) -> str:
    """The stability metrics of a session summary in one line (``-`` where nothing was measured)."""

    def show(value: float | None, unit: str = "", scale: float = 1.0, digits: int = 1) -> str:
        return "-" if value is None else f"{value * scale:.{digits}f}{unit}"

    dwell = summary.get("dwell_s") or {}
    steps = summary.get("mood_steps") or {}
    halfway = ", ".join(show(h, " s") for h in steps.get("halfway_s", [])) or "-"
    return (
        f"stability: jitter reduction {show(summary['jitter_reduction'], ' %', 100.0, 0)}, "
        f"held updates {show(summary['gating_rate'], ' %', 100.0, 0)}, "
        f"switches per hour {show(summary['switches_per_hour'])}, "
        f"dwell median {show(dwell.get('median'), ' s')} (min {show(dwell.get('min'), ' s')}, "
        f"max {show(dwell.get('max'), ' s')}), "
        f"mean target-to-song distance {show(summary['mean_target_distance'], digits=3)}, "
        f"halfway after mood steps: {halfway}"
    )


# ---- moodsic library …

SQLITE_MAX_INT = 2**63 - 1  # the largest number SQLite takes (a LIMIT beyond it is an OverflowError)
LIST_LIMIT = 20  # problems printed per report; the JSON report (--report) and `library list --all` have all


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

    deam = actions.add_parser(
        "import-deam",
        parents=[common, reporting],
        help="import a DEAM download (annotations, metadata, MEMD_audio/*.mp3)",
        description="Import a DEAM folder. Importing again updates the index without duplicates; songs "
        "whose audio is missing or unreadable are kept out of playback and listed. The import reads each "
        "file's header; `moodsic library check` decodes every file in full.",
    )
    deam.add_argument("folder", type=Path, help="the DEAM folder")
    deam.set_defaults(run=run_library_import_deam)

    folder = actions.add_parser(
        "add-folder",
        parents=[common, reporting],
        help="add your own audio files (mp3, wav, flac, ogg) with V-A from a CSV",
        description="Add the audio files of FOLDER named in a CSV with columns file, valence, arousal "
        "(optional: title, artist, genre). Rows naming missing files, unsupported types or out-of-range "
        "values are reported and not imported.",
    )
    folder.add_argument("folder", type=Path, help="the folder holding the audio files")
    folder.add_argument("--va", type=Path, required=True, metavar="FILE.csv", help="the V-A table")
    folder.add_argument(
        "--scale",
        choices=("deam", "reference"),
        default="deam",
        help="deam: values on DEAM's 1..9 scale; reference: values in [-1, 1] (default %(default)s)",
    )
    folder.set_defaults(run=run_library_add_folder)

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


def _open_index(args: argparse.Namespace, create: bool) -> LibraryIndex:
    from moodsic_desktop.audio.library_index import LibraryIndex, LibraryIndexError

    try:
        return LibraryIndex(args.index, create=create)
    except LibraryIndexError as error:
        raise UserError(str(error)) from None


@contextlib.contextmanager
def _index_for_import(args: argparse.Namespace) -> Iterator[LibraryIndex]:
    """The index to import into, created when missing; if this command created it and the import then
    failed on bad input, the new (empty) file is removed again, so a typo leaves nothing behind."""
    from moodsic_desktop.audio.library_index import default_index_path

    path = args.index if args.index is not None else default_index_path()
    existed = path.exists()
    index = _open_index(args, create=True)
    try:
        yield index
    except UserError:
        empty = not index.songs(playable_only=False)
        index.close()
        if not existed and empty:
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)
        raise
    finally:
        index.close()


class _ProgressBar:
    """A tqdm bar on stderr, made on the first ``update(done, total)`` (so an early error prints alone),
    shown only on a terminal and without ``--quiet``; a context manager that closes it."""

    def __init__(self, args: argparse.Namespace, desc: str, unit: str = "song") -> None:
        self._desc, self._unit, self._quiet = desc, unit, args.quiet
        self._bar = None

    def update(self, done: int, total: int) -> None:
        if self._bar is None:
            from tqdm import tqdm

            disable = True if self._quiet else None  # None: only on a terminal
            self._bar = tqdm(
                total=total, unit=self._unit, desc=self._desc, disable=disable, file=sys.stderr, leave=False
            )
        if self._bar.total != total:
            self._bar.total = total
        self._bar.update(done - self._bar.n)

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()


def _print_problems(title: str, problems: Sequence[SongProblem], hint: str) -> None:
    if not problems:
        return
    print(f"{title} ({len(problems)}):")
    for problem in problems[:LIST_LIMIT]:
        name = f"song {problem.song_id}" if problem.song_id else problem.where
        where = f" ({problem.where})" if problem.song_id and problem.where else ""
        print(f"  {name}{where}: {problem.reason}")
    if len(problems) > LIST_LIMIT:
        print(f"  … and {len(problems) - LIST_LIMIT} more ({hint})")


def _write_json_report(path: Path | None, data: dict) -> None:
    if path is None:
        return
    from moodsic_desktop.core import strict_json

    try:
        path.write_text(strict_json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot write the report {path}: {error}") from None
    print(f"full report written to {path}")


def _print_import_report(report: ImportReport, index_path: Path, json_path: Path | None) -> None:
    kind = "DEAM folder" if report.origin == "deam" else "folder"
    print(
        f"imported {report.imported} songs from the {kind} {report.source}: {report.new} new, "
        f"{report.updated} updated, {report.unchanged} unchanged; {report.playable} playable, "
        f"{len(report.not_playable)} kept out of playback"
    )
    hint = "--report FILE or `moodsic library list --all` shows every one"
    _print_problems("kept out of playback (audio missing or unreadable)", report.not_playable, hint)
    _print_problems("skipped rows (not imported)", report.skipped, "--report FILE lists every one")
    if report.unlisted:
        shown = ", ".join(report.unlisted[:5]) + (" …" if len(report.unlisted) > 5 else "")
        print(f"audio files without a V-A row, not imported ({len(report.unlisted)}): {shown}")
    if report.stations:
        state = "refitted" if report.refitted else "unchanged"
        print(f"station model: {report.stations} stations ({state})")
    else:
        print("station model: none (too few playable songs; the built-in station plays until there are more)")
    print(f"index: {index_path} ({report.seconds:.1f} s)")
    _write_json_report(json_path, report.to_dict())


def run_library_import_deam(args: argparse.Namespace) -> int:
    """``moodsic library import-deam FOLDER``."""
    from moodsic_desktop.audio.library_index import LibraryIndexError

    with _index_for_import(args) as index:
        try:
            with _ProgressBar(args, "import") as bar:
                report = index.import_deam(args.folder, progress=bar.update)
        except (OSError, ValueError, LibraryIndexError) as error:
            raise UserError(f"cannot import {args.folder}: {error}") from None
        _print_import_report(report, index.path, args.report)
    return EXIT_OK


def run_library_add_folder(args: argparse.Namespace) -> int:
    """``moodsic library add-folder FOLDER --va FILE.csv [--scale deam|reference]``."""
    from moodsic_desktop.audio.library_index import LibraryIndexError

    with _index_for_import(args) as index:
        try:
            with _ProgressBar(args, "add") as bar:
                report = index.add_folder(args.folder, args.va, scale=args.scale, progress=bar.update)
        except (OSError, ValueError, LibraryIndexError) as error:
            raise UserError(f"cannot add {args.folder}: {error}") from None
        _print_import_report(report, index.path, args.report)
    return EXIT_OK


def run_library_list(args: argparse.Namespace) -> int:
    """``moodsic library list [--all]``: one line per song (id, V, A, length, title — artist, state)."""
    with _open_index(args, create=False) as index:
        entries = index.entries(playable_only=not args.all)
    if not entries:
        print(f"no {'' if args.all else 'playable '}songs in {index.path}; the built-in station plays")
        return EXIT_OK
    print(f"{'id':<18} {'valence':>7} {'arousal':>7} {'length':>7}  title — artist")
    for entry in entries:
        song = entry.song
        length = f"{song.duration_s:6.1f}s" if song.duration_s else "      -"
        notes = ([] if entry.playable else [f"not playable: {entry.problem}"]) + (["banned"] if entry.banned else [])
        suffix = f"  [{'; '.join(notes)}]" if notes else ""
        print(f"{song.song_id:<18} {song.valence:7.3f} {song.arousal:7.3f} {length}  {song.display_name}{suffix}")
    playable = sum(entry.playable for entry in entries)
    print(f"{len(entries)} songs" + (f", {playable} playable" if args.all else ""))
    return EXIT_OK


def run_library_history(args: argparse.Namespace) -> int:
    """``moodsic library history [-n N]``: the last plays, newest first (local time, id, title — artist)."""
    from moodsic_desktop.audio.builtin_station import builtin_songs

    with _open_index(args, create=False) as index:
        plays = index.recent_plays(min(args.last, SQLITE_MAX_INT))  # more than SQLite can count: every play
        names = {song.song_id: song.display_name for song in [*builtin_songs(), *index.songs(playable_only=False)]}
    if not plays:
        print(f"no plays recorded in {index.path}")
        return EXIT_OK
    for play in plays:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(play.when))
        print(f"{when}  {play.song_id:<18} {names.get(play.song_id, '(no longer in the library)')}")
    return EXIT_OK


def run_library_ban(args: argparse.Namespace) -> int:
    """``moodsic library ban|unban SONG_ID``."""
    with _open_index(args, create=False) as index:
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
    from moodsic_desktop.audio.library_index import LibraryIndexError

    with _open_index(args, create=False) as index:
        try:
            stats = index.stats()
        except LibraryIndexError as error:  # a damaged station record
            raise UserError(str(error)) from None
    origins = ", ".join(f"{count} {origin}" for origin, count in stats["by_origin"].items()) or "none"
    rates = ", ".join(f"{count} at {rate} Hz" for rate, count in sorted(stats["sample_rates"].items())) or "-"
    channels = ", ".join(f"{count} × {ch} ch" for ch, count in sorted(stats["channels"].items())) or "-"
    hours = stats["playable_duration_s"] / 3600
    print(f"index: {stats['path']} (schema {stats['schema_version']})")
    print(f"songs: {stats['songs']} ({origins}); playable: {stats['playable']}; not playable: {stats['not_playable']}")
    print(f"playable music: {hours:.2f} h; sample rates: {rates}; channels: {channels}")
    print(f"banned: {stats['banned']}; plays recorded: {stats['plays']}")
    if stats["stations"]:
        print(f"stations ({len(stats['stations'])}):")
        for station in stats["stations"]:
            print(
                f"  {station['name']}: centre V {station['valence']:+.2f}, A {station['arousal']:+.2f}, "
                f"weight {station['weight']:.2f}"
            )
    else:
        print("stations: none (too few playable songs; the built-in station plays)")
    return EXIT_OK


def run_library_check(args: argparse.Namespace) -> int:
    """``moodsic library check``: decode every file; exit 0 even when some do not play (they are listed)."""
    from moodsic_desktop.audio.library_index import LibraryIndexError

    with _open_index(args, create=False) as index, _ProgressBar(args, "check", unit="file") as bar:
        try:
            report = index.check(progress=bar.update)
        except LibraryIndexError as error:
            raise UserError(str(error)) from None
    print(
        f"checked {report.checked} songs: {report.ok} play, {len(report.broken)} do not "
        f"({len(report.newly_broken)} newly broken, {len(report.restored)} restored) in {report.seconds:.1f} s"
    )
    _print_problems("not playable", report.broken, "--report FILE or `moodsic library list --all` shows every one")
    if report.refitted:
        print(f"station model refitted: {report.stations or 'none'} stations")
    _write_json_report(args.report, report.to_dict())
    return EXIT_OK


_DESKTOP_OPTIONS_WITH_A_VALUE = ("--library", "--source")


def _asks_for_self_test(argv: Sequence[str]) -> bool:
    """Whether ``argv`` is the desktop program's ``--self-test`` (with its options: ``--library DIR``,
    ``--verbose``) rather than a ``moodsic`` command: ``--self-test`` before any command word."""
    tokens = iter(argv)
    for token in tokens:
        if token == "--self-test":
            return True
        if token in _DESKTOP_OPTIONS_WITH_A_VALUE:
            next(tokens, None)
        elif not token.startswith("-"):
            return False
    return False


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if _asks_for_self_test(argv):  # `python -m moodsic_desktop --self-test` works as `main.py --self-test`
        from moodsic_desktop.ui.app import main as desktop_main

        return desktop_main(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    actions = ("library_command", "models_command", "export_kind", "eval_dataset")
    command = " ".join(filter(None, (args.command, *(getattr(args, a, None) for a in actions))))
    try:
        return args.run(args)
    except UserError as error:
        print(f"moodsic {command}: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"moodsic {command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
