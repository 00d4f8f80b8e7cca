"""Asking the operating system to run the sound's threads first, so that busy cores do not silence it.

Why: the audio callback runs Python and the engine's worker decodes songs ahead of the callback; both are
ordinary threads. On a loaded PC (every core busy, ``benchmarks/bench_steady_sound.py``'s ``cpu`` stress)
they waited for a core long enough to empty a 0.5 s output buffer: 7 underflows and silences of 1.5-2.1 s
in 3 minutes. With the callback's thread and the sound library's client thread real-time (``SCHED_FIFO``)
the same stress gave no underflow (the sound server being real-time too, as a desktop's is).

What each platform gets (each call says what it got, in words, for the log and Diagnostics):

* **Linux**: the audio thread asks for ``SCHED_FIFO`` at ``AUDIO_RT_PRIORITY`` (low: below the sound
  servers' own real-time threads, PulseAudio's 5 by default and PipeWire's 88, yet above every ordinary
  thread). The kernel allows it to root, to users with
  ``RLIMIT_RTPRIO`` (Debian/Ubuntu's ``audio`` group with ``/etc/security/limits.d/audio.conf``; ``ulimit
  -r``), and to holders of ``CAP_SYS_NICE``. Otherwise, and for the worker, a lower nice value
  (``AUDIO_NICE``/``WORKER_NICE``) as far as ``RLIMIT_NICE`` allows (``ulimit -e``; usually not at all),
  else the thread stays as it was. The kernel's real-time throttling (``sched_rt_runtime_us``, 95 % by
  default) keeps a stuck callback from freezing the machine. (PulseAudio and PipeWire clients written in C
  ask rtkit over D-Bus instead; that needs ``RLIMIT_RTTIME`` set on the whole process, whose overrun kills
  a Python process with ``SIGXCPU``, so it is not done here.)
* **Windows**: ``SetThreadPriority`` (``THREAD_PRIORITY_TIME_CRITICAL`` for the audio thread,
  ``THREAD_PRIORITY_ABOVE_NORMAL`` for the worker), which any process may do in its own normal priority
  class. PortAudio's WASAPI back end also registers its thread with MMCSS ("Audio") by itself.
* **macOS**: nothing: CoreAudio's IO thread, which runs the callback, is real-time already; the worker
  stays as it is.

On Linux the sound often leaves the process through one more thread: the ALSA "pulse" plugin hands it to
PulseAudio's client thread (``threaded-ml``), which writes to the sound server. Starved, it empties the
server's buffer just as a late callback would, so ``promote_sound_client_threads`` gives it what the audio
thread gets. PipeWire's clients make their own data thread real-time.

Call ``promote_audio_thread`` on the audio thread (its first callback: it makes one or two system calls and
never waits) and ``promote_worker_thread`` on the engine's worker thread. ``platform`` is ``sys.platform``'s
value, a parameter so that tests can choose it; ``calls`` are the system calls (tests pass fakes).
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

AUDIO_RT_PRIORITY = 4
"""``SCHED_FIFO`` priority of the audio thread on Linux (1-99; higher runs first): under the sound server's."""
AUDIO_NICE = -10
"""Nice value asked for the audio thread when real-time is refused (-20..19; lower runs first)."""
WORKER_NICE = -5
"""Nice value asked for the engine's worker thread (it decodes ahead of the callback)."""

_WINDOWS_TIME_CRITICAL = 15
_WINDOWS_ABOVE_NORMAL = 1


class PriorityCalls(Protocol):
    """The system calls used (Linux and Windows); ``OsCalls`` makes the real ones."""

    def thread_id(self) -> int: ...
    def set_fifo(self, priority: int, thread_id: int = 0) -> None: ...
    def set_nice(self, thread_id: int, nice: int) -> None: ...
    def get_nice(self, thread_id: int) -> int: ...
    def set_windows_priority(self, priority: int) -> bool: ...


class OsCalls:
    """The real system calls. Linux ones raise ``OSError`` when refused."""

    def thread_id(self) -> int:
        return threading.get_native_id()

    def set_fifo(self, priority: int, thread_id: int = 0) -> None:
        # On Linux, pid 0 means the calling thread, not the whole process; a thread id means that thread.
        os.sched_setscheduler(thread_id, os.SCHED_FIFO, os.sched_param(priority))  # type: ignore[attr-defined,unused-ignore]

    def set_nice(self, thread_id: int, nice: int) -> None:
        os.setpriority(os.PRIO_PROCESS, thread_id, nice)  # type: ignore[attr-defined,unused-ignore]

    def get_nice(self, thread_id: int) -> int:
        return int(os.getpriority(os.PRIO_PROCESS, thread_id))  # type: ignore[attr-defined,unused-ignore]

    def set_windows_priority(self, priority: int) -> bool:
        import ctypes

        kernel32: Any = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
        return bool(kernel32.SetThreadPriority(kernel32.GetCurrentThread(), priority))


