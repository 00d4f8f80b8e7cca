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
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from moodsic_desktop import __version__
from moodsic_desktop.cli_eval import positive_int
from moodsic_desktop.core.fusion import FUSION_MODES
from moodsic_desktop.core.matcher import MATCH_MODES
from moodsic_desktop.core.metrics import song_switches
from moodsic_desktop.core.pipeline import Pipeline, PipelineSettings
from moodsic_desktop.session.assembly import EngineSettings, build_pipeline, load_library, quiet_native_logs

if TYPE_CHECKING:
    from moodsic_desktop.audio.library_index import ImportReport, LibraryIndex, SongProblem
    from moodsic_desktop.core.library import Song

T = TypeVar("T")

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
        "(takes --library DEAM_FOLDER and --verbose); exit status 0: passed, 1: a stage failed, "
        "3: every stage passed but no sound output opens",
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
    from moodsic_desktop.session.playback import PlaybackSession

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
            inputs = {"the input video": None if args.demo else video}
            if args.library is None:
                from moodsic_desktop.audio.library_index import default_index_path

                inputs["the library index"] = default_index_path()
            check_report_path(args.out, inputs)
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
            # the session the window drives, silent: no audio, no index writes (no song plays, fails or is banned)
            session = PlaybackSession(
                pipeline, library, report=report, contain_failures=False, summary_period_s=math.inf
            )
            total = source.frame_count or None
            with tqdm(total=total, unit="frame", desc="analyze", disable=args.quiet, file=sys.stderr) as progress:
                while (frame := source.read()) is not None:
                    session.step(frame.image, frame.timestamp_s)
                    progress.update(1)
            session.close()
    if report.metrics.steps == 0:
        raise UserError(f"no frame could be decoded from {video}")
    try:
        report.write(args.out)
    except OSError as error:
        raise UserError(f"cannot write the report {args.out}: {error}") from None
    summary = report.metrics.summary()
    print(
        f"analysed {summary['steps']} frames ({summary['duration_s']:.1f} s): {song_switches(summary['switches'])}, "
        f"report written to {args.out}"
    )
    print(reading_line(summary, pipeline))
    print(stability_line(summary))
    return EXIT_OK


def reading_line(summary: dict, pipeline: Pipeline) -> str:
    """Who read the mood and how many faces, in one line."""
    rate, mean = summary.get("face_detection_rate"), summary.get("faces_read_mean")
    face = pipeline.face_expert.name if pipeline.face_expert is not None else "none"
    scene = pipeline.scene_expert.name if pipeline.scene_expert is not None else "none"
    faces = (
        "no face run"
        if rate is None
        else f"faces in view in {rate:.0%} of the frames, {mean:.1f} read per frame "
        f"(at most {summary['faces_read_max']})"
    )
    return f"reading: {faces}; face reader {face}, scene reader {scene}"


