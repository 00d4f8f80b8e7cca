"""``MoodWordsPanel``: how the room feels, in large plain words, over one line of how sure, whom it reads,
how lively the room is and what the music does (the words are ``core.mood_words``').

It draws the session's snapshots (``show_snapshot``, connected to the pipeline worker's ``snapshot_ready``)
and keeps what it needs between them: the last reading (a ``StepRecord``), the songs' start times for the
dwell left (``SongMemory``, seconds on the session's clock, the monotonic one), the owner's ``tau`` (V-A
units) and music mode (``show_settings``), and whether a source is read (``show_reading``: a step that
arrives after the source stopped was read from one of its last frames and is not drawn). ``playing`` says
which song the audio engine plays now. GUI thread only.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtWidgets import QFrame, QSizePolicy, QVBoxLayout, QWidget

from moodsic_desktop.core.decision_words import QUEUED
from moodsic_desktop.core.mood_words import MoodLine, mood_line, room_energy_words
from moodsic_desktop.core.pipeline import StepRecord
from moodsic_desktop.core.settings_schema import TAU
from moodsic_desktop.core.song import Song
from moodsic_desktop.session.snapshot import SessionSnapshot
from moodsic_desktop.ui.elided_label import ElidedLabel, heading
from moodsic_desktop.ui.song_memory import SongMemory


def mood_line_of(
    step: StepRecord | None, tau: float, mode: str, songs: SongMemory, now: float, playing: Song | None = None
) -> MoodLine:
    """The mood line of ``step`` (None: no reading now): its stabilised mood, the fused reading's spread
    against ``tau`` (V-A units), the faces read, how lively the room is, the music ``mode`` and what the
    step's decision does (held for the matcher's least time per song until ``now``, seconds on the session's
    clock). A decision on another song than the one ``playing`` is about the next song, lined up to follow
    it."""
    stabilized = fused_std = None
    room = ""
    cause = dwell_left = None
    faces = 0
    if step is not None:
        faces = step.faces_read
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
            dwell_left = songs.dwell_left_s(decision.song, now)
    return mood_line(stabilized, fused_std, tau, faces, mode, room, cause, dwell_left)


class MoodWordsPanel(QFrame):
    """The mood in words (see the module docstring). A fixed height: the words change, the layout does not."""

    def __init__(self, playing: Callable[[], Song | None] = lambda: None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._playing = playing
        self._songs = SongMemory()
        self._last_step: StepRecord | None = None
        self._reading = True
        self._tau = TAU.default
        self._mode = "match"
        self.setObjectName("moodWords")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(2)
        self.headline = heading("", 1.8)
        self.detail = ElidedLabel("")
        self.setToolTip(
            "How the room feels now, from the smoothed mood the music follows; how sure the program is "
            "(the reading's spread against “Only react when sure”); how many faces it reads; and what the "
            "music mode does about the mood."
        )
        layout.addWidget(self.headline)
        layout.addWidget(self.detail)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(layout.contentsMargins().top() * 2 + self.headline.height() + self.detail.height() + 6)

    @property
    def last_step(self) -> StepRecord | None:
        """The reading the words are about (None while no source is read)."""
        return self._last_step

    def show_snapshot(self, snapshot: SessionSnapshot) -> None:
        """Remember the snapshot's songs; draw its step, if any, while a source is read."""
        self._songs.take(snapshot, with_step=self._reading)
        if snapshot.step is not None and self._reading:
            self._last_step = snapshot.step
            self.redraw()

    def show_settings(self, tau: float, mode: str) -> None:
        """The owner's "only react when sure" (``tau``, V-A units) and music mode, said at once."""
        self._tau, self._mode = tau, mode
        self.redraw()

    def show_reading(self, reading: bool) -> None:
        """Whether a source is read; when none is (stopped, or its picture lost), no reading is current."""
        self._reading = reading
        if not reading:
            self._last_step = None
            self.redraw()

    def redraw(self) -> None:
        line = mood_line_of(self._last_step, self._tau, self._mode, self._songs, time.monotonic(), self._playing())
        self.headline.setText(line.headline)
        self.detail.setText(line.detail)

    def text(self) -> str:
        """The headline and the detail, one per line (the full words, never elided)."""
        return f"{self.headline.text()}\n{self.detail.text()}"
