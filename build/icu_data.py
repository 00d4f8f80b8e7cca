"""The Linux bundle's ICU data cut down to what an English-only program needs.

Qt's ``libicudata.so.NN`` (30.5 MiB for ICU 73) holds nothing but ICU's "common data" package, exported as
the symbol ``icudtNN_dat`` and found by ``libicuuc.so.NN`` through it. Qt calls ICU only for case mapping
(``u_strToUpper``/``u_strToLower``), collation (``ucol_*``), time-zone ids and names (``ucal_*``) and text
converters asked for by name (``ucnv_*``); the program shows English only and asks Qt for none of a
legacy encoding, a collator or a time-zone name. So the build keeps, by this rule (``is_kept``):

* everything that is not tied to one language: normalisation (``*.nrm``), converter aliases
  (``cnvalias.icu``), supplemental data, likely subtags, the time-zone rules and ids (``zoneinfo64``,
  ``metaZones``, ``timezoneTypes``, ``windowsZones``, ``zone/tzdbNames``), every tree's ``pool.res`` and
  ``res_index.res``, the collation root and ``coll/ucadata.icu``, the break rules (``brkitr/*.brk``),
  character names, StringPrep profiles;
* in every locale tree (the top level, ``coll``, ``zone``, ``lang``, ``region``, ``curr``, ``unit``, ``rbnf``,
  ``brkitr``), only ``root``, ``en`` and ``en_*``: any other language falls back to the root data, as ICU
  does for a language it has no data for (collation in root order, names from root). The kept
  ``res_index.res`` files still list every language (ICU's lists of available locales, which Qt does not
  ask for);

and drops:

* the conversion tables (``*.cnv``, 4.9 MiB): Qt needs them only when asked for a legacy encoding by name
  (``QStringDecoder("Shift-JIS")``), which the program never does; UTF-8/16/32, Latin-1 and US-ASCII are
  built into ICU's code and Qt's, so they keep working; a table-based name then gives an invalid decoder
  instead of a wrong text;
* the break dictionaries (``brkitr/*.dict``: Chinese/Japanese, Thai, Lao, Khmer, Burmese word breaks), and
  the transliteration tree (``translit/``), which Qt does not use.

What is left (4.2 MiB of ICU 73's 30.5, 698 of 3921 items) is written as a package with ``icupkg``
(Debian: icu-devtools), assembled into a library with the same soname that exports the same symbol (GNU
``as`` and ``ld``), and proved in a subprocess (``check_libraries``: this file run as a script) before it
replaces the bundle's copy: a failing check leaves the original in place. ``python build/icu_data.py check
FOLDER`` runs the check on a folder holding ``libicudata``/``libicuuc``/``libicui18n``.

Linux only (ELF, binutils); called by ``build_app.py`` after ``strip``, and by ``tests/test_icu_data.py``
through ``reduce_library``; any thread.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOOLS = ("icupkg", "as", "ld")
"""The programs the reduction needs (Debian: icu-devtools, binutils)."""
KEPT_LANGUAGE = "en"
DROPPED_SUFFIXES = (".cnv", ".dict")
DROPPED_TREES = ("translit",)
LOCALE_ID = re.compile(r"[a-z]{2,3}(_[A-Z][a-z]{3})?(_[A-Z0-9]*)*")
"""An ICU locale id as the data's file names spell it: a 2–3 letter language (``en``, ``yue``), an optional
script (``_Latn``), then upper-case regions and variants, maybe empty (``_US``, ``_001``, ``_POSIX``,
``de_``). ``root``, ``pool``, ``res_index`` and the language-independent bundles (``supplementalData``)
do not match."""
ALLOWED_MISSING = (".dict",)
"""Dropped items that kept ones may still name: ICU breaks a script without its dictionary (Thai, Khmer…)
as it does any script it has no dictionary for."""
DATA_SYMBOL = re.compile(rb"icudt(\d+)_dat")
COLLATED = ["Äpfel", "apple", "Apple", "resume", "résumé", "zebra"]
"""Words in the root collation's order (English and German alike): accents and case matter only after the
letters, lower case first; a plain code-point sort would give ``Apple < apple < resume < résumé < zebra < Äpfel``."""
UCAL_GREGORIAN = 1
UCAL_STANDARD = 0
"""``UCalendarType`` and ``UCalendarDisplayNameType`` values (ICU's ucal.h)."""
SHT_DYNSYM = 11
CHECK_TIMEOUT_S = 120.0
DATA_ALIGNMENT = 16
"""ICU reads its data in place and needs it aligned to 16 bytes."""


class IcuDataError(Exception):
    """The reduction or its check failed; the message says which step and why."""


@dataclass
class Reduction:
    """What ``reduce_library`` made: sizes in bytes, the items kept and dropped, and the check's lines."""

    original_bytes: int
    reduced_bytes: int
    kept: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    @property
    def saved_bytes(self) -> int:
        return self.original_bytes - self.reduced_bytes


def missing_tools() -> list[str]:
    """The programs of ``TOOLS`` not on the PATH."""
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def is_kept(item: str) -> bool:
    """Whether the package item ``item`` (``coll/de.res``, ``ibm-1047_P100-1995.cnv``, ``zoneinfo64.res``,
    as ``icupkg -l`` names them) stays in the English-only data (the rule of the module docstring)."""
    tree, _, name = item.rpartition("/")
    if tree in DROPPED_TREES or name.endswith(DROPPED_SUFFIXES):
        return False
    stem, _, suffix = name.rpartition(".")
    if suffix != "res" or not LOCALE_ID.fullmatch(stem):
        return True
    return stem == KEPT_LANGUAGE or stem.startswith(KEPT_LANGUAGE + "_")


# ---- the data inside the library


def data_symbol(library: bytes) -> tuple[str, int, int]:
    """``(name, file offset, size)`` of the ``icudtNN_dat`` symbol in the dynamic symbol table of a 64-bit
    little-endian ELF library's bytes; raises ``IcuDataError`` when it is not there."""
    if library[:4] != b"\x7fELF" or library[4] != 2 or library[5] != 1:
        raise IcuDataError("not a 64-bit little-endian ELF library")
    (shoff,) = struct.unpack_from("<Q", library, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", library, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", library, shoff + k * shentsize) for k in range(shnum)]
    for _, kind, _, _, offset, size, link, _, _, entsize in sections:
        if kind != SHT_DYNSYM:
            continue
        strings_offset = sections[link][4]
        for start in range(offset, offset + size, entsize):
            name_at, _, _, section, value, length = struct.unpack_from("<IBBHQQ", library, start)
            end = library.index(b"\0", strings_offset + name_at)
            name = library[strings_offset + name_at : end]
            if DATA_SYMBOL.fullmatch(name) and 0 < section < shnum:
                _, _, _, address, holder_offset, _, _, _, _, _ = sections[section]
                return name.decode(), holder_offset + value - address, length
    raise IcuDataError("no icudtNN_dat symbol in the library's dynamic symbols: not ICU's data library")


