"""The one pipeline object that the GUI worker and ``moodsic analyze`` both drive.

PERCEIVE: detect faces → follow each face (``core.tracking.FaceTracker``: the person it belongs to, in
``FaceBox.track``) → read every face in view, largest first, up to ``max_faces`` (one batched call
for an expert that reads many at once; otherwise one call per face until ``face_budget_ms`` is spent) →
each person's reading smoothed on its own (``PersonSmoother``) → the room's face reading from people
(``combine_faces`` with ``PEOPLE_SPREAD_VAR``: inverse variance × detection score × size); the room's
energy (people in view and their movement, when a reader is given) on the same frames; the scene expert
on the whole frame; each at its own rate (the faces as often as every frame, the scene less often);
``fuse_step`` the freshest estimates (``fuse``, then ``with_room_energy`` on arousal).
STABILIZE: ``Stabilizer`` (time-based EMA with uncertainty gating). MATCH: ``Matcher``, aiming at the
stabilised reading, or at ``aim(valence, arousal)`` of it when an aim is set (the day plan's part of the
day: ``core.day_plan.MoodLean.aim``; None, the default, leaves the reading untouched).

Frames are RGB uint8 arrays (H x W x 3); times are seconds on one clock (video position or a monotonic
clock). The pipeline is not thread-safe: the thread that calls ``process`` (the window's pipeline worker, or the
CLI's main thread) owns it, and settings change between calls through ``stabilizer``, ``matcher`` and
``settings``. An expert that raises or returns a non-finite estimate is logged, counted and treated as
silent for that step; the pipeline keeps going. An expert that fails ``FAILURES_BEFORE_FALLBACK`` steps in
a row (raises or returns non-finite numbers for every face) is replaced by its fallback, when one was
given, and the step says so once in ``notices``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import ParamSpec, TypeVar

from moodsic_desktop.core.fusion import (
    PEOPLE_SPREAD_VAR,
    FusionMode,
    combine_faces,
    face_weights,
    fuse_step,
    validate_fusion_mode,
)
from moodsic_desktop.core.matcher import Decision, Matcher
from moodsic_desktop.core.stabilizer import Stabilized, Stabilizer
from moodsic_desktop.core.tracking import FaceTracker, PersonSmoother
from moodsic_desktop.core.types import (
    BatchFaceExpert,
    Estimate,
    ExpertRole,
    FaceBox,
    FaceDetector,
    FaceExpert,
    FaceRead,
    Frame,
    RoomEnergy,
    RoomEnergyReader,
    SceneExpert,
)

log = logging.getLogger(__name__)

FAILURES_BEFORE_FALLBACK = 5

_P = ParamSpec("_P")
_R = TypeVar("_R")


def primary_face(faces: list[FaceBox], frame_width: int, frame_height: int) -> FaceBox | None:
    """The face to read: the highest score × sqrt(area) × (0.7 + 0.3 × closeness to the frame centre).

    Closeness is 1 at the centre and 0 at a corner (distance over half the frame diagonal). Area in pixels².
    """
    if not faces:
        return None
    cx, cy = frame_width / 2.0, frame_height / 2.0
    half_diagonal = math.hypot(cx, cy) or 1.0

    def weight(face: FaceBox) -> float:
        fx, fy = face.center
        closeness = max(0.0, 1.0 - math.hypot(fx - cx, fy - cy) / half_diagonal)
        return face.score * math.sqrt(face.area) * (0.7 + 0.3 * closeness)

    return max(faces, key=weight)


@dataclass
class PipelineSettings:
    """How often each expert runs and how estimates are combined. Times in seconds.

    ``face_interval_s`` 0 runs detection and the face expert on every frame; ``scene_interval_s`` is the
    time between scene readings. Between runs, each expert's last reading is fused. ``max_faces`` caps
    the faces read per step (largest first); ``face_budget_ms`` is the time an expert that reads one face
    per call may spend per step (it always reads the largest face, then more while time is left).
    ``simulate_song_end`` ends songs after their ``duration_s`` (for runs without an audio engine).
    """

    face_interval_s: float = 0.0
    scene_interval_s: float = 0.5
    fusion_mode: FusionMode = "inverse_variance"
    simulate_song_end: bool = False
    max_faces: int = 8
    face_budget_ms: float = 150.0

    def __post_init__(self) -> None:
        self.fusion_mode = validate_fusion_mode(self.fusion_mode)  # settings files and the CLI give plain str
        if self.max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {self.max_faces}")
        if not math.isfinite(self.face_budget_ms) or self.face_budget_ms < 0:
            raise ValueError(f"face_budget_ms must be a finite number >= 0, got {self.face_budget_ms}")


@dataclass(frozen=True)
class StepRecord:
    """What one call of ``Pipeline.process`` saw and decided.

    ``scene``/``face`` are the estimates fused this step (possibly from an earlier frame: see
    ``scene_fresh``/``face_fresh``); ``face`` is the room's reading of every face read. ``faces`` are the
    faces read (largest first, with their own estimates and shares); ``face_box`` is the primary one
    (see :func:`primary_face`). ``timings_ms`` holds the milliseconds each stage took this step (only the
    stages that ran); ``errors`` names the experts that failed this step; ``notices`` says, once, what
    changed (an expert replaced by its fallback). ``room`` is the room's energy (``None`` without a
    reader, or before its first reading); ``fused`` already holds it on arousal.
    """

    time: float
    faces_found: int
    face_box: FaceBox | None
    scene: Estimate | None
    scene_fresh: bool
    face: Estimate | None
    face_fresh: bool
    fused: Estimate | None
    stabilized: Stabilized | None
    decision: Decision | None
    timings_ms: dict[str, float] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    faces: tuple[FaceRead, ...] = ()
    notices: tuple[str, ...] = ()
    room: RoomEnergy | None = None

    @property
    def faces_read(self) -> int:
        """How many faces have an estimate in this step's reading."""
        return sum(read.estimate is not None for read in self.faces)


