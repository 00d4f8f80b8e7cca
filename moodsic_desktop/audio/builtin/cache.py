"""The built-in station's audio cache: each piece synthesised once into a 16-bit FLAC file (44.1 kHz
stereo) under ``music/builtin/``, with a ``manifest.json`` of sizes, SHA-256 sums and durations (seconds)
that says which files can be trusted. Files from another ``SYNTH_VERSION`` are made again.

``ensure_builtin_audio`` writes files and takes a few seconds the first time: call it from a worker thread
or the CLI, never from the GUI thread or the audio callback.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import soundfile as sf

from moodsic_desktop import atomic_files
from moodsic_desktop.audio.builtin.arrangement import SAMPLE_RATE, SYNTH_VERSION, render_piece
from moodsic_desktop.audio.builtin.catalogue import PIECE_DURATION_S, builtin_songs
from moodsic_desktop.core.song import Song
from moodsic_desktop.paths import music_dir

log = logging.getLogger(__name__)


CACHE_SUBDIR = "builtin"
MANIFEST_NAME = "manifest.json"
MAX_SYNTH_THREADS = 3  # each piece in the making holds about 0.2 GB


def builtin_cache_dir() -> Path:
    """``music/builtin`` beside the program (see ``moodsic_desktop.paths``)."""
    return music_dir() / CACHE_SUBDIR


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(directory: Path) -> dict[str, dict]:
    """The cached files' facts (name → size, sha256, duration_s), or {} when missing, unreadable or made by
    another synthesis version."""
    try:
        data = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("synth_version") != SYNTH_VERSION:
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def _is_cached(path: Path, entry: dict | None) -> bool:
    if not entry or not path.is_file():
        return False
    try:
        return path.stat().st_size == entry.get("size") and _sha256(path) == entry.get("sha256")
    except OSError:
        return False


def _write_piece(song: Song, path: Path) -> dict:
    """Synthesise ``song`` into ``path`` (written whole: ``atomic_files``) → manifest entry."""
    audio = render_piece(song)
    with (
        atomic_files.replacing(path) as temporary,
        sf.SoundFile(temporary, "w", SAMPLE_RATE, 2, subtype="PCM_16", format="FLAC") as out,
    ):
        out.title = song.title
        out.artist = song.artist
        out.comment = f"synthesised by Moodsic (built-in station, synthesis version {SYNTH_VERSION})"
        out.write(audio)
    return {"size": path.stat().st_size, "sha256": _sha256(path), "duration_s": len(audio) / SAMPLE_RATE}


def ensure_builtin_audio(
    cache_dir: str | Path | None = None, progress: Callable[[int, int], None] | None = None
) -> list[Song]:
    """The built-in pieces with ``path`` set to their cached FLAC files (``cache_dir``, default
    ``music/builtin``), synthesising any that is missing, changed or corrupt (checked against the sizes
    and SHA-256 sums in ``manifest.json``). ``progress(done, total)`` is called after each piece made.
    Raises ``OSError`` when the folder cannot be written. Blocks for a few seconds the first time: a
    worker thread or the CLI, not the GUI thread."""
    directory = Path(cache_dir) if cache_dir is not None else builtin_cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(directory)
    songs = builtin_songs()
    missing = [
        song
        for song in songs
        if not _is_cached(directory / f"{song.song_id}.flac", manifest.get(f"{song.song_id}.flac"))
    ]
    if missing:
        log.info("synthesising %d built-in pieces into %s", len(missing), directory)
        # numpy's FFTs and array arithmetic release the GIL: a few pieces at a time use a few cores
        workers = max(1, min(len(missing), os.cpu_count() or 1, MAX_SYNTH_THREADS))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="moodsic-synth") as pool:
            futures = {pool.submit(_write_piece, song, directory / f"{song.song_id}.flac"): song for song in missing}
            for done, future in enumerate(as_completed(futures), start=1):
                manifest[f"{futures[future].song_id}.flac"] = future.result()
                if progress is not None:
                    progress(done, len(missing))
    if missing:
        document = {
            "synth_version": SYNTH_VERSION,
            "sample_rate": SAMPLE_RATE,
            "files": {name: manifest[name] for name in sorted(manifest)},
        }
        atomic_files.write_text(directory / MANIFEST_NAME, json.dumps(document, indent=1) + "\n")
    for song in songs:
        song.path = directory / f"{song.song_id}.flac"
        song.duration_s = float(manifest[song.path.name].get("duration_s", PIECE_DURATION_S))
    return songs


__all__ = ["CACHE_SUBDIR", "MANIFEST_NAME", "builtin_cache_dir", "ensure_builtin_audio", "read_manifest"]
