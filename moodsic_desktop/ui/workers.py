"""The two worker threads of the window: capture (read and pace frames) and pipeline (run the models).

Capture worker (QThread "moodsic-capture"): opens the source, reads frames, paces video files in real
time, and hands each frame on through two ``LatestSlot``s: one for the preview, one for the pipeline.
A slot keeps only the newest item, so neither the preview nor the pipeline ever works through a backlog:
the preview never waits on inference.

Pipeline worker (QThread "moodsic-pipeline"): takes the newest frame, runs ``Pipeline.process`` (the same
object ``moodsic analyze`` drives), tells the audio engine what to play, and publishes the steps for the
GUI. Settings and commands (α, τ, dwell, skip, ban, "song ending", "song failed") reach it through a
thread-safe command queue; they are applied between frames. It runs for the whole life of the window, so
the music keeps being chosen while no source runs. A ``LibraryGuard`` tells it when the library's files
have gone (the built-in station plays meanwhile) and when they are back.

Both are QObjects moved to their threads; they stop on an event, emit small typed signals, and never
touch widgets. Camera frames stay in memory: nothing here writes them anywhere.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtGui import QImage

from moodsic_desktop.core.library import Song
from moodsic_desktop.core.matcher import Decision
from moodsic_desktop.core.pipeline import Pipeline, StepRecord
from moodsic_desktop.core.report import SessionReport, session_settings
from moodsic_desktop.session.library_guard import LibraryGuard

if TYPE_CHECKING:
    from moodsic_desktop.core.library import MusicLibrary

log = logging.getLogger(__name__)

T = TypeVar("T")
CAMERA_RETRY_S = 2.0
MAX_PENDING_STEPS = 600
SUMMARY_PERIOD_S = 1.0


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


class CaptureWorker(QObject):
    """Reads one source (a camera index or a video file path) until ``stop``.

    Signals: ``opened(description, fps)``; ``preview_ready()`` when the preview slot got a frame after
    being emptied (take it with ``preview.take()``); ``failed(message)`` for a source that cannot be
    opened or read (the worker ends); ``lost(message)`` when a camera stops delivering (it retries every
    ``CAMERA_RETRY_S``) and ``recovered()`` when it delivers again; ``ended()`` at the end of a file
    that does not loop. Construct on the GUI thread, then ``moveToThread``; ``run`` runs on the worker
    thread; ``stop`` from any thread.
    """

    opened = Signal(str, float)
    preview_ready = Signal()
    failed = Signal(str)
    lost = Signal(str)
    recovered = Signal()
    ended = Signal()
    finished = Signal()

    def __init__(
        self,
        spec: str | int,
        loop: bool,
        frames: LatestSlot[TimedFrame],
        preview: LatestSlot[QImage],
        want_preview: Callable[[], bool] = lambda: True,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.loop = loop
        self.frames = frames
        self.preview = preview
        self.want_preview = want_preview
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask the worker to end; it does within one frame. Any thread."""
        self._stop.set()

    def _open(self):
        from moodsic_desktop.perception.sources import open_source

        return open_source(self.spec, loop=self.loop)

    def run(self) -> None:
        """The capture loop (worker thread)."""
        from moodsic_desktop.perception.sources import SourceError

        try:
            try:
                source = self._open()
            except SourceError as error:
                self.failed.emit(str(error))
                return
            self.opened.emit(source.description, float(source.fps or 0.0))
            is_camera = isinstance(self.spec, int) or str(self.spec).isdigit()
            try:
                self._loop(source, is_camera)
            finally:
                source.close()
        except Exception as error:  # never let a source kill the thread silently
            log.exception("capture worker failed")
            self.failed.emit(f"The video source failed: {error}")
        finally:
            self.finished.emit()

    def _loop(self, source, is_camera: bool) -> None:
        from moodsic_desktop.perception.sources import SourceError

        start_wall: float | None = None
        start_video = 0.0
        while not self._stop.is_set():
            frame = source.read()
            if frame is None:
                if not is_camera:
                    self.ended.emit()
                    return
                self.lost.emit("The camera stopped sending pictures; trying again…")
                source.close()
                while not self._stop.wait(CAMERA_RETRY_S):
                    try:
                        source = self._open()
                    except SourceError:
                        continue
                    self.recovered.emit()
                    break
                continue
            now = time.monotonic()
            if not is_camera:  # play files at their own speed
                if start_wall is None:
                    start_wall, start_video = now, frame.timestamp_s
                due = start_wall + (frame.timestamp_s - start_video)
                if due > now and self._stop.wait(due - now):
                    return
                now = max(now, due)
            self.frames.put(TimedFrame(frame.image, now))
            if self.want_preview() and self.preview.put(to_qimage(frame.image)):
                self.preview_ready.emit()