def check_report_path(out: Path, inputs: dict[str, Path | None]) -> None:
    """Refuse (``UserError``) a report path that would replace one of ``inputs`` (what → path; the same
    file also through a symbolic or hard link) or that cannot be written: a folder, or a folder that does not
    exist or takes no new file. Run before a long analysis, so it fails at once; it leaves nothing behind."""
    import os

    if out.is_dir():
        raise UserError(f"cannot write the report {out}: it is a folder")
    for what, path in inputs.items():
        with contextlib.suppress(OSError):  # either missing: they cannot be the same file
            if path is not None and os.path.samefile(out, path):
                raise UserError(f"the report {out} would replace {what} {path}; choose another --out")
    try:
        handle, probe = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    except OSError as error:
        raise UserError(f"cannot write the report {out}: {error.strerror or error}") from None
    os.close(handle)
    os.unlink(probe)


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

    workers = argparse.ArgumentParser(add_help=False)
    workers.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="files analysed at once, each in its own process (default: the number of CPUs)",
    )
    folder = actions.add_parser(
        "add-folder",
        parents=[common, reporting, workers],
        help="add your own audio files (mp3, wav, flac, ogg): mood from a CSV, or estimated from the audio",
        description="Add the audio files of FOLDER. With --va, the files named in a CSV with columns file, "
        "valence, arousal (optional: title, artist, genre); rows naming missing files, unsupported types or "
        "out-of-range values are reported and not imported. Without --va, every audio file under FOLDER, "
        "each with a mood point estimated from its audio (marked as estimated, with its uncertainty); songs "
        "with a rated point keep it. Analysed features are cached, so adding the folder again is quick.",
    )
    folder.add_argument("folder", type=Path, help="the folder holding the audio files")
    folder.add_argument(
        "--va", type=Path, default=None, metavar="FILE.csv", help="the V-A table (default: estimate from the audio)"
    )
    folder.add_argument(
        "--scale",
        choices=("deam", "reference"),
        default=None,
        help="with --va: deam, values on DEAM's 1..9 scale (the default); reference, values in [-1, 1]",
    )
    folder.set_defaults(run=run_library_add_folder)

    learn = actions.add_parser(
        "learn-moods",
        parents=[common, reporting, workers],
        help="learn how the audio maps to mood from the songs with rated moods",
        description="Fit the mapping from audio features to valence and arousal (ridge regression, "
        "k-fold cross-validated) on every playable song with a rated mood point (a few dozen at least; a "
        "DEAM import with its audio is exactly that), store it in the index, and re-estimate the songs whose "
        "mood was estimated. Prints the cross-validated errors of the model and of the default mapping.",
    )
    learn.add_argument("--folds", type=positive_int, default=5, metavar="K", help="cross-validation folds (default 5)")
    learn.set_defaults(run=run_library_learn_moods)

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


def _open_index(args: argparse.Namespace, create: bool) -> LibraryIndex:
    from moodsic_desktop.audio.library_index import LibraryIndex, LibraryIndexError

    try:
        return LibraryIndex(args.index, create=create)
    except LibraryIndexError as error:
        raise UserError(str(error)) from None


def _index_path(args: argparse.Namespace) -> Path:
    """The library index file the command works on (``--index``, else ``music/library.sqlite``)."""
    from moodsic_desktop.audio.library_index import default_index_path

    return args.index if args.index is not None else default_index_path()


def _existing_index(args: argparse.Namespace) -> LibraryIndex | None:
    """The library index, or None when there is no file at its path yet (a fresh install: the built-in
    station plays). A damaged one ends the command with its one-line message."""
    if not _index_path(args).exists():
        return None
    return _open_index(args, create=False)


ADD_MUSIC = (
    "add your music with `moodsic library add-folder FOLDER` (moods from the audio) or "
    "`moodsic library import-deam DEAM_FOLDER`"
)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _builtin_station() -> tuple[list[Song], list[dict]]:
    """The built-in pieces and their stations, as the window and `moodsic analyze` fit them."""
    from moodsic_desktop.audio.builtin_station import builtin_songs
    from moodsic_desktop.audio.library_index import fit_station_model

    songs = builtin_songs()
    model = fit_station_model(songs)
    return songs, model.describe() if model is not None else []


def _station_lines(stations: Sequence[dict]) -> list[str]:
    return [
        f"  {s['name']}: centre V {s['valence']:+.2f}, A {s['arousal']:+.2f}, weight {s['weight']:.2f}"
        for s in stations
    ]


def _what_plays(songs: Sequence[Song], n_stations: int | None) -> str:
    """What the window and `moodsic analyze` without --library play (``assembly.load_library``), in one
    line: the index's playable ``songs`` (in ``n_stations`` stations, the stored model's, once there are
    enough songs), else the built-in station."""
    from moodsic_desktop.audio.library_index import songs_for_stations

    need = songs_for_stations()
    if not songs:
        pieces, stations = _builtin_station()
        return (
            f"what plays: the built-in station ({len(pieces)} pieces made by Moodsic, in {len(stations)} stations), "
            f"since this index has no playable song; {ADD_MUSIC}"
        )
    they = "it plays" if len(songs) == 1 else "they play"
    head = f"what plays: {_plural(len(songs), 'playable song')} of this index ({they} in the window and in analyze)"
    if n_stations:
        return f"{head}, in {n_stations} stations"
    distinct = len({(song.valence, song.arousal) for song in songs})
    if distinct >= need:
        return f"{head}; their stations are fitted when they play"
    return (
        f"{head}; stations need at least {need} songs with distinct mood points (here {distinct}): until then "
        "the music is chosen from all of them, without stations"
    )


