"""Assembles the pipeline from settings: the one place that chooses the library, stations and experts.

Used by ``moodsic analyze``, the self-test and the window's start-up (``ui/app.py``; the window's pipeline
worker then runs it), so all run the same object the same way.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from moodsic_desktop.audio.builtin import cache as builtin_cache
from moodsic_desktop.audio.builtin.catalogue import builtin_songs
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.reports import LibraryIndexError
from moodsic_desktop.audio.library.schema import default_index_path
from moodsic_desktop.audio.library.sources import read_deam
from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.matcher import Matcher, MatchMode, validate_match_mode
from moodsic_desktop.core.pipeline import Pipeline, PipelineSettings
from moodsic_desktop.core.settings_schema import ALPHA, DWELL, REPEAT_WINDOW, TAU
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.core.stations import fit_station_model
from moodsic_desktop.core.types import ExpertRole, FaceExpert, SceneExpert
from moodsic_desktop.perception import fer_expert
from moodsic_desktop.perception.emonet_expert import FaceUncertainty, validate_face_uncertainty
from moodsic_desktop.perception.face_cues import FaceCueReader
from moodsic_desktop.perception.faces import MediaPipeFaceDetector
from moodsic_desktop.perception.fer_expert import FerExpert
from moodsic_desktop.perception.model_store import StoreScan, scan_models
from moodsic_desktop.perception.onnx_runtime import (
    ModelTerms,
    OnnxDevice,
    OnnxRuntimeError,
    RuntimeConfig,
    validate_onnx_device,
)
from moodsic_desktop.perception.registry import (
    FACE_EXPERTS,
    FACE_MODEL_PREFERENCE,
    SCENE_EXPERTS,
    create_face_expert,
    create_model_expert,
    create_scene_expert,
)
from moodsic_desktop.perception.room_energy import RoomEnergyMeter

log = logging.getLogger(__name__)


@dataclass
class EngineSettings:
    """Every tunable of the PERCEIVE → STABILIZE → MATCH engine, with its default. Times in seconds,
    alpha is the EMA weight of an estimate 1 s after the last, tau a standard deviation in reference units."""

    alpha: float = ALPHA.default
    tau: float = TAU.default
    scene_only_alpha_factor: float = 0.5
    min_dwell_s: float = DWELL.default
    hysteresis: float = 0.15
    recent_k: int = 5
    top_k: int = 20
    widen_below: float = 0.55
    mode: MatchMode = "match"
    repeat_window_s: float = REPEAT_WINDOW.default * 60.0  # a song comes back after this, near songs allowing
    n_stations: int = 5
    # The full-range face model misses faces under ~80 px in a whole frame; a 3 x 2 grid of tiles on top
    # finds them from ~35 px (a face two to five metres from a 720p camera) at ~25 ms per frame on 2 cores.
    face_detection_tiles: tuple[int, int] = (3, 2)
    # Half of the tiles on each frame, in turns (a tile's boxes carry over one frame): 5 model runs a frame
    # instead of 8, so that eight faces read at 25+ frames per second on 2 cores (perception/faces.py).
    face_detection_tile_turns: int = 2
    # The short-range model as well, for close-ups the full-range one misses; and a closer look at every new
    # candidate, so that a blurred title or a patterned shirt is not read as a face (perception/faces.py).
    face_detection_short_range: bool = True
    face_detection_confirm: bool = True
    # "auto": the first usable model of models/ for that role, else the built-in expert; or a built-in name
    # ("face-geometry", "scene-statistics"), a model kind ("emonet", "scene") or a model's manifest name.
    face_expert: str = "auto"
    scene_expert: str = "auto"
    # Model experts: onnxruntime device ("auto", "cpu", "cuda", "directml", "coreml") and intra-op threads
    # (0: onnxruntime's default); the face model's uncertainty ("window": one pass per frame, "tta": several
    # augmentations per frame in one batch); the scene head's MC-dropout samples (0: the model's default).
    onnx_device: OnnxDevice = "auto"
    onnx_threads: int = 0
    face_uncertainty: FaceUncertainty = "window"
    scene_samples: int = 0
    # The FER-2013 face model's arousal also from what each face does (mouth, brows: perception/face_cues.py),
    # and the room's energy (people in view and their movement: perception/room_energy.py) fused on arousal.
    face_cues: bool = True
    room_energy: bool = True
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)

    def __post_init__(self) -> None:
        # settings files and the command line give plain str: checked here, ValueError naming the choices
        self.mode = validate_match_mode(self.mode)
        self.onnx_device = validate_onnx_device(self.onnx_device)
        self.face_uncertainty = validate_face_uncertainty(self.face_uncertainty)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


BUILTIN_ORIGIN = "built-in station"
RECENT_HISTORY = 50  # plays of earlier sessions the matcher remembers (the recent-song rule looks at recent_k)


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
      cached on first use (without audio paths if the cache cannot be written), without the built-in
      pieces an index without playable songs holds as banned (``moodsic library ban`` on a fresh install).
      A damaged index is logged and left alone, and the built-in station plays.

    Raises ``FileNotFoundError`` or ``ValueError`` with a clear message when the folder is unusable.
    Blocks for a few seconds the first time the built-in station is made: a worker thread or the CLI.
    """
    if folder is None:
        library, problem, banned = _library_from_index(index_path, n_stations, seed)
        if library is None:
            library = replace(builtin_library(n_stations, seed), problem=problem, banned=banned)
        return library
    result = read_deam(folder)
    songs, skipped = result.songs, result.skipped_rows
    stations = fit_station_model(songs, n_stations=n_stations, seed=seed)
    return MusicLibrary(songs=songs, origin=f"DEAM folder {folder}", stations=stations, skipped_rows=skipped)


