"""Moods estimated from the audio: importing the owner's folder without a V-A table, the cache of audio
features in the index, and learning the mapping from features to mood on the rated songs.

``MoodImporter(index)`` writes through the index's own methods (``store.IndexStore``). Audio is
analysed before the transaction (in worker processes, ``analysis_pool.analyse_files``); the
results are written in one transaction. Blocks: call from a worker thread or the CLI, on the thread that
opened the index.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from moodsic_desktop.audio.library.analysis_pool import analyse_files
from moodsic_desktop.audio.library.mood_estimation import MIN_LABELLED_SONGS, estimate, fit_mood_model
from moodsic_desktop.audio.library.mood_features import FEATURES_VERSION, MoodFeatures
from moodsic_desktop.audio.library.reports import ImportReport, LearnReport, ProgressFn, SongProblem
from moodsic_desktop.audio.library.sources import audio_files_in, scan_audio_folder, song_row, user_song_id
from moodsic_desktop.audio.library.store import IndexStore
from moodsic_desktop.core.song import Song, SongMood


class MoodImporter:
    """``add_folder_estimated`` and ``learn_moods`` for ``index`` (a ``LibraryIndex``), on the thread that
    opened it."""

    def __init__(self, index: IndexStore) -> None:
        self.index = index

    def add_folder_estimated(
        self, folder: str | Path, progress: ProgressFn | None = None, workers: int | None = None
    ) -> ImportReport:
        """Add every audio file (mp3, wav, flac, ogg) under ``folder`` with a mood point estimated from
        its audio (``mood_features``, then the learned model if there is one, else the default mapping):
        marked "estimated", with its uncertainty. A song already in the index with a rated point keeps
        it; a placed one stays placed. Features come from the cache when the file's size and modification
        time are unchanged; the others are analysed in ``workers`` processes (``analyse_files``), before
        the transaction, with ``progress(done, total)`` per file. Files that cannot be analysed (they do
        not decode, or are silent) and entries that cannot be imported at all (a FIFO, a broken link, a
        name that is not UTF-8: ``scan_audio_folder``) are listed in ``skipped`` with the reason (their
        path shown printably) and never stop the import;
        one already in the index keeps its point and is stored not playable if it no longer decodes.
        One transaction: an import that fails or is interrupted leaves the index as it was. Raises
        ``FileNotFoundError`` / ``ValueError`` for a missing folder or one without audio files. Blocks
        (a worker thread or the CLI)."""
        started = time.perf_counter()
        scan = scan_audio_folder(folder)
        files = audio_files_in(folder, scan)
        folder = Path(folder).resolve()
        report = ImportReport(source=str(folder), origin="folder")
        report.skipped = [SongProblem("", shown, reason) for shown, reason in scan.unusable]
        features, cache_rows, report.analysed, report.from_cache = self._features_for(files, progress, workers)
        index = self.index
        model = index.mood_model()
        report.method = "learned" if model is not None else "default"
        stored = index.stored_moods()
        with index.transaction():
            index.store_features(cache_rows)
            existing = index.existing_rows()
            for path in files:
                song_id = user_song_id(path)
                old = stored.get(song_id)
                measured = features[path]
                if old is not None and old.source == "rated":
                    mood = SongMood(old.valence, old.arousal)
                    report.kept_rated += 1
                elif isinstance(measured, MoodFeatures):
                    mood = estimate(measured, model).song_mood
                    report.estimated += 1
                elif old is not None:  # analysed before, not now: keep its point, let the probe judge the file
                    mood = old
                    report.skipped.append(SongProblem(song_id, str(path), f"mood not measured again: {measured}"))
                else:
                    report.skipped.append(SongProblem(song_id, str(path), f"mood not estimated: {measured}"))
                    continue
                song = Song(song_id, mood, title=path.stem.replace("_", " "))
                index.upsert(song_row(song, path, origin="folder", source=report.source), existing, report)
            index.refit_if_changed(report)
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
        stored = self.index.cached_features(path, size, mtime_ns)
        if stored is None:
            return None
        try:
            data = json.loads(stored)
            if data.get("version") == FEATURES_VERSION and isinstance(data.get("error"), str):
                return data["error"]
            return MoodFeatures.from_dict(data)
        except (ValueError, TypeError, AttributeError):
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
        index = self.index
        rows = index.rated_songs_with_audio()
        if len(rows) < MIN_LABELLED_SONGS:
            raise ValueError(
                f"learning the moods needs at least {MIN_LABELLED_SONGS} playable songs with a rated mood point; "
                f"the index {index.path} has {len(rows)} (import a DEAM download with its audio, or add songs "
                "with `moodsic library add-folder FOLDER --va FILE.csv`)"
            )
        paths = [Path(path) for _, path, _ in rows]
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
            [f for _, f in good],
            [row[2].valence for row, _ in good],
            [row[2].arousal for row, _ in good],
            folds=folds,
            seed=seed,
        )
        report = LearnReport(
            model=model,
            labelled=len(rows),
            used=len(good),
            failed=failed,
            analysed=analysed,
            from_cache=from_cache,
        )
        with index.transaction():
            index.store_features(cache_rows)
            index.set_mood_model(model)
            for song_id, stored in index.estimated_songs_features():
                try:
                    mood = model.estimate(MoodFeatures.from_dict(json.loads(stored))).song_mood
                except (ValueError, TypeError):
                    continue
                index.set_estimated_mood(song_id, mood)
                report.reestimated += 1
            index.refit_if_changed(report)
        report.seconds = time.perf_counter() - started
        return report