@contextlib.contextmanager
def _index_for_import(
    args: argparse.Namespace, read_input: Callable[[], T], failed: str
) -> Iterator[tuple[LibraryIndex, T]]:
    """The index to import into, created when missing, with what ``read_input()`` returned. It runs first
    and reads and checks what is to be imported: bad input (a typo, a table that does not parse) ends the
    command with ``failed: <why>`` before any file is made. Once made, an index is never deleted here: another process
    (the window, a second import) may have opened it already, and its writes would go into a deleted file.
    A later failure (the index busy, an interrupt) leaves a valid index, empty if it was new."""
    try:
        data = read_input()
    except (OSError, ValueError) as error:
        raise UserError(f"{failed}: {error}") from None
    with _open_index(args, create=True) as index:
        yield index, data


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


def _print_import_report(report: ImportReport, index: LibraryIndex, json_path: Path | None) -> None:
    kind = "DEAM folder" if report.origin == "deam" else "folder"
    print(
        f"imported {report.imported} songs from the {kind} {report.source}: {report.new} new, "
        f"{report.updated} updated, {report.unchanged} unchanged; {report.playable} playable, "
        f"{len(report.not_playable)} kept out of playback"
    )
    hint = "--report FILE or `moodsic library list --all` shows every one"
    _print_problems("kept out of playback (audio missing or unreadable)", report.not_playable, hint)
    skipped = (
        "files whose mood could not be measured (not imported)" if report.method else "skipped rows (not imported)"
    )
    _print_problems(skipped, report.skipped, "--report FILE lists every one")
    if report.unlisted:
        shown = ", ".join(report.unlisted[:5]) + (" …" if len(report.unlisted) > 5 else "")
        print(f"audio files without a V-A row, not imported ({len(report.unlisted)}): {shown}")
    if report.stations:
        state = "refitted" if report.refitted else "unchanged"
        print(f"station model: {report.stations} stations ({state})")
    print(_what_plays(index.songs(playable_only=True), report.stations))
    print(f"index: {index.path} ({report.seconds:.1f} s)")
    _write_json_report(json_path, report.to_dict())


def run_library_import_deam(args: argparse.Namespace) -> int:
    """``moodsic library import-deam FOLDER``."""
    from moodsic_desktop.audio.library_index import LibraryIndexError, read_deam_songs

    failed = f"cannot import {args.folder}"
    with _index_for_import(args, lambda: read_deam_songs(args.folder), failed) as (index, deam):
        try:
            with _ProgressBar(args, "import") as bar:
                report = index.import_deam(args.folder, progress=bar.update, deam=deam)
        except (OSError, ValueError, LibraryIndexError) as error:
            raise UserError(f"{failed}: {error}") from None
        _print_import_report(report, index, args.report)
    return EXIT_OK


def run_library_add_folder(args: argparse.Namespace) -> int:
    """``moodsic library add-folder FOLDER [--va FILE.csv [--scale deam|reference]]``: with a V-A table
    as before; without one, every audio file with a mood estimated from its audio."""
    from moodsic_desktop.audio.library_index import LibraryIndexError, audio_files_in, read_va_table

    if args.va is None and args.scale is not None:
        raise UserError("--scale gives the scale of the --va table; without --va the moods are estimated")

    def check_input() -> None:
        if args.va is not None:
            read_va_table(args.folder, args.va, args.scale or "deam")
        else:
            audio_files_in(args.folder)

    failed = f"cannot add {args.folder}"
    with _index_for_import(args, check_input, failed) as (index, _):
        try:
            if args.va is None:
                with _ProgressBar(args, "analyse", unit="file") as bar:
                    report = index.add_folder_estimated(args.folder, progress=bar.update, workers=args.workers)
            else:
                with _ProgressBar(args, "add") as bar:
                    report = index.add_folder(args.folder, args.va, scale=args.scale or "deam", progress=bar.update)
        except (OSError, ValueError, LibraryIndexError) as error:
            raise UserError(f"{failed}: {error}") from None
        if args.va is None:
            _print_estimate_summary(report)
        _print_import_report(report, index, args.report)
    return EXIT_OK