@dataclass(frozen=True)
class Promotion:
    """What a thread got: ``raised`` says whether it now runs before ordinary threads; ``words`` says how
    (for the log and Diagnostics)."""

    raised: bool
    words: str


def promote_audio_thread(platform: str = sys.platform, calls: PriorityCalls | None = None) -> Promotion:
    """Audio thread only: real-time where allowed, else a lower nice value, else nothing. Never raises."""
    try:
        return _promote_audio(platform, calls or OsCalls())
    except Exception as error:  # the sound matters more than its priority
        return Promotion(False, f"normal priority ({error})")


def promote_worker_thread(platform: str = sys.platform, calls: PriorityCalls | None = None) -> Promotion:
    """The engine's worker thread only: above ordinary threads where allowed. Never raises."""
    try:
        return _promote_worker(platform, calls or OsCalls())
    except Exception as error:
        return Promotion(False, f"normal priority ({error})")


SOUND_CLIENT_THREADS = ("threaded-ml",)
"""Names (``/proc/self/task/*/comm``) of the sound library threads that carry the sound out of the process."""


def promote_sound_client_threads(
    platform: str = sys.platform, calls: PriorityCalls | None = None, tasks: Path = Path("/proc/self/task")
) -> list[Promotion]:
    """Linux: give the sound library's client threads (``SOUND_CLIENT_THREADS``) of this process what the
    audio thread gets; one ``Promotion`` per thread found. Any thread but the audio thread (it reads
    ``/proc``); call it after an output opened. Never raises."""
    if platform != "linux":
        return []
    calls = calls or OsCalls()
    found: list[Promotion] = []
    try:
        for task in sorted(tasks.iterdir()):
            try:
                name = (task / "comm").read_text().strip()
            except OSError:  # the thread ended meanwhile
                continue
            if name in SOUND_CLIENT_THREADS:
                found.append(_promote_other(calls, int(task.name), name))
    except Exception as error:
        found.append(Promotion(False, f"sound client threads left as they were ({error})"))
    return found


def _promote_other(calls: PriorityCalls, thread: int, name: str) -> Promotion:
    try:
        calls.set_fifo(AUDIO_RT_PRIORITY, thread)
        return Promotion(True, f"{name}: real-time (SCHED_FIFO, priority {AUDIO_RT_PRIORITY})")
    except OSError:
        try:
            if calls.get_nice(thread) > AUDIO_NICE:
                calls.set_nice(thread, AUDIO_NICE)
            return Promotion(True, f"{name}: nice {calls.get_nice(thread)}")
        except OSError as refused:
            return Promotion(False, f"{name}: normal priority ({refused.strerror or refused})")


def _promote_audio(platform: str, calls: PriorityCalls) -> Promotion:
    if platform == "darwin":
        return Promotion(True, "real-time (CoreAudio's own thread)")
    if platform == "win32":
        return _windows(calls, _WINDOWS_TIME_CRITICAL, "time-critical")
    try:
        calls.set_fifo(AUDIO_RT_PRIORITY)
        return Promotion(True, f"real-time (SCHED_FIFO, priority {AUDIO_RT_PRIORITY})")
    except OSError as refused:
        fallback = _lower_nice(calls, AUDIO_NICE)
        return Promotion(fallback.raised, f"{fallback.words}; real-time refused ({refused.strerror or refused})")


def _promote_worker(platform: str, calls: PriorityCalls) -> Promotion:
    if platform == "darwin":
        return Promotion(False, "normal priority")
    if platform == "win32":
        return _windows(calls, _WINDOWS_ABOVE_NORMAL, "above normal")
    return _lower_nice(calls, WORKER_NICE)


def describe_threads(sound: Promotion | None, clients: list[Promotion], worker: Promotion | None) -> str:
    """What the sound thread, the sound library's client threads and the engine's worker got, in words."""
    return (
        f"sound thread: {sound.words if sound is not None else 'not playing through a device'}"
        + "".join(f"; {client.words}" for client in clients)
        + f"; decoding thread: {worker.words if worker is not None else 'not started'}"
    )


def _lower_nice(calls: PriorityCalls, nice: int) -> Promotion:
    thread = calls.thread_id()
    try:
        if calls.get_nice(thread) <= nice:
            return Promotion(True, f"nice {calls.get_nice(thread)}")
        calls.set_nice(thread, nice)
        return Promotion(True, f"nice {nice}")
    except OSError as refused:
        return Promotion(False, f"normal priority (nice {nice} refused: {refused.strerror or refused})")


def _windows(calls: PriorityCalls, priority: int, name: str) -> Promotion:
    try:
        if calls.set_windows_priority(priority):
            return Promotion(True, f"{name} thread priority")
    except (OSError, AttributeError) as refused:
        return Promotion(False, f"normal priority ({name} refused: {refused})")
    return Promotion(False, f"normal priority ({name} refused)")
