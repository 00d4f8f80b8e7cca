"""``EngineBridge``: the audio engine's notices that the window draws, carried from the engine's worker thread
to the GUI thread as queued Qt signals. The session hears the engine on its own, without Qt
(``session.engine_notices.EngineNotices``, told beside this one through ``audio.listener.EngineListeners``)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from moodsic_desktop.audio.listener import EngineListener
from moodsic_desktop.core.song import Song


class EngineBridge(QObject, EngineListener):
    """Carries the audio engine's notices for the window (called on the engine's worker thread) to the GUI as
    queued Qt signals. It never answers "song ending": the session queues the next song.

    Signals: ``started(Song)`` when a song starts playing; ``status(str)`` when the output changes (a plain
    sentence: "Playing through …", "No sound: …"). Connect them to methods of a GUI-thread QObject."""

    started = Signal(Song)
    status = Signal(str)

    def __init__(self) -> None:
        QObject.__init__(self)

    def song_started(self, song: Song) -> None:
        self.started.emit(song)

    def status_changed(self, status: str) -> None:
        self.status.emit(status)
