"""``PlaybackSession``: the domain logic of a running session, without Qt.

One object drives a ``Pipeline`` over timestamped frames, and around it: the ``Programme`` (what plays: the
user's library and its matcher, the fallback library while the user's is lost, a new version after a
reload), plays and bans written to the library index, the songs handed to an ``AudioPort``, the engine's
notices taken from ``EngineNotices``, and the session report. After each step or batch of commands it
publishes an immutable ``SessionSnapshot``: what the window draws. The GUI's pipeline worker,
``moodsic analyze`` and ``--self-test`` all drive this class.

Without a picture (no source, a camera gone, a video ended) the music never stops: ``step_without_picture``
starts it when nothing plays, and each song's end chooses the next for ``mood_without_picture`` (the last
mood read, held for a while, then a calm mood).

Threads: not thread-safe. One owner thread (the pipeline worker's, or the CLI's main thread) makes every
call, commands and ``step`` alike; other threads queue commands to it (``ui.workers.PipelineWorker``), and the
audio engine's notices wait in ``notices`` until the owner thread calls ``hear_engine``.
The library index (SQLite) is opened on that thread on first use and closed by ``close``.
Times are seconds on one monotonic clock (``clock``, by default ``time.monotonic``; frames' times must be
on the same clock when the session drives audio); V-A values are in reference space [-1, 1].

The day plan (``core.day_plan``, followed by ``session.day_plan_follower`` on the local ``wall_clock``) is
applied at every step and idle round before the matcher: outside opening hours the music fades out, no
reading runs and nothing plays until the café opens again (then a song for the plan's mood starts at once);
a part of the day sets its volume as it begins and bends the target the matcher aims for
(``Pipeline.aim``). The default plan changes nothing.
"""

from __future__ import annotations

import datetime
import logging
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np

from moodsic_desktop import atomic_files
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.reports import LibraryIndexError
from moodsic_desktop.core.day_plan import DayPlan, PlanState
from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.matcher import Decision
from moodsic_desktop.core.pipeline import Pipeline, StepRecord
from moodsic_desktop.core.report import SessionReport, session_settings
from moodsic_desktop.core.settings_schema import checked
from moodsic_desktop.core.song import Song
from moodsic_desktop.session.assembly import builtin_library, load_library
from moodsic_desktop.session.audio_port import AudioPort, SilentAudioPort
from moodsic_desktop.session.day_plan_follower import DayPlanFollower
from moodsic_desktop.session.engine_notices import EngineNotices
from moodsic_desktop.session.programme import Programme, Switch
from moodsic_desktop.session.snapshot import ExpertInfo, LibraryChange, LibraryView, SessionSnapshot

log = logging.getLogger(__name__)

SUMMARY_PERIOD_S = 1.0  # how often the metrics' summary in the snapshots is refreshed (session clock)
START_GRACE_S = 5.0  # how long a new session waits for a first reading before the music starts without one…
SOURCE_GRACE_S = 30.0  # …or, once a source starts, for its first reading (unless it says there is no picture)
NO_PICTURE_AFTER_S = 3.0  # no frame for this long: there is no picture (a song's end uses the mood held)
HOLD_LAST_MOOD_S = 20 * 60.0  # without a picture the last mood read chooses the songs this long, then…
CALM_MOOD = (0.3, -0.3)  # …this mood (reference V-A: "Relaxed"), also when no mood was ever read
CLOSING_FADE_S = 5.0  # seconds the music takes to fade out at closing time