class PipelineWorker(QObject):
    """Runs the pipeline on the newest frame and drives the audio engine (see the module docstring).

    Signals: ``steps_ready()`` when steps are waiting (take them with ``take_steps``); ``song_chosen(
    Decision)`` when the matcher chose a song to play; ``problem(message)`` when a step failed (the
    worker resets the pipeline and goes on); ``song_skipped(message)`` when a song could not be played;
    ``library_switched(MusicLibrary, message)`` when songs now come from another library (the guard's
    fallback, or the user's library again). Commands (any thread) are queued and applied between frames.
    ``guard`` outlives a worker: a restarted worker goes on with the same one.
    """

    steps_ready = Signal()
    song_chosen = Signal(object)
    problem = Signal(str)
    song_skipped = Signal(str)
    library_switched = Signal(object, str)
    exported = Signal(str)
    finished = Signal()

    def __init__(
        self,
        pipeline: Pipeline,
        frames: LatestSlot[TimedFrame],
        engine,
        report: SessionReport,
        guard: LibraryGuard,
    ) -> None:
        super().__init__()
        self.pipeline = pipeline
        self.guard = guard
        self.index_path = guard.library.index_path
        self._index = None  # LibraryIndex, opened on this worker's thread (sqlite objects stay on theirs)
        self.frames = frames
        self.engine = engine
        self.report = report
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._steps: deque[StepRecord] = deque(maxlen=MAX_PENDING_STEPS)
        self._steps_lock = threading.Lock()
        self._now = time.monotonic()
        self._summary_time = -math.inf
        self.metrics_summary: dict = self.report.metrics.summary()  # refreshed about once a second
        self.failures = 0
        self._last_mood: tuple[float, float] | None = None  # the last stabilised V-A (reference space)

    # -- commands: any thread ---------------------------------------------------------------------------
    def submit(self, command: Callable[[], None]) -> None:
        """Run ``command`` on the worker thread between frames."""
        self._commands.put(command)

    def set_alpha(self, alpha: float) -> None:
        self.submit(lambda: setattr(self.pipeline.stabilizer, "alpha", alpha))

    def set_tau(self, tau: float) -> None:
        self.submit(lambda: setattr(self.pipeline.stabilizer, "tau", tau))

    def set_dwell(self, seconds: float) -> None:
        self.submit(lambda: setattr(self.pipeline.matcher, "min_dwell_s", seconds))

    def set_mode(self, mode: str) -> None:
        self.submit(lambda: setattr(self.pipeline.matcher, "mode", mode))

    def set_fusion(self, fusion: str) -> None:
        self.submit(lambda: setattr(self.pipeline.settings, "fusion_mode", fusion))

    def new_source(self) -> None:
        """A new source starts: forget the readings of the last one (the music carries on)."""
        self.submit(self._new_source)

    def skip(self) -> None:
        self.submit(lambda: self._play(self.pipeline.skip(self._now)))

    def ban_current(self) -> None:
        """Never play the current song again, and move on from it now."""
        self.submit(self._ban_current)

    def song_failed(self, song: Song, reason: str) -> None:
        """The engine could not decode ``song``: never choose it again in this session, play another one,
        and switch to the built-in station when the library itself is gone."""
        self.submit(lambda: self._song_failed(song, reason))

    def song_played(self, song: Song) -> None:
        """The engine started ``song``: add it to the library's play history."""
        self.submit(lambda: self._song_played(song))

    def song_ending(self, after: Song | None) -> None:
        """The engine says ``after`` (the song playing) ends soon: choose the next one and queue it."""
        self.submit(lambda: self._song_ending(after))

    def export(self, path: Path) -> None:
        """Write the session report (JSON) to ``path``; ``exported`` or ``problem`` says how it went."""
        self.submit(lambda: self._export(path))

    def stop(self) -> None:
        self._stop.set()

    def take_steps(self) -> list[StepRecord]:
        """The steps published since the last call, oldest first. GUI thread."""
        with self._steps_lock:
            steps = list(self._steps)
            self._steps.clear()
        return steps

    # -- worker thread ----------------------------------------------------------------------------------
    def _new_source(self) -> None:
        self.frames.clear()
        self.pipeline.reset()

    def _ban_current(self) -> None:
        current = self.pipeline.matcher.current
        if current is not None:
            self.pipeline.matcher.ban(current.song_id)
            self._with_index("remember the ban", lambda index: index.ban(current.song_id))
            self._play(self.pipeline.skip(self._now))

    def _with_index(self, what: str, action: Callable) -> None:
        """Run ``action(index)`` on the library index, if the songs came from one; a failure is reported, and
        the music goes on."""
        if self.index_path is None:
            return
        from moodsic_desktop.audio.library.index import LibraryIndex
        from moodsic_desktop.audio.library.reports import LibraryIndexError

        try:
            if self._index is None:
                self._index = LibraryIndex(self.index_path, create=False)
            action(self._index)
        except (LibraryIndexError, KeyError, OSError) as error:
            log.warning("could not %s in the library index: %s", what, error)
            self.problem.emit(f"Could not {what} in the music library ({error}); the music goes on.")

    def _song_ending(self, after: Song | None) -> None:
        current = self.pipeline.matcher.current
        if current is None or after is None or after.song_id != current.song_id:
            return  # the song ending is not the matcher's: a switch or a replacement is already on its way
        decision = self.pipeline.song_ended(self._now)
        self.engine.queue_next(decision.song)
        self.song_chosen.emit(decision)

    def _song_played(self, song: Song) -> None:
        self.guard.song_started()
        self.pipeline.matcher.started(song.song_id, max(self._now, time.monotonic()))  # dwell from now
        if self.guard.owns(song):  # not the built-in songs that play while the library is lost
            self._with_index("record the play", lambda index: index.record_play(song.song_id))

    def _song_failed(self, song: Song, reason: str) -> None:
        matcher = self.pipeline.matcher
        if matcher.has_song(song.song_id):
            matcher.ban(song.song_id)
        lost = self.guard.song_failed(song, time.monotonic())
        if lost is not None:
            self.library_switched.emit(self.guard.fallback, lost)
            self._use_library(self.guard.fallback)
            return
        if self.guard.lost and self.guard.owns(song):
            return  # a library song still on its way fails while the library is lost: nothing new to say
        self.song_skipped.emit(f"Skipped “{song.title or song.song_id}”: {reason}")
        if self.guard.given_up:
            self.problem.emit(
                "No song could be played, not even the built-in station; the music stops until you skip, "
                "the mood changes, or the library is back."
            )
            return
        current = matcher.current
        if current is None or current.song_id != song.song_id:
            return
        # the song chosen to play failed: the next best, after the song playing if that is ending anyway
        decision = self.pipeline.song_ended(self._now)
        remaining = self.engine.remaining_s
        if remaining is not None and remaining <= self.engine.notice_s + 1.0:
            self.engine.queue_next(decision.song)
            self.song_chosen.emit(decision)
        else:
            self._play(decision)

    def _check_library(self) -> None:
        """While the library is lost: switch back once its files are there again."""
        if not self.guard.check_back(time.monotonic()):
            return
        library = self.guard.library
        if self.guard.parked_matcher is not None:
            for song_id in self.guard.files_back():
                self.guard.parked_matcher.unban(song_id)
        self._use_library(library)
        self.library_switched.emit(library, f"The music library is back: playing from the {library.origin} again.")

    def _use_library(self, library: MusicLibrary) -> None:
        """Choose songs from ``library`` from now on (its matcher keeps its history and bans across
        switches), and play its best song for the mood now."""
        matcher = self.pipeline.matcher
        if library is self.guard.library:  # back: the parked matcher, with the sliders' settings of now
            target, self.guard.parked_matcher = self.guard.parked_matcher, None
            assert target is not None, "the library's matcher is parked while the fallback plays"
            for name, value in matcher.settings().items():
                setattr(target, name, value)
        else:
            self.guard.parked_matcher, target = matcher, matcher.sibling(library.songs, library.stations)
        target.release_current()
        mood = self._last_mood
        self.pipeline.matcher = target
        decision = target.song_ended(self._now, *mood) if mood is not None else target.song_ended(self._now)
        why = "the library is back" if library is self.guard.library else f"the library is lost: the {library.origin}"
        nearest = f"nearest song in {decision.station}" if decision.station else "nearest song"
        self._play(replace(decision, reason=f"{why}: {nearest}"))

    def _export(self, path: Path) -> None:
        self.report.settings.update(
            session_settings(self.pipeline, self.report.settings.get("video", ""), self.report.settings["library"])
        )
        try:
            self.report.write(path)
        except OSError as error:
            self.problem.emit(f"Could not export the session to {path}: {error}")
        else:
            self.exported.emit(str(path))

    def _play(self, decision: Decision) -> None:
        """Crossfade to the chosen song (from silence the engine fades it in)."""
        self.engine.crossfade_to(decision.song)
        self.song_chosen.emit(decision)

    def _publish(self, step: StepRecord) -> None:
        if step.time - self._summary_time >= SUMMARY_PERIOD_S or step.time < self._summary_time:
            # the session's metrics, read here on the owner thread and handed over whole (one assignment)
            self.metrics_summary = self.report.metrics.summary()
            self._summary_time = step.time
        with self._steps_lock:
            was_empty = not self._steps
            self._steps.append(step)
        if was_empty:
            self.steps_ready.emit()

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
                self.problem.emit(f"A command failed: {error}")

    def run(self) -> None:
        """The pipeline loop (worker thread): commands, then the newest frame, until ``stop``."""
        try:
            while not self._stop.is_set():
                self._drain_commands()
                if self.guard.lost:
                    self._check_library()
                frame = self.frames.take(timeout=0.05)
                if frame is None:
                    self._now = max(self._now, time.monotonic())
                    continue
                self._now = frame.time_s
                try:
                    step = self.pipeline.process(frame.image, frame.time_s)
                except Exception as error:
                    self.failures += 1
                    log.exception("the pipeline failed on a frame; restarting it")
                    self.problem.emit(f"The mood reading failed ({error}); it restarted and goes on.")
                    self.pipeline.reset()
                    continue
                self.report.add(step)
                if step.stabilized is not None:
                    self._last_mood = (step.stabilized.valence, step.stabilized.arousal)
                decision = step.decision
                if decision is not None and decision.switched:
                    self._play(decision)
                self._publish(step)
        finally:
            if self._index is not None:
                self._index.close()
                self._index = None
            self.finished.emit()


_started_threads: list[QThread] = []


def start_in_thread(worker: QObject, name: str) -> QThread:
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
