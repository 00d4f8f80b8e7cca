"""``EngineBridge``: the audio engine's listener, carrying its notices from the engine's worker thread to the
GUI thread (queued Qt signals) and to the pipeline worker (its command queue)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from moodsic_desktop.audio.listener import EngineListener
from moodsic_desktop.core.song import Song
from moodsic_desktop.ui.workers import PipelineWorker


class EngineBridge(QObject, EngineListener):
    """Carries the audio engine's notices (on its worker thread) to the GUI as queued Qt signals, and its
    "song ending" and "song failed" notices to the pipeline worker, which chooses and queues the next song.

    Signals: ``started(Song)`` when a song starts playing; ``status(str)`` when the output changes (a plain
    sentence: "Playing through …", "No sound: …"). Connect them to methods of a GUI-thread QObject."""

    started = Signal(Song)
    status = Signal(str)

    def __init__(self) -> None:
        QObject.__init__(self)
        self.pipeline_worker: PipelineWorker | None = None  # set by the window, replaced when it restarts one

    def next_song(self, after: Song | None, remaining_s: float) -> Song | None:
        """Engine thread: ``after`` ends in ``remaining_s`` seconds."""
        if self.pipeline_worker is not None:
            self.pipeline_worker.song_ending(after)
        return None  # the pipeline worker queues the next song a moment later

    def song_started(self, song: Song) -> None:
        self.started.emit(song)

    def song_failed(self, song: Song, reason: str) -> None:
        # straight to the pipeline worker's queue, ahead of the "song ending" notice the engine sends next,
        # so that the replacement is chosen knowing the song failed; the worker tells the user
        if self.pipeline_worker is not None:
            self.pipeline_worker.song_failed(song, reason)

    def status_changed(self, status: str) -> None:
        self.status.emit(status)