def soname(library: Path) -> str:
    """The library's file name as the loader knows it (``libicudata.so.73``): the name up to the major version."""
    match = re.fullmatch(r"(libicudata\.so\.\d+)(\.[\d.]+)?", library.name)
    if match is None:
        raise IcuDataError(f"{library.name} is not named like ICU's data library (libicudata.so.NN)")
    return match.group(1)


def package_name(symbol: str) -> str:
    """The package's name inside the data (``icudt73l``: little-endian, ASCII), which its table of contents
    prefixes every item with; ``icupkg`` wants the file named so."""
    return symbol.removesuffix("_dat") + "l"


def extract_package(library: Path, folder: Path) -> tuple[str, Path]:
    """Write the library's data package into ``folder``; returns the symbol's name and the package file."""
    data = library.read_bytes()
    symbol, offset, size = data_symbol(data)
    blob = data[offset : offset + size]
    if len(blob) != size or blob[2:4] != b"\xda\x27" or blob[12:16] != b"CmnD" or blob[8] != 0:
        raise IcuDataError(f"{symbol} in {library.name} is not a little-endian ICU common-data package")
    package = folder / f"{package_name(symbol)}.dat"
    package.write_bytes(blob)
    return symbol, package


def run_tool(command: list[str], what: str) -> str:
    """Run a build tool; returns its output, raises ``IcuDataError`` naming ``what`` failed."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise IcuDataError(f"{what} failed ({command[0]}, exit status {done.returncode}): {done.stderr.strip()[-800:]}")
    return done.stdout


def reduce_package(package: Path, reduced: Path) -> tuple[list[str], list[str]]:
    """Write ``reduced``: ``package`` without the items ``is_kept`` refuses; returns (kept, dropped) names.
    ``icupkg`` checks that every kept item's parents, aliases and pool bundles are still there; the only
    missing items accepted are the break dictionaries that ``brkitr/root.res`` names (``ALLOWED_MISSING``)."""
    items = run_tool(["icupkg", "--ignore-deps", "-l", str(package)], "listing the ICU data").split()
    kept = [item for item in items if is_kept(item)]
    dropped = [item for item in items if not is_kept(item)]
    if not dropped:  # English-only already (a bundle reduced before)
        shutil.copyfile(package, reduced)
        return kept, dropped
    listing = package.with_name("dropped.txt")
    listing.write_text("\n".join(dropped) + "\n", encoding="utf-8")
    command = ["icupkg", "-r", str(listing), str(package), str(reduced)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        missing = set(re.findall(r"depends on missing item (\S+)", done.stderr))
        if not missing or any(not item.endswith(ALLOWED_MISSING) for item in missing):
            raise IcuDataError(f"writing the reduced ICU data failed (icupkg): {done.stderr.strip()[-800:]}")
        run_tool([*command[:1], "--ignore-deps", *command[1:]], "writing the reduced ICU data")
    return kept, dropped


def assemble_library(package: Path, symbol: str, name: str, target: Path) -> None:
    """Make the shared library ``target`` with soname ``name`` whose only content is ``package``, exported as
    ``symbol`` (read-only, aligned to 16 bytes), as ICU's own build makes it."""
    folder = package.parent
    source = folder / "data.s"
    source.write_text(
        "\n".join(
            [
                '\t.section .rodata,"a",@progbits',
                f"\t.globl {symbol}",
                f"\t.type {symbol}, @object",
                f"\t.balign {DATA_ALIGNMENT}",
                f"{symbol}:",
                f'\t.incbin "{package.name}"',
                f"\t.size {symbol}, . - {symbol}",
                '\t.section .note.GNU-stack,"",@progbits',
                "",
            ]
        ),
        encoding="ascii",
    )
    obj = folder / "data.o"
    run_tool(["as", "--64", "-I", str(folder), "-o", str(obj), str(source)], "assembling the ICU data")
    run_tool(["ld", "-shared", "-s", "-soname", name, "-o", str(target), str(obj)], "linking the ICU data library")


