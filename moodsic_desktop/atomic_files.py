"""Files written whole: every file the program writes is, at any moment, either the old file or the new
one, never half of either (a crash, a full disk or a power cut mid-write leaves the old file).

How: the new content goes to a temporary file beside the target (``.NAME.RANDOM.part``: the same folder,
so the same file system; a name no other file has, made with ``O_EXCL``), is flushed to the disk
(``fsync``), takes the permissions of the file it replaces (a new file: the usual ones, 0666 less the
umask, as ``open`` gives; ``mkstemp``'s private 0600 is not wanted for a report or a setting), and then
takes the target's name in one ``os.replace`` (atomic on POSIX and on NTFS). On POSIX the folder is
flushed too, so that the rename itself survives a power cut. On any failure the temporary file is removed
and the target is left as it was.

- ``write_bytes`` / ``write_text``: content in memory.
- ``replacing``: a context manager giving the temporary path, for a library that writes to a file name
  itself (soundfile, numpy, onnx) or for content checked before it takes the name (a converted model).
- ``put_in_place``: a file finished elsewhere beside the target (a resumed download's ``.part``) takes
  the target's name the same way.

A target that exists and is not a regular file (a FIFO, a device, a folder) is refused with
``NotARegularFileError`` before anything is written (``regular_files``). A folder that does not exist
is not made (the callers that want one make it): ``FileNotFoundError`` naming the target. Every
``OSError`` names the target, not the temporary file. (The ``atomicwrites`` package did this once; it is
no longer maintained.)

Foundation: imports no other part of the program but ``regular_files``; any thread (two threads writing
the same target: the last rename wins, each file whole).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from moodsic_desktop.regular_files import check_output_path

NEW_FILE_MODE = 0o666  # before the umask, as open() creates files
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace ``path`` whole with ``data`` (see the module docstring). Returns ``path`` as a ``Path``.
    Raises ``OSError`` (``NotARegularFileError``, ``FileNotFoundError`` for a missing folder)."""
    with replacing(path) as temporary:
        temporary.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Replace ``path`` whole with ``text`` in ``encoding`` (text mode: ``\\n`` becomes the platform's line
    end, as ``Path.write_text`` does). Returns ``path`` as a ``Path``; raises as :func:`write_bytes`."""
    with replacing(path) as temporary:
        temporary.write_text(text, encoding=encoding)
    return Path(path)


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a new, empty temporary file beside ``path`` to write ``path``'s new content to (by any means;
    it may be written over or truncated). When the block ends normally the file replaces ``path`` (see
    :func:`put_in_place`); when it raises, the temporary file is removed, ``path`` is untouched and the
    exception goes on."""
    target = Path(path)
    check_output_path(target)
    temporary = _create_beside(target)
    try:
        yield temporary
        put_in_place(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def put_in_place(finished: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Give the complete file ``finished`` (in ``path``'s folder) the name ``path`` in one rename, after
    flushing it to the disk and giving it the permissions of the file it replaces (none there: it keeps
    its own). ``finished`` is left where it is when this raises. Returns ``path`` as a ``Path``."""
    target = Path(path)
    try:
        with open(finished, "r+b") as file:  # written for the flush: Windows commits only writable handles
            os.fsync(file.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(finished, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(finished, target)
    except OSError as error:
        raise _naming(error, target) from None
    _flush_folder(target.parent)
    return target


def _create_beside(target: Path) -> Path:
    """A new, empty file with a name no other file has, hidden, in ``target``'s folder."""
    for _ in range(100):
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            os.close(os.open(temporary, _CREATE_FLAGS, NEW_FILE_MODE))
        except FileExistsError:
            continue
        except FileNotFoundError:
            message = f"cannot write it: the folder {target.parent} does not exist"
            raise FileNotFoundError(errno.ENOENT, message, str(target)) from None
        except OSError as error:
            raise _naming(error, target) from None
        return temporary
    raise FileExistsError(errno.EEXIST, "no free temporary name beside it", str(target))


def _naming(error: OSError, target: Path) -> OSError:
    """``error`` again, about ``target`` (a message about a hidden temporary file would puzzle anyone)."""
    if error.errno is None:
        return error
    return type(error)(error.errno, error.strerror, str(target))


def _flush_folder(folder: Path) -> None:
    """Flush the folder's entries (the rename) to the disk; POSIX only, and only where it can be done."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


__all__ = ["NEW_FILE_MODE", "put_in_place", "replacing", "write_bytes", "write_text"]
