"""The two worker threads of the window: capture (read and pace frames) and pipeline (run the models).

Capture worker (QThread "moodsic-capture"): opens the source, reads frames, paces video files in real
time, and hands each frame on through two ``LatestSlot``s: one for the preview, one for the pipeline.
A slot keeps only the newest item, so neither the preview nor the pipeline ever works through a backlog:
the preview never waits on inference.

Pipeline worker (QThread "moodsic-pipeline"): a thin loop around a ``PlaybackSession`` (Qt-free; the same
class ``moodsic analyze`` and ``--self-test`` drive), which owns the pipeline, what plays, the index writes
and the audio engine's port. It takes the newest frame, calls ``session.step`` and emits the session's
immutable ``SessionSnapshot``: the GUI draws from snapshots only. Settings (``apply``) and commands (skip,
ban) reach it through a thread-safe command queue and become session calls between frames; the audio
engine's notices ("song ending", "song started", "song failed") wait in the session's own
``EngineNotices`` and are acted on at the same point of each round (``session.hear_engine``). It runs for
the whole life of the window, so the music keeps being chosen while no source runs: when no frame comes it
calls ``session.step_without_picture`` (about 20 times a second), which starts the music when nothing
plays yet.

Both are QObjects moved to their threads; they stop on an event, emit small typed signals, and never
touch widgets. Camera frames stay in memory: nothing here writes them anywhere.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtGui import QImage

from moodsic_desktop.audio.engine import AudioEngine
from moodsic_desktop.audio.engine_settings import apply_to_engine
from moodsic_desktop.core.backoff import RetryBackoff
from moodsic_desktop.core.settings_schema import aimed_at
from moodsic_desktop.perception.cameras import CameraDevice, is_camera_spec
from moodsic_desktop.perception.sources import FrameSource, SourceError, VideoFileSource, open_source
from moodsic_desktop.session.playback import PlaybackSession
from moodsic_desktop.session.snapshot import SessionSnapshot

log = logging.getLogger(__name__)

T = TypeVar("T")


class LatestSlot(Generic[T]):
    """A mailbox that holds only the newest item. ``put`` from one thread, ``take`` from another."""

    def __init__(self) -> None:
        self._item: T | None = None
        self._cond = threading.Condition()

    def put(self, item: T) -> bool:
        """Replace the held item; True when the slot was empty (the reader has taken the last one)."""
        with self._cond:
            was_empty = self._item is None
            self._item = item
            self._cond.notify()
            return was_empty

    def take(self, timeout: float | None = None) -> T | None:
        """The newest item (emptying the slot), waiting up to ``timeout`` seconds; None when none came."""
        with self._cond:
            if self._item is None and timeout:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item

    def clear(self) -> None:
        with self._cond:
            self._item = None


@dataclass(frozen=True)
class TimedFrame:
    """A frame for the pipeline: RGB uint8 image and the monotonic time (s) it was shown."""

    image: np.ndarray
    time_s: float


def to_qimage(rgb: np.ndarray) -> QImage:
    """A QImage that owns a copy of an RGB uint8 H x W x 3 array. Any thread (QImage is not a QPixmap)."""
    height, width = rgb.shape[:2]
    data = np.ascontiguousarray(rgb)
    return QImage(data.data, width, height, data.strides[0], QImage.Format.Format_RGB888).copy()


class ThreadWorker(QObject):
    """A worker for ``start_in_thread``: ``run`` (its loop, on the worker thread) emits ``finished()`` when it
    ends, whatever the reason. Construct on the GUI thread."""

    finished = Signal()

    def run(self) -> None:
        raise NotImplementedError


class CaptureWorker(ThreadWorker):
    """Reads one source (a camera spec, looked up in ``cameras()`` at each opening, or a video file path) until
    ``stop``.

    Signals: ``opened(description, fps)``; ``preview_ready()`` when the preview slot got a frame after
    being emptied (take it with ``preview.take()``); ``lost(message)`` when there is no picture but one may
    come back: a camera that cannot be opened or stops delivering, or a video file that is not there (an
    unplugged drive); the worker then tries again after 1 s, 2 s, 4 s … at most 30 s
    (``core.backoff.RetryBackoff``) and emits ``recovered()`` when pictures come again; ``failed(message)``
    for a source that cannot be read and will not get better by waiting (a damaged video file; the worker
    ends); ``ended()`` at the end of a file that does not loop.

    ``opener`` opens the source (default ``open_source`` with the cameras as they are now); ``wait(seconds)``
    waits between tries and returns True when the worker was stopped meanwhile (default: waits on the stop
    event); tests inject both. Construct on the GUI thread, then ``moveToThread``; ``run`` runs on the worker thread;
    ``stop`` from any thread.
    """

    opened = Signal(str, float)
    preview_ready = Signal()
    failed = Signal(str)
    lost = Signal(str)
    recovered = Signal()
    ended = Signal()

    def __init__(
        self,
        spec: str | int,
        loop: bool,
        frames: LatestSlot[TimedFrame],
        preview: LatestSlot[QImage],
        want_preview: Callable[[], bool] = lambda: True,
        *,
        cameras: Callable[[], Sequence[CameraDevice]] = tuple,
        opener: Callable[[], FrameSource] | None = None,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.cameras = cameras
        self.loop = loop
        self.frames = frames
        self.preview = preview
        self.want_preview = want_preview
        self._stop = threading.Event()
        self._opener = opener if opener is not None else self._open
        self._wait = wait if wait is not None else self._stop.wait
        self.is_camera = is_camera_spec(spec)
        self._source: FrameSource | None = None  # the source open now (set and cleared by the worker thread)

    def stop(self) -> None:
        """Ask the worker to end; it does within one frame. Any thread."""
        self._stop.set()

    def set_loop(self, loop: bool) -> None:
        """Whether a video file starts again at its end, from now on: the file open now too (the owner turned
        "Loop video" while it plays). Any thread: one attribute each, read by the capture thread at the end
        of the file."""
        self.loop = loop
        source = self._source
        if isinstance(source, VideoFileSource):
            source.loop = loop

    def _open(self) -> FrameSource:
        """Open the source; a camera is looked up by its id in ``cameras()`` as they are now."""
        return open_source(self.spec, loop=self.loop, cameras=self.cameras)

    def run(self) -> None:
        """The capture loop (worker thread)."""
        try:
            source = self._open_until_it_works(after_loss=False)
            if source is None:
                return
            self.opened.emit(source.description, float(source.fps or 0.0))
            while source is not None:
                try:
                    self._source = source
                    if isinstance(source, VideoFileSource):
                        source.loop = self.loop  # "Loop video" turned while it was being opened
                    gone = self._loop(source)
                finally:
                    self._source = None
                    source.close()
                if not gone:
                    return
                self.lost.emit("The camera stopped sending pictures.")
                source = self._open_until_it_works(after_loss=True)
        except Exception as error:  # never let a source kill the thread silently
            log.exception("capture worker failed")
            self.failed.emit(f"The video source failed: {error}")
        finally:
            self.finished.emit()

    def _may_come_back(self) -> bool:
        """Whether waiting may bring the picture back: a camera (plugged in again, freed by another
        program), or a video file that is not there (its drive unplugged); not a damaged file."""
        return self.is_camera or not Path(str(self.spec)).exists()

    def _open_until_it_works(self, after_loss: bool) -> FrameSource | None:
        """Open the source, trying again with back-off while it may come back; None when stopped or when
        it cannot (``failed`` was emitted). ``after_loss``: the picture was just lost (``lost`` emitted):
        wait before the first try. Success after a loss or a failed try emits ``recovered``."""
        backoff = RetryBackoff()
        tried_before = after_loss
        if after_loss and self._wait(backoff.next_delay()):
            return None
        while not self._stop.is_set():
            try:
                source = self._opener()
            except SourceError as error:
                if not self._may_come_back():
                    self.failed.emit(str(error))
                    return None
                if not tried_before:
                    self.lost.emit(f"No picture: {error}.")
                tried_before = True
                if self._wait(backoff.next_delay()):
                    return None
                continue
            if tried_before:
                self.recovered.emit()
            return source
        return None

    def _loop(self, source: FrameSource) -> bool:
        """Read and hand on frames until stopped (False), the end of a file (False, ``ended`` emitted) or a
        camera that stops delivering (True)."""
        start_wall: float | None = None
        start_video = 0.0
        while not self._stop.is_set():
            frame = source.read()
            if frame is None:
                if not self.is_camera:
                    self.ended.emit()
                    return False
                return True
            now = time.monotonic()
            if not self.is_camera:  # play files at their own speed
                if start_wall is None:
                    start_wall, start_video = now, frame.timestamp_s
                due = start_wall + (frame.timestamp_s - start_video)
                if due > now and self._stop.wait(due - now):
                    return False
                now = max(now, due)
            self.frames.put(TimedFrame(frame.image, now))
            if self.want_preview() and self.preview.put(to_qimage(frame.image)):
                self.preview_ready.emit()
        return False


class PipelineWorker(ThreadWorker):
    """A thin Qt loop around a ``PlaybackSession`` (see the module docstring).

    Commands (any thread) are queued and applied between frames, on the worker thread, as calls of the
    session's methods. The loop takes the newest frame, runs ``session.step``, and emits the snapshot.

    ``engine`` is the audio engine the settings aimed at it go to (``apply``).

    Signals: ``snapshot_ready(SessionSnapshot)`` after every step, and after commands whose events the GUI
    must hear of (a song chosen, a problem, a library switch, an export); ``finished()`` when the loop
    ended. The session outlives a worker: a restarted worker goes on with the same one.
    """

    snapshot_ready = Signal(SessionSnapshot)

    def __init__(
        self, session: PlaybackSession, frames: LatestSlot[TimedFrame], engine: AudioEngine | None = None
    ) -> None:
        super().__init__()
        self.session = session
        self.engine = engine  # where the engine's settings go (None: nowhere, as for a session without sound)
        self.frames = frames
        self._commands: queue.SimpleQueue[Callable[[], object]] = queue.SimpleQueue()
        self._stop = threading.Event()

    # -- commands: any thread ---------------------------------------------------------------------------
    def submit(self, command: Callable[[], object]) -> None:
        """Run ``command`` on the worker thread between frames (what it returns is dropped)."""
        self._commands.put(command)

    def apply(self, changes: Mapping[str, object]) -> None:
        """The owner's settings (values by ``core.settings_schema`` name), each to its targets: the engine's
        at once (its setters return at once; ``audio.engine_settings``), the session's queued for between
        frames (``PlaybackSession.apply``, which checks them; a value it refuses becomes a problem in the
        next snapshot). The window's own settings go no further. Any thread."""
        for_engine, for_session = aimed_at(changes, "engine"), aimed_at(changes, "session")
        if for_engine and self.engine is not None:
            apply_to_engine(self.engine, for_engine)
        if for_session:
            self.submit(lambda: self.session.apply(for_session))

    def new_source(self, description: str | None = None) -> None:
        """A new source starts: forget the readings of the last one (the music carries on)."""
        self.submit(lambda: self._new_source(description))

    def picture_lost(self) -> None:
        """The source says there is no picture: the music need not wait for a reading to start."""
        self.submit(self.session.picture_lost)

    def skip(self) -> None:
        self.submit(self.session.skip)

    def ban(self, song_id: str) -> None:
        """Never play ``song_id`` again; when it is the session's song, move on from it now."""
        self.submit(lambda: self.session.ban(song_id))

    def unban(self, song_id: str) -> None:
        """Let ``song_id`` play again (Undo of ``ban``)."""
        self.submit(lambda: self.session.unban(song_id))

    def export(self, path: Path) -> None:
        """Write the session report (JSON) to ``path``; the next snapshot's ``exported`` or ``problems``
        says how it went."""
        self.submit(lambda: self.session.export_report(path))

    def reload_library(self, index_path: Path) -> None:
        """The library index at ``index_path`` changed (the window's library tools): read it again, on the
        worker thread, and play from it (``PlaybackSession.reload_from_index``). Any thread."""
        self.submit(lambda: self.session.reload_from_index(index_path))

    @property
    def failures(self) -> int:
        """Steps that failed and restarted the pipeline (read for tests and diagnostics)."""
        return self.session.failures

    def stop(self) -> None:
        self._stop.set()

    # -- worker thread ----------------------------------------------------------------------------------
    def _new_source(self, description: str | None) -> None:
        self.frames.clear()
        self.session.new_source(description)

    def _drain_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                command()
            except Exception as error:
                log.exception("a pipeline command failed")
                self.session.report_problem(f"A command failed: {error}")

    def _hear_engine(self) -> None:
        """The engine's notices since the last round; one that fails is told as a problem, the others go on."""
        while True:
            try:
                self.session.hear_engine()
                return
            except Exception as error:  # that notice is spent: the rest are heard in the next turn
                log.exception("an audio engine notice failed")
                self.session.report_problem(f"A command failed: {error}")

    def run(self) -> None:
        """The loop (worker thread): commands, then the newest frame, until ``stop``."""
        try:
            while not self._stop.is_set():
                self._drain_commands()
                self._hear_engine()
                if self.session.has_events:  # told now, not after the next frame's step
                    self.snapshot_ready.emit(self.session.snapshot())
                frame = self.frames.take(timeout=0.05)
                if frame is None:  # the music goes on without a picture; the library may be back
                    self.session.step_without_picture()  # its news goes out at the top of the next round
                    continue
                self.snapshot_ready.emit(self.session.step(frame.image, frame.time_s))
        finally:
            self.session.close_index()  # SQLite objects stay on their thread; a new worker opens it again
            self.finished.emit()


_started_threads: list[QThread] = []


def start_in_thread(worker: ThreadWorker, name: str) -> QThread:
    """Move ``worker`` (created on the GUI thread) to a new QThread named ``name``, run its ``run`` there, and
    quit the thread when the worker emits ``finished``. A worker whose thread ended is not restarted: make a
    new one. GUI thread."""
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.finished.connect(thread.quit)
    _started_threads[:] = [t for t in _started_threads if t.isRunning()]
    _started_threads.append(thread)
    thread.start()
    return thread


def running_threads() -> list[str]:
    """Names of the QThreads started by ``start_in_thread`` that still run (tests check none is left)."""
    return [t.objectName() for t in _started_threads if t.isRunning()]
