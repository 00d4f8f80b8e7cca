"""Special files for the tests of "only regular files": a FIFO that cannot hang a test, a private device node."""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def fifo_that_cannot_hang(path: Path) -> Iterator[Path]:
    """Make a FIFO at ``path`` for the block. Code that (wrongly) opens it for reading would wait forever for
    a writer; a helper thread plays that writer while the block runs (it opens the FIFO for writing, without
    blocking, whenever a reader is there, and closes it at once), so such code reads an empty file and
    returns instead of hanging the test, and the test's checks then fail as they should."""
    os.mkfifo(path)
    done = threading.Event()

    def writer() -> None:
        while not done.wait(0.05):
            try:
                handle = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader (ENXIO): nobody is waiting
                continue
            os.close(handle)

    thread = threading.Thread(target=writer, name="fifo-writer", daemon=True)
    thread.start()
    try:
        yield path
    finally:
        done.set()
        thread.join()


def private_null_device(path: Path) -> Path | None:
    """A character device node at ``path`` with ``/dev/null``'s numbers (``mknod``, needs root), or None
    when this process may not make one."""
    null = os.stat("/dev/null")
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, null.st_rdev)
    except (PermissionError, AttributeError):
        return None
    return path
