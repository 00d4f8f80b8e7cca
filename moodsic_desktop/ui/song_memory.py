"""``SongMemory``: what a panel keeps of the songs the session chose, to draw between snapshots. Qt-free.

The latest decisions by song (the "why" of the song playing) and when each song's least time began, so
that the dwell left counts down on the session's clock (seconds, the monotonic clock), also between steps
and after the source stopped. A panel that shows the dwell or the "why" keeps one of its own and feeds it
every snapshot (``take``). Only the latest ``KEPT_DECISIONS`` songs are kept. GUI thread, like its panel.
"""

from __future__ import annotations

from moodsic_desktop.core.matcher import Decision
from moodsic_desktop.core.song import Song
from moodsic_desktop.session.snapshot import SessionSnapshot

KEPT_DECISIONS = 50  # only the latest few matter for "why"


class SongMemory:
    """The latest decisions by song and their songs' start times (see the module docstring)."""

    def __init__(self) -> None:
        self.decisions: dict[str, Decision] = {}
        self.started_at: dict[str, float] = {}  # song id -> when its least time began (session clock, s)
        self.min_dwell_s = 0.0  # the matcher's least time per song (s), as of the last snapshot

    def take(self, snapshot: SessionSnapshot, with_step: bool = True) -> None:
        """Remember the songs handed to the audio in ``snapshot``, the matcher's dwell, and (``with_step``) the
        start time of the step's decision (the matcher's latest: it moves when the song is heard)."""
        self.min_dwell_s = snapshot.min_dwell_s
        for decision in snapshot.decisions:
            self.remember(decision)
        step = snapshot.step
        if with_step and step is not None and step.decision is not None:
            self._started(step.decision)

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

    def dwell_left_s(self, song: Song, now: float) -> float | None:
        """Seconds before the matcher may change ``song`` by the mood, at ``now`` (session clock), or None
        when no decision on it was seen."""
        started = self.started_at.get(song.song_id)
        return None if started is None else self.min_dwell_s - (now - started)
