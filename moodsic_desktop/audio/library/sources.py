"""What an import takes in, read and checked before any index is touched: CSV tables, a DEAM folder, the
owner's audio files, a V-A table and its rows, and the facts of one audio file (probed). No index needed:
the CLI and ``session/assembly.py`` (a DEAM folder played without an index) check their input with these.
Any thread; the functions that read files block.

The DEAM layout: the static song-level annotations (``ANNOTATIONS_DIR``, ``ANNOTATION_FILES``; 1..9 scale,
converted to reference space with ``EmotionScaleAligner``), optional ``metadata/*.csv`` (titles, artists,
genres) and the audio ``MEMD_audio/<id>.mp3``.
"""

from __future__ import annotations

import codecs
import csv
import errno
import hashlib
import io
import logging
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import soundfile as sf

from moodsic_desktop.audio import decoding
from moodsic_desktop.core.choices import FixedChoice
from moodsic_desktop.core.scales import EmotionScaleAligner
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.regular_files import check_regular_file, kind_of, read_regular_bytes

log = logging.getLogger(__name__)

ANNOTATIONS_DIR = Path("DEAM_Annotations", "annotations", "annotations averaged per song", "song_level")
ANNOTATION_FILES = (
    "static_annotations_averaged_songs_1_2000.csv",
    "static_annotations_averaged_songs_2000_2058.csv",
)
METADATA_DIR = Path("metadata")
AUDIO_DIR = Path("MEMD_audio")


@dataclass
class DeamImport:
    """What ``read_deam`` found: the songs, plus counts and reasons for what it had to skip."""

    songs: list[Song]
    skipped_rows: int = 0
    problems: list[str] = field(default_factory=list)
    without_audio: int = 0


def _norm(name: str) -> str:
    return name.strip().lower()


class TableError(ValueError):
    """A CSV table that cannot be read as a table: a malformed line, a field over ``MAX_FIELD_CHARS``, or a
    required column missing. The message names the file (and the line where there is one); the CLI shows
    it as one line."""


MAX_FIELD_CHARS = csv.field_size_limit()
"""The longest cell read (Python's csv default, 131072 characters): a longer one is not a V-A table."""

ANNOTATION_COLUMNS = ("song_id", "valence_mean", "arousal_mean")


