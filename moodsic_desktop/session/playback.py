"""``PlaybackSession``: the domain logic of a running session, without Qt.

One object drives a ``Pipeline`` over timestamped frames, and around it: the ``LibraryGuard`` (the user's
library lost → the fallback library plays; back → the user's library again, with the matcher parked
meanwhile and handed back), plays and bans written to the library index, the songs handed to an
``AudioPort``, and the session report. After each step or batch of commands it publishes an immutable
``SessionSnapshot``: what the window draws. The GUI's pipeline worker, ``moodsic analyze`` and
``--self-test`` all drive this class.

Threads: not thread-safe. One owner thread (the pipeline worker's, or the CLI's main thread) makes every
call, commands and ``step`` alike; other threads queue commands to it (``ui.workers.PipelineWorker``).
The library index (SQLite) is opened on that thread on first use and closed by ``close``.
Times are seconds on one monotonic clock (``clock``, by default ``time.monotonic``; frames' times must be
on the same clock when the session drives audio); V-A values are in reference space [-1, 1].
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import numpy as np

from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.reports import LibraryIndexError
from moodsic_desktop.core.fusion import FusionMode, validate_fusion_mode
from moodsic_desktop.core.library import MusicLibrary, Song
from moodsic_desktop.core.matcher import Decision, MatchMode, validate_match_mode
from moodsic_desktop.core.pipeline import Pipeline, StepRecord
from moodsic_desktop.core.report import SessionReport, session_settings
from moodsic_desktop.session.assembly import BUILTIN_ORIGIN, load_library
from moodsic_desktop.session.audio_port import AudioPort, SilentAudioPort
from moodsic_desktop.session.library_guard import LibraryGuard
from moodsic_desktop.session.library_reload import describe_change
from moodsic_desktop.session.snapshot import ExpertInfo, LibraryChange, LibraryView, SessionSnapshot

log = logging.getLogger(__name__)

SUMMARY_PERIOD_S = 1.0  # how often the metrics' summary in the snapshots is refreshed (session clock)


class PlaybackSession:
    """A running session (see the module docstring).

    ``pipeline`` and ``library`` (the user's library) come from ``session.assembly``; ``audio`` plays what
    is chosen (default: a silent port); ``report`` collects every step (None: no report); ``fallback``
    makes the library that plays while the user's is lost (default: the built-in station);
    ``contain_failures`` turns a step that raises into a problem in the snapshot and a pipeline restart
    (False: the exception propagates, as ``moodsic analyze`` wants); ``summary_period_s`` is how often the
    snapshots' ``metrics`` are refreshed, in session seconds (``math.inf``: once, for a run nobody watches;
    a summary's cost grows with the session).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        library: MusicLibrary,
        audio: AudioPort | None = None,
        report: SessionReport | None = None,
        *,
        fallback: Callable[[], MusicLibrary] | None = None,
        check_every_s: float = 10.0,
        contain_failures: bool = True,
        summary_period_s: float = SUMMARY_PERIOD_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pipeline = pipeline
        self.guard = (
            LibraryGuard(library, check_every_s=check_every_s)
            if fallback is None
            else LibraryGuard(library, fallback, check_every_s=check_every_s)
        )
        self.audio: AudioPort = audio if audio is not None else SilentAudioPort()
        self.report = report
        self.contain_failures = contain_failures
        self.summary_period_s = summary_period_s
        self.clock = clock
        self.index_path: Path | None = library.index_path
        self._index: LibraryIndex | None = None
        self.failures = 0
        self._now = clock()
        self._last_mood: tuple[float, float] | None = None  # the last stabilised V-A
        self._summary_time = -math.inf
        self._metrics = MappingProxyType(report.metrics.summary() if report is not None else {})
        self._decisions: list[Decision] = []
        self._problems: list[str] = []
        self._skipped: list[str] = []
        self._exported: list[str] = []
        self._library_change: LibraryChange | None = None
        self._view: LibraryView | None = None  # the snapshots' view of ``_viewed``, the library that plays
        self._viewed: MusicLibrary | None = None
        self._unplayable: set[str] = set()  # banned this session only: they failed to play

    # -- settings commands ------------------------------------------------------------------------------
    def set_alpha(self, alpha: float) -> None:
        """The stabiliser's EMA weight per second, in [0, 1]."""
        self.pipeline.stabilizer.alpha = alpha

    def set_tau(self, tau: float) -> None:
        """Hold a dimension while its standard deviation exceeds ``tau`` (reference units)."""
        self.pipeline.stabilizer.tau = tau

    def set_dwell(self, seconds: float) -> None:
        """The least seconds a song plays before the mood may switch it."""
        self.pipeline.matcher.min_dwell_s = seconds

    def set_mode(self, mode: MatchMode | str) -> None:
        """The music mode: one of ``core.matcher.MATCH_MODES`` (``ValueError`` otherwise)."""
        self.pipeline.matcher.mode = validate_match_mode(mode)

    def set_fusion(self, fusion: FusionMode | str) -> None:
        """How face and scene readings are fused: one of ``core.fusion.FUSION_MODES`` (``ValueError`` otherwise)."""
        self.pipeline.settings.fusion_mode = validate_fusion_mode(fusion)

    # -- commands -----------------------------------------------------------------------------------------
    def new_source(self, description: str | None = None) -> None:
        """A new source starts: forget the readings of the last one (the music carries on). ``description``
        (a file path or "camera N") goes into the report's settings."""
        self.pipeline.reset()
        if description is not None and self.report is not None:
            self.report.settings["video"] = description

    def skip(self) -> None:
        """The user skipped the song: play another one now."""
        self._play(self.pipeline.skip(self._now))

    def ban_current(self) -> None:
        """Never play the current song again (in this session, and in the library index), and move on now."""
        current = self.pipeline.matcher.current
        if current is None:
            return
        self.pipeline.matcher.ban(current.song_id)
        self._with_index("remember the ban", lambda index: index.ban(current.song_id))
        self._play(self.pipeline.skip(self._now))

    def song_played(self, song: Song) -> None:
        """The engine started ``song``: its dwell counts from now, and a song of the user's library goes into
        the index's play history."""
        self.guard.song_started()
        self.pipeline.matcher.started(song.song_id, max(self._now, self.clock()))
        if self.guard.owns(song):  # not the fallback's songs that play while the library is lost
            self._with_index("record the play", lambda index: index.record_play(song.song_id))

    def song_ending(self, after: Song | None) -> None:
        """The engine says ``after`` (the song playing) ends soon: choose the next one and queue it."""
        current = self.pipeline.matcher.current
        if current is None or after is None or after.song_id != current.song_id:
            return  # not the matcher's song: a switch or a replacement is already on its way
        self._queue(self.pipeline.song_ended(self._now))

    def song_failed(self, song: Song, reason: str) -> None:
        """The engine could not play ``song``: never choose it again in this session, play another one, and
        switch to the fallback library when the user's library itself is gone."""
        matcher = self.pipeline.matcher
        if matcher.has_song(song.song_id):
            matcher.ban(song.song_id)
            self._unplayable.add(song.song_id)
        lost = self.guard.song_failed(song, self.clock())
        if lost is not None:
            self._use_library(self.guard.fallback, lost)
            return
        if self.guard.lost and self.guard.owns(song):
            return  # a library song still on its way fails while the library is lost: nothing new to say
        self._skipped.append(f"Skipped “{song.title or song.song_id}”: {reason}")
        if self.guard.given_up:
            self._problems.append(
                "No song could be played, not even the built-in station; the music stops until you skip, "
                "the mood changes, or the library is back."
            )
            return
        current = matcher.current
        if current is None or current.song_id != song.song_id:
            return
        # the song chosen to play failed: the next best, after the song playing if that is ending anyway
        decision = self.pipeline.song_ended(self._now)
        remaining = self.audio.remaining_s
        if remaining is not None and remaining <= self.audio.notice_s + 1.0:
            self._queue(decision)
        else:
            self._play(decision)

    def export_report(self, path: Path) -> bool:
        """Write the session report (JSON) to ``path`` with the settings in force now; True when written (the
        next snapshot lists it in ``exported``), False with a problem in the next snapshot."""
        if self.report is None:
            self._problems.append(f"Could not export the session to {path}: this session keeps no report.")
            return False
        settings = self.report.settings
        settings.update(session_settings(self.pipeline, settings.get("video", ""), settings.get("library", "")))
        try:
            self.report.write(path)
        except OSError as error:
            self._problems.append(f"Could not export the session to {path}: {error}")
            return False
        self._exported.append(str(path))
        return True

    def report_problem(self, message: str) -> None:
        """Tell the user of a problem met outside the session (a command that failed) in the next snapshot."""
        self._problems.append(message)

    # -- the library changed while the program runs ------------------------------------------------------------
    @property
    def follows_index(self) -> bool:
        """Whether the user's library is the library index's (or the built-in station that plays while the
        index has no playable song): the library tools' changes are then for it; not for a DEAM folder."""
        return self.guard.library.index_path is not None or self.guard.library.origin == BUILTIN_ORIGIN

    def reload_from_index(self, index_path: Path, n_stations: int = 5) -> None:
        """Read the library index at ``index_path`` again and play from it (:meth:`reload_library`), when the
        session follows the index (``follows_index``). Reading takes up to seconds (a station refit, the
        built-in station's synthesis the first time): owner thread, never the GUI's."""
        if self.follows_index:
            self.reload_library(load_library(None, n_stations=n_stations, index_path=index_path))

    def reload_library(self, library: MusicLibrary) -> None:
        """``library``, a new version of the user's library (``assembly.load_library`` after the library tools
        changed the index), plays from now on: songs added can be chosen, the index's bans and the points
        the owner placed count, the matcher keeps its settings and recent plays, and the song playing plays
        on (when it left the library, or the built-in station played, the new library's nearest song follows
        it). While the library is lost, the new version waits in its place for its files. The next snapshot
        has its view and a ``LibraryChange`` saying what changed (nothing when nothing did); a library that
        could not be read (its ``problem``) changes nothing and is a problem there. Owner thread."""
        if library.problem is not None:
            why = library.problem.removesuffix("; the built-in station plays instead.")
            self._problems.append(f"The music library could not be read again ({why}); the music goes on as before.")
            return
        guard = self.guard
        parked = guard.parked_matcher if guard.lost else None
        old = parked if parked is not None else self.pipeline.matcher
        banned_before = frozenset(
            s.song_id for s in guard.library.songs if old.has_song(s.song_id) and old.is_banned(s.song_id)
        )
        banned_before -= self._unplayable
        message = describe_change(guard.library, library, banned_before, library.banned)
        if message is None:
            return
        matcher = old.successor(library.songs, library.stations)
        for song_id in library.banned | self._unplayable:
            if matcher.has_song(song_id):
                matcher.ban(song_id)
        guard.replace_library(library)
        if library.index_path != self.index_path:
            self.close_index()
            self.index_path = library.index_path
        if guard.lost:
            guard.parked_matcher = matcher
        else:
            self.pipeline.matcher = matcher
            if old.current is not None and matcher.current is None:  # it plays to its end, then the library
                decision = matcher.song_ended(self._now)
                self._queue(replace(decision, reason=f"the library changed: {decision.reason}"))
        self._library_change = LibraryChange(library=self._view_of(guard.playing), lost=guard.lost, message=message)

    # -- the loop -----------------------------------------------------------------------------------------
    def idle(self, now: float | None = None) -> None:
        """No frame came: let the clock run on to ``now`` (default the clock's now) and, while the library
        is lost, look whether it is back."""
        self._now = max(self._now, self.clock() if now is None else now)
        self.check_library()

    def check_library(self) -> None:
        """While the user's library is lost: switch back once its files are there again."""
        if not self.guard.lost or not self.guard.check_back(self.clock()):
            return
        library = self.guard.library
        if self.guard.parked_matcher is not None:
            for song_id in self.guard.files_back():
                self.guard.parked_matcher.unban(song_id)
                self._unplayable.discard(song_id)
        self._use_library(library, f"The music library is back: playing from the {library.origin} again.")

    def step(self, frame: np.ndarray, now: float) -> SessionSnapshot:
        """Run the pipeline on an RGB uint8 frame (H x W x 3) shown at ``now`` seconds, play a switch, add
        the step to the report, and return the snapshot (with the events since the last one)."""
        self.check_library()
        self._now = now
        try:
            step = self.pipeline.process(frame, now)
        except Exception as error:
            if not self.contain_failures:
                raise
            self.failures += 1
            log.exception("the pipeline failed on a frame; restarting it")
            self._problems.append(f"The mood reading failed ({error}); it restarted and goes on.")
            self.pipeline.reset()
            return self.snapshot()
        if self.report is not None:
            self.report.add(step)
        if step.stabilized is not None:
            self._last_mood = (step.stabilized.valence, step.stabilized.arousal)
        if step.decision is not None and step.decision.switched:
            self._play(step.decision, reported=True)  # the report has it from the step
        return self.snapshot(step)

    def snapshot(self, step: StepRecord | None = None) -> SessionSnapshot:
        """The session now, with ``step`` and the events since the last snapshot (which are then cleared)."""
        self._refresh_metrics(step.time if step is not None else self._now)
        pipeline, guard = self.pipeline, self.guard
        snapshot = SessionSnapshot(
            time=self._now,
            step=step,
            library=self._view_of(guard.playing),
            library_lost=guard.lost,
            face_expert=ExpertInfo.of("face", pipeline.face_expert),
            scene_expert=ExpertInfo.of("scene", pipeline.scene_expert),
            min_dwell_s=pipeline.matcher.min_dwell_s,
            metrics=self._metrics,
            failures=self.failures,
            decisions=tuple(self._decisions),
            problems=tuple(self._problems),
            skipped=tuple(self._skipped),
            library_change=self._library_change,
            exported=tuple(self._exported),
        )
        self._decisions.clear()
        self._problems.clear()
        self._skipped.clear()
        self._exported.clear()
        self._library_change = None
        return snapshot

    @property
    def has_events(self) -> bool:
        """Whether events wait for the next snapshot (a command played a song, failed, exported…)."""
        return bool(self._decisions or self._problems or self._skipped or self._exported or self._library_change)

    def close(self) -> None:
        """Close the library index and the pipeline's models. Owner thread, once the loop ended."""
        self.close_index()
        self.pipeline.close()

    def close_index(self) -> None:
        """Close the library index (it opens again on the next write). Owner thread: the one that wrote."""
        if self._index is not None:
            self._index.close()
            self._index = None

    # -- inside -------------------------------------------------------------------------------------------
    def _refresh_metrics(self, now: float) -> None:
        if self.report is None:
            return
        if now - self._summary_time >= self.summary_period_s or now < self._summary_time:
            self._metrics = MappingProxyType(self.report.metrics.summary())
            self._summary_time = now

    def _with_index(self, what: str, action: Callable[[LibraryIndex], object]) -> None:
        """Run ``action(index)`` on the library index, if the songs came from one; a failure becomes a problem
        in the next snapshot, and the music goes on."""
        if self.index_path is None:
            return
        try:
            if self._index is None:
                self._index = LibraryIndex(self.index_path, create=False)
            action(self._index)
        except (LibraryIndexError, KeyError, OSError) as error:
            log.warning("could not %s in the library index: %s", what, error)
            self._problems.append(f"Could not {what} in the music library ({error}); the music goes on.")

    def _use_library(self, library: MusicLibrary, message: str) -> None:
        """Choose songs from ``library`` from now on (the user library's matcher keeps its history and bans
        across switches: parked while the fallback plays), and play its best song for the mood now."""
        matcher = self.pipeline.matcher
        back = library is self.guard.library
        if back:  # the parked matcher, with the sliders' settings of now
            target, self.guard.parked_matcher = self.guard.parked_matcher, None
            assert target is not None, "the library's matcher is parked while the fallback plays"
            for name, value in matcher.settings().items():
                setattr(target, name, value)
        else:
            self.guard.parked_matcher, target = matcher, matcher.sibling(library.songs, library.stations)
        target.release_current()
        self.pipeline.matcher = target
        mood = self._last_mood
        decision = target.song_ended(self._now, *mood) if mood is not None else target.song_ended(self._now)
        self._library_change = LibraryChange(library=self._view_of(library), lost=not back, message=message)
        why = "the library is back" if back else f"the library is lost: the {library.origin}"
        nearest = f"nearest song in {decision.station}" if decision.station else "nearest song"
        self._play(replace(decision, reason=f"{why}: {nearest}"))

    def _view_of(self, library: MusicLibrary) -> LibraryView:
        """The frozen view of ``library`` for snapshots, made once per library."""
        if self._view is None or self._viewed is not library:
            self._view, self._viewed = LibraryView.of(library), library
        return self._view

    def _play(self, decision: Decision, reported: bool = False) -> None:
        """Crossfade to the chosen song now (from silence the engine fades it in); the report lists the change
        (unless it is ``reported`` already: a step's switch)."""
        self.audio.crossfade_to(decision.song)
        self._decisions.append(decision)
        if self.report is not None and not reported:
            self.report.song_changed(self._now, decision)

    def _queue(self, decision: Decision) -> None:
        """Play the chosen song when the one playing ends (the report lists it from then: the seconds left
        of the song playing, when the audio port knows them)."""
        self.audio.queue_next(decision.song)
        self._decisions.append(decision)
        if self.report is not None:
            self.report.song_changed(self._now + (self.audio.remaining_s or 0.0), decision)
