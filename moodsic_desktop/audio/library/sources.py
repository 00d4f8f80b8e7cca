"""What an import takes in, read and checked before any index is touched: a DEAM folder, the owner's
audio files, a V-A table and its rows, and the facts of one audio file (probed). No index needed: the CLI
checks its input with these before it makes an index. Any thread; the functions that read files block.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import Any, NamedTuple

import soundfile as sf

from moodsic_desktop.audio import decoding
from moodsic_desktop.core.choices import FixedChoice
from moodsic_desktop.core.library import DeamImport, Song, printable, read_deam, read_table
from moodsic_desktop.core.scales import EmotionScaleAligner
from moodsic_desktop.regular_files import check_regular_file, kind_of

AUDIO_EXTENSIONS = (".mp3", ".wav", ".flac", ".ogg")
SCALES = ("deam", "reference")
validate_scale = FixedChoice("scale", SCALES)  # of a V-A table: DEAM 1..9 or reference -1..1
VA_COLUMNS = ("file", "valence", "arousal")


def mp3_supported() -> bool:
    """Whether the libsndfile under soundfile reads MP3 (version 1.1 or later; soundfile's wheels bundle one)."""
    return "MP3" in sf.available_formats()


def read_deam_songs(folder: str | Path) -> DeamImport:
    """``read_deam(folder)``, and a ``ValueError`` when it yields no usable song. Raises what
    ``read_deam`` raises (``FileNotFoundError``, ``TableError``, ``OSError``). Any thread."""
    deam = read_deam(folder)
    if not deam.songs:
        raise ValueError(f"no usable song in the DEAM folder {folder} ({deam.skipped_rows} bad rows)")
    return deam


def shown_path(path: str | Path) -> str:
    """``path`` fit for a message, a report and the index: bytes of a name that are not UTF-8 (a Latin-1
    "café" as ``caf\\xe9``) and control characters written as escapes, never raw. Any thread."""
    text = os.fsencode(path).decode("utf-8", errors="backslashreplace")
    return printable(text, 400)


class FolderScan(NamedTuple):
    """What ``scan_audio_folder`` found: ``files``, the usable audio files (resolved, sorted), and
    ``unusable``, ``(shown_path, reason)`` for each other entry named like audio."""

    files: list[Path]
    unusable: list[tuple[str, str]]


def _unusable_because(path: Path) -> str | None:
    """Why an entry named like audio cannot be imported (one line), "" when it can, None when it is a
    folder (its contents are scanned on their own)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a link that loops back on itself"
        if path.is_symlink():
            return f"a link to a missing file ({shown_path(os.readlink(path))})"
        return f"cannot be looked at ({error.strerror or error})"
    if stat.S_ISDIR(mode):
        return None
    if not stat.S_ISREG(mode):
        return f"{kind_of(mode)}, not a regular file"
    try:
        str(path.resolve()).encode("utf-8")
    except UnicodeEncodeError:
        return "its name is not valid UTF-8 text, which the library cannot store (rename the file to add it)"
    return ""


def scan_audio_folder(folder: str | Path) -> FolderScan:
    """Every entry named like audio (``AUDIO_EXTENSIONS``) under ``folder``: the regular files that can
    be imported, and the others with the reason (a FIFO or device, a link to a missing file or a looping
    one, a name that is not UTF-8). Raises ``FileNotFoundError`` for a missing folder. Any thread."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"music folder not found: {folder}")
    files, unusable = [], []
    for entry in folder.resolve().rglob("*"):
        if entry.suffix.lower() not in AUDIO_EXTENSIONS:
            continue
        reason = _unusable_because(entry)
        if reason == "":
            files.append(entry.resolve())
        elif reason is not None:
            unusable.append((shown_path(entry), reason))
    return FolderScan(sorted(files), sorted(unusable))


def audio_files_in(folder: str | Path, scan: FolderScan | None = None) -> list[Path]:
    """The audio files of ``folder`` that can be imported (``scan``, or ``scan_audio_folder(folder)`` now),
    resolved and sorted. Raises ``FileNotFoundError`` for a missing folder and ``ValueError`` for one
    without such a file (naming the first unusable one, if any). Any thread."""
    scan = scan if scan is not None else scan_audio_folder(folder)
    if not scan.files:
        where = Path(folder).resolve()
        if scan.unusable:
            shown, reason = scan.unusable[0]
            raise ValueError(f"no audio file that can be added in the folder {shown_path(where)} ({shown}: {reason})")
        raise ValueError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in the folder {shown_path(where)}")
    return scan.files


def read_va_table(folder: str | Path, va_csv: str | Path, scale: str = "deam") -> list[dict[str, str]]:
    """The rows of an ``add_folder`` V-A table, checked: ``scale`` known, ``folder`` a folder, the table a
    readable CSV with the columns ``file, valence, arousal`` and at least one row. Raises ``ValueError``
    (``TableError`` for a table that does not parse), ``FileNotFoundError`` or ``NotARegularFileError`` (a
    FIFO, a device: never opened), each naming the file. The
    values of the rows are checked later, row by row. Any thread."""
    folder, va_csv = Path(folder), Path(va_csv)
    validate_scale(scale)
    if not folder.is_dir():
        raise FileNotFoundError(f"music folder not found: {folder}")
    if not va_csv.exists():
        raise FileNotFoundError(f"V-A table not found: {va_csv}")
    check_regular_file(va_csv)
    rows = read_table(va_csv, required=VA_COLUMNS)
    if not rows:
        raise ValueError(f"the V-A table {va_csv} has no rows (expected columns {', '.join(VA_COLUMNS)})")
    return rows


def user_song_id(path: Path) -> str:
    """The id of one of the user's own files: ``user-`` and a hash of its resolved path."""
    return "user-" + hashlib.sha1(str(path).encode("utf-8")).hexdigest()[:12]


def parse_va_row(
    row: dict[str, str], folder: Path, scale: str, aligner: EmotionScaleAligner
) -> tuple[Song, Path] | str:
    """A song and its resolved path, or the reason (one line) the row of a V-A table (``read_va_table``)
    is not imported. ``scale`` is "deam" (1..9) or "reference" ([-1, 1]); the song's V-A is in reference
    space. Checks that the named file exists."""
    raw_name = row.get("file", "").strip()
    if not raw_name:
        return "no file named"
    name = printable(raw_name)
    path = Path(raw_name) if Path(raw_name).is_absolute() else folder / raw_name
    if path.suffix.lower() not in AUDIO_EXTENSIONS:
        suffix = printable(path.suffix, 20) or "(none)"
        return f"{name}: unsupported file type {suffix} (expected {', '.join(AUDIO_EXTENSIONS)})"
    try:
        found = path.is_file()
    except OSError as error:  # a name too long for the file system …
        return f"{name}: not a usable file name ({error.strerror or error})"
    if not found:
        unusable = _unusable_because(path) if path.is_symlink() or path.exists() else None
        if unusable:  # a FIFO, a device, a broken link
            return f"{name}: {unusable}"
        return f"{name}: file not found ({printable(str(path), 200)})"
    low, high = (1.0, 9.0) if scale == "deam" else (-1.0, 1.0)
    values = []
    for column in ("valence", "arousal"):
        text = row.get(column, "").strip()
        try:
            value = float(text)
        except ValueError:
            return f"{name}: {column} {printable(repr(text))} is not a number"
        if not low <= value <= high:  # also false for NaN
            return f"{name}: {column} {printable(text)} is outside the {scale} scale [{low:g}, {high:g}]"
        values.append(value)
    v, a = (float(x) for x in aligner.deam_static_to_reference(*values)) if scale == "deam" else values
    path = path.resolve()
    song_id = user_song_id(path)
    title = row.get("title", "").strip() or path.stem.replace("_", " ")
    song = Song(song_id, v, a, title=title, artist=row.get("artist", "").strip(), genre=row.get("genre", "").strip())
    return song, path


def song_row(song: Song, path: Path, origin: str, source: str) -> dict[str, Any]:
    """The songs-table row for ``song`` (a "rated" point) with the facts of its audio file, probed now:
    duration in seconds, sample rate in Hz, channels; not playable, with the reason, when it does not
    decode. Blocks while it reads the file's header; any thread."""
    row: dict[str, Any] = {
        "song_id": song.song_id,
        "valence": float(song.valence),
        "arousal": float(song.arousal),
        "title": song.title,
        "artist": song.artist,
        "genre": song.genre,
        "path": str(path),
        "duration_s": None,
        "sample_rate": None,
        "channels": None,
        "playable": 0,
        "problem": "",
        "origin": origin,
        "source": source,
        "mood_source": "rated",
        "valence_var": 0.0,
        "arousal_var": 0.0,
    }
    try:
        info = decoding.probe(path)
    except decoding.AudioDecodeError as error:
        row["problem"] = error.reason
        if path.suffix.lower() == ".mp3" and path.is_file() and not mp3_supported():
            row["problem"] = f"MP3 needs libsndfile 1.1 or later (this one is {sf.__libsndfile_version__})"
    else:
        row.update(duration_s=info.duration_s, sample_rate=info.samplerate, channels=info.channels, playable=1)
    return row