def printable(text: str, limit: int = 80) -> str:
    """``text`` fit for one line of a message: control characters (line breaks, NUL …) escaped as Python
    writes them, at most ``limit`` characters (then "…")."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: limit + 1])
    return shown if len(shown) <= limit else shown[:limit] + "…"


def _decode_table(raw: bytes) -> str:
    """UTF-16 when the file starts with its byte-order mark (Excel's "Unicode text"), else UTF-8 (with or
    without BOM), else Latin-1 (which decodes any bytes)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_table(path: Path, required: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """Read a CSV whose delimiter may be ',', ';' or tab; keys are stripped lower-case column names.

    Lines may end in LF, CRLF or CR alone (old Mac files) or any mix of them; quoted cells may hold line
    breaks. Raises ``TableError`` naming the file and line for a line the csv module cannot parse or a cell
    over ``MAX_FIELD_CHARS``, and naming the file and columns when one of ``required`` is missing (a file
    without a header row lacks them all); ``OSError`` when the file cannot be read, ``NotARegularFileError``
    (an ``OSError``) for a FIFO, device or folder, which is never waited on.
    """
    text = _decode_table(read_regular_bytes(path))
    first_line = text.splitlines()[0] if text else ""
    delimiter = max((",", ";", "\t"), key=first_line.count)
    # newline="": the reader sees each line with its own ending, whichever it is, and splits on all three.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as error:
        raise TableError(f"cannot read the table {path}: line {reader.line_num}: {error}") from None
    header = [_norm(h) for h in rows[0]] if rows else []
    missing = [column for column in required if column not in header]
    if missing:
        found = printable(", ".join(h for h in header if h), 200) or "none"
        raise TableError(
            f"the table {path} lacks the column(s) {', '.join(missing)} (found {found}; expected {', '.join(required)})"
        )
    if not rows:
        return []
    cells = ([cell.strip() for cell in row] for row in rows[1:])
    return [dict(zip(header, row, strict=False)) for row in cells if any(row)]


def _song_id(value: str) -> str:
    """Normalise an id cell ("12", " 12 ", "12.0") to "12"."""
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() else value


MAX_SONG_ID_CHARS = 100


def _check_song_id(song_id: str) -> None:
    """Raise ``ValueError`` unless ``song_id`` can name ``MEMD_audio/<id>.mp3``: not empty, at most
    ``MAX_SONG_ID_CHARS`` characters, no path separator or control character, not "." or ".."."""
    if not song_id:
        raise ValueError("empty song_id")
    if (
        len(song_id) > MAX_SONG_ID_CHARS
        or song_id in (".", "..")
        or any(c in "/\\" or not c.isprintable() for c in song_id)
    ):
        raise ValueError(f"song_id {printable(song_id, 40)!r} cannot name an audio file")


def _first(row: dict[str, str], *names: str) -> str:
    for name in names:
        if row.get(name):
            return row[name]
    return ""


def _read_metadata(folder: Path) -> dict[str, dict[str, str]]:
    """song_id → {title, artist, genre} from every ``metadata/*.csv`` that parses."""
    meta: dict[str, dict[str, str]] = {}
    meta_dir = folder / METADATA_DIR
    if not meta_dir.is_dir():
        return meta
    for path in sorted(meta_dir.glob("*.csv")):
        try:
            rows = read_table(path)
        except (OSError, TableError) as error:  # titles are a nicety: the songs import without them
            log.warning("DEAM metadata left out: %s", error)
            continue
        for row in rows:
            song_id = _song_id(_first(row, "song_id", "id"))
            if not song_id:
                continue
            meta[song_id] = {
                "title": _first(row, "song title", "title", "track"),
                "artist": _first(row, "artist"),
                "genre": _first(row, "genre"),
            }
    return meta


def read_deam(folder: str | Path) -> DeamImport:
    """Read a DEAM folder: songs with V-A in reference space, metadata and audio path when present.

    Both static annotation files are read when present (at least one must exist); columns are matched by
    stripped, case-insensitive name. Bad rows are skipped and counted. Raises ``FileNotFoundError`` naming
    the expected path when no annotation file exists, ``TableError`` (a ``ValueError``) naming the file
    when an annotation file lacks a column of ``ANNOTATION_COLUMNS`` or cannot be parsed, ``OSError``
    when one cannot be read or is not a regular file (``NotARegularFileError``), and ``ValueError`` when
    no row gives a usable song. A metadata file that cannot be read or parsed is logged and left out.
    The songs' moods are "rated" (listeners' ratings), exact.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"DEAM folder not found: {folder}")
    annotation_paths = [folder / ANNOTATIONS_DIR / name for name in ANNOTATION_FILES]
    present = [p for p in annotation_paths if p.exists()]  # a FIFO there: read_table names it
    if not present:
        raise FileNotFoundError(f"DEAM annotations not found: expected {annotation_paths[0]}")
    aligner = EmotionScaleAligner(strict=True)
    metadata = _read_metadata(folder)
    result = DeamImport(songs=[])
    seen: set[str] = set()
    for path in present:
        for line_number, row in enumerate(read_table(path, required=ANNOTATION_COLUMNS), start=2):
            try:
                song_id = _song_id(row["song_id"])
                _check_song_id(song_id)
                valence_1_9 = float(row["valence_mean"])
                arousal_1_9 = float(row["arousal_mean"])
                if not (math.isfinite(valence_1_9) and math.isfinite(arousal_1_9)):
                    raise ValueError("empty or non-finite value")
                v_ref, a_ref = aligner.deam_static_to_reference(valence_1_9, arousal_1_9)
            except (KeyError, ValueError) as error:
                result.skipped_rows += 1
                result.problems.append(f"{path.name} line {line_number}: {printable(str(error), 200)}")
                continue
            if song_id in seen:
                result.skipped_rows += 1
                result.problems.append(f"{path.name} line {line_number}: duplicate song_id {song_id}")
                continue
            seen.add(song_id)
            info = metadata.get(song_id, {})
            audio = folder / AUDIO_DIR / f"{song_id}.mp3"
            has_audio = audio.is_file()
            result.without_audio += 0 if has_audio else 1
            result.songs.append(
                Song(
                    song_id=song_id,
                    mood=SongMood(float(v_ref), float(a_ref)),
                    title=info.get("title", ""),
                    artist=info.get("artist", ""),
                    genre=info.get("genre", ""),
                    path=audio if has_audio else None,
                )
            )
    if result.skipped_rows:
        log.warning("DEAM %s: skipped %d bad annotation rows", folder, result.skipped_rows)
    if not result.songs:
        raise ValueError(f"no usable song in the DEAM folder {folder} ({result.skipped_rows} bad rows)")
    return result


AUDIO_EXTENSIONS = (".mp3", ".wav", ".flac", ".ogg")
SCALES = ("deam", "reference")
validate_scale = FixedChoice("scale", SCALES)  # of a V-A table: DEAM 1..9 or reference -1..1
VA_COLUMNS = ("file", "valence", "arousal")


def mp3_supported() -> bool:
    """Whether the libsndfile under soundfile reads MP3 (version 1.1 or later; soundfile's wheels bundle one)."""
    return "MP3" in sf.available_formats()


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
    artist, genre = row.get("artist", "").strip(), row.get("genre", "").strip()
    return Song(song_id, SongMood(v, a), title=title, artist=artist, genre=genre), path


def song_row(song: Song, path: Path, origin: str, source: str) -> dict[str, Any]:
    """The songs-table row for ``song`` (its mood, rated or estimated, with its variances) with the facts
    of its audio file, probed now: duration in seconds, sample rate in Hz, channels; not playable, with the
    reason, when it does not decode. Raises ``ValueError`` for a placed mood (the owner's placement is
    kept in its own columns: ``LibraryIndex.place``). Blocks while it reads the file's header; any thread."""
    mood = song.mood
    if mood.source == "placed":
        raise ValueError(f"song {song.song_id}: a placed mood is not imported (LibraryIndex.place keeps it)")
    row: dict[str, Any] = {
        "song_id": song.song_id,
        "valence": float(mood.valence),
        "arousal": float(mood.arousal),
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
        "mood_source": mood.source,
        "valence_var": float(mood.valence_var),
        "arousal_var": float(mood.arousal_var),
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
