"""Assembles the pipeline from settings: the one place that chooses the library, stations and experts.

Used by ``moodsic analyze`` and by the GUI's capture worker, so both run the same object the same way.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from moodsic_desktop.core.library import Song, read_deam
from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.pipeline import Pipeline, PipelineSettings
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.core.stations import StationModel

log = logging.getLogger(__name__)


@dataclass
class EngineSettings:
    """Every tunable of the PERCEIVE → STABILIZE → MATCH engine, with its default. Times in seconds,
    alpha is the EMA weight of an estimate 1 s after the last, tau a standard deviation in reference units."""

    alpha: float = 0.3
    tau: float = 0.4
    scene_only_alpha_factor: float = 0.5
    min_dwell_s: float = 25.0
    hysteresis: float = 0.15
    recent_k: int = 5
    top_k: int = 20
    widen_below: float = 0.55
    mode: str = "match"
    n_stations: int = 5
    # The full-range face model misses faces under ~80 px in a whole frame; a 3 x 2 grid of tiles on top
    # finds them from ~35 px (a face two to five metres from a 720p camera) at ~25 ms per frame on 2 cores.
    face_detection_tiles: tuple[int, int] = (3, 2)
    face_expert: str = "face-geometry"
    scene_expert: str = "scene-statistics"
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MusicLibrary:
    """The songs to choose from, where they came from, and their station model (None if too few songs).
    ``banned`` holds the ids the matcher must never choose; ``index_path`` is the library index the songs
    came from (None for a DEAM folder or the built-in station)."""

    songs: list[Song]
    origin: str
    stations: StationModel | None
    skipped_rows: int = 0
    banned: frozenset[str] = frozenset()
    index_path: Path | None = None


BUILTIN_ORIGIN = "built-in station"


def load_library(
    folder: str | Path | None,
    n_stations: int = 5,
    seed: int = 0,
    index_path: str | Path | None = None,
) -> MusicLibrary:
    """The library to play from, with its stations.

    * ``folder`` given: that DEAM folder, read directly (no index), stations fitted now.
    * ``folder`` None: the library index (``index_path``, default ``music/library.sqlite``) when it exists
      and has playable songs, with its stored station model (refitted in memory when it was fitted with
      other settings) and its banned songs; otherwise the built-in station, its audio synthesised and
      cached on first use (without audio paths if the cache cannot be written). A damaged index is
      logged and left alone, and the built-in station plays.

    Raises ``FileNotFoundError`` or ``ValueError`` with a clear message when the folder is unusable.
    Blocks for a few seconds the first time the built-in station is made: a worker thread or the CLI.
    """
    if folder is None:
        library = _library_from_index(index_path, n_stations, seed)
        return library if library is not None else _builtin_library(n_stations, seed)
    from moodsic_desktop.audio.library_index import fit_station_model

    result = read_deam(folder)
    songs, skipped = result.songs, result.skipped_rows
    if not songs:
        raise ValueError(f"no usable song in the DEAM folder {folder} ({skipped} bad rows)")
    stations = fit_station_model(songs, n_stations=n_stations, seed=seed)
    return MusicLibrary(songs=songs, origin=f"DEAM folder {folder}", stations=stations, skipped_rows=skipped)


def _library_from_index(index_path: str | Path | None, n_stations: int, seed: int) -> MusicLibrary | None:
    from moodsic_desktop.audio.library_index import (
        LibraryIndex,
        LibraryIndexError,
        default_index_path,
        fit_station_model,
    )

    path = Path(index_path) if index_path is not None else default_index_path()
    if not path.is_file():
        return None
    try:
        with LibraryIndex(path, create=False, n_stations=n_stations, seed=seed) as index:
            songs = index.songs(playable_only=True)
            if not songs:
                log.info("the library index %s has no playable song: the built-in station plays", path)
                return None
            stations = index.station_model()
            if stations is None or index.station_settings() != (n_stations, seed):
                stations = fit_station_model(songs, n_stations=n_stations, seed=seed)
            banned = frozenset(index.banned_ids())
    except LibraryIndexError as error:
        log.warning("%s; the built-in station plays instead", error)
        return None
    return MusicLibrary(songs=songs, origin=f"library index {path}", stations=stations, banned=banned, index_path=path)


def _builtin_library(n_stations: int, seed: int) -> MusicLibrary:
    from moodsic_desktop.audio.builtin_station import builtin_songs, ensure_builtin_audio
    from moodsic_desktop.audio.library_index import fit_station_model

    try:
        songs = ensure_builtin_audio()
    except OSError as error:
        log.warning("cannot write the built-in station's audio (%s); it has no sound this time", error)
        songs = builtin_songs()
    stations = fit_station_model(songs, n_stations=n_stations, seed=seed)
    return MusicLibrary(songs=songs, origin=BUILTIN_ORIGIN, stations=stations)


def quiet_native_logs() -> None:
    """Silence the native chatter of MediaPipe, TensorFlow Lite and FFmpeg (call before importing them):
    our own messages say what went wrong, once and clearly."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")


def build_pipeline(library: MusicLibrary, settings: EngineSettings) -> Pipeline:
    """A ready pipeline: MediaPipe face detection, the configured experts, stabiliser and matcher."""
    quiet_native_logs()
    from moodsic_desktop.perception.faces import MediaPipeFaceDetector
    from moodsic_desktop.perception.registry import create_face_expert, create_scene_expert

    matcher = Matcher(
        library.songs,
        stations=library.stations,
        min_dwell_s=settings.min_dwell_s,
        recent_k=settings.recent_k,
        top_k=settings.top_k,
        widen_below=settings.widen_below,
        hysteresis=settings.hysteresis,
        mode=settings.mode,
    )
    for song_id in library.banned:
        with contextlib.suppress(KeyError):  # banned, but not among the songs loaded
            matcher.ban(song_id)
    stabilizer = Stabilizer(settings.alpha, settings.tau, settings.scene_only_alpha_factor)
    return Pipeline(
        detector=MediaPipeFaceDetector(tiles=settings.face_detection_tiles),
        face_expert=create_face_expert(settings.face_expert),
        scene_expert=create_scene_expert(settings.scene_expert),
        stabilizer=stabilizer,
        matcher=matcher,
        settings=settings.pipeline,
    )
