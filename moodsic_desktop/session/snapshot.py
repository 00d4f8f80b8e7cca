"""``SessionSnapshot``: what a ``PlaybackSession`` shows the world after a step or a command, frozen.

The window draws only from snapshots: they are made on the session's owner thread (the pipeline worker's)
and handed whole to the GUI thread, so the GUI never reads an object the worker may change (the pipeline,
its matcher or experts). Every field is immutable (frozen dataclasses, tuples, read-only mappings), or an
object that nobody changes once made (``StepRecord``, ``Decision``, ``Song``). A library crosses as a
``LibraryView``: its songs and their stations, not the ``MusicLibrary`` (a list and a mixture model) the
session plays from. Times are seconds on
the session's clock; V-A values are in reference space [-1, 1].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from moodsic_desktop.core.day_plan import PlanState
from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.matcher import Decision
from moodsic_desktop.core.pipeline import StepRecord
from moodsic_desktop.core.song import Song
from moodsic_desktop.core.types import ExpertRole


@dataclass(frozen=True)
class ExpertInfo:
    """One expert in use: its ``name``, whether it is a built-in fallback, and the ``device`` it runs on."""

    role: ExpertRole
    name: str
    is_fallback: bool
    device: str

    @classmethod
    def of(cls, role: ExpertRole, expert: Any) -> ExpertInfo | None:
        """The info of ``expert`` (a face or scene expert, or None). Owner thread of the expert."""
        if expert is None:
            return None
        return cls(
            role=role,
            name=str(getattr(expert, "name", type(expert).__name__)),
            is_fallback=bool(getattr(expert, "is_fallback", False)),
            device=str(getattr(expert, "device", "cpu")),
        )


@dataclass(frozen=True)
class LibraryView:
    """What the window shows of a library: where it comes from, its songs (V-A in reference space [-1, 1]),
    each song's station (an index into ``station_names``; None without a station model) and the library
    index it belongs to. Made once per library on the session's thread (:meth:`of`)."""

    origin: str
    songs: tuple[Song, ...]
    station_of: tuple[int, ...] | None
    station_names: tuple[str, ...] | None
    index_path: Path | None = None
    problem: str | None = None

    @classmethod
    def of(cls, library: MusicLibrary) -> LibraryView:
        """The view of ``library``; assigns the songs to stations (a mixture model's prediction: milliseconds)."""
        songs, stations = tuple(library.songs), library.stations
        station_of = station_names = None
        if stations is not None and songs:
            predicted = stations.predict([s.valence for s in songs], [s.arousal for s in songs])
            station_of, station_names = tuple(int(i) for i in predicted), tuple(stations.names)
        return cls(library.origin, songs, station_of, station_names, library.index_path, library.problem)


@dataclass(frozen=True)
class LibraryChange:
    """Songs now come from ``library``: the fallback while the user's library is ``lost``, or the user's
    library again (``lost`` False). ``message`` tells the user why, in one sentence or two."""

    library: LibraryView
    lost: bool
    message: str


@dataclass(frozen=True)
class SessionSnapshot:
    """The session at ``time`` (seconds, session clock).

    ``step`` is the pipeline step this snapshot reports (None for a snapshot made after commands only).
    Events since the last snapshot, oldest first: ``decisions`` (songs handed to the audio engine, with
    their "why"), ``problems`` (warnings for a banner), ``skipped`` (songs that could not play),
    ``library_change`` (the last switch of library), ``exported`` (report paths written).
    State now: ``library`` (the library songs come from), ``library_lost`` (the fallback plays), ``face_expert``
    / ``scene_expert`` (the experts in use, after any fallback), ``min_dwell_s`` (the matcher's dwell),
    ``metrics`` (the session metrics' summary, refreshed about once a second), ``failures`` (steps that
    failed and restarted the pipeline), ``day_plan`` (what the day plan says now: open or closed, the part of
    the day in force; None from a session that follows none).
    """

    time: float
    step: StepRecord | None
    library: LibraryView
    library_lost: bool
    face_expert: ExpertInfo | None
    scene_expert: ExpertInfo | None
    min_dwell_s: float
    metrics: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    failures: int = 0
    decisions: tuple[Decision, ...] = ()
    problems: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    library_change: LibraryChange | None = None
    exported: tuple[str, ...] = ()
    day_plan: PlanState | None = None

    @property
    def faces_read(self) -> int:
        """Faces with an estimate in this snapshot's step (0 without a step)."""
        return self.step.faces_read if self.step is not None else 0

    @property
    def experts(self) -> tuple[ExpertInfo, ...]:
        """The experts in use, face first."""
        return tuple(e for e in (self.face_expert, self.scene_expert) if e is not None)

    @property
    def has_events(self) -> bool:
        """Whether anything happened that the GUI must hear of, beyond the step."""
        return bool(self.decisions or self.problems or self.skipped or self.library_change or self.exported)
