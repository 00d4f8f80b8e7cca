"""``LiveReadout``: what the window keeps from the snapshots it has drawn, to show between them. GUI thread;
no Qt.

The last pipeline step (the mood words, the faces, the dwell left), the latest decisions by song (the
"why" of the song playing), the counts behind the Diagnostics rates (per second) and each stage's smoothed
timing (milliseconds, an EMA of weight 0.2 per step).
"""

from __future__ import annotations

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

    def decision_for(self, song: Song) -> Decision | None:
        return self.decisions.get(song.song_id)

    @property
    def faces_read(self) -> int:
        return self.last_step.faces_read if self.last_step is not None else 0

    def mood_words(self, tau: float, mode: str) -> MoodLine:
        """The mood line of the last step: its stabilised mood, the fused reading's spread against ``tau``
        (V-A units), the faces read, how lively the room is and the music ``mode`` (``core.mood_words``)."""
        step = self.last_step
        stabilized = fused_std = None
        room = ""
        if step is not None:
            if step.room is not None:
                room = room_energy_words(step.room.arousal)
            if step.stabilized is not None:
                stabilized = (step.stabilized.valence, step.stabilized.arousal)
            if step.fused is not None:
                fused_std = (step.fused.std_valence, step.fused.std_arousal)
        return mood_line(stabilized, fused_std, tau, self.faces_read, mode, room)

    def dwell_left_s(self, song: Song, min_dwell_s: float) -> float | None:
        """Seconds (session clock) before the matcher may change ``song``, or None when the last step did
        not decide on it."""
        step = self.last_step
        if step is None or step.decision is None or step.decision.song.song_id != song.song_id:
            return None
        return min_dwell_s - (step.time - step.decision.song_started_at)
