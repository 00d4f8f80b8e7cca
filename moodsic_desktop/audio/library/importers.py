"""Importing rated songs into the library index: a DEAM folder, and the owner's folder with a V-A table.
``RatedImporter(index)`` writes through the index's own methods (``store.IndexStore``), as beets keeps
its importer apart from its library. Each import runs in one transaction; its files are read (probed)
inside it, so an import blocks for as long as it reads them: call it from a worker thread or the CLI, on
the thread that opened the index.
"""

from __future__ import annotations

import time
from pathlib import Path

from moodsic_desktop.audio.library.reports import ImportReport, ProgressFn, SongProblem
from moodsic_desktop.audio.library.sources import (
    AUDIO_DIR,
    DeamImport,
    parse_va_row,
    read_deam,
    read_va_table,
    scan_audio_folder,
    shown_path,
    song_row,
)
from moodsic_desktop.audio.library.store import IndexStore
from moodsic_desktop.core.scales import EmotionScaleAligner
from moodsic_desktop.core.song import Song


class RatedImporter:
    """``import_deam`` and ``add_folder`` into ``index`` (a ``LibraryIndex``), on the thread that opened it."""

    def __init__(self, index: IndexStore) -> None:
        self.index = index

    def import_deam(
        self, folder: str | Path, progress: ProgressFn | None = None, *, deam: DeamImport | None = None
    ) -> ImportReport:
        """Import a DEAM folder (layout in ``sources``): every annotated song, with its audio
        ``MEMD_audio/<id>.mp3`` probed for duration, rate and channels. Songs whose audio is missing or
        unreadable are stored as not playable and listed; bad annotation rows are listed in ``skipped``.
        One transaction. Raises ``FileNotFoundError`` (not a DEAM folder) or ``ValueError`` (no usable
        song); the index is unchanged then. ``deam``: what ``read_deam(folder)`` returned, when the
        caller has read the folder already. Blocks while it reads the files (a worker thread or the CLI)."""
        started = time.perf_counter()
        folder = Path(folder)
        deam = deam if deam is not None else read_deam(folder)
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
        with self.index.transaction():
            existing = self.index.existing_rows()
            for done, song in enumerate(deam.songs, start=1):
                path = audio_dir / f"{song.song_id}.mp3"
                row = song_row(song, path, origin="deam", source=report.source)
                self.index.upsert(row, existing, report)
                if progress is not None:
                    progress(done, len(deam.songs))
            self.index.refit_if_changed(report)
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
            result = parse_va_row(row, folder, scale, aligner)
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
            shown_path(p.relative_to(folder) if p.is_relative_to(folder) else p)
            for p in scan_audio_folder(folder).files
            if p not in listed
        )
        with self.index.transaction():
            existing = self.index.existing_rows()
            for done, (song, path) in enumerate(accepted, start=1):
                self.index.upsert(song_row(song, path, origin="folder", source=report.source), existing, report)
                if progress is not None:
                    progress(done, len(accepted))
            self.index.refit_if_changed(report)
        report.seconds = time.perf_counter() - started
        return report
