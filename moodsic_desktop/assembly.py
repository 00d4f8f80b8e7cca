"""Assembles the pipeline from settings: the one place that chooses the library, stations and experts.

Used by ``moodsic analyze`` and by the GUI's capture worker, so both run the same object the same way.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

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
    """The songs to choose from, where they came from, and their station model (None if too few songs)."""

    songs: list[Song]
    origin: str
    stations: StationModel | None
    skipped_rows: int = 0


def load_library(folder: str | Path | None, n_stations: int = 5, seed: int = 0) -> MusicLibrary:
    """Load a DEAM folder, or the built-in station when ``folder`` is None, and fit its stations.

    Raises ``FileNotFoundError`` or ``ValueError`` with a clear message when the folder is unusable.
    """
    if folder is None:
        from moodsic_desktop.audio.builtin_station import builtin_songs

        songs, origin, skipped = builtin_songs(), "built-in station", 0
    else:
        result = read_deam(folder)
        songs, origin, skipped = result.songs, f"DEAM folder {folder}", result.skipped_rows
        if not songs:
            raise ValueError(f"no usable song in the DEAM folder {folder} ({skipped} bad rows)")
    points = np.array([[s.valence, s.arousal] for s in songs])
    distinct = len(np.unique(points, axis=0))
    stations = (
        StationModel.fit(points[:, 0], points[:, 1], n_stations=n_stations, seed=seed)
        if distinct >= max(n_stations, 2) * 2
        else None
    )
    return MusicLibrary(songs=songs, origin=origin, stations=stations, skipped_rows=skipped)


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
    stabilizer = Stabilizer(settings.alpha, settings.tau, settings.scene_only_alpha_factor)
    return Pipeline(
        detector=MediaPipeFaceDetector(tiles=settings.face_detection_tiles),
        face_expert=create_face_expert(settings.face_expert),
        scene_expert=create_scene_expert(settings.scene_expert),
        stabilizer=stabilizer,
        matcher=matcher,
        settings=settings.pipeline,
    )