class Pipeline:
    """PERCEIVE → STABILIZE → MATCH over timestamped frames (see the module docstring)."""

    def __init__(
        self,
        detector: FaceDetector | None,
        face_expert: FaceExpert | None,
        scene_expert: SceneExpert | None,
        stabilizer: Stabilizer,
        matcher: Matcher,
        settings: PipelineSettings | None = None,
        fallbacks: Mapping[ExpertRole, Callable[[], FaceExpert | SceneExpert]] | None = None,
        room_energy: RoomEnergyReader | None = None,
    ) -> None:
        """``fallbacks`` maps "face"/"scene" to a function that makes the expert to use once that role's
        expert has failed ``FAILURES_BEFORE_FALLBACK`` steps in a row (called on the pipeline's thread).
        ``room_energy`` reads the room's energy on the frames the faces are looked for in."""
        self.detector = detector
        self.face_expert = face_expert
        self.scene_expert = scene_expert
        self.stabilizer = stabilizer
        self.matcher = matcher
        self.settings = settings or PipelineSettings()
        self.error_counts: Counter[str] = Counter()
        self.fallbacks = dict(fallbacks or {})
        self.aim: Callable[[float, float], tuple[float, float]] | None = None  # reading → target (reference V-A)
        self._failing_steps: Counter[ExpertRole] = Counter()
        self._notices: list[str] = []
        self._face: Estimate | None = None
        self._faces: tuple[FaceRead, ...] = ()
        self._face_box: FaceBox | None = None
        self._faces_found = 0
        self._scene: Estimate | None = None
        self._last_face_run: float | None = None
        self._last_scene_run: float | None = None
        self.room_energy = room_energy
        self._room: RoomEnergy | None = None
        self.tracker = FaceTracker()
        self.smoother = PersonSmoother()

    def reset(self) -> None:
        """Start over for a new source: forget readings, the stabiliser state and the experts' baselines.
        The matcher keeps the current song and its history, so the music does not jump."""
        self._face = self._scene = None
        self._face_box = None
        self._faces = ()
        self._faces_found = 0
        self._room = None
        self.tracker.reset()
        self.smoother.reset()
        if self.room_energy is not None:
            self.room_energy.reset()
        self._failing_steps.clear()  # a new source: an expert's earlier failures do not count against it
        self._last_face_run = self._last_scene_run = None
        self.stabilizer.reset()
        for expert in (self.face_expert, self.scene_expert):
            if expert is not None:
                expert.reset()
        forget = getattr(self.detector, "reset", None)  # a detector that remembers the last frame's faces
        if forget is not None:
            forget()

    def close(self) -> None:
        """Release what the detector and experts hold (MediaPipe graphs, ONNX sessions). Never raises: a
        part whose ``close`` fails is logged and the others are still closed."""
        for part in (self.detector, self.face_expert, self.scene_expert):
            close = getattr(part, "close", None)
            if close is not None:
                try:
                    close()
                except Exception as error:
                    log.warning("closing %s failed: %s", type(part).__name__, error)

    @staticmethod
    def _due(last: float | None, interval: float, now: float) -> bool:
        return last is None or now - last >= interval or now < last

    def _call(
        self, name: str, errors: list[str], fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs
    ) -> _R | None:
        """Run one stage; an exception is logged (first time in full), counted and turned into None."""
        try:
            return fn(*args, **kwargs)
        except Exception as error:  # an expert must never stop the pipeline
            self.error_counts[name] += 1
            errors.append(name)
            if self.error_counts[name] == 1:
                log.exception("%s failed; it is skipped while it keeps failing", name)
            else:
                log.debug("%s failed again: %s", name, error)
            return None

    def _checked(self, name: str, errors: list[str], estimate: Estimate | None) -> Estimate | None:
        if estimate is not None and not estimate.is_finite():
            self.error_counts[name] += 1
            errors.append(name)
            if self.error_counts[name] == 1:
                log.warning("%s returned a non-finite estimate; ignored", name)
            return None
        return estimate

    def _perceive_face(self, frame: Frame, now: float, timings: dict[str, float], errors: list[str]) -> bool:
        if self.detector is None or not self._due(self._last_face_run, self.settings.face_interval_s, now):
            return False
        self._last_face_run = now
        start = time.perf_counter()
        faces = self._call("face detector", errors, self.detector.detect, frame) or []
        faces = self.tracker.update(faces, now)
        timings["detect"] = (time.perf_counter() - start) * 1000.0
        self._measure_room(frame, faces, now, timings, errors)
        height, width = frame.shape[:2]
        self._faces_found = len(faces)
        self._face_box = primary_face(faces, width, height)
        reads: list[FaceRead] = []
        expert = self.face_expert
        if faces and expert is not None:
            start = time.perf_counter()
            to_read = sorted(faces, key=lambda box: box.area, reverse=True)[: self.settings.max_faces]
            failures_before = len(errors)
            reads = self._read_faces(expert, frame, to_read, now, errors)
            timings["face"] = (time.perf_counter() - start) * 1000.0
            failed = len(errors) > failures_before and all(read.estimate is None for read in reads)
            self._count_failure("face", expert.name, failed)
        self._faces, self._face = self._room_reading(self._smoothed(reads, now))
        return True

    def _measure_room(
        self, frame: Frame, faces: list[FaceBox], now: float, timings: dict[str, float], errors: list[str]
    ) -> None:
        """The room's energy on this frame (kept until the next reading); a failure leaves none."""
        if self.room_energy is None:
            return
        start = time.perf_counter()
        room = self._call(self.room_energy.name, errors, self.room_energy.measure, frame, faces, now)
        timings["room"] = (time.perf_counter() - start) * 1000.0
        self._room = room if room is not None and room.is_finite() else None

    def _smoothed(self, reads: list[FaceRead], now: float) -> list[FaceRead]:
        """Each followed person's reading smoothed on its own (``PersonSmoother``)."""
        return [
            replace(read, estimate=self.smoother.update(read.box.track, read.estimate, now))
            if read.estimate is not None
            else read
            for read in reads
        ]

    def _read_faces(
        self, expert: FaceExpert, frame: Frame, faces: list[FaceBox], now: float, errors: list[str]
    ) -> list[FaceRead]:
        """Every face's reading: one call for a batch expert, else one call per face within the budget."""
        if isinstance(expert, BatchFaceExpert):
            reads = self._call(expert.name, errors, expert.read_faces, frame, faces, now)
            if reads is None:
                return [FaceRead(box, None) for box in faces]
            return [FaceRead(r.box, self._checked(expert.name, errors, r.estimate), *_expression(r)) for r in reads]
        reads = []
        deadline = time.perf_counter() + self.settings.face_budget_ms / 1000.0
        for box in faces:
            if reads and time.perf_counter() > deadline:
                break  # a slow expert reads as many faces as fit the budget, largest first
            estimate = self._call(expert.name, errors, expert.estimate, frame, box, now)
            estimate = self._checked(expert.name, errors, estimate)
            reading = getattr(expert, "last_reading", None)
            probabilities = getattr(reading, "expression", None) if estimate is not None else None
            top = max(probabilities.items(), key=lambda item: item[1]) if probabilities else (None, None)
            reads.append(FaceRead(box, estimate, top[0], top[1]))
        return reads

    def _room_reading(self, reads: list[FaceRead]) -> tuple[tuple[FaceRead, ...], Estimate | None]:
        """The reads with their shares of the room's reading, and that reading (``None`` without one)."""
        expert_name = self.face_expert.name if self.face_expert is not None else "face"
        read_count = sum(read.estimate is not None for read in reads)
        source = expert_name if read_count == 1 else f"{expert_name} × {read_count} faces"
        room = combine_faces(reads, source=source, between_people_var=PEOPLE_SPREAD_VAR)
        if room is None:
            return tuple(reads), None
        weights = face_weights(reads, "valence", PEOPLE_SPREAD_VAR)
        total = sum(weights) or 1.0
        shared = tuple(
            FaceRead(read.box, read.estimate, read.expression, read.expression_probability, weight / total)
            for read, weight in zip(reads, weights, strict=True)
        )
        return shared, room

    def _count_failure(self, role: ExpertRole, name: str, failed: bool) -> None:
        """Count steps in a row where the ``role`` expert failed; replace it by its fallback at the limit."""
        if not failed:
            self._failing_steps[role] = 0
            return
        self._failing_steps[role] += 1
        make_fallback = self.fallbacks.get(role)
        if self._failing_steps[role] < FAILURES_BEFORE_FALLBACK or make_fallback is None:
            return
        replacement = make_fallback()
        old = self.face_expert if role == "face" else self.scene_expert
        close = getattr(old, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()
        if role == "face":
            self.face_expert = replacement  # type: ignore[assignment]
        else:
            self.scene_expert = replacement  # type: ignore[assignment]
        self.fallbacks.pop(role)
        self._failing_steps[role] = 0
        notice = (
            f"The {role} reader {name} failed {FAILURES_BEFORE_FALLBACK} times in a row; "
            f"{replacement.name} reads instead."
        )
        log.warning("%s", notice)
        self._notices.append(notice)

    def _perceive_scene(self, frame: Frame, now: float, timings: dict[str, float], errors: list[str]) -> bool:
        if self.scene_expert is None or not self._due(self._last_scene_run, self.settings.scene_interval_s, now):
            return False
        self._last_scene_run = now
        start = time.perf_counter()
        failures_before = len(errors)
        name = self.scene_expert.name
        estimate = self._call(name, errors, self.scene_expert.estimate, frame, now)
        timings["scene"] = (time.perf_counter() - start) * 1000.0
        self._scene = self._checked(name, errors, estimate)
        self._count_failure("scene", name, len(errors) > failures_before)
        return True

    def process(self, frame: Frame, now: float) -> StepRecord:
        """Run one step on an RGB uint8 frame taken at ``now`` seconds; returns what happened."""
        timings: dict[str, float] = {}
        errors: list[str] = []
        face_fresh = self._perceive_face(frame, now, timings, errors)
        scene_fresh = self._perceive_scene(frame, now, timings, errors)
        face = self._face
        scene = self._scene
        fused = fuse_step(scene, face, self._room, self.settings.fusion_mode)
        stabilized = None
        decision = None
        if fused is not None:
            scene_only = face is None or self.settings.fusion_mode == "scene"
            stabilized = self.stabilizer.update(fused, now, scene_only=scene_only)
            decision = self._match(stabilized, now)
        return StepRecord(
            time=now,
            faces_found=self._faces_found,
            face_box=self._face_box,
            scene=scene,
            scene_fresh=scene_fresh,
            face=face,
            face_fresh=face_fresh,
            fused=fused,
            stabilized=stabilized,
            decision=decision,
            timings_ms=timings,
            errors=tuple(errors),
            faces=self._faces,
            notices=self._take_notices(),
            room=self._room,
        )

    def _take_notices(self) -> tuple[str, ...]:
        notices, self._notices = tuple(self._notices), []
        return notices

    def _match(self, stabilized: Stabilized, now: float) -> Decision:
        valence, arousal = stabilized.valence, stabilized.arousal
        if self.aim is not None:
            valence, arousal = self.aim(valence, arousal)
        current = self.matcher.current
        started = self.matcher.current_started_at
        if (
            self.settings.simulate_song_end
            and current is not None
            and started is not None
            and current.duration_s
            and now - started >= current.duration_s
        ):
            return self.matcher.song_ended(now, valence, arousal)
        return self.matcher.recommend(valence, arousal, now)

    def song_ended(self, now: float) -> Decision:
        """The audio engine finished the current song: choose the next one."""
        return self.matcher.song_ended(now)

    def skip(self, now: float) -> Decision:
        """The user skipped the current song: choose another one."""
        return self.matcher.skip(now)


def _expression(read: FaceRead) -> tuple[str | None, float | None]:
    return read.expression, read.expression_probability
