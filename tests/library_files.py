"""Audio files and library folders for the library tests: short real audio in any format soundfile writes,
and a copy of the DEAM fixture's layout that the tests may fill with audio."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from moodsic_desktop.audio.library.sources import ANNOTATIONS_DIR, AUDIO_DIR, METADATA_DIR

_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}


def can_write(suffix: str) -> bool:
    """Whether this soundfile/libsndfile can write files of this type (MP3 needs libsndfile ≥ 1.1)."""
    return _FORMATS[suffix] in sf.available_formats()


def require_mp3() -> None:
    if not can_write(".mp3"):
        pytest.skip(f"libsndfile {sf.__libsndfile_version__} cannot write MP3 (needs 1.1 or later)")


def write_audio(
    path: Path, seconds: float = 0.5, samplerate: int = 44100, channels: int = 2, freq: float = 440.0
) -> Path:
    """A short tone (a chord of ``freq`` and its fifth, so codecs have something to encode) in the format
    the suffix names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * samplerate)) / samplerate
    mono = 0.3 * np.sin(2 * np.pi * freq * t) + 0.15 * np.sin(2 * np.pi * 1.5 * freq * t)
    data = mono if channels == 1 else np.repeat(mono[:, None], channels, axis=1)
    sf.write(str(path), data.astype(np.float32), samplerate, format=_FORMATS[path.suffix.lower()])
    return path


def copy_deam_layout(source: Path, target: Path) -> Path:
    """A copy of a DEAM folder's annotations and metadata (no audio) under ``target``."""
    for part in (ANNOTATIONS_DIR.parts[0], METADATA_DIR):
        shutil.copytree(source / part, target / part)
    (target / AUDIO_DIR).mkdir(parents=True, exist_ok=True)
    return target


# A spread of the rates and layouts real DEAM files have (mostly 44.1 kHz stereo).
DEAM_LIKE_FORMATS = ((44100, 2), (44100, 2), (48000, 2), (22050, 2), (16000, 1), (44100, 1))


def add_deam_audio(folder: Path, song_ids: list[str], seconds: float = 0.5) -> list[Path]:
    """Write ``MEMD_audio/<id>.mp3`` (real MP3) for each id, cycling through ``DEAM_LIKE_FORMATS``."""
    require_mp3()
    paths = []
    for k, song_id in enumerate(song_ids):
        rate, channels = DEAM_LIKE_FORMATS[k % len(DEAM_LIKE_FORMATS)]
        paths.append(write_audio(folder / AUDIO_DIR / f"{song_id}.mp3", seconds, rate, channels, 220.0 + 5 * k))
    return paths