def _library_from_index(
    index_path: str | Path | None, n_stations: int, seed: int
) -> tuple[MusicLibrary | None, str | None, frozenset[str]]:
    """The index's library, or None with why not (None when there is simply no index or no playable song)
    and the songs it holds as banned (for the built-in station that then plays)."""
    path = Path(index_path) if index_path is not None else default_index_path()
    if not path.is_file():
        return None, None, frozenset()
    try:
        with LibraryIndex(path, create=False, n_stations=n_stations, seed=seed) as index:
            songs = index.songs(playable_only=True)
            if not songs:
                log.info("the library index %s has no playable song: the built-in station plays", path)
                return None, None, frozenset(index.banned_ids())
            stations = index.station_model()
            if stations is None or index.station_settings() != (n_stations, seed):
                stations = fit_station_model(songs, n_stations=n_stations, seed=seed)
            banned = frozenset(index.banned_ids())
            recent = tuple(play.song_id for play in reversed(index.recent_plays(RECENT_HISTORY)))
    except LibraryIndexError as error:  # left alone; the caller shows the problem (a banner, a warning)
        problem = f"{error}; the built-in station plays instead."
        log.info(problem)
        return None, problem, frozenset()
    origin = f"library index {path}"
    return MusicLibrary(songs, origin, stations, banned=banned, recent=recent, index_path=path), None, banned


def builtin_library(n_stations: int = 5, seed: int = 0) -> MusicLibrary:
    """The built-in station, its audio synthesised into the cache on first use (seconds: not the GUI
    thread); without audio paths when the cache cannot be written."""
    try:
        songs = builtin_cache.ensure_builtin_audio()  # looked up on its module, where a test may replace it
    except OSError as error:
        log.warning("cannot write the built-in station's audio (%s); it has no sound this time", error)
        songs = builtin_songs()
    stations = fit_station_model(songs, n_stations=n_stations, seed=seed)
    return MusicLibrary(songs=songs, origin=BUILTIN_ORIGIN, stations=stations)


# The expert setting that lets the models folder decide. Not a Literal: the setting may also name a built-in
# expert, a model kind or any manifest name (EngineSettings.face_expert).
AUTO: Final = "auto"
BUILTIN_EXPERTS: Final[dict[ExpertRole, str]] = {"face": "face-geometry", "scene": "scene-statistics"}


