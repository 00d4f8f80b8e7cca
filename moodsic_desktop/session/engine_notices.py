"""``EngineNotices``: the audio engine's notices for a ``PlaybackSession``, without Qt.

The engine tells its listener that a song ends soon (``next_song``), started, or could not be played, on
the engine's worker thread ("moodsic-audio"). The session hears them on its owner thread (the pipeline
worker's, or the one a test or the CLI runs it on), where every call of it is made, as Quod Libet's player
tells its listeners and each acts on its own. So this listener only puts each notice on a queue and returns
(``queue.SimpleQueue.put``: it never waits on the session, which may be busy with a frame for a tenth of a
second), and the owner thread's ``deliver`` hands them on in the order the engine sent them ("song failed"
before the "song ending" that follows it, so the replacement is chosen knowing the song failed).

Threads: ``next_song``, ``song_started`` and ``song_failed`` on the engine's worker thread (never the PortAudio
callback, which calls no listener); ``deliver`` on the session's owner thread. No lock is held by either
side longer than the queue's own put or get.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Protocol

from moodsic_desktop.audio.listener import EngineListener
from moodsic_desktop.core.song import Song


class SongNotices(Protocol):
    """What acts on the notices (``PlaybackSession`` has these methods)."""

    def song_ending(self, after: Song | None) -> None:
        """``after`` (the song playing; None when nothing does) ends soon: choose the next and queue it."""

    def song_played(self, song: Song) -> None:
        """The engine started ``song``."""

    def song_failed(self, song: Song, reason: str) -> None:
        """The engine could not play ``song`` (``reason`` says why)."""


class EngineNotices(EngineListener):
    """The session's listener on the audio engine (see the module docstring). Pass it to
    ``AudioEngine(listener=...)`` (with others: ``audio.listener.EngineListeners``) and to the session."""

    def __init__(self) -> None:
        self._waiting: queue.SimpleQueue[Callable[[SongNotices], None]] = queue.SimpleQueue()

    # -- the engine's worker thread -------------------------------------------------------------------------
    def next_song(self, after: Song | None, remaining_s: float) -> Song | None:
        """Queued for ``SongNotices.song_ending``; None: the session queues the next song a moment later."""
        self._waiting.put(lambda to: to.song_ending(after))
        return None

    def song_started(self, song: Song) -> None:
        """Queued for ``SongNotices.song_played``."""
        self._waiting.put(lambda to: to.song_played(song))

    def song_failed(self, song: Song, reason: str) -> None:
        """Queued for ``SongNotices.song_failed``."""
        self._waiting.put(lambda to: to.song_failed(song, reason))

    # -- the session's owner thread ------------------------------------------------------------------------
    def deliver(self, to: SongNotices) -> int:
        """Hand every notice waiting to ``to``, oldest first; how many were handed. When one raises, it is
        spent and the exception propagates; the others wait for the next call. Never waits for a notice."""
        handed = 0
        while True:
            try:
                notice = self._waiting.get_nowait()
            except queue.Empty:
                return handed
            handed += 1
            notice(to)