def _print_estimate_summary(report: ImportReport) -> None:
    from moodsic_desktop.audio.mood_estimation import DEFAULT_SIGMA

    how = (
        "the model learned from this library's rated songs"
        if report.method == "learned"
        else f"the default mapping from the music-emotion literature (±{DEFAULT_SIGMA:.2f}; "
        "`moodsic library learn-moods` learns a better one from rated songs)"
    )
    print(
        f"moods: {report.estimated} estimated from the audio with {how}; {report.kept_rated} kept their rated "
        f"point; {report.analysed} files analysed, {report.from_cache} from the cache"
    )


def _metrics_table(cv: dict) -> list[str]:
    """Rows of cross-validated metrics: MAE in reference and DEAM units, Spearman ρ, CCC per dimension."""

    def show(value: float | None, digits: int = 3) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    ref, deam = cv["reference"], cv["deam"]
    rows = []
    for dim in ("valence", "arousal"):
        rows.append(
            f"  {dim:<8} MAE {show(ref[f'mae_{dim}'])} (DEAM 1..9: {show(deam[f'mae_{dim}'], 2)})  "
            f"Spearman ρ {show(ref[f'spearman_{dim}'], 2)}  CCC {show(ref[f'ccc_{dim}'], 2)}"
        )
    return rows


def run_library_learn_moods(args: argparse.Namespace) -> int:
    """``moodsic library learn-moods [--folds K]``: fit, cross-validate and store the mood model."""
    from moodsic_desktop.audio.library_index import LibraryIndexError

    with _open_index(args, create=False) as index:
        try:
            with _ProgressBar(args, "analyse", unit="file") as bar:
                report = index.learn_moods(progress=bar.update, workers=args.workers, folds=args.folds)
        except (ValueError, LibraryIndexError) as error:
            raise UserError(str(error)) from None
        model = report.model
        print(
            f"learned the moods from {report.used} rated songs ({report.analysed} files analysed, "
            f"{report.from_cache} from the cache; {len(report.failed)} could not be analysed), "
            f"{model.folds}-fold cross-validated:"
        )
        print("learned model (ridge regression on the audio features):")
        for line in _metrics_table(model.cv):
            print(line)
        print("default mapping from the literature, on the same songs:")
        for line in _metrics_table(model.cv_default):
            print(line)
        _print_problems("rated songs whose audio could not be analysed", report.failed, "--report FILE lists all")
        print(
            f"uncertainty of an estimate now: ±{model.var[0] ** 0.5:.2f} valence, ±{model.var[1] ** 0.5:.2f} "
            f"arousal; {report.reestimated} estimated songs re-estimated"
        )
        if report.refitted:
            print(f"station model refitted: {report.stations or 'none'} stations")
        print(f"index: {index.path} ({report.seconds:.1f} s)")
        _write_json_report(args.report, report.to_dict())
    return EXIT_OK


def run_library_place(args: argparse.Namespace) -> int:
    """``moodsic library place SONG_ID --valence V --arousal A [--scale …]`` or ``--reset``."""
    from moodsic_desktop.core.scales import EmotionScaleAligner

    given = args.valence is not None or args.arousal is not None
    if args.reset == given or (given and (args.valence is None or args.arousal is None)):
        raise UserError("give either both --valence and --arousal, or --reset")
    with _open_index(args, create=False) as index:
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
    """Print a header and one line per ``(song, mood, notes)``: id, V, A, mood, length, title — artist."""
    print(f"{'id':<18} {'valence':>7} {'arousal':>7} {'mood':<15} {'length':>7}  title — artist")
    for song, mood, notes in rows:
        length = f"{song.duration_s:6.1f}s" if song.duration_s else "      -"
        suffix = f"  [{'; '.join(notes)}]" if notes else ""
        print(
            f"{song.song_id:<18} {song.valence:7.3f} {song.arousal:7.3f} {mood:<15} {length}  "
            f"{song.display_name}{suffix}"
        )


