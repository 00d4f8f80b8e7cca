"""Songs and the DEAM loader.

A ``Song`` carries its song-level V-A in reference space [-1, 1]. ``load_deam`` reads the DEAM layout
(annotations on the 1..9 scale, converted with ``EmotionScaleAligner``; metadata when present).
"""

from __future__ import annotations

import csv
import io
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from moodsic_desktop.core.scales import EmotionScaleAligner

log = logging.getLogger(__name__)

ANNOTATIONS_DIR = Path("DEAM_Annotations", "annotations", "annotations averaged per song", "song_level")
ANNOTATION_FILES = (
    "static_annotations_averaged_songs_1_2000.csv",
    "static_annotations_averaged_songs_2000_2058.csv",
)
METADATA_DIR = Path("metadata")
AUDIO_DIR = Path("MEMD_audio")
MOOD_SOURCES = ("rated", "estimated", "placed")
"""Where a song's mood point comes from (``Song.mood_source``)."""


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
    mood_source: str = "rated"
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


def _read_table(path: Path) -> list[dict[str, str]]:
    """Read a CSV whose delimiter may be ',', ';' or tab; keys are stripped lower-case column names."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    first_line = text.splitlines()[0] if text else ""
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = list(reader)
    if not rows:
        return []
    header = [_norm(h) for h in rows[0]]
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
            rows = _read_table(path)
        except OSError as error:
            log.warning("cannot read DEAM metadata %s: %s", path, error)
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
    the expected path when no annotation file exists.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"DEAM folder not found: {folder}")
    annotation_paths = [folder / ANNOTATIONS_DIR / name for name in ANNOTATION_FILES]
    present = [p for p in annotation_paths if p.is_file()]
    if not present:
        raise FileNotFoundError(f"DEAM annotations not found: expected {annotation_paths[0]}")
    aligner = EmotionScaleAligner(strict=True)
    metadata = _read_metadata(folder)
    result = DeamImport(songs=[])
    seen: set[str] = set()
    for path in present:
        for line_number, row in enumerate(_read_table(path), start=2):
            try:
                song_id = _song_id(row["song_id"])
                valence_1_9 = float(row["valence_mean"])
                arousal_1_9 = float(row["arousal_mean"])
                if not (math.isfinite(valence_1_9) and math.isfinite(arousal_1_9)) or not song_id:
                    raise ValueError("empty or non-finite value")
                v_ref, a_ref = aligner.deam_static_to_reference(valence_1_9, arousal_1_9)
            except (KeyError, ValueError) as error:
                result.skipped_rows += 1
                result.problems.append(f"{path.name} line {line_number}: {error}")
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


__all__ = ["MOOD_SOURCES", "DeamImport", "Song", "load_deam", "read_deam"]
