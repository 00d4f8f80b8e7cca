"""``LiveView``: draws the session's snapshots in the window's live parts, the mood in words, the preview's
face boxes, now playing, the two charts, the banners of session events and the Diagnostics figures. GUI
thread; it makes no widget of its own, the window lays them out.

Units: V-A values in [-1, 1]; times in seconds (the session's clock for the dwell, the monotonic clock for
the crossfade); rates per second; timings in milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from moodsic_desktop.audio.engine import AudioEngine
from moodsic_desktop.core.day_plan import PlanState
from moodsic_desktop.core.library import Song
from moodsic_desktop.core.pipeline import StepRecord
from moodsic_desktop.session.assembly import ExpertNotes
from moodsic_desktop.session.snapshot import LibraryChange, LibraryView, SessionSnapshot
from moodsic_desktop.ui.diagnostics_panel import DiagnosticsPanel, expert_lines, status_lines
from moodsic_desktop.ui.live_readout import LiveReadout
from moodsic_desktop.ui.mood_plane_chart import MoodPlaneChart
from moodsic_desktop.ui.timeline_chart import MoodTimelineChart
from moodsic_desktop.ui.widgets import BannerArea, MoodWordsPanel, NowPlayingPanel, PreviewWidget


class LiveView:
    """Draws snapshots and the engine's state in the widgets it is given. GUI thread."""

    def __init__(
        self,
        engine: AudioEngine,
        banners: BannerArea,
        mood_words: MoodWordsPanel,
        preview: PreviewWidget,
        now_playing: NowPlayingPanel,
        timeline_chart: MoodTimelineChart,
        plane_chart: MoodPlaneChart,
        diagnostics: DiagnosticsPanel,
        snapshot: SessionSnapshot,
    ) -> None:
        self.engine = engine
        self.banners = banners
        self.mood_words = mood_words
        self.preview = preview
        self.now_playing = now_playing
        self.timeline_chart = timeline_chart
        self.plane_chart = plane_chart
        self.diagnostics = diagnostics
        self.snapshot = snapshot  # the latest one drawn
        self.readout = LiveReadout()
        self._song_started_at: float | None = None  # monotonic start of the running crossfade
        self._playing_before = False
        self._status_clock = time.monotonic()
        self._plan_words = ""  # the day plan's banner now

    def show_snapshot(
        self, snapshot: SessionSnapshot, tau: float, mode: str, privacy: bool, running: bool = True
    ) -> None:
        """Draw what the session published: its events, then its step (``tau``, ``mode`` and ``privacy``:
        the user's settings now). A step that comes after the source stopped (``running`` False: it was
        read from one of its last frames) is not drawn: the window no longer reads anyone."""
        self.snapshot = snapshot
        for decision in snapshot.decisions:
            self.readout.remember(decision)
        for message in snapshot.skipped:
            self.banners.show_banner("audio-file", message, "warning")
        if snapshot.library_change is not None:  # after the skips that led to it: its banner replaces theirs
            self.show_library_change(snapshot.library_change)
        for message in snapshot.problems:
            self.banners.show_banner("pipeline", message, "warning")
        self.show_day_plan(snapshot.day_plan)
        if snapshot.step is not None and running:
            self.take_step(snapshot.step, tau, mode, privacy)

    def take_step(self, step: StepRecord, tau: float, mode: str, privacy: bool) -> None:
        self.timeline_chart.add_step(step, self.snapshot.day_plan)
        self.readout.take_step(step)
        for notice in step.notices:  # an expert replaced by its fallback: said once, by the pipeline
            self.banners.show_banner("expert-replaced", notice, "warning")
        if not privacy:
            self.preview.set_faces(step.faces)
        self.show_mood_words(tau, mode)
        if step.stabilized is not None:
            self.plane_chart.set_current(step.stabilized.valence, step.stabilized.arousal)
        if step.decision is not None:
            self.plane_chart.set_candidates(list(step.decision.candidates[:5]))

    def show_day_plan(self, state: PlanState | None) -> None:
        """What the day plan does now ("Closed until 08:00", "Morning: the day plan keeps it calm, volume 40 %")
        in a banner, shown again only when it changes; none while the plan says nothing."""
        words = state.words() if state is not None else ""
        if words != self._plan_words:
            self._plan_words = words
            if words:
                self.banners.show_banner("day-plan", words, "info")
            else:
                self.banners.hide_banner("day-plan")

    def show_expert_notes(self, notes: ExpertNotes, open_models: Callable[[], None]) -> None:
        """Which experts read the mood and why (``notes``: what ``assembly.select_experts`` said, with a
        model's licence), and how to get models when built-in experts stand in: in Diagnostics. A banner only
        when the owner has something to do: a model that could not be used (its button calls
        ``open_models``), or one whose licence forbids commercial use."""
        self.diagnostics.experts_label.setText("\n".join(expert_lines(notes.lines, self.snapshot.experts)))
        if notes.model_not_used:
            self.banners.show_banner(
                "model-broken",
                "A mood model could not be used, so a simpler reader stands in.",
                "warning",
                button=("Mood readers…", open_models),
            )
        if notes.non_commercial:
            self.banners.show_banner(
                "models",
                "A mood model installed here is licensed for non-commercial use only; "
                "see View → Diagnostics before using it in the café.",
                "warning",
            )

    def show_mood_words(self, tau: float, mode: str) -> None:
        line = self.readout.mood_words(tau, mode, self.snapshot.min_dwell_s, time.monotonic(), self.engine.current_song)
        self.mood_words.show_line(line)

    def show_library(self, library: LibraryView) -> None:
        """Draw ``library``'s songs on the mood plane, coloured by station."""
        self.plane_chart.set_library(library.songs, library.station_of, library.station_names)

    def show_library_change(self, change: LibraryChange) -> None:
        """Songs now come from ``change.library``: the built-in station while the user's is lost, or the
        user's library again."""
        self.show_library(change.library)
        self.banners.hide_banner("audio-file")  # the skips that told of it are old news now
        self.banners.show_banner("library", change.message, "warning" if change.lost else "info")

    def song_started(self, song: Song) -> None:
        # a crossfade runs only when another song was playing; from silence the song just fades in
        self._song_started_at = time.monotonic() if self._playing_before else None
        self._playing_before = True
        self.plane_chart.set_playing(song)
        self.update_now_playing()

    def update_now_playing(self) -> None:
        """The song, its station and "why", its position, the dwell left and the crossfade's progress."""
        song = self.engine.current_song
        if song is None:
            self.now_playing.show_song(None, None)
            self.now_playing.show_progress(None, None, None, None)
            return
        decision = self.readout.decision_for(song)
        self.now_playing.show_song(song, decision)
        # the session's clock is the monotonic one: the dwell counts down between steps and with no source
        dwell_left = self.readout.dwell_left_s(song, self.snapshot.min_dwell_s, time.monotonic())
        crossfade = None
        if self._song_started_at is not None and self.engine.crossfade_s > 0:
            progress = (time.monotonic() - self._song_started_at) / self.engine.crossfade_s
            crossfade = progress if progress < 1 else None
        self.now_playing.show_progress(self.engine.position_s, self.engine.duration_s, dwell_left, crossfade)

    def update_status(self) -> None:
        """Diagnostics' figures over the time since the last call."""
        now = time.monotonic()
        rates = self.readout.take_rates(max(now - self._status_clock, 1e-6))
        self._status_clock = now
        snapshot = self.snapshot
        room = self.readout.last_step.room if self.readout.last_step is not None else None
        lines = status_lines(
            rates, self.readout.timings_ms, snapshot.metrics, self.readout.faces_read, snapshot.experts, room
        )
        self.diagnostics.show_status(lines, self.engine.underflow_count)