# ---- proving it works


def check_libraries(folder: Path) -> list[str]:
    """Run ``check_icu`` on the ICU libraries in ``folder`` in a subprocess (this file as a script, so no
    other ICU in the build's own process can clash); returns its report lines, raises ``IcuDataError``
    with the first failure."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "LD_LIBRARY_PATH")}
    command = [sys.executable, str(Path(__file__).resolve()), "check", str(folder)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=CHECK_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise IcuDataError(f"the ICU check did not finish within {CHECK_TIMEOUT_S:.0f} s") from None
    lines = done.stdout.splitlines()
    if done.returncode != 0:
        problem = next((line for line in lines if line.startswith("FAILED")), None)
        raise IcuDataError(
            f"the ICU check failed: {problem or f'exit status {done.returncode}: {done.stderr.strip()[-800:]}'}"
        )
    return lines


def _utf16(text: str) -> tuple[ctypes.Array[ctypes.c_char], int]:
    """A NUL-ended UTF-16 copy of ``text`` (ICU's ``UChar*``) and its length in code units."""
    units = text.encode("utf-16-le")
    return ctypes.create_string_buffer(units, len(units) + 2), len(units) // 2


class IcuLibraries:
    """ICU's C functions, as Qt calls them, from the libraries in ``folder`` (``libicudata``, ``libicuuc``,
    ``libicui18n`` of one version), through ctypes. Loads them into this process: use it in a process of
    its own (``check_libraries``). Strings are Python ``str``; ICU's UTF-16 is converted here."""

    def __init__(self, folder: Path) -> None:
        data = next(folder.glob("libicudata.so.*"), None)
        if data is None:
            raise IcuDataError(f"no libicudata.so.* in {folder}")
        self.version = soname(data).rsplit(".", 1)[1]
        ctypes.CDLL(str(data), mode=ctypes.RTLD_GLOBAL)  # its soname then answers libicuuc's need for it
        self.uc = ctypes.CDLL(str(folder / f"libicuuc.so.{self.version}"), mode=ctypes.RTLD_GLOBAL)
        self.i18n = ctypes.CDLL(str(folder / f"libicui18n.so.{self.version}"))

    def function(self, library: ctypes.CDLL, name: str, restype: type | None) -> Any:
        """ICU's ``name`` (its versioned symbol, e.g. ``ucol_open_73``) returning ``restype``."""
        found = getattr(library, f"{name}_{self.version}")
        found.restype = restype
        return found

    def call(self, library: ctypes.CDLL, name: str, restype: type | None, *args: object) -> tuple[Any, int]:
        """Call ``name`` with ``args`` and a status; returns (result, status: 0 or a negative warning);
        raises ``IcuDataError`` with ICU's name of an error status."""
        status = ctypes.c_int(0)
        result = self.function(library, name, restype)(*args, ctypes.byref(status))
        if status.value > 0:
            error = self.function(self.uc, "u_errorName", ctypes.c_char_p)(status.value)
            raise IcuDataError(f"{name}: {error.decode()}")
        return result, status.value

    def collate(self, locale: str, words: list[str]) -> tuple[list[str], int]:
        """``words`` sorted by ``locale``'s collator (``ucol_open``, ``ucol_strcoll``), and ``ucol_open``'s
        status (``U_USING_DEFAULT_WARNING`` = -127 when the root order stands in for the language's)."""
        collator, status = self.call(self.i18n, "ucol_open", ctypes.c_void_p, locale.encode())
        compare = self.function(self.i18n, "ucol_strcoll", ctypes.c_int)
        try:
            key = functools.cmp_to_key(lambda a, b: compare(ctypes.c_void_p(collator), *_utf16(a), *_utf16(b)))
            return sorted(words, key=key), status
        finally:
            self.function(self.i18n, "ucol_close", None)(ctypes.c_void_p(collator))

    def upper(self, text: str, locale: str) -> str:
        """``u_strToUpper`` of ``text`` in ``locale``."""
        result = ctypes.create_string_buffer(512)
        size, _ = self.call(self.uc, "u_strToUpper", ctypes.c_int, result, 256, *_utf16(text), locale.encode())
        return bytes(result)[: 2 * int(size)].decode("utf-16-le")

    def zone_name(self, zone: str, locale: str) -> str:
        """The time zone's standard long name in ``locale`` (``ucal_open``, ``ucal_getTimeZoneDisplayName``)."""
        calendar, _ = self.call(self.i18n, "ucal_open", ctypes.c_void_p, *_utf16(zone), locale.encode(), UCAL_GREGORIAN)
        try:
            result = ctypes.create_string_buffer(512)
            size, _ = self.call(
                self.i18n, "ucal_getTimeZoneDisplayName", ctypes.c_int, ctypes.c_void_p(calendar), UCAL_STANDARD,
                locale.encode(), result, 256,
            )  # fmt: skip
            return bytes(result)[: 2 * int(size)].decode("utf-16-le")
        finally:
            self.function(self.i18n, "ucal_close", None)(ctypes.c_void_p(calendar))

    def canonical_zone(self, zone: str) -> str:
        """The canonical id of a time zone id or alias (``ucal_getCanonicalTimeZoneID``)."""
        result, system = ctypes.create_string_buffer(512), ctypes.c_int8(0)
        size, _ = self.call(
            self.i18n, "ucal_getCanonicalTimeZoneID", ctypes.c_int, *_utf16(zone), result, 256, ctypes.byref(system)
        )
        return bytes(result)[: 2 * int(size)].decode("utf-16-le")

    def converters(self, name: str) -> int:
        """Opens and closes the converter ``name`` (``ucnv_open``); returns ``ucnv_countAvailable``."""
        converter, _ = self.call(self.uc, "ucnv_open", ctypes.c_void_p, name.encode())
        if not converter:
            raise IcuDataError(f"ucnv_open({name}) gave no converter")
        self.function(self.uc, "ucnv_close", None)(ctypes.c_void_p(converter))
        return int(self.function(self.uc, "ucnv_countAvailable", ctypes.c_int)())


def check_icu(folder: Path) -> list[str]:
    """Call, through ctypes, what Qt calls of the ICU libraries in ``folder`` and compare with the English
    answers; returns one line per call, raises ``IcuDataError`` naming the call that failed. Run it in a
    process of its own (``check_libraries``)."""
    icu = IcuLibraries(folder)
    lines = []
    for locale in ("en_US", "de"):  # German: the root order stands in, with a warning status
        words, status = icu.collate(locale, list(reversed(COLLATED)))
        if words != COLLATED:
            raise IcuDataError(f"ucol_open({locale}) sorts {words}, not {COLLATED}")
        lines.append(f"ucol_open({locale}): status {status}, {' < '.join(words)}")
    for locale, expected in (("tr", "\u0130"), ("en", "I")):
        if (upper := icu.upper("i", locale)) != expected:
            raise IcuDataError(f"u_strToUpper(i, {locale}) gave {upper!r}, not {expected!r}")
        lines.append(f"u_strToUpper(i, {locale}): {upper}")
    if (name := icu.zone_name("Europe/Paris", "en_US")) != "Central European Standard Time":
        raise IcuDataError(f"ucal_getTimeZoneDisplayName(Europe/Paris, en_US) gave {name!r}")
    lines.append(f"ucal_getTimeZoneDisplayName(Europe/Paris, en_US): {name}")
    if (zone := icu.canonical_zone("US/Pacific")) != "America/Los_Angeles":
        raise IcuDataError(f"ucal_getCanonicalTimeZoneID(US/Pacific) gave {zone!r}")
    lines.append(f"ucal_getCanonicalTimeZoneID(US/Pacific): {zone}")
    if (count := icu.converters("UTF-8")) < 1:
        raise IcuDataError("ucnv_countAvailable: no converter")
    lines.append(f"ucnv_open(UTF-8): a converter; ucnv_countAvailable: {count}")
    return lines


# ---- the build step


def reduce_library(library: Path, target: Path) -> Reduction:
    """Make ``target``: the ICU data library ``library`` with only the English-only data (see the module
    docstring), proved by ``check_libraries`` with the ICU libraries beside ``library``. ``library`` is
    only read. Raises ``IcuDataError`` (and leaves no ``target``) when a step or the check fails."""
    missing = missing_tools()
    if missing:
        raise IcuDataError(f"missing {', '.join(missing)} (Debian: apt install icu-devtools binutils)")
    name = soname(library)
    with tempfile.TemporaryDirectory(prefix="moodsic-icu-") as scratch:
        folder = Path(scratch)
        symbol, package = extract_package(library, folder)
        reduced = folder / "reduced" / package.name
        reduced.parent.mkdir()
        kept, dropped = reduce_package(package, reduced)
        made = folder / "check" / name
        made.parent.mkdir()
        assemble_library(reduced, symbol, name, made)
        for sibling in library.parent.glob("libicu*.so.*"):
            if not sibling.name.startswith("libicudata"):
                shutil.copy2(sibling, made.parent / sibling.name)
        checks = check_libraries(made.parent)
        shutil.copyfile(made, target)
    return Reduction(library.stat().st_size, target.stat().st_size, kept, dropped, checks)


def reduce_bundle(root: Path) -> list[tuple[str, Reduction]]:
    """Replace each ICU data library in the bundle ``root`` (a file, not a link) by its English-only
    reduction, keeping its permissions; returns (relative path, what was done) for each. The original
    stays when its reduction fails (``IcuDataError`` is raised then)."""
    done = []
    for library in sorted(p for p in root.rglob("libicudata.so.*") if p.is_file() and not p.is_symlink()):
        made = library.with_name(library.name + ".english")
        try:
            reduction = reduce_library(library, made)
            os.chmod(made, library.stat().st_mode)
            os.replace(made, library)  # at once: the bundle never holds half a library
        finally:
            made.unlink(missing_ok=True)
        done.append((library.relative_to(root).as_posix(), reduction))
    return done


def main(argv: list[str]) -> int:
    """``check FOLDER``: run ``check_icu`` on the libraries in FOLDER; prints one line per call, exit status 1
    with a ``FAILED`` line when a call fails."""
    if len(argv) != 2 or argv[0] != "check":
        print("usage: python build/icu_data.py check FOLDER", file=sys.stderr)
        return 2
    try:
        for line in check_icu(Path(argv[1])):
            print(line)
    except (IcuDataError, OSError, AttributeError) as error:  # AttributeError: a function ICU lacks
        print(f"FAILED {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
