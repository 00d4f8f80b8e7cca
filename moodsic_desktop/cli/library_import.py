"""``moodsic library import-deam | add-folder | learn-moods``: bringing songs and their moods into the index."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from moodsic_desktop.audio.library.importers import RatedImporter
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.mood_estimation import DEFAULT_SIGMA
from moodsic_desktop.audio.library.mood_imports import MoodImporter
from moodsic_desktop.audio.library.reports import ImportReport, LibraryIndexError
from moodsic_desktop.audio.library.sources import audio_files_in, read_deam, read_va_table
from moodsic_desktop.cli._common import EXIT_OK, ProgressBar, UserError, positive_int, write_json_report
from moodsic_desktop.cli.library_common import open_index, print_problems, stations_refitted, what_plays

T = TypeVar("T")


def add_import_actions(
    actions: argparse._SubParsersAction, common: argparse.ArgumentParser, reporting: argparse.ArgumentParser
) -> None:
    """The actions ``import-deam``, ``add-folder`` and ``learn-moods`` of ``moodsic library`` (``common``:
    --index and --quiet; ``reporting``: --report)."""
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


@contextlib.contextmanager
def index_for_import(
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
    with open_index(args, create=True) as index:
        yield index, data


def print_import_report(report: ImportReport, index: LibraryIndex, json_path: Path | None) -> None:
    kind = "DEAM folder" if report.origin == "deam" else "folder"
    print(
        f"imported {report.imported} songs from the {kind} {report.source}: {report.new} new, "
        f"{report.updated} updated, {report.unchanged} unchanged; {report.playable} playable, "
        f"{len(report.not_playable)} kept out of playback"
    )
    hint = "--report FILE or `moodsic library list --all` shows every one"
    print_problems("kept out of playback (audio missing or unreadable)", report.not_playable, hint)
    skipped = (
        "files not imported (their mood could not be measured, or they are not usable files)"
        if report.method
        else "skipped rows (not imported)"
    )
    print_problems(skipped, report.skipped, "--report FILE lists every one")
    if report.unlisted:
        shown = ", ".join(report.unlisted[:5]) + (" …" if len(report.unlisted) > 5 else "")
        print(f"audio files without a V-A row, not imported ({len(report.unlisted)}): {shown}")
    if report.stations:
        state = "refitted" if report.refitted else "unchanged"
        print(f"station model: {report.stations} stations ({state})")
    print(what_plays(index.songs(playable_only=True), report.stations))
    print(f"index: {index.path} ({report.seconds:.1f} s)")
    write_json_report(json_path, report.to_dict())


def run_library_import_deam(args: argparse.Namespace) -> int:
    """``moodsic library import-deam FOLDER``."""
    failed = f"cannot import {args.folder}"
    with index_for_import(args, lambda: read_deam(args.folder), failed) as (index, deam):
        try:
            with ProgressBar(args, "import") as bar:
                report = RatedImporter(index).import_deam(args.folder, progress=bar.update, deam=deam)
        except (OSError, ValueError, LibraryIndexError) as error:
            raise UserError(f"{failed}: {error}") from None
        print_import_report(report, index, args.report)
    return EXIT_OK


def run_library_add_folder(args: argparse.Namespace) -> int:
    """``moodsic library add-folder FOLDER [--va FILE.csv [--scale deam|reference]]``: with a V-A table
    as before; without one, every audio file with a mood estimated from its audio."""
    if args.va is None and args.scale is not None:
        raise UserError("--scale gives the scale of the --va table; without --va the moods are estimated")

    def check_input() -> None:
        if args.va is not None:
            read_va_table(args.folder, args.va, args.scale or "deam")
        else:
            audio_files_in(args.folder)

    failed = f"cannot add {args.folder}"
    with index_for_import(args, check_input, failed) as (index, _):
        try:
            if args.va is None:
                with ProgressBar(args, "analyse", unit="file") as bar:
                    report = MoodImporter(index).add_folder_estimated(
                        args.folder, progress=bar.update, workers=args.workers
                    )
            else:
                with ProgressBar(args, "add") as bar:
                    report = RatedImporter(index).add_folder(
                        args.folder, args.va, scale=args.scale or "deam", progress=bar.update
                    )
        except (OSError, ValueError, LibraryIndexError) as error:
            raise UserError(f"{failed}: {error}") from None
        if args.va is None:
            _print_estimate_summary(report)
        print_import_report(report, index, args.report)
    return EXIT_OK


def _print_estimate_summary(report: ImportReport) -> None:
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
    with open_index(args, create=False) as index:
        try:
            with ProgressBar(args, "analyse", unit="file") as bar:
                report = MoodImporter(index).learn_moods(progress=bar.update, workers=args.workers, folds=args.folds)
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
        print_problems("rated songs whose audio could not be analysed", report.failed, "--report FILE lists all")
        print(
            f"uncertainty of an estimate now: ±{model.var[0] ** 0.5:.2f} valence, ±{model.var[1] ** 0.5:.2f} "
            f"arousal; {report.reestimated} estimated songs re-estimated"
        )
        if report.refitted:
            print(stations_refitted(report.stations))
        print(f"index: {index.path} ({report.seconds:.1f} s)")
        write_json_report(args.report, report.to_dict())
    return EXIT_OK
