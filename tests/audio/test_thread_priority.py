"""The sound's threads ask to run first: what each platform is asked, the fallbacks when the system refuses,
and on this Linux machine that what a thread claims to have got is what the kernel says it has."""

from __future__ import annotations

import errno
import os
import sys
import threading

import pytest

from moodsic_desktop.audio.thread_priority import (
    AUDIO_NICE,
    AUDIO_RT_PRIORITY,
    WORKER_NICE,
    OsCalls,
    Promotion,
    describe_threads,
    promote_audio_thread,
    promote_sound_client_threads,
    promote_worker_thread,
)


class FakeCalls:
    """Records the calls; ``refuse`` names the ones that fail with EPERM."""

    def __init__(self, *, refuse: tuple[str, ...] = (), nice: int = 0, windows_ok: bool = True) -> None:
        self.refuse = refuse
        self.start_nice = nice
        self.nices: dict[int, int] = {}
        self.windows_ok = windows_ok
        self.calls: list[tuple] = []

    def _maybe_refuse(self, name: str) -> None:
        if name in self.refuse:
            raise PermissionError(errno.EPERM, "Operation not permitted")

    def thread_id(self) -> int:
        return 4242

    def set_fifo(self, priority: int, thread_id: int = 0) -> None:
        self.calls.append(("fifo", priority) if thread_id == 0 else ("fifo", priority, thread_id))
        self._maybe_refuse("fifo")

    def set_nice(self, thread_id: int, nice: int) -> None:
        self.calls.append(("nice", thread_id, nice))
        self._maybe_refuse("nice")
        self.nices[thread_id] = nice

    def get_nice(self, thread_id: int) -> int:
        return self.nices.get(thread_id, self.start_nice)

    def set_windows_priority(self, priority: int) -> bool:
        self.calls.append(("windows", priority))
        return self.windows_ok


def test_linux_audio_thread_asks_for_real_time_first():
    calls = FakeCalls()
    got = promote_audio_thread("linux", calls)
    assert calls.calls == [("fifo", AUDIO_RT_PRIORITY)]
    assert got == Promotion(True, f"real-time (SCHED_FIFO, priority {AUDIO_RT_PRIORITY})")


def test_linux_audio_thread_falls_back_to_nice_then_to_nothing():
    calls = FakeCalls(refuse=("fifo",))
    got = promote_audio_thread("linux", calls)
    assert calls.calls == [("fifo", AUDIO_RT_PRIORITY), ("nice", 4242, AUDIO_NICE)]
    assert got.raised and got.words.startswith(f"nice {AUDIO_NICE}; real-time refused")

    calls = FakeCalls(refuse=("fifo", "nice"))
    got = promote_audio_thread("linux", calls)
    assert not got.raised
    assert "normal priority" in got.words and "not permitted" in got.words


def test_linux_worker_gets_a_lower_nice_value_never_real_time():
    calls = FakeCalls()
    assert promote_worker_thread("linux", calls) == Promotion(True, f"nice {WORKER_NICE}")
    assert calls.calls == [("nice", 4242, WORKER_NICE)]
    already = FakeCalls(nice=-15)  # already lower than asked: left as it is
    assert promote_worker_thread("linux", already) == Promotion(True, "nice -15")
    assert already.calls == []


def test_windows_sets_the_thread_priority_and_says_when_refused():
    calls = FakeCalls()
    assert promote_audio_thread("win32", calls) == Promotion(True, "time-critical thread priority")
    assert promote_worker_thread("win32", calls) == Promotion(True, "above normal thread priority")
    assert calls.calls == [("windows", 15), ("windows", 1)]
    refused = promote_audio_thread("win32", FakeCalls(windows_ok=False))
    assert refused == Promotion(False, "normal priority (time-critical refused)")


def test_macos_leaves_coreaudio_its_own_real_time_thread():
    calls = FakeCalls()
    assert promote_audio_thread("darwin", calls).raised
    assert not promote_worker_thread("darwin", calls).raised
    assert calls.calls == []


def test_the_words_name_every_thread_and_what_it_got():
    assert (
        describe_threads(None, [], None) == "sound thread: not playing through a device; decoding thread: not started"
    )
    sound, client, worker = (
        Promotion(True, "real-time"),
        Promotion(True, "threaded-ml: nice -10"),
        Promotion(False, "x"),
    )
    assert describe_threads(sound, [client], worker) == (
        "sound thread: real-time; threaded-ml: nice -10; decoding thread: x"
    )


def test_a_broken_system_call_never_escapes():
    class Broken(FakeCalls):
        def set_fifo(self, priority: int, thread_id: int = 0) -> None:
            raise RuntimeError("no scheduler here")

    got = promote_audio_thread("linux", Broken())
    assert got == Promotion(False, "normal priority (no scheduler here)")


def test_the_sound_libraries_client_threads_are_found_by_name_and_promoted(tmp_path):
    for tid, name in ((100, "python"), (101, "threaded-ml"), (102, "moodsic-audio"), (103, "threaded-ml")):
        (tmp_path / str(tid)).mkdir()
        (tmp_path / str(tid) / "comm").write_text(name + "\n")
    (tmp_path / "104").mkdir()  # a thread that ended while the folder was read: no comm file
    calls = FakeCalls()
    got = promote_sound_client_threads("linux", calls, tasks=tmp_path)
    assert calls.calls == [("fifo", AUDIO_RT_PRIORITY, 101), ("fifo", AUDIO_RT_PRIORITY, 103)]
    assert [p.words for p in got] == [f"threaded-ml: real-time (SCHED_FIFO, priority {AUDIO_RT_PRIORITY})"] * 2
    refused = FakeCalls(refuse=("fifo",))
    got = promote_sound_client_threads("linux", refused, tasks=tmp_path)
    assert [c for c in refused.calls if c[0] == "nice"] == [("nice", 101, AUDIO_NICE), ("nice", 103, AUDIO_NICE)]
    assert all(p.raised for p in got)
    assert promote_sound_client_threads("win32", FakeCalls(), tasks=tmp_path) == []
    assert promote_sound_client_threads("linux", FakeCalls(), tasks=tmp_path / "missing")[0].raised is False


@pytest.mark.skipif(sys.platform != "linux", reason="the real Linux scheduler calls")
def test_what_a_real_thread_claims_is_what_the_kernel_says():
    seen: dict[str, object] = {}
    own_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def audio() -> None:
        got = promote_audio_thread()
        seen["audio"] = (got, os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    def worker() -> None:
        got = promote_worker_thread()
        seen["worker"] = (got, os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    for target in (audio, worker):
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    got, policy, nice = seen["audio"]
    if "SCHED_FIFO" in got.words:
        assert policy == os.SCHED_FIFO
    elif got.raised:
        assert policy == os.SCHED_OTHER and nice <= AUDIO_NICE
    else:
        assert policy == os.SCHED_OTHER
    got, nice = seen["worker"]
    assert (nice <= WORKER_NICE) == got.raised
    # only the promoted threads change: the calling (test) thread is left as it was
    assert os.sched_getscheduler(0) == os.SCHED_OTHER
    assert OsCalls().get_nice(threading.get_native_id()) == own_nice
