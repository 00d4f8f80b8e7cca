"""Analysing many audio files in worker processes, so that no crash breaks an import and no worker outlives it.

- **A worker that dies is replaced.** At most ``workers`` files are in flight, so when a process dies (a
  crash in native code, the out-of-memory killer, a user's ``kill``) the files it may have held are known:
  each is tried once more alone, in a fresh process, and a file that stops that one too is reported as
  "could not be analysed"; the rest go on in a new pool.
- **Workers end with the import.** Each worker asks Linux to kill it when its parent dies
  (``PR_SET_PDEATHSIG``) and, on every system, watches the pipe to its parent and ends when it closes: a
  ``kill -9`` of an import leaves no worker (nor multiprocessing's resource tracker, which ends when the
  last process holding its pipe has gone).

Processes are started with "spawn" everywhere (the same on Linux as on Windows and macOS, and no fork of a
process that holds threads and open files). ``analyse_files`` blocks until done: call it from a worker
thread or the CLI, never from the GUI thread; its pool lives inside the call (Linux's parent-death signal
follows the thread that started a worker, which is the calling thread and outlives the pool).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from moodsic_desktop.audio.library.mood_features import MoodFeatures, analyse_quietly

log = logging.getLogger(__name__)

FILES_PER_PROCESS = 4
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOPPED_TWICE = "could not be analysed: the process analysing it stopped twice (a crash, or it was ended)"

Measure = Callable[[str], MoodFeatures | str]
"""What a worker does with one file (a picklable module-level function): its features, or why there are none."""


def default_workers() -> int:
    """Worker processes for ``analyse_files``: the CPU count, at most 8; 1 in a frozen build (where a
    process pool would need ``multiprocessing.freeze_support`` in the entry point)."""
    if getattr(sys, "frozen", False):
        return 1
    return max(1, min(8, os.cpu_count() or 1))


def end_with_parent() -> None:
    """In a child process: end it when its parent ends. On Linux the kernel sends SIGKILL
    (``PR_SET_PDEATHSIG``); everywhere, a daemon thread waits on the pipe to the parent
    (``multiprocessing.parent_process().sentinel``) and ends the process when it closes."""
    parent = multiprocessing.parent_process()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if parent is not None and parent.pid is not None and os.getppid() != parent.pid:
            os._exit(1)  # the parent ended before the signal was asked for
    if parent is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_start() -> None:
    """A pool worker's initializer: it ends with its parent."""
    end_with_parent()


def analyse_files(
    paths: Sequence[str | Path],
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    measure: Measure = analyse_quietly,
) -> list[MoodFeatures | str]:
    """Analyse many files, ``workers`` at a time in separate processes (default ``default_workers()``;
    1 analyses in this process; at least ``FILES_PER_PROCESS`` files per process, since each process
    spends a second or two loading numpy, scipy and the decoders first). Returns, in the order of
    ``paths``, each file's features or the reason it could not be analysed: one bad file, or one that
    crashes its process, never stops the others (module docstring). ``progress(done, total)`` is called on
    the calling thread after each file. ``measure`` is what is done with each file (tests give their own).
    An exception in this process (``KeyboardInterrupt`` too) cancels the files not yet started and is
    raised once the running ones finish. Blocks until done."""
    total = len(paths)
    results: list[MoodFeatures | str] = [""] * total
    workers = default_workers() if workers is None else max(1, int(workers))
    workers = min(workers, math.ceil(total / FILES_PER_PROCESS))
    done = 0

    def finished(index: int, result: MoodFeatures | str) -> None:
        nonlocal done
        results[index] = result
        done += 1
        if progress is not None:
            progress(done, total)

    if workers <= 1:
        for index, path in enumerate(paths):
            finished(index, measure(str(path)))
        return results
    todo = deque(range(total))
    while todo:
        for index in _run_pool(paths, todo, workers, measure, finished):
            finished(index, _run_alone(str(paths[index]), measure))
    return results


def _run_pool(
    paths: Sequence[str | Path],
    todo: deque[int],
    workers: int,
    measure: Measure,
    finished: Callable[[int, MoodFeatures | str], None],
) -> list[int]:
    """Analyse the files of ``todo`` (taking them from it) in a pool of ``workers`` processes, at most
    ``workers`` in flight; returns the files that were in flight when a worker died (the pool is then given
    up), else []."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_start) as pool:
        in_flight: dict[Future, int] = {}
        try:
            while todo or in_flight:
                while todo and len(in_flight) < workers:
                    index = todo.popleft()
                    in_flight[pool.submit(measure, str(paths[index]))] = index
                ready, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in ready:
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        log.warning("an analysis process stopped; its files are tried again, one at a time")
                        return sorted(in_flight.values())
                    except Exception as error:  # a file's own failure never stops the import
                        result = f"could not be analysed ({type(error).__name__}: {error})"
                    finished(in_flight.pop(future), result)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return []


def _run_alone(path: str, measure: Measure) -> MoodFeatures | str:
    """One file, once more, in a fresh process of its own; ``STOPPED_TWICE`` when that process dies too."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_worker_start) as pool:
        try:
            return pool.submit(measure, path).result()
        except BrokenProcessPool:
            log.warning("the analysis of %s stopped its process twice; it is left out", path)
            return STOPPED_TWICE
        except Exception as error:
            return f"could not be analysed ({type(error).__name__}: {error})"


__all__ = ["FILES_PER_PROCESS", "STOPPED_TWICE", "analyse_files", "default_workers", "end_with_parent"]
