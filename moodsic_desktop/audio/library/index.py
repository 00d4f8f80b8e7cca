"""The music library index: a SQLite file (``music/library.sqlite``) that the program keeps between runs.

``LibraryIndex`` is the library: ``store.IndexStore`` (opening, transactions, the songs and their moods,
the feature cache, the mood and station models) and, here, what the owner and the player leave in it
(plays, bans, placements), its figures (``stats``) and ``check``. The importers are classes that take an
index, as beets keeps its importer apart from its library: ``importers.RatedImporter`` (DEAM and the
owner's folders with V-A tables) and ``mood_imports.MoodImporter`` (moods estimated from the audio,
learning them). ``schema`` holds the tables and migrations, ``sources`` reads what an import takes in,
and ``reports`` what the index hands back.

It holds the songs (V-A in reference space [-1, 1], title, artist, genre, audio path, file facts: duration
in seconds, sample rate in Hz, channels; a playable flag with the reason when not playable; the origin,
"deam" or "folder"), the station model fitted on the playable songs, the play history and the banned
songs.

Rules:

* Importing is idempotent: songs are upserted by ``song_id`` (DEAM's id; ``user-<hash of the path>`` for
  the user's own files), so importing the same folder twice changes nothing.
* Each import, ``check`` and refit runs in one transaction: an import that fails or is interrupted
  (``KeyboardInterrupt`` included) leaves the index exactly as it was.
* A song whose audio is missing or unreadable is stored with ``playable = 0`` and its reason, listed in the
  import report and kept out of playback, never silently dropped. ``check`` decodes every file again and
  restores songs whose audio plays again.
* The station model (``StationModel.to_dict`` as JSON) is refitted inside the transaction that changed
  the set of playable songs or their V-A, and only then; with too few distinct songs none is stored.
* Each song's mood point has a source (``songs.mood_source``): "rated" (from a V-A table or DEAM's
  ratings; exact) or "estimated" (measured from its audio by ``MoodImporter.add_folder_estimated``, with
  the expected squared errors ``valence_var`` / ``arousal_var``); a song carries them as one
  ``core.song.SongMood``. The owner may place a song by hand (``placed_valence`` / ``placed_arousal``,
  set by ``place``): a placed point wins over the other two and is kept across re-imports and
  re-estimates until ``unplace``. A re-import with a V-A table replaces an estimate; an import without
  one never replaces a rated point.
* Audio features (``mood_features``) are cached in the ``mood_features`` table by path, size and
  modification time, so importing a folder again analyses only new or changed files.
  ``MoodImporter.learn_moods`` fits the mapping from features to mood on the rated songs and stores it
  (JSON) in ``meta``; estimates use it from then on (until then the literature's default mapping,
  ``mood_estimation``).
* The schema version is SQLite's ``PRAGMA user_version``; ``schema.MIGRATIONS`` upgrades older files step by
  step. A file that is not a SQLite database, is damaged, or was written by a newer version is never
  modified or deleted: opening it raises ``LibraryIndexError`` naming the path.

Threads: a ``LibraryIndex`` owns one ``sqlite3`` connection and may be used only by the thread that opened
it (sqlite3 refuses other threads). Open one ``LibraryIndex`` per thread; the file is in WAL mode, so a
reader (the GUI) and a writer (an import) can work at the same time. Imports and ``check`` block for as
long as they read files: call them from a worker thread or the CLI, never from the GUI thread.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from moodsic_desktop.audio import decoding
from moodsic_desktop.audio.builtin.catalogue import builtin_songs
from moodsic_desktop.audio.library.reports import CheckReport, Play, ProgressFn, SongProblem
from moodsic_desktop.audio.library.store import IndexStore


class LibraryIndex(IndexStore):
    """The persistent library (rules in the module docstring). Use as a context manager or call ``close``.
    Opening: ``store.IndexStore``. Only the thread that opened it may use it. Imports: ``RatedImporter``,
    ``MoodImporter``. The history's writes are each one short transaction (the GUI thread may call
    them: they read no audio)."""

    def stats(self) -> dict[str, Any]:
        """Counts and totals: songs, playable, not playable, by origin, banned, plays, total playable
        duration (s), sample rates and channel counts of the playable songs, stations, songs by mood source
        (rated, estimated, placed) and the learned mood model (None: the default mapping)."""
        c = self._conn
        total, playable, duration = c.execute(
            "SELECT count(*), coalesce(sum(playable), 0), coalesce(sum(CASE WHEN playable = 1 THEN duration_s END), 0) "
            "FROM songs"
        ).fetchone()
        model = self.station_model()
        return {
            "path": str(self.path),
            "schema_version": self.schema_version,
            "songs": total,
            "playable": playable,
            "not_playable": total - playable,
            "by_origin": dict(c.execute("SELECT origin, count(*) FROM songs GROUP BY origin ORDER BY origin")),
            "banned": c.execute("SELECT count(*) FROM bans").fetchone()[0],
            "plays": c.execute("SELECT count(*) FROM plays").fetchone()[0],
            "playable_duration_s": float(duration),
            "sample_rates": dict(
                c.execute("SELECT sample_rate, count(*) FROM songs WHERE playable = 1 GROUP BY sample_rate")
            ),
            "channels": dict(c.execute("SELECT channels, count(*) FROM songs WHERE playable = 1 GROUP BY channels")),
            "stations": model.describe() if model is not None else None,
            "moods": {
                "placed": c.execute("SELECT count(*) FROM songs WHERE placed_valence IS NOT NULL").fetchone()[0],
                **dict(
                    c.execute(
                        "SELECT mood_source, count(*) FROM songs WHERE placed_valence IS NULL GROUP BY mood_source"
                    )
                ),
            },
            "mood_model": self._mood_model_summary(),
        }

    def _mood_model_summary(self) -> dict[str, Any] | None:
        """When the mood model was learned, on how many songs, and its cross-validated metrics."""
        model = self.mood_model()
        if model is None:
            return None
        return {"fitted_at": model.fitted_at, "n_songs": model.n_songs, "folds": model.folds, "cv": model.cv}

    # ---- the owner's placements

    def place(self, song_id: str, valence: float, arousal: float) -> None:
        """The owner puts ``song_id`` at (valence, arousal), reference space [-1, 1]: it plays there, as
        an exact point, across re-imports and re-estimates, until ``unplace``. Refits the stations when
        that changes them. Raises ``KeyError`` for an unknown id and ``ValueError`` for a value outside
        [-1, 1]. One transaction."""
        for name, value in (("valence", valence), ("arousal", arousal)):
            if not -1.0 <= float(value) <= 1.0:  # also false for NaN
                raise ValueError(f"{name} {value} is outside the reference scale [-1, 1]")
        with self.transaction():
            changed = self._conn.execute(
                "UPDATE songs SET placed_valence = ?, placed_arousal = ?, updated_at = ? WHERE song_id = ?",
                (float(valence), float(arousal), time.time(), song_id),
            ).rowcount
            if not changed:
                raise KeyError(f"no song {song_id!r} in the library index {self.path}")
            self.refit_if_changed(CheckReport())

    def unplace(self, song_id: str) -> bool:
        """Undo the owner's placement of ``song_id``: it plays at its rated or estimated point again.
        Returns whether it was placed. Raises ``KeyError`` for an unknown id. One transaction."""
        with self.transaction():
            row = self._conn.execute("SELECT placed_valence FROM songs WHERE song_id = ?", (song_id,)).fetchone()
            if row is None:
                raise KeyError(f"no song {song_id!r} in the library index {self.path}")
            self._conn.execute(
                "UPDATE songs SET placed_valence = NULL, placed_arousal = NULL WHERE song_id = ?", (song_id,)
            )
            self.refit_if_changed(CheckReport())
        return row[0] is not None

    # ---- play history and bans

    def record_play(self, song_id: str, when: float | None = None) -> None:
        """Add a play of ``song_id`` at ``when`` (seconds since the epoch; default now) to the history.
        Raises ``LibraryIndexError`` when another connection holds the index longer than the busy timeout."""
        with self.transaction():
            self._conn.execute(
                "INSERT INTO plays (played_at, song_id) VALUES (?, ?)",
                (time.time() if when is None else float(when), song_id),
            )

    def recent_plays(self, n: int = 20) -> list[Play]:
        """The last ``n`` plays, newest first."""
        rows = self._conn.execute(
            "SELECT played_at, song_id FROM plays ORDER BY played_at DESC, id DESC LIMIT ?", (max(0, int(n)),)
        )
        return [Play(float(when), song_id) for when, song_id in rows]

    def ban(self, song_id: str) -> None:
        """Never choose ``song_id`` (a library song or a built-in piece) again, until ``unban``. Raises
        ``KeyError`` for an id the index does not know."""
        known = self._conn.execute("SELECT 1 FROM songs WHERE song_id = ?", (song_id,)).fetchone() is not None
        if not known and song_id not in {song.song_id for song in builtin_songs()}:
            raise KeyError(f"no song {song_id!r} in the library index {self.path}")
        with self.transaction():
            self._conn.execute(
                "INSERT INTO bans (song_id, banned_at) VALUES (?, ?) ON CONFLICT (song_id) DO NOTHING",
                (song_id, time.time()),
            )

    def unban(self, song_id: str) -> None:
        """Allow ``song_id`` again (nothing happens when it was not banned)."""
        with self.transaction():
            self._conn.execute("DELETE FROM bans WHERE song_id = ?", (song_id,))

    # ---- checking

    def check(self, progress: ProgressFn | None = None, workers: int | None = None) -> CheckReport:
        """Decode every song's file again (in ``workers`` threads, default up to 4): mark what no longer
        decodes as not playable with the reason, restore what decodes again, refresh the file facts, and
        refit the stations if that changed the playable songs. Files are read outside the transaction;
        the changes are written in one. Blocks for a while (a worker thread or the CLI)."""
        started = time.perf_counter()
        report = CheckReport()
        rows = self._conn.execute("SELECT song_id, path, playable, problem FROM songs ORDER BY rowid").fetchall()
        workers = workers or min(4, os.cpu_count() or 1)
        results: list[tuple[str, decoding.AudioInfo | None, str]] = []

        def read(path_text: str | None) -> tuple[decoding.AudioInfo | None, str]:
            if not path_text:
                return None, "no audio file known for this song"
            try:
                return decoding.check_file(path_text), ""
            except decoding.AudioDecodeError as error:
                return None, error.reason

        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="moodsic-check") as pool:
            try:
                for done, (row, (info, problem)) in enumerate(
                    zip(rows, pool.map(read, [r[1] for r in rows]), strict=True), 1
                ):
                    results.append((row[0], info, problem))
                    if progress is not None:
                        progress(done, len(rows))
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        was_playable = {row[0]: bool(row[2]) for row in rows}
        paths = {row[0]: row[1] for row in rows}
        with self.transaction():
            for song_id, info, problem in results:
                report.checked += 1
                if info is not None:
                    report.ok += 1
                    if not was_playable[song_id]:
                        report.restored.append(song_id)
                    self._conn.execute(
                        "UPDATE songs SET playable = 1, problem = '', duration_s = ?, sample_rate = ?, channels = ?, "
                        "updated_at = ? WHERE song_id = ?",
                        (info.duration_s, info.samplerate, info.channels, time.time(), song_id),
                    )
                else:
                    report.broken.append(SongProblem(song_id, paths[song_id] or "", problem))
                    if was_playable[song_id]:
                        report.newly_broken.append(song_id)
                    self._conn.execute(
                        "UPDATE songs SET playable = 0, problem = ?, updated_at = ? WHERE song_id = ?",
                        (problem, time.time(), song_id),
                    )
            self.refit_if_changed(report)
        report.seconds = time.perf_counter() - started
        return report