@dataclass(frozen=True)
class ExpertChoice:
    """The expert chosen for one role ("face" or "scene") and why, in words for the window's banner.

    ``model`` is the manifest name of the model that runs (None for a built-in expert); ``reason`` one
    line; ``problems`` the models considered and not used, each with its reason; ``terms`` the running
    model's licence, commercial use and status, as its file says (None for a built-in expert)."""

    role: ExpertRole
    requested: str
    expert: Any
    model: str | None
    reason: str
    problems: tuple[str, ...] = ()
    terms: ModelTerms | None = None

    @property
    def is_model(self) -> bool:
        return self.model is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "requested": self.requested,
            "expert": getattr(self.expert, "name", None),
            "model": self.model,
            "device": getattr(self.expert, "device", None),
            "reason": self.reason,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class ExpertNotes:
    """What the window says about the experts: ``lines`` for Diagnostics (:meth:`ExpertSelection.lines`), and
    the two facts the owner has to act on: ``model_not_used`` (a model installed here could not be used, or
    the models folder's manifest cannot be read) and ``non_commercial`` (a model that runs is not licensed
    for commercial use)."""

    lines: tuple[str, ...] = ()
    model_not_used: bool = False
    non_commercial: bool = False


@dataclass(frozen=True)
class ExpertSelection:
    """Both choices plus notes about the models folder (unlisted files, a damaged manifest);
    ``manifest_unreadable``: the folder's manifest could not be read, so no model was considered."""

    face: ExpertChoice
    scene: ExpertChoice
    notes: tuple[str, ...] = ()
    manifest_unreadable: bool = False

    def lines(self) -> list[str]:
        """What is active and why (one line per role), then what was rejected and the folder notes."""
        lines = [self.face.reason, self.scene.reason]
        lines += [f"{choice.role} model not used: {p}" for choice in (self.face, self.scene) for p in choice.problems]
        return lines + list(self.notes)

    def for_window(self) -> ExpertNotes:
        """The lines and the facts the window shows (:class:`ExpertNotes`)."""
        choices = (self.face, self.scene)
        return ExpertNotes(
            lines=tuple(self.lines()),
            model_not_used=self.manifest_unreadable or any(choice.problems for choice in choices),
            non_commercial=any(c.terms is not None and not c.terms.commercial_use for c in choices),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"face": self.face.to_dict(), "scene": self.scene.to_dict(), "notes": list(self.notes)}


def _model_reason(role: ExpertRole, expert: Any, terms: ModelTerms) -> str:
    line = f"{role}: {expert.name} on {expert.device} — licence {terms.licence_words}"
    return line + (f" [{terms.status}]" if terms.status else "")


def _choose(role: ExpertRole, requested: str, scan: StoreScan, settings: EngineSettings) -> ExpertChoice:
    create_builtin = create_face_expert if role == "face" else create_scene_expert
    key = requested.strip().lower()
    if key in _builtin_names(role):
        expert = create_builtin(key)
        return ExpertChoice(role, requested, expert, None, f"{role}: {expert.name}, chosen in the settings")
    candidates = [m for m in scan.models if m.expert == role and (key == AUTO or key in (m.kind, m.name.lower()))]
    rank = {kind: i for i, kind in enumerate(FACE_MODEL_PREFERENCE)}
    candidates.sort(key=lambda m: rank.get(m.kind, len(rank)))  # stable: manifest order within a kind
    problems = [f"{m.name}: {'; '.join(m.problems)}" for m in candidates if not m.usable]
    device = None if settings.onnx_device == AUTO else settings.onnx_device  # "auto": MOODSIC_ONNX_DEVICE may say
    runtime = RuntimeConfig.from_environment(device, settings.onnx_threads or None)
    for status in (m for m in candidates if m.usable):
        try:
            expert = create_model_expert(status, runtime, **_expert_options(status.kind, settings))
        except (OnnxRuntimeError, ValueError, KeyError) as error:
            problems.append(f"{status.name}: cannot be loaded ({error})")
            continue
        reason = _model_reason(role, expert, expert.terms)
        log.info("%s", reason)
        return ExpertChoice(role, requested, expert, status.name, reason, tuple(problems), expert.terms)
    if role == "face" and key in (AUTO, *BUNDLED_FACE_NAMES):
        bundled = _bundled_face_expert(runtime, problems, settings.face_cues)
        if bundled is not None:
            reason = _model_reason(role, bundled, bundled.terms)
            return ExpertChoice(role, requested, bundled, BUNDLED_FACE_MODEL, reason, tuple(problems), bundled.terms)
    expert = create_builtin(BUILTIN_EXPERTS[role])
    if key == AUTO:
        why = "no usable model" if problems else f"no {role} model installed in {scan.directory}"
    elif candidates:
        why = f"no usable model matches {requested!r}"
    else:
        why = f"no {role} model called {requested!r} in {scan.directory}"
    reason = f"{role}: {expert.name} ({why})"
    if problems:
        log.warning("%s; %s", reason, "; ".join(problems))
    return ExpertChoice(role, requested, expert, None, reason, tuple(problems))


