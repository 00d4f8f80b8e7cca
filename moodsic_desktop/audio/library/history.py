"""What the owner and the player leave in the library index: the play history, the banned songs and the
owner's placements of songs on the mood plane. Each write is one short transaction, on the thread that
opened the index (the GUI thread may call these: they read no audio).
"""

from __future__ import annotations

import time

from moodsic_desktop.audio.builtin.catalogue import builtin_songs
from moodsic_desktop.audio.library.reports import CheckReport, Play
from moodsic_desktop.audio.library.store import IndexStore


class History(IndexStore):
    """Plays, bans and placements (a mixin of ``LibraryIndex``)."""

    def place(self, song_id: str, valence: float, arousal: float) -> None:
        """The owner puts ``song_id`` at (valence, arousal), reference space [-1, 1]: it plays there, as
        an exact point, across re-imports and re-estimates, until ``unplace``. Refits the stations when
        that changes them. Raises ``KeyError`` for an unknown id and ``ValueError`` for a value outside
        [-1, 1]. One transaction."""
        for name, value in (("valence", valence), ("arousal", arousal)):
            if not -1.0 <= float(value) <= 1.0:  # also false for NaN
                raise ValueError(f"{name} {value} is outside the reference scale [-1, 1]")
        with self._transaction():
            changed = self._conn.execute(
                "UPDATE songs SET placed_valence = ?, placed_arousal = ?, updated_at = ? WHERE song_id = ?",
                (float(valence), float(arousal), time.time(), song_id),
            ).rowcount
            if not changed:
                raise KeyError(f"no song {song_id!r} in the library index {self.path}")
            self._refit_if_changed(CheckReport())

    def unplace(self, song_id: str) -> bool:
        """Undo the owner's placement of ``song_id``: it plays at its rated or estimated point again.
        Returns whether it was placed. Raises ``KeyError`` for an unknown id. One transaction."""
        with self._transaction():
            row = self._conn.execute("SELECT placed_valence FROM songs WHERE song_id = ?", (song_id,)).fetchone()
            if row is None:
                raise KeyError(f"no song {song_id!r} in the library index {self.path}")
            self._conn.execute(
                "UPDATE songs SET placed_valence = NULL, placed_arousal = NULL WHERE song_id = ?", (song_id,)
            )
            self._refit_if_changed(CheckReport())
        return row[0] is not None

    # ---- play history and bans

    def record_play(self, song_id: str, when: float | None = None) -> None:
        """Add a play of ``song_id`` at ``when`` (seconds since the epoch; default now) to the history.
        Raises ``LibraryIndexError`` when another connection holds the index longer than the busy timeout."""
        with self._transaction():
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
        with self._transaction():
            self._conn.execute(
                "INSERT INTO bans (song_id, banned_at) VALUES (?, ?) ON CONFLICT (song_id) DO NOTHING",
                (song_id, time.time()),
            )

    def unban(self, song_id: str) -> None:
        """Allow ``song_id`` again (nothing happens when it was not banned)."""
        with self._transaction():
            self._conn.execute("DELETE FROM bans WHERE song_id = ?", (song_id,))