def run_library_list(args: argparse.Namespace) -> int:
    """``moodsic library list [--all]``: one line per song (id, V, A, length, title — artist, state); the
    built-in pieces when they are what plays (no index yet, or none of its songs playable)."""
    index = _existing_index(args)
    if index is None:
        entries, banned = [], set()
        print(f"no library index at {_index_path(args)} yet: the built-in station plays")
    else:
        with index:
            entries = index.entries(playable_only=not args.all)
            banned = index.banned_ids() if not any(entry.playable for entry in entries) else set()
        if not entries:
            print(f"no {'' if args.all else 'playable '}songs in {index.path}: the built-in station plays")
    if not entries:
        pieces, _ = _builtin_station()
        _song_rows([(song, "built-in", ["banned"] if song.song_id in banned else []) for song in pieces])
        print(f"{len(pieces)} built-in pieces; {ADD_MUSIC}")
        return EXIT_OK
    rows = []
    for entry in entries:
        song = entry.song
        notes = ([] if entry.playable else [f"not playable: {entry.problem}"]) + (["banned"] if entry.banned else [])
        mood = song.mood_source
        if mood == "estimated":
            mood = f"estimated ±{(song.mood_variance / 2) ** 0.5:.2f}"
        rows.append((song, mood, notes))
    _song_rows(rows)
    playable = sum(entry.playable for entry in entries)
    print(f"{len(entries)} songs" + (f", {playable} playable" if args.all else ""))
    return EXIT_OK


def run_library_history(args: argparse.Namespace) -> int:
    """``moodsic library history [-n N]``: the last plays, newest first (local time, id, title — artist)."""
    from moodsic_desktop.audio.builtin_station import builtin_songs

    index = _existing_index(args)
    if index is None:
        print(
            f"no plays recorded: there is no library index at {_index_path(args)} yet; the built-in station's "
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
        print(f"{when}  {play.song_id:<18} {names.get(play.song_id, '(no longer in the library)')}")
    return EXIT_OK


def _ban_without_an_index(args: argparse.Namespace) -> int:
    """``ban|unban SONG_ID`` on a fresh install: bans are kept in the library index, so banning a built-in
    piece makes the (empty) index to keep it; nothing else does."""
    path = _index_path(args)
    pieces = {song.song_id: song for song in _builtin_station()[0]}
    if not args.ban:
        print(f"{args.song_id} was not banned; nothing changed (there is no library index at {path} yet)")
        return EXIT_OK
    if args.song_id not in pieces:
        raise UserError(
            f"no song {args.song_id!r}: there is no library index at {path} yet, so only the built-in station "
            "plays; `moodsic library list` shows its pieces"
        )
    with _open_index(args, create=True) as index:
        index.ban(args.song_id)
    print(
        f"banned {args.song_id} ({pieces[args.song_id].display_name}): it will not be chosen again "
        f"(`moodsic library unban {args.song_id}` undoes it); bans are kept in the library index, so {path} was "
        "made to keep it (it holds no songs yet)"
    )
    return EXIT_OK


def run_library_ban(args: argparse.Namespace) -> int:
    """``moodsic library ban|unban SONG_ID``."""
    index = _existing_index(args)
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
    from moodsic_desktop.audio.library_index import LibraryIndexError, songs_for_stations

    index = _existing_index(args)
    if index is None:
        pieces, stations = _builtin_station()
        print(f"no library index at {_index_path(args)} yet: no songs added, no plays recorded, nothing banned")
        print(f"what plays: the built-in station, {len(pieces)} pieces made by Moodsic, in {len(stations)} stations:")
        for line in _station_lines(stations):
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
    stations = stats["stations"] if playable_songs else None
    print(_what_plays(playable_songs, len(stations) if stations else None) + (":" if stations else ""))
    for line in _station_lines(stations or []):
        print(line)
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
    # What this check found broken comes first and is marked: it is what the user has to act on now.
    new = set(report.newly_broken)
    broken = [p._replace(reason=f"[new] {p.reason}") for p in report.broken if p.song_id in new]
    broken += [p for p in report.broken if p.song_id not in new]
    hint = "--report FILE or `moodsic library list --all` shows every one"
    _print_problems("not playable (newly broken first, marked [new])", broken, hint)
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
