"""Numba's cache of compiled code for librosa: a folder of its own for every process, so imports cannot break.

librosa compiles its kernels with numba on first use and keeps the machine code in a cache folder. That
cache is not safe for processes that write it at once: three first imports together (or one import's two
workers) crashed with a segmentation fault and left an index that names the wrong code, so that every later
import crashed too (issue 19). So:

- ``claim_numba_cache()``: a process that runs librosa first takes a cache folder of its own,
  ``numba_root()/slot-N`` (the first N whose lock file it can lock; the lock lasts as long as the process
  and goes with it however it ends), and points ``NUMBA_CACHE_DIR`` at it before numba is loaded. No two
  processes ever write one folder.
- The seed, ``numba_root()/seed``: compiled once, in one process, before an import's workers start
  (``analysis_pool.warm_up``), while that process holds the seed's lock (a second import waits, then finds
  it ready). A new slot starts as a copy of a ready seed, so a first import compiles once, not once per
  worker.

``numba_root()`` is ``paths.cache_dir()/numba``, the program's own cache folder (``MOODSIC_CACHE_DIR`` moves
it), never a shared temporary one; a ``NUMBA_CACHE_DIR`` set by the user is replaced. Any thread; the lock
calls wait only where they say so.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import IO

from moodsic_desktop.paths import cache_dir

log = logging.getLogger(__name__)

SLOT_LIMIT = 64
"""Slots tried before a process falls back to a fresh temporary folder of its own."""
READY_FILE = "ready"
LOCK_SUFFIX = ".lock"

_claimed: list[tuple[Path, IO[bytes] | None]] = []  # this process's folder and the lock that keeps it (one entry)


def numba_root() -> Path:
    """The folder of the seed and the slots."""
    return cache_dir() / "numba"


def _lock(path: Path, wait: bool) -> IO[bytes] | None:
    """An exclusive lock on the file ``path`` (made when missing), held while the returned file stays open;
    None when another process holds it and ``wait`` is False."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+b")
    try:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except OSError:
        handle.close()
        return None
    return handle


def versions() -> str:
    """What the compiled code depends on: numba's and librosa's versions and Python's."""
    found = []
    for name in ("numba", "librosa"):
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} ?")
    return ", ".join([*found, f"python {sys.version_info[0]}.{sys.version_info[1]}"])


def seed_is_ready(root: Path) -> bool:
    """Whether the seed holds the kernels compiled by these versions (``mark_seed_ready``)."""
    with contextlib.suppress(OSError):
        return (root / "seed" / READY_FILE).read_text(encoding="utf-8") == versions()
    return False


@contextlib.contextmanager
def seed_lock(root: Path) -> Iterator[Path]:
    """The seed folder, locked for this process for the block (waits while another process holds it)."""
    handle = _lock(root / f"seed{LOCK_SUFFIX}", wait=True)
    try:
        yield root / "seed"
    finally:
        if handle is not None:
            handle.close()


def mark_seed_ready(seed: Path) -> None:
    """Inside ``seed_lock``: the kernels are compiled into ``seed``."""
    (seed / READY_FILE).write_text(versions(), encoding="utf-8")


def empty_seed(seed: Path) -> None:
    """Inside ``seed_lock``: remove what a crashed compilation may have left half-written."""
    shutil.rmtree(seed, ignore_errors=True)


def _seed_slot(root: Path, slot: Path) -> None:
    """Start an empty ``slot`` as a copy of a ready seed (nothing when the seed is not ready)."""
    if any(slot.rglob("*.nbi")) or not seed_is_ready(root):
        return
    with seed_lock(root) as seed:
        if seed_is_ready(root):
            shutil.copytree(seed, slot, dirs_exist_ok=True, ignore=shutil.ignore_patterns(READY_FILE))


def use_numba_cache(folder: Path) -> None:
    """Make ``folder`` this process's numba cache (the warm-up process, which compiles into the seed while
    it holds the seed's lock); instead of ``claim_numba_cache``, before librosa is first imported."""
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    _claimed[:] = [(folder, None)]


def claim_numba_cache(root: Path | None = None) -> Path:
    """This process's own numba cache folder (see the module docstring), claimed on the first call and kept
    for the life of the process; sets ``NUMBA_CACHE_DIR``. Call before librosa is first imported (later,
    numba keeps the folder it was loaded with). Never raises: when no slot can be made, a fresh temporary
    folder of this process's own is used."""
    if _claimed:
        return _claimed[0][0]
    root = root if root is not None else numba_root()
    if "numba" in sys.modules:
        log.warning("numba was loaded before its cache folder was chosen; its cache may be shared")
    folder, handle = None, None
    with contextlib.suppress(OSError):
        for number in range(SLOT_LIMIT):
            handle = _lock(root / f"slot-{number}{LOCK_SUFFIX}", wait=False)
            if handle is not None:
                folder = root / f"slot-{number}"
                folder.mkdir(parents=True, exist_ok=True)
                break
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="moodsic-numba-"))
    else:
        try:
            _seed_slot(root, folder)
        except OSError as error:
            log.warning("numba cache %s not seeded (%s): it compiles for itself", folder, error)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    _claimed[:] = [(folder, handle)]
    return folder


__all__ = [
    "claim_numba_cache",
    "empty_seed",
    "mark_seed_ready",
    "numba_root",
    "seed_is_ready",
    "seed_lock",
    "use_numba_cache",
    "versions",
]
