"""Moods estimated from the audio: importing the owner's folder without a V-A table, the cache of audio
features in the index, and learning the mapping from features to mood on the rated songs.

Audio is analysed before the transaction (in worker processes, ``analysis_pool.analyse_files``); the
results are written in one transaction. Blocks: call from a worker thread or the CLI, on the thread that
opened the index.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from moodsic_desktop.audio.library.analysis_pool import analyse_files
from moodsic_desktop.audio.library.mood_estimation import (
    MIN_LABELLED_SONGS,
    LearnedMoodModel,
    estimate,
    fit_mood_model,
)
from moodsic_desktop.audio.library.mood_features import FEATURES_VERSION, MoodFeatures
from moodsic_desktop.audio.library.reports import ImportReport, LearnReport, ProgressFn, SongProblem
from moodsic_desktop.audio.library.sources import audio_files_in, scan_audio_folder, song_row, user_song_id
from moodsic_desktop.audio.library.store import IndexStore
from moodsic_desktop.core.library import Song

log = logging.getLogger(__name__)


class MoodImports(IndexStore):
    """``add_folder_estimated``, ``mood_model`` and ``learn_moods`` (a mixin of ``LibraryIndex``)."""

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
        model = self.mood_model()
        report.method = "learned" if model is not None else "default"
        stored = {
            row[0]: row[1:]
            for row in self._conn.execute(
                "SELECT song_id, valence, arousal, mood_source, valence_var, arousal_var FROM songs"
            )
        }
        with self._transaction():
            self._store_features(cache_rows)
            existing = self._existing_rows()
            for path in files:
                song_id = user_song_id(path)
                old = stored.get(song_id)
                measured = features[path]
                title = path.stem.replace("_", " ")
                if old is not None and old[2] == "rated":
                    song, source, var = Song(song_id, old[0], old[1], title=title), "rated", (0.0, 0.0)
                    report.kept_rated += 1
                elif isinstance(measured, MoodFeatures):
                    point = estimate(measured, model)
                    song = Song(song_id, point.valence, point.arousal, title=title)
                    source, var = "estimated", (point.var_valence, point.var_arousal)
                    report.estimated += 1
                elif old is not None:  # analysed before, not now: keep its point, let the probe judge the file
                    song, source, var = Song(song_id, old[0], old[1], title=title), old[2], (old[3], old[4])
                    report.skipped.append(SongProblem(song_id, str(path), f"mood not measured again: {measured}"))
                else:
                    report.skipped.append(SongProblem(song_id, str(path), f"mood not estimated: {measured}"))
                    continue
                row = song_row(song, path, origin="folder", source=report.source)
                row.update(mood_source=source, valence_var=float(var[0]), arousal_var=float(var[1]))
                self._upsert(row, existing, report)
            self._refit_if_changed(report)
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
        row = self._conn.execute(
            "SELECT features FROM mood_features WHERE path = ? AND size = ? AND mtime_ns = ?",
            (str(path), size, mtime_ns),
        ).fetchone()
        if row is None:
            return None
        try:
            data = json.loads(row[0])
            if data.get("version") == FEATURES_VERSION and isinstance(data.get("error"), str):
                return data["error"]
            return MoodFeatures.from_dict(data)
        except (ValueError, TypeError, AttributeError):
            return None

    def _store_features(self, rows: Sequence[tuple]) -> None:
        """Inside a transaction: remember features by path, size and modification time."""
        self._conn.executemany(
            "INSERT INTO mood_features (path, size, mtime_ns, features, analysed_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
            "features = excluded.features, analysed_at = excluded.analysed_at",
            rows,
        )

    def mood_model(self) -> LearnedMoodModel | None:
        """The learned mood model, or None (never learned, or unusable: logged; estimates then use the
        default mapping)."""
        stored = self._meta("mood_model")
        if not stored:
            return None
        try:
            return LearnedMoodModel.from_dict(json.loads(stored))
        except (ValueError, TypeError, KeyError) as error:
            log.warning("library index %s: the stored mood model is unusable (%s)", self.path, error)
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
        rows = self._conn.execute(
            "SELECT song_id, path, valence, arousal FROM songs "
            "WHERE mood_source = 'rated' AND playable = 1 AND path IS NOT NULL ORDER BY rowid"
        ).fetchall()
        if len(rows) < MIN_LABELLED_SONGS:
            raise ValueError(
                f"learning the moods needs at least {MIN_LABELLED_SONGS} playable songs with a rated mood point; "
                f"the index {self.path} has {len(rows)} (import a DEAM download with its audio, or add songs "
                "with `moodsic library add-folder FOLDER --va FILE.csv`)"
            )
        paths = [Path(row[1]) for row in rows]
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
            [f for _, f in good], [row[2] for row, _ in good], [row[3] for row, _ in good], folds=folds, seed=seed
        )
        report = LearnReport(
            model=model,
            labelled=len(rows),
            used=len(good),
            failed=failed,
            analysed=analysed,
            from_cache=from_cache,
        )
        with self._transaction():
            self._store_features(cache_rows)
            self._set_meta("mood_model", json.dumps(model.to_dict()))
            estimated = self._conn.execute(
                "SELECT s.song_id, f.features FROM songs AS s JOIN mood_features AS f ON f.path = s.path "
                "WHERE s.mood_source = 'estimated'"
            ).fetchall()
            for song_id, stored in estimated:
                try:
                    point = model.estimate(MoodFeatures.from_dict(json.loads(stored)))
                except (ValueError, TypeError):
                    continue
                self._conn.execute(
                    "UPDATE songs SET valence = ?, arousal = ?, valence_var = ?, arousal_var = ?, updated_at = ? "
                    "WHERE song_id = ?",
                    (point.valence, point.arousal, point.var_valence, point.var_arousal, time.time(), song_id),
                )
                report.reestimated += 1
            self._refit_if_changed(report)
        report.seconds = time.perf_counter() - started
        return report