class PlaybackSession:
    """A running session (see the module docstring).

    ``pipeline`` and ``library`` (the user's library) come from ``session.assembly``; ``audio`` plays what
    is chosen (default: a silent port); ``report`` collects every step (None: no report); ``fallback``
    makes the library that plays while the user's is lost (default: the built-in station); ``notices`` is
    the listener given to the audio engine (default: a new one, for a session whose engine tells it nothing);
    ``contain_failures`` turns a step that raises into a problem in the snapshot and a pipeline restart
    (False: the exception propagates, as ``moodsic analyze`` wants); ``summary_period_s`` is how often the
    snapshots' ``metrics`` are refreshed, in session seconds (``math.inf``: once, for a run nobody watches;
    a summary's cost grows with the session). ``day_plan`` is the plan to follow (default: none, the
    default plan) by ``wall_clock`` (local date and time; default ``datetime.datetime.now``).
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
        day_plan: DayPlan | None = None,
        wall_clock: Callable[[], datetime.datetime] = datetime.datetime.now,
        notices: EngineNotices | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.programme = Programme(pipeline, library, fallback or builtin_library, check_every_s)
        self.notices = notices if notices is not None else EngineNotices()
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
        self._last_mood_at = -math.inf  # when it was read (session clock)
        self._last_frame_at = -math.inf  # when the last frame was stepped (session clock)
        self._music_due_at = self._now + START_GRACE_S  # when the music starts without a reading, if silent
        self._starts_music = True  # False once closing: no song starts on its own any more
        self._summary_time = -math.inf
        self._metrics = MappingProxyType(report.metrics.summary() if report is not None else {})
        self._decisions: list[Decision] = []
        self._problems: list[str] = []
        self._skipped: list[str] = []
        self._exported: list[str] = []
        self._library_change: LibraryChange | None = None
        self._view: LibraryView | None = None  # the snapshots' view of ``_viewed``, the library that plays
        self._viewed: MusicLibrary | None = None
        self.plan = DayPlanFollower(day_plan, wall_clock)
        self._plan_state: PlanState = self.plan.state
        self._plan_news = False  # the plan's state changed since the last snapshot

    # -- settings -----------------------------------------------------------------------------------------
    def apply(self, changes: Mapping[str, object]) -> None:
        """The owner's settings aimed at the session (``core.settings_schema``, by name, in their units),
        checked once (``checked``: ``ValueError`` before anything changes), each handed to its home:
        ``alpha`` and ``tau`` to the stabiliser, ``min_dwell_s``, ``repeat_window_min`` (minutes) and
        ``mode`` to the matcher, ``fusion`` to the pipeline, ``day_plan`` (its JSON or a ``DayPlan``) is
        followed from now on (closing, opening, the volume, the target at once), and ``volume`` (0..1, the
        owner's; the engine itself was set already) is where the day plan comes back to when a part of the
        day with its own volume ends. The window's first volume (at start) does not override the part of
        the day in force (``DayPlanFollower.set_owner_volume``)."""
        for name, value in checked(changes, "session").items():
            if name == "alpha":
                self.pipeline.stabilizer.alpha = value
            elif name == "tau":
                self.pipeline.stabilizer.tau = value
            elif name == "min_dwell_s":
                self.programme.matcher.min_dwell_s = value
            elif name == "repeat_window_min":
                self.programme.matcher.repeat_window_s = value * 60.0
            elif name == "mode":
                self.programme.matcher.mode = value
            elif name == "fusion":
                self.pipeline.settings.fusion_mode = value
            elif name == "volume":
                again = self.plan.set_owner_volume(value)
                if again is not None:
                    self.audio.volume = again
            elif name == "day_plan":
                self.plan.plan = value
                self._follow_plan()

    # -- commands -----------------------------------------------------------------------------------------
    def new_source(self, description: str | None = None) -> None:
        """A new source starts: forget the readings of the last one (the music carries on). ``description``
        (a file path or "camera N") goes into the report's settings."""
        self.pipeline.reset()
        if description is not None and self.report is not None:
            self.report.settings["video"] = description
        self._music_due_at = max(self._music_due_at, self._now + SOURCE_GRACE_S)  # time to open it and read

    def picture_lost(self) -> None:
        """The source said there is no picture (it cannot be opened, it stopped delivering, it ended, or it
        was stopped): when nothing plays yet, the music starts now, without waiting for a reading."""
        self._music_due_at = self._now

    def skip(self) -> None:
        """The user skipped the song: play another one now."""
        self._play(self.pipeline.skip(self._now))

    def ban_current(self) -> None:
        """Never play the matcher's song again (in this session, and in the library index), and move on now."""
        current = self.programme.matcher.current
        if current is not None:
            self.ban(current.song_id)

    def ban(self, song_id: str) -> None:
        """Never play ``song_id`` again (in this session, and in the library index); when it is the matcher's
        song, move on now. The window names the song the owner hears: near a song's end the matcher's song
        is already the next one, which must not be banned in its place."""
        matcher = self.programme.matcher
        if not matcher.has_song(song_id):
            return
        matcher.ban(song_id)
        self._with_index("remember the ban", lambda index: index.ban(song_id))
        if matcher.current is not None and matcher.current.song_id == song_id:
            self._play(self.pipeline.skip(self._now).because("banned by the user", song_id))

    def unban(self, song_id: str) -> None:
        """Let ``song_id`` play again (the owner's Undo of ``ban``): chosen like any song from now on."""
        matcher = self.programme.matcher
        if matcher.has_song(song_id):
            matcher.unban(song_id)
        self._with_index("forget the ban", lambda index: index.unban(song_id))

    def song_played(self, song: Song) -> None:
        """The engine started ``song``: its dwell counts from now, and a song of the user's library goes into
        the index's play history."""
        self.programme.song_started(song, max(self._now, self.clock()))
        if self.programme.owns(song):  # not the fallback's songs that play while the library is lost
            self._with_index("record the play", lambda index: index.record_play(song.song_id))

    def song_ending(self, after: Song | None) -> None:
        """The engine says ``after`` (the song playing) ends soon: choose the next one and queue it."""
        current = self.programme.matcher.current
        if current is None or after is None or after.song_id != current.song_id:
            return  # not the matcher's song: a switch or a replacement is already on its way
        if not self._follow_plan():
            return  # closed by now: no next song
        if self.has_picture:
            decision = self.pipeline.song_ended(self._now)
        else:
            decision = self.programme.matcher.song_ended(self._now, *self.mood_without_picture())
            decision = decision.because(self._no_picture_words(), decision.reason)
        self._queue(self._with_plan_reason(decision))

    def song_failed(self, song: Song, reason: str) -> None:
        """The engine could not play ``song``: never choose it again in this session, play another one, and
        switch to the fallback library when the user's library itself is gone (``Programme.song_failed``)."""
        programme = self.programme
        switch = programme.song_failed(song, self.clock())
        if switch is not None:
            self._switched(switch)
            return
        if programme.lost and programme.owns(song):
            return  # a library song still on its way fails while the library is lost: nothing new to say
        self._skipped.append(f"Skipped “{song.title or song.song_id}”: {reason}")
        if programme.given_up:
            self._problems.append(
                "No song could be played, not even the built-in station; the music stops until you skip, "
                "the mood changes, or the library is back."
            )
            return
        current = programme.matcher.current
        if current is None or current.song_id != song.song_id:
            return
        # the song chosen to play failed: the next best, after the song playing if that is ending anyway
        decision = self.pipeline.song_ended(self._now)
        remaining = self.audio.remaining_s
        if remaining is not None and remaining <= self.audio.notice_s + 1.0:
            self._queue(decision)
        else:
            self._play(decision)

    def hear_engine(self) -> int:
        """Act on the audio engine's notices that came since the last call (``notices``: a song ending, started
        or failed), in the order the engine sent them; how many. Owner thread, once per round of its loop."""
        return self.notices.deliver(self)

    def export_report(self, path: Path) -> bool:
        """Write the session report (JSON) to ``path`` with the settings in force now; True when written (the
        next snapshot lists it in ``exported``), False with a problem in the next snapshot."""
        if self.report is None:
            self._problems.append(f"Could not export the session to {path}: this session keeps no report.")
            return False
        settings = self.report.settings
        settings.update(session_settings(self.pipeline, settings.get("video", ""), settings.get("library", "")))
        try:
            atomic_files.write_text(path, self.report.to_json())
        except OSError as error:
            self._problems.append(f"Could not export the session to {path}: {error}")
            return False
        self._exported.append(str(path))
        return True

    def report_problem(self, message: str) -> None:
        """Tell the user of a problem met outside the session (a command that failed) in the next snapshot."""
        self._problems.append(message)

    # -- the library changed while the program runs ------------------------------------------------------------
    def reload_from_index(self, index_path: Path, n_stations: int = 5) -> None:
        """Read the library index at ``index_path`` again and play from it (:meth:`reload_library`), when the
        session follows the index (``Programme.follows_index``). Reading takes up to seconds (a station refit, the
        built-in station's synthesis the first time): owner thread, never the GUI's."""
        if self.programme.follows_index:
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
        switch = self.programme.reload(library)
        if switch is None:
            return
        if library.index_path != self.index_path:
            self.close_index()
            self.index_path = library.index_path
        self._switched(switch)

    # -- without a picture --------------------------------------------------------------------------------
    @property
    def has_picture(self) -> bool:
        """Whether frames arrive: one was stepped in the last ``NO_PICTURE_AFTER_S`` seconds."""
        return self._now - self._last_frame_at <= NO_PICTURE_AFTER_S

    def mood_without_picture(self) -> tuple[float, float]:
        """The mood (reference V-A) that chooses the songs while there is no picture, decided here only:
        the last mood read, held for ``HOLD_LAST_MOOD_S``; then, or when none was ever read, the day plan's
        mood for this part of the day, or ``CALM_MOOD`` when the part follows the room or there is none."""
        held = self._held_mood()
        if held is not None:
            return held
        if self._plan_state.leans:
            return self.plan.mood_when_unread()
        return CALM_MOOD

    def _held_mood(self) -> tuple[float, float] | None:
        """The last mood read while it is still held (``HOLD_LAST_MOOD_S``), else None."""
        return self._last_mood if self._now - self._last_mood_at <= HOLD_LAST_MOOD_S else None

    def step_without_picture(self, now: float | None = None) -> None:
        """No frame came: the clock runs on to ``now`` (default the clock's now), the library is looked for
        while it is lost (``idle``), and when no song was ever chosen the music starts for
        ``mood_without_picture``: ``START_GRACE_S`` after the session began, or ``SOURCE_GRACE_S`` after a
        source started (time for its first reading), or at once after ``picture_lost``. Songs' ends go on choosing songs
        (``song_ending``), so the music never stops for lack of a picture. What it plays is in the next
        snapshot's ``decisions``. Owner thread; cheap, for calling many times a second."""
        self.idle(now)
        self._start_music_if_silent()

    def closing(self) -> None:
        """The program is closing (its music fading out): ``step_without_picture`` starts no song any more."""
        self._starts_music = False

    def _start_music_if_silent(self) -> None:
        matcher = self.programme.matcher
        if matcher.current is not None or self.programme.given_up or not self._starts_music:
            return
        if not self._plan_state.open:
            return  # closed: the plan starts the music at opening time
        if self._now < self._music_due_at:
            return
        decision = matcher.song_ended(self._now, *self.mood_without_picture())
        nearest = f"nearest song in {decision.station}" if decision.station else "nearest song"
        self._play(decision.because(self._no_picture_words(), nearest))

    def _no_picture_words(self) -> str:
        """Why the mood that chose a song was not read now, in the owner's words."""
        if self._held_mood() is not None:
            return "no picture: for the last mood read"
        if self._plan_state.leans:
            return "no picture: for the day plan's mood"
        return "no picture: for a calm mood"

    # -- the loop -----------------------------------------------------------------------------------------
    def idle(self, now: float | None = None) -> None:
        """No frame came: let the clock run on to ``now`` (default the clock's now) and, while the library
        is lost, look whether it is back."""
        self._now = max(self._now, self.clock() if now is None else now)
        self.check_library()
        self._follow_plan()

    def check_library(self) -> None:
        """While the user's library is lost: switch back once its files are there again."""
        if self.programme.lost:
            self._switched(self.programme.look_for_library(self.clock()))

    def step(self, frame: np.ndarray, now: float) -> SessionSnapshot:
        """Run the pipeline on an RGB uint8 frame (H x W x 3) shown at ``now`` seconds, play a switch, add
        the step to the report, and return the snapshot (with the events since the last one)."""
        self.check_library()
        self._now = self._last_frame_at = now
        if not self._follow_plan():
            return self.snapshot()  # closed: no reading, no music
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
            self._last_mood_at = now
        if step.decision is not None and step.decision.switched:
            self._play(step.decision, reported=True)  # the report has it from the step
        return self.snapshot(step)

    def snapshot(self, step: StepRecord | None = None) -> SessionSnapshot:
        """The session now, with ``step`` and the events since the last snapshot (which are then cleared)."""
        self._refresh_metrics(step.time if step is not None else self._now)
        pipeline, programme = self.pipeline, self.programme
        snapshot = SessionSnapshot(
            time=self._now,
            step=step,
            library=self._view_of(programme.playing),
            library_lost=programme.lost,
            face_expert=ExpertInfo.of("face", pipeline.face_expert),
            scene_expert=ExpertInfo.of("scene", pipeline.scene_expert),
            min_dwell_s=programme.matcher.min_dwell_s,
            metrics=self._metrics,
            failures=self.failures,
            decisions=tuple(self._decisions),
            problems=tuple(self._problems),
            skipped=tuple(self._skipped),
            library_change=self._library_change,
            exported=tuple(self._exported),
            day_plan=self._plan_state,
        )
        self._plan_news = False
        self._decisions.clear()
        self._problems.clear()
        self._skipped.clear()
        self._exported.clear()
        self._library_change = None
        return snapshot

    @property
    def has_events(self) -> bool:
        """Whether events wait for the next snapshot (a command played a song, failed, exported…)."""
        events = self._decisions or self._problems or self._skipped or self._exported or self._library_change
        return bool(events or self._plan_news)

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

    def _switched(self, switch: Switch | None) -> None:
        """The programme switched (``Programme``): tell it in the next snapshot, and start the song it asks
        for: now, the new matcher's best for the mood now (the last mood read, bent by the day plan), or
        queued after the song playing."""
        if switch is None:
            return
        programme = self.programme
        matcher = programme.matcher
        self._library_change = LibraryChange(
            library=self._view_of(programme.playing), lost=programme.lost, message=switch.message
        )
        if switch.start == "now":
            mood = self._last_mood
            if mood is not None and self.pipeline.aim is not None:  # the day plan's part of the day bends it
                mood = self.pipeline.aim(*mood)
            decision = matcher.song_ended(self._now, *mood) if mood is not None else matcher.song_ended(self._now)
            nearest = f"nearest song in {decision.station}" if decision.station else "nearest song"
            self._play(decision.because(switch.cause, f"{switch.detail}: {nearest}" if switch.detail else nearest))
        elif switch.start == "after_current":
            decision = matcher.song_ended(self._now)
            self._queue(decision.because(switch.cause, decision.reason))

    def _view_of(self, library: MusicLibrary) -> LibraryView:
        """The frozen view of ``library`` for snapshots, made once per library."""
        if self._view is None or self._viewed is not library:
            self._view, self._viewed = LibraryView.of(library), library
        return self._view

    def _play(self, decision: Decision, reported: bool = False) -> None:
        """Crossfade to the chosen song now (from silence the engine fades it in); nothing while closed (by the
        wall clock now: a command may come between steps). The report lists the change (unless it is
        ``reported`` already: a step's switch)."""
        if not self._follow_plan():
            return
        decision = self._with_plan_reason(decision)
        self.audio.crossfade_to(decision.song)
        self._handed(decision, self._now, reported)

    def _queue(self, decision: Decision) -> None:
        """Play the chosen song when the one playing ends (the report lists it from then: the seconds left of
        the song playing, when the audio port knows them)."""
        self.audio.queue_next(decision.song)
        self._handed(decision, self._now + (self.audio.remaining_s or 0.0), reported=False)

    def _handed(self, decision: Decision, starts_at: float, reported: bool) -> None:
        """A song went to the audio: an event for the next snapshot, a play for the report's variety figures
        (counted now, the session clock), and the report's switch at ``starts_at`` unless ``reported``."""
        self._decisions.append(decision)
        if self.report is not None:
            self.report.metrics.add_play(decision.song.song_id, self._now)
            if not reported:
                self.report.song_changed(starts_at, decision)

    def _with_plan_reason(self, decision: Decision) -> Decision:
        """``decision`` with "the day plan keeps it calm" in its reason while a part of the day bends the target."""
        block = self._plan_state.block
        if block is None or not self._plan_state.leans:
            return decision
        return decision.with_day_plan(f"{block.mood.words} ({block.name})")

    def _follow_plan(self) -> bool:
        """Apply the day plan's changes since the last call (module docstring); whether the music may play."""
        change = self.plan.follow()
        state = self._plan_state = change.state
        if not change.changed:
            return state.open
        self._plan_news = True
        self.pipeline.aim = state.block.mood.aim if state.block is not None and state.leans else None
        if change.volume is not None:
            self.audio.volume = change.volume
        if change.closed:
            self.audio.stop(CLOSING_FADE_S)
            self.programme.matcher.release_current()
        elif change.opened:  # at once, for the plan's mood: the room's reading takes over as it comes
            decision = self.programme.matcher.song_ended(self._now, *self.mood_without_picture())
            nearest = f"nearest song in {decision.station}" if decision.station else "nearest song"
            self._play(decision.because("opening time", f"the {nearest} for the day plan's mood"))
        return state.open
