"""The engine's notices reach the session without Qt: ``EngineNotices`` queues them on the engine's worker
thread and the session acts on them on its own thread (``hear_engine``), in the engine's order."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import soundfile as sf

from moodsic_desktop.audio.listener import EngineListeners
from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.pipeline import Pipeline
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.session.engine_notices import EngineNotices
from moodsic_desktop.session.playback import PlaybackSession
from tests.audio.engine_rig import RATE, Recorder, Rig
from tests.session.test_playback import FRAME, Clock, SceneReader

A, B = Song("a", SongMood(0.0, 0.0)), Song("b", SongMood(0.0, 0.0))


class Heard:
    """Records what the notices asked for, and on which thread."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.threads: set[str] = set()
        self.on_played = lambda: None

    def _log(self, *call: str) -> None:
        self.threads.add(threading.current_thread().name)
        self.calls.append(call)

    def song_ending(self, after: Song | None) -> None:
        self._log("ending", after.song_id if after else "-")

    def song_played(self, song: Song) -> None:
        self._log("played", song.song_id)
        self.on_played()

    def song_failed(self, song: Song, reason: str) -> None:
        self._log("failed", song.song_id, reason)


def from_engine_thread(action) -> None:
    """Run ``action`` on a thread named as the engine's worker, and wait for it."""
    thread = threading.Thread(target=action, name="moodsic-audio")
    thread.start()
    thread.join(30.0)  # a guard against hanging, not a timing requirement
    assert not thread.is_alive(), "a notice waited on the session's thread"


def test_notices_wait_for_the_owner_thread_and_come_in_the_engines_order():
    notices, heard, answers = EngineNotices(), Heard(), []

    def engine() -> None:
        notices.song_started(A)
        notices.song_failed(B, "not audio")
        answers.append(notices.next_song(A, 3.0))

    from_engine_thread(engine)
    assert heard.calls == [] and answers == [None]  # nothing reaches the session on the engine's thread
    assert notices.deliver(heard) == 3
    assert heard.calls == [("played", "a"), ("failed", "b", "not audio"), ("ending", "a")]
    assert heard.threads == {threading.current_thread().name}
    assert notices.deliver(heard) == 0


def test_the_engine_never_waits_while_the_session_acts_on_a_notice():
    notices, heard = EngineNotices(), Heard()
    notices.song_started(A)
    # while the session is busy with the first notice, the engine sends another: it must not wait for it
    heard.on_played = lambda: from_engine_thread(lambda: notices.next_song(A, 2.0))
    assert notices.deliver(heard) == 2
    assert heard.calls == [("played", "a"), ("ending", "a")]


def test_a_notice_that_fails_is_spent_and_the_others_wait():
    notices, heard = EngineNotices(), Heard()

    def broken(song: Song, reason: str) -> None:
        raise RuntimeError("broken")

    heard.song_failed = broken  # type: ignore[method-assign]
    notices.song_failed(B, "not audio")
    notices.song_started(A)
    try:
        notices.deliver(heard)
    except RuntimeError:
        pass
    else:
        raise AssertionError("the failure was swallowed")
    assert heard.calls == []
    assert notices.deliver(heard) == 1 and heard.calls == [("played", "a")]


def tone(path: Path, freq: float, seconds: float) -> Path:
    t = np.arange(round(seconds * RATE)) / RATE
    sf.write(str(path), np.repeat(0.5 * np.sin(2 * np.pi * freq * t)[:, None], 2, axis=1), RATE, subtype="PCM_16")
    return path


def test_a_real_engine_tells_the_session_a_start_an_end_and_a_failure(tmp_path):
    broken = tmp_path / "b.wav"
    broken.write_bytes(b"not audio at all" * 100)
    songs = [
        Song("a", SongMood(0.5, 0.5), title="A", path=tone(tmp_path / "a.wav", 500.0, 2.0), duration_s=2.0),
        Song("b", SongMood(0.45, 0.45), title="B", path=broken, duration_s=2.0),  # the next nearest: it fails
        Song("c", SongMood(-0.5, -0.5), title="C", path=tone(tmp_path / "c.wav", 900.0, 2.0), duration_s=2.0),
    ]
    library = MusicLibrary(songs=songs, origin="test folder", stations=None)
    notices, recorder = EngineNotices(), Recorder()
    rig = Rig(listener=EngineListeners(notices, recorder), crossfade_s=0.5, decode_margin_s=0.5)  # type: ignore[arg-type]
    try:
        pipeline = Pipeline(None, None, SceneReader(), Stabilizer(alpha=1.0, tau=1.0), Matcher(songs, min_dwell_s=0.0))
        session = PlaybackSession(pipeline, library, audio=rig.engine, clock=Clock(), notices=notices)
        assert session.step(FRAME, 0.0).decisions[0].song.song_id == "a"
        rig.ready()
        rig.pull(0.1)
        assert [e[1] for e in recorder.named("song_started")] == ["a"]
        assert pipeline.matcher.current_started_at == 0.0  # not heard yet: it waits for the session's thread
        assert session.hear_engine() == 1
        assert pipeline.matcher.current_started_at == 1000.0  # "song started": the dwell counts from the clock

        rig.pull(1.0, step_s=0.1)  # a's end is near: the engine asks for the next song
        assert recorder.named("next_song") and session.snapshot().decisions == ()
        assert session.hear_engine() == 1
        assert [d.song.song_id for d in session.snapshot().decisions] == ["b"]  # queued
        rig.ready()  # b fails to decode: "song failed", then "song ending" again for a
        assert [e[1] for e in recorder.named("song_failed")] == ["b"]
        assert session.hear_engine() == 2
        snapshot = session.snapshot()
        assert snapshot.skipped and snapshot.skipped[0].startswith("Skipped “B”")
        assert [d.song.song_id for d in snapshot.decisions] == ["c"] and pipeline.matcher.is_banned("b")
        rig.pull(2.0, step_s=0.1)
        assert [e[1] for e in recorder.named("song_started")] == ["a", "c"]
        assert recorder.threads == {"moodsic-audio"}
    finally:
        rig.engine.close()
