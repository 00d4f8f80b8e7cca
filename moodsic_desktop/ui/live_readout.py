"""``LiveReadout``: what the window keeps from the snapshots it has drawn, to show between them. GUI thread;
no Qt.

The last pipeline step (the mood words, the faces), the latest decisions by song (the "why" of the song
playing) and when each song's least time began (the dwell left counts down on the session's clock, also
after the source stopped), the counts behind the Diagnostics rates (per second) and each stage's smoothed
timing (milliseconds, an EMA of weight 0.2 per step).
"""

from __future__ import annotations

from moodsic_desktop.core.decision_words import QUEUED
from moodsic_desktop.core.library import Song
from moodsic_desktop.core.matcher import Decision
from moodsic_desktop.core.mood_words import MoodLine, mood_line, room_energy_words
from moodsic_desktop.core.pipeline import StepRecord

KEPT_DECISIONS = 50  # only the latest few matter for "why"
COUNTED = ("preview", "face", "scene", "steps")


class LiveReadout:
    """The state the window draws from between snapshots (see the module docstring). GUI thread."""

    def __init__(self) -> None:
        self.last_step: StepRecord | None = None
        self.decisions: dict[str, Decision] = {}
        self.started_at: dict[str, float] = {}  # song id -> when its least time began (session clock, s)
        self.counters: dict[str, int] = dict.fromkeys(COUNTED, 0)
        self.timings_ms: dict[str, float] = {}

    def take_step(self, step: StepRecord) -> None:
        """Remember ``step`` and count what it read."""
        self.counters["steps"] += 1
        self.counters["face"] += step.face_fresh
        self.counters["scene"] += step.scene_fresh
        for stage, ms in step.timings_ms.items():
            self.timings_ms[stage] = 0.8 * self.timings_ms.get(stage, ms) + 0.2 * ms
        self.last_step = step
        if step.decision is not None:  # the matcher's latest start time of the song (it moves when heard)
            self._started(step.decision)

    def forget_step(self) -> None:
        """The source stopped: no reading is current any more."""
        self.last_step = None

    def count_preview(self) -> None:
        self.counters["preview"] += 1

    def take_rates(self, elapsed_s: float) -> dict[str, float]:
        """Counts per second over the last ``elapsed_s`` seconds; the counts start again from zero."""
        rates = {key: count / elapsed_s for key, count in self.counters.items()}
        self.counters = dict.fromkeys(self.counters, 0)
        return rates

    def remember(self, decision: Decision) -> None:
        """A song handed to the audio engine, with its "why"."""
        self.decisions[decision.song.song_id] = decision
        if len(self.decisions) > KEPT_DECISIONS:
            self.decisions.pop(next(iter(self.decisions)))
        self._started(decision)

    def _started(self, decision: Decision) -> None:
        self.started_at[decision.song.song_id] = decision.song_started_at
        if len(self.started_at) > KEPT_DECISIONS:
            self.started_at.pop(next(iter(self.started_at)))

    def decision_for(self, song: Song) -> Decision | None:
        return self.decisions.get(song.song_id)

    @property
    def faces_read(self) -> int:
        return self.last_step.faces_read if self.last_step is not None else 0

    def mood_words(
        self, tau: float, mode: str, min_dwell_s: float, now: float, playing: Song | None = None
    ) -> MoodLine:
        """The mood line of the last step: its stabilised mood, the fused reading's spread against ``tau``
        (V-A units), the faces read, how lively the room is, the music ``mode`` and what the last decision does
        (held for the least time per song ``min_dwell_s`` until ``now``, seconds on the session's clock):
        ``core.mood_words``. A decision on another song than the one ``playing`` is about the next song, lined
        up to follow it."""
        step = self.last_step
        stabilized = fused_std = None
        room = ""
        cause = dwell_left = None
        if step is not None:
            if step.room is not None:
                room = room_energy_words(step.room.arousal)
            if step.stabilized is not None:
                stabilized = (step.stabilized.valence, step.stabilized.arousal)
            if step.fused is not None:
                fused_std = (step.fused.std_valence, step.fused.std_arousal)
            decision = step.decision
            if decision is not None and playing is not None and decision.song.song_id != playing.song_id:
                cause = QUEUED
            elif decision is not None:
                cause = decision.cause
                dwell_left = self.dwell_left_s(decision.song, min_dwell_s, now)
        return mood_line(stabilized, fused_std, tau, self.faces_read, mode, room, cause, dwell_left)

    def dwell_left_s(self, song: Song, min_dwell_s: float, now: float) -> float | None:
        """Seconds before the matcher may change ``song`` by the mood, at ``now`` (session clock), or None
        when no decision on it was seen."""
        started = self.started_at.get(song.song_id)
        return None if started is None else min_dwell_s - (now - started)
