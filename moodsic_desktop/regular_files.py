"""Only regular files are read or replaced: a named pipe (FIFO), a device or a socket given where a file is
expected is refused with a plain message, never opened.

Opening a FIFO for reading waits until something writes to it (the program would hang: a ``settings.json``
made a FIFO kept the window from ever appearing), reading a device reads whatever it produces, and writing a
report over ``/dev/null`` as root would replace the system's. So:

- ``read_regular_bytes``: opens without blocking (``O_NONBLOCK``, so a FIFO cannot hang the open), checks the
  *opened* file (``fstat``: no gap between check and use), then reads it whole.
- ``check_regular_file``: for a file another library opens (OpenCV, SQLite): checks the path; the library's
  own open comes after, so a file swapped in between is not caught (a hostile act, not a mistake).
- ``check_output_path``: an output may be new or a regular file, never anything else.

Foundation: imports no other part of the program; any thread.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


class NotARegularFileError(OSError):
    """A path that is something other than a regular file (``kind`` says what, in plain words); the message
    names the path and the kind."""

    def __init__(self, path: str | Path, kind: str, doing: str = "") -> None:
        self.path = Path(path)
        self.kind = kind
        super().__init__(f"{self.path} is {kind}, not a regular file{doing}")

    def __str__(self) -> str:
        return str(self.args[0])


def kind_of(mode: int) -> str:
    """What a file of ``st_mode`` ``mode`` is, in plain words ("a regular file", "a named pipe (FIFO)", …)."""
    if stat.S_ISREG(mode):
        return "a regular file"
    for test, words in _KINDS:
        if test(mode):
            return words
    return "a special file"


def check_regular_file(path: str | Path) -> None:
    """Raise ``NotARegularFileError`` when ``path`` (its target, for a symbolic link) is not a regular file,
    ``FileNotFoundError`` (or another ``OSError``) when it cannot be looked at."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotARegularFileError(path, kind_of(mode))


def check_output_path(path: str | Path) -> None:
    """Raise ``NotARegularFileError`` when ``path`` exists (its target, for a symbolic link) and is not a
    regular file: an output is written only where nothing is, or over a regular file."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # nothing there (or nothing to look at): the write itself says what is wrong
    if not stat.S_ISREG(mode):
        raise NotARegularFileError(path, kind_of(mode), "; choose another file to write")


def read_regular_bytes(path: str | Path) -> bytes:
    """The whole content of the regular file ``path``. Opened without blocking and checked once open:
    raises ``NotARegularFileError`` for a FIFO, device, socket or folder (without waiting on it), and
    ``OSError`` when the file cannot be opened or read."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        handle = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise NotARegularFileError(path, "a folder") from None
    try:
        mode = os.fstat(handle).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFileError(path, kind_of(mode))
        if hasattr(os, "set_blocking"):
            os.set_blocking(handle, True)
        with os.fdopen(handle, "rb", closefd=True) as file:
            handle = -1
            return file.read()
    finally:
        if handle >= 0:
            os.close(handle)


__all__ = ["NotARegularFileError", "check_output_path", "check_regular_file", "kind_of", "read_regular_bytes"]
