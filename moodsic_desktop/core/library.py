"""Songs and the DEAM loader.

A ``Song`` carries its song-level V-A in reference space [-1, 1]. ``load_deam`` reads the DEAM layout
(annotations on the 1..9 scale, converted with ``EmotionScaleAligner``; metadata when present).
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from moodsic_desktop.core.choices import FixedChoice
from moodsic_desktop.core.scales import EmotionScaleAligner
from moodsic_desktop.core.stations import StationModel
from moodsic_desktop.regular_files import read_regular_bytes

log = logging.getLogger(__name__)

ANNOTATIONS_DIR = Path("DEAM_Annotations", "annotations", "annotations averaged per song", "song_level")
ANNOTATION_FILES = (
    "static_annotations_averaged_songs_1_2000.csv",
    "static_annotations_averaged_songs_2000_2058.csv",
)
METADATA_DIR = Path("metadata")
AUDIO_DIR = Path("MEMD_audio")
MoodSource = Literal["rated", "estimated", "placed"]
"""Where a song's mood point comes from (``Song.mood_source``); the strings are stored in the library index."""
MOOD_SOURCES: tuple[MoodSource, ...] = get_args(MoodSource)


validate_mood_source = FixedChoice("mood source", MOOD_SOURCES)
"""``source`` as a :data:`MoodSource`; ``ValueError`` when it is not one (a library index, a report)."""


@dataclass
class Song:
    """One playable song. ``valence``/``arousal`` in reference space [-1, 1]; ``path`` is its audio file
    (``None`` when the audio is not available); ``duration_s`` in seconds when known.

    ``mood_source`` says where the mood point comes from: "rated" (listeners' ratings, a V-A table),
    "estimated" (measured from the audio) or "placed" (put there by the owner). ``mood_variance`` is the
    expected squared distance between that point and the song's true mood (reference units², the sum of
    the valence and arousal variances): 0 for a rated or placed point, which counts as exact."""

    song_id: str
    valence: float
    arousal: float
    title: str = ""
    artist: str = ""
    genre: str = ""
    path: Path | None = None
    duration_s: float | None = None
    mood_source: MoodSource = "rated"
    mood_variance: float = 0.0

    @property
    def display_name(self) -> str:
        """ "Title — Artist", or the id when the song has no title."""
        title = self.title or f"Song {self.song_id}"
        return f"{title} — {self.artist}" if self.artist else title


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
    when one cannot be read or is not a regular file (``NotARegularFileError``). A metadata file that
    cannot be read or parsed is logged and left out.
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
                    valence=float(v_ref),
                    arousal=float(a_ref),
                    title=info.get("title", ""),
                    artist=info.get("artist", ""),
                    genre=info.get("genre", ""),
                    path=audio if has_audio else None,
                )
            )
    if result.skipped_rows:
        log.warning("DEAM %s: skipped %d bad annotation rows", folder, result.skipped_rows)
    return result


def load_deam(folder: str | Path) -> list[Song]:
    """The songs of a DEAM folder (see ``read_deam`` for the rules and the error it raises)."""
    return read_deam(folder).songs


__all__ = [
    "ANNOTATION_COLUMNS",
    "MAX_FIELD_CHARS",
    "MOOD_SOURCES",
    "DeamImport",
    "MoodSource",
    "Song",
    "TableError",
    "load_deam",
    "printable",
    "read_deam",
    "read_table",
    "validate_mood_source",
]


@dataclass
class MusicLibrary:
    """The songs to choose from, where they came from, and their station model (None if too few songs).
    ``banned`` holds the ids the matcher must never choose; ``recent`` the ids of the last songs played in
    earlier sessions, oldest first (from the index's play history); ``index_path`` is the library index
    the songs came from (None for a DEAM folder or the built-in station); ``problem`` says, in one line,
    why this is not the library that was asked for (a damaged index), for a banner or a warning."""

    songs: list[Song]
    origin: str
    stations: StationModel | None
    skipped_rows: int = 0
    banned: frozenset[str] = frozenset()
    recent: tuple[str, ...] = ()
    index_path: Path | None = None
    problem: str | None = None
