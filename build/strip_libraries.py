"""Strip the symbol tables of the frozen app's Linux libraries, keeping only the copies the loader accepts.

``strip --strip-unneeded`` drops symbols that nothing links against (about 45 MB of the bundle: libpython
alone carries 16 MB of them). But GNU strip rewrites a library's layout, and a library that auditwheel
repaired with patchelf (numpy's, scipy's and OpenCV's OpenBLAS, and others in ``*.libs`` folders) can come
out with a load segment whose file offset no longer matches its address modulo the page size: the dynamic
loader then refuses it ("ELF load command address/offset not page-aligned"), which broke the frozen
self-test when everything was stripped. So each library is stripped into a scratch copy, the copy's
program headers are read, and it replaces the original only when every loadable segment is aligned as
the loader demands (``load_segments_aligned``); otherwise the original stays, and is named.

Linux only (ELF, GNU binutils' ``strip``); plain Python otherwise, so ``tests/test_build_app.py`` checks it
without building. Called by ``build_app.py`` after PyInstaller; any thread.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
PT_LOAD = 1
PAGE = 4096
"""The page size the loader checks offsets against (x86-64 Linux; a larger ``p_align`` is checked too)."""


@dataclass
class StripResult:
    """What ``strip_bundle`` did: bytes saved, the libraries stripped, and those kept whole (with why)."""

    saved_bytes: int = 0
    stripped: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)


def is_elf(path: Path) -> bool:
    """True for a regular file (not a link) that starts with the ELF magic number."""
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as file:
        return file.read(4) == ELF_MAGIC


def load_segments(data: bytes) -> list[tuple[int, int, int]]:
    """``(offset, virtual address, alignment)`` of each ``PT_LOAD`` segment of a 64-bit little-endian ELF
    file's bytes; raises ``ValueError`` for anything else."""
    if data[:4] != ELF_MAGIC or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    segments = []
    for k in range(phnum):
        kind, _, offset, address, _, _, _, align = struct.unpack_from("<IIQQQQQQ", data, phoff + k * phentsize)
        if kind == PT_LOAD:
            segments.append((offset, address, align))
    return segments


def load_segments_aligned(path: Path) -> bool:
    """Whether every loadable segment of the ELF file ``path`` has its address and file offset equal modulo
    the page size and its alignment (the loader's check), and an alignment that is a whole number of pages."""
    try:
        segments = load_segments(path.read_bytes())
    except (ValueError, struct.error):
        return False
    for offset, address, align in segments:
        if (address - offset) % PAGE or (align > 1 and ((address - offset) % align or align % PAGE)):
            return False
    return bool(segments)


def strip_bundle(root: Path, strip: str | None = None) -> StripResult:
    """Strip every ELF file under ``root`` in place where the stripped copy is smaller and loads (see the
    module docstring). ``strip``: the strip program (default: ``strip`` on the PATH); raises
    ``FileNotFoundError`` when there is none."""
    program = strip or shutil.which("strip")
    if program is None:
        raise FileNotFoundError("strip is not installed (Debian: apt install binutils)")
    result = StripResult()
    with tempfile.TemporaryDirectory(prefix="moodsic-strip-") as scratch:
        copy = Path(scratch) / "stripped"
        for path in sorted(p for p in root.rglob("*") if is_elf(p)):
            name = path.relative_to(root).as_posix()
            copy.unlink(missing_ok=True)
            done = subprocess.run(
                [program, "--strip-unneeded", "-o", str(copy), str(path)], capture_output=True, text=True, check=False
            )
            if done.returncode != 0 or not copy.is_file():
                result.kept[name] = f"strip failed: {done.stderr.strip()[:200]}"
                continue
            saved = path.stat().st_size - copy.stat().st_size
            if saved <= 0:
                continue
            if not load_segments_aligned(copy):
                result.kept[name] = "stripped, its load segments would not be page-aligned"
                continue
            mode = path.stat().st_mode
            shutil.copyfile(copy, path)
            os.chmod(path, mode)
            result.saved_bytes += saved
            result.stripped.append(name)
    return result


__all__ = ["StripResult", "is_elf", "load_segments", "load_segments_aligned", "strip_bundle"]
