"""The listener protocol: the notices the audio engine gives its owner.

No Qt, no audio here: a GUI, the CLI or a test subclasses ``EngineListener`` and passes it to
``AudioEngine(listener=...)``; ``EngineListeners`` tells several (the session's and the window's).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from moodsic_desktop.core.song import Song

log = logging.getLogger(__name__)


class EngineListener:
    """Notices from the engine. Called on the engine's worker thread ("moodsic-audio"), never on the audio
    thread; keep each call short (decoding waits meanwhile). A listener may call the engine's command
    methods (``play``, ``queue_next``, …) but not ``close``, ``start`` or ``wait_idle``. A GUI forwards these
    to its own thread (e.g. through Qt signals). Override what you need."""

    def next_song(self, after: Song | None, remaining_s: float) -> Song | None:
        """The "song ending" notice: ``after`` ends in ``remaining_s`` seconds (asked once per song, when
        ``remaining_s`` ≤ ``crossfade_s`` + ``decode_margin_s``), or the song chosen before could not be
        decoded (``after`` is what plays then, ``None`` when nothing does). Return the song to crossfade
        into, or ``None`` (then call ``queue_next``/``crossfade_to`` later, or let the song end)."""
        return None

    def song_started(self, song: Song) -> None:
        """``song`` became the current song (its fade-in or crossfade began)."""

    def song_failed(self, song: Song, reason: str) -> None:
        """``song`` could not be decoded and was skipped; ``reason`` says why."""

    def playback_stopped(self) -> None:
        """Nothing is audible any more (after ``stop`` or after the last song ended)."""

    def status_changed(self, status: str) -> None:
        """The output status changed (see ``AudioEngine.status``)."""


class EngineListeners(EngineListener):
    """Several listeners, each told every notice in the order given, on the engine's worker thread. The
    "song ending" notice's answer is the first song one of them returns. One listener that raises is
    logged, and the others are still told."""

    def __init__(self, *listeners: EngineListener) -> None:
        self.listeners = listeners

    def next_song(self, after: Song | None, remaining_s: float) -> Song | None:
        answers = [self._tell(listener.next_song, after, remaining_s) for listener in self.listeners]
        return next((song for song in answers if song is not None), None)

    def song_started(self, song: Song) -> None:
        for listener in self.listeners:
            self._tell(listener.song_started, song)

    def song_failed(self, song: Song, reason: str) -> None:
        for listener in self.listeners:
            self._tell(listener.song_failed, song, reason)

    def playback_stopped(self) -> None:
        for listener in self.listeners:
            self._tell(listener.playback_stopped)

    def status_changed(self, status: str) -> None:
        for listener in self.listeners:
            self._tell(listener.status_changed, status)

    @staticmethod
    def _tell(notice: Callable[..., Song | None], *args: object) -> Song | None:
        try:
            return notice(*args)
        except Exception:  # one listener's bug must not keep the notice from the others
            log.exception("audio listener %s failed", getattr(notice, "__qualname__", notice))
            return None


__all__ = ["EngineListener", "EngineListeners"]