def _expert_options(kind: str, settings: EngineSettings) -> dict[str, Any]:
    """The settings a model expert of ``kind`` takes: EmoNet's uncertainty mode, the scene head's samples."""
    if kind == "emonet":
        return {"uncertainty": settings.face_uncertainty}
    if kind == "scene" and settings.scene_samples:
        return {"samples": settings.scene_samples}
    if kind == "fer2013" and settings.face_cues:
        return {"cues": FaceCueReader()}
    return {}


BUNDLED_FACE_MODEL = "fer2013-mini-xception"
BUNDLED_FACE_NAMES = ("fer2013", BUNDLED_FACE_MODEL)


def _bundled_face_expert(runtime: Any, problems: list[str], cues: bool) -> Any:
    """The face model in the box (FER-2013; with the faces' cues when ``cues``), or ``None`` with the reason
    added to ``problems``."""
    path = fer_expert.bundled_model_path()  # looked up on its module, where a test may replace it
    try:
        return FerExpert(path, runtime=runtime, cues=FaceCueReader() if cues else None)
    except (OnnxRuntimeError, ValueError, OSError) as error:
        problems.append(f"{BUNDLED_FACE_MODEL} (in the box, {path}): cannot be loaded ({error})")
        return None


def make_fallback(role: ExpertRole) -> FaceExpert | SceneExpert:
    """The built-in expert for ``role`` ("face" or "scene"): what takes over from a model that keeps failing."""
    create = create_face_expert if role == "face" else create_scene_expert
    return create(BUILTIN_EXPERTS[role])


def _builtin_names(role: ExpertRole) -> tuple[str, ...]:
    return tuple(FACE_EXPERTS if role == "face" else SCENE_EXPERTS)


def select_experts(settings: EngineSettings, models_directory: str | Path | None = None) -> ExpertSelection:
    """Choose the face and scene experts: the models of ``models_directory`` (default ``models/``) that
    ``settings`` ask for and that pass the checks of ``model_store.scan_models``, else the built-in
    experts. Never raises for a missing, corrupt or mismatched model: the reasons are in the result.
    Opens the model files (seconds for large ones): the CLI's thread or a worker thread."""
    scan = scan_models(models_directory)
    face = _choose("face", settings.face_expert, scan, settings)
    scene = _choose("scene", settings.scene_expert, scan, settings)
    return ExpertSelection(face, scene, tuple(scan.notes), manifest_unreadable=scan.manifest_unreadable)


def build_pipeline(library: MusicLibrary, settings: EngineSettings, experts: ExpertSelection | None = None) -> Pipeline:
    """A ready pipeline: MediaPipe face detection, the experts (``experts``, else :func:`select_experts`
    with ``settings``), stabiliser and matcher."""
    if experts is None:
        experts = select_experts(settings)

    matcher = Matcher(
        library.songs,
        stations=library.stations,
        min_dwell_s=settings.min_dwell_s,
        recent_k=settings.recent_k,
        top_k=settings.top_k,
        widen_below=settings.widen_below,
        hysteresis=settings.hysteresis,
        mode=settings.mode,
        repeat_window_s=settings.repeat_window_s,
    )
    for song_id in library.banned:
        with contextlib.suppress(KeyError):  # banned, but not among the songs loaded
            matcher.ban(song_id)
    matcher.remember(library.recent)  # a restart does not replay the songs that just played
    stabilizer = Stabilizer(settings.alpha, settings.tau, settings.scene_only_alpha_factor)
    return Pipeline(
        detector=MediaPipeFaceDetector(
            also_short_range=settings.face_detection_short_range,
            tiles=settings.face_detection_tiles,
            confirm=settings.face_detection_confirm,
            tile_turns=settings.face_detection_tile_turns,
        ),
        face_expert=experts.face.expert,
        scene_expert=experts.scene.expert,
        stabilizer=stabilizer,
        matcher=matcher,
        settings=settings.pipeline,
        fallbacks={
            choice.role: functools.partial(make_fallback, choice.role)
            for choice in (experts.face, experts.scene)
            if choice.is_model
        },
        room_energy=RoomEnergyMeter() if settings.room_energy else None,
    )
