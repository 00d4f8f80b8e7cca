"""The capture and pipeline workers on their own threads, with scripted sources and a session over fakes."""

from __future__ import annotations

import contextlib
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.perception.sources import Frame, SourceError
from moodsic_desktop.session.snapshot import SessionSnapshot
from moodsic_desktop.ui.workers import CaptureWorker, LatestSlot, PipelineWorker, TimedFrame, start_in_thread
from tests.session.test_playback import FakeAudio, make_session, make_songs


class ScriptedCamera:
    """A camera that delivers ``frames`` frames and then stops (returns None), like one unplugged."""

    description = "scripted camera"
    fps = 30.0

    def __init__(self, frames: int) -> None:
        self.left = frames
        self.closed = False

    def read(self) -> Frame | None:
        if self.left <= 0:
            return None
        self.left -= 1
        time.sleep(1 / self.fps)  # a camera delivers at its own rate
        return Frame(np.zeros((4, 4, 3), np.uint8), timestamp_s=0.0, index=0)

    def close(self) -> None:
        self.closed = True


def test_latest_slot_keeps_only_the_newest():
    slot: LatestSlot[int] = LatestSlot()
    assert slot.put(1) is True
    assert slot.put(2) is False  # the reader had not taken 1: it is replaced, not queued
    assert slot.take() == 2
    assert slot.take(timeout=0.01) is None


def test_vanished_camera_is_retried_and_recovers(qtbot):
    attempts = iter([ScriptedCamera(5), SourceError("camera 0 cannot be opened"), ScriptedCamera(10**9)])

    def open_next():
        item = next(attempts)
        if isinstance(item, Exception):
            raise item
        return item

    frames: LatestSlot = LatestSlot()
    events: list[str] = []
    worker = CaptureWorker(0, False, frames, LatestSlot(), opener=open_next, wait=lambda seconds: time.sleep(0.01))
    worker.lost.connect(lambda text: events.append("lost: " + text))
    worker.recovered.connect(lambda: events.append("recovered"))
    worker.failed.connect(lambda text: events.append("failed: " + text))
    thread = start_in_thread(worker, "moodsic-capture")
    try:
        qtbot.waitUntil(lambda: "recovered" in events, timeout=10_000)
        assert events[0].startswith("lost: The camera stopped sending pictures")
        assert not any(e.startswith("failed") for e in events)
        frames.take()
        qtbot.waitUntil(lambda: frames.take() is not None, timeout=10_000)  # pictures flow again
    finally:
        worker.stop()
        thread.quit()
        thread.wait()


def test_unopenable_source_fails_with_its_message(qtbot, tmp_path):
    events: list[str] = []
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(b"\0" * 4096)
    worker = CaptureWorker(str(damaged), False, LatestSlot(), LatestSlot())
    worker.failed.connect(events.append)
    thread = start_in_thread(worker, "moodsic-capture")
    qtbot.waitUntil(lambda: bool(events), timeout=10_000)
    thread.wait()
    assert "damaged.mp4" in events[0]


@pytest.mark.parametrize("loop", [False, True])
def test_video_file_is_paced_and_ends_or_loops(qtbot, tmp_path, loop):
    from tests.ui.conftest import write_mood_video

    video = write_mood_video(tmp_path / "short.mp4", seconds_per_mood=0.5, fps=20.0)  # 1 s, 20 frames
    frames: LatestSlot = LatestSlot()
    seen: list[float] = []
    ended: list[bool] = []
    worker = CaptureWorker(str(video), loop, frames, LatestSlot())
    worker.ended.connect(lambda: ended.append(True))
    thread = start_in_thread(worker, "moodsic-capture")
    try:

        def fifteen_seen() -> bool:
            frame = frames.take(timeout=0.01)
            if frame is not None:
                seen.append(frame.time_s)
            return len(seen) >= 15

        qtbot.waitUntil(fifteen_seen, timeout=10_000)
        # frames come at the file's own speed: 15 frames of a 20 fps file take about 0.7 s, not a burst
        assert seen[-1] - seen[0] > 0.4
        if loop:
            qtbot.wait(800)
            assert not ended
        else:
            qtbot.waitUntil(lambda: bool(ended), timeout=10_000)
    finally:
        worker.stop()
        thread.quit()
        thread.wait()


@contextlib.contextmanager
def stepping_worker(qtbot):
    """A pipeline worker on its own thread over a test session that has stepped one frame: yields the worker,
    its session, the session's fake audio and the snapshots it emitted; stops the thread at the end."""
    audio = FakeAudio()
    session = make_session(MusicLibrary(songs=make_songs(None), origin="test", stations=None), audio)
    frames: LatestSlot[TimedFrame] = LatestSlot()
    worker = PipelineWorker(session, frames)
    snapshots: list[SessionSnapshot] = []
    worker.snapshot_ready.connect(snapshots.append, Qt.ConnectionType.DirectConnection)
    thread = start_in_thread(worker, "moodsic-pipeline-test")
    try:
        frames.put(TimedFrame(np.zeros((8, 8, 3), np.uint8), 1.0))
        qtbot.waitUntil(lambda: any(s.step is not None for s in snapshots), timeout=5000)
        yield worker, session, audio, snapshots
    finally:
        worker.stop()
        thread.quit()
        assert thread.wait(5000)


def test_pipeline_worker_steps_the_session_and_emits_its_snapshots(qtbot):
    with stepping_worker(qtbot) as (worker, _session, audio, snapshots):
        first = next(s for s in snapshots if s.step is not None).decisions[0].song.song_id
        worker.apply({"min_dwell_s": 33.0})
        worker.skip()  # a command without a frame: its snapshot comes all the same
        qtbot.waitUntil(lambda: any(s.step is None and s.decisions for s in snapshots), timeout=5000)
        skipped_to = next(s for s in snapshots if s.step is None and s.decisions).decisions[0].song.song_id
        assert skipped_to != first and audio.calls[-1] == ("crossfade", skipped_to)
        assert snapshots[-1].min_dwell_s == 33.0


def test_pipeline_worker_hears_the_engines_notices_and_tells_one_that_fails(qtbot):
    with stepping_worker(qtbot) as (_worker, session, audio, snapshots):
        first = next(s for s in snapshots if s.step is not None).decisions[0].song

        def broken(song):
            raise RuntimeError("broken notice")

        session.song_played = broken  # the next "song started" fails on the worker's thread
        session.notices.song_started(first)  # as the engine's worker thread does
        session.notices.song_failed(first, "not audio")  # heard all the same, after the one that failed
        qtbot.waitUntil(lambda: any(s.skipped for s in snapshots), timeout=5000)
        told = [s for s in snapshots if s.problems or s.skipped]
        assert any(s.problems == ("A command failed: broken notice",) for s in told)
        skipped = next(s for s in told if s.skipped)
        assert skipped.skipped == (f"Skipped “{first.title}”: not audio",)
        replacement = skipped.decisions[0].song
        assert replacement != first and audio.calls[-1] == ("crossfade", replacement.song_id)
