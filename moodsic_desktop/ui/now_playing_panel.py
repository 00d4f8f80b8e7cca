"""``NowPlayingPanel``: the song playing (title, artist, genre, station), its position, the dwell left,
the crossfade's progress and, in plain words, why it plays.

It draws the session's snapshots (``show_snapshot``, connected to the pipeline worker's ``snapshot_ready``)
by remembering their songs (``SongMemory``: each song's "why" and when its least time began) and, four
times a second (its own timer), what the audio engine plays now (``player``). ``song_started`` (the engine
bridge's ``started``) starts the crossfade's progress. Times in seconds: the dwell on the session's clock,
the crossfade on the monotonic clock (the same one); the crossfade's progress in [0, 1]. GUI thread only.
"""

from __future__ import annotations

import math
import time
from typing import Protocol

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QGridLayout, QProgressBar, QSizePolicy, QWidget

from moodsic_desktop.core.decision_words import why_words
from moodsic_desktop.core.matcher import Decision
from moodsic_desktop.core.song import Song
from moodsic_desktop.session.snapshot import SessionSnapshot
from moodsic_desktop.ui.elided_label import ElidedLabel, WrappedElidedLabel, heading
from moodsic_desktop.ui.song_memory import SongMemory

REFRESH_MS = 250


class Player(Protocol):
    """What the panel reads of the audio engine (``AudioEngine`` has these; any thread may read them)."""

    @property
    def current_song(self) -> Song | None: ...

    @property
    def position_s(self) -> float: ...

    @property
    def duration_s(self) -> float | None: ...

    @property
    def crossfade_s(self) -> float: ...


def format_clock(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–:––"
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class NowPlayingPanel(QFrame):
    """Title, artist, genre, station, elapsed time, the dwell countdown, crossfade progress and why (see the
    module docstring). ``player``: the audio engine, read by ``refresh`` (None: no timer, the panel shows
    only what ``show_song`` and ``show_progress`` are given)."""

    def __init__(self, player: Player | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._player = player
        self._songs = SongMemory()
        self._song_started_at: float | None = None  # monotonic start of the running crossfade
        self._playing_before = False
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QGridLayout(self)
        self.title = heading("Nothing playing yet", 1.35)
        self.details = ElidedLabel("")
        self.station = ElidedLabel("")
        self.elapsed = ElidedLabel("")
        self.dwell = ElidedLabel("")
        self.crossfade = QProgressBar()
        self.crossfade.setRange(0, 100)
        self.crossfade.setFormat("crossfade %p%")
        self.crossfade.setFixedHeight(16)
        self.crossfade.setToolTip("How far the crossfade from the last song to this one has gone")
        policy = self.crossfade.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # its room stays when it hides: nothing else moves
        self.crossfade.setSizePolicy(policy)
        self.crossfade.hide()
        self.reason = WrappedElidedLabel(2)  # why the song plays, in plain words: two lines, the rest in its tooltip
        self.reason.setStyleSheet("color: #8aa0b6; font-style: italic;")
        self.reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        layout.addWidget(self.title, 0, 0, 1, 3)
        layout.addWidget(self.details, 1, 0, 1, 3)
        layout.addWidget(self.station, 2, 0, 1, 3)  # a line of its own: a station's name is long
        layout.addWidget(self.elapsed, 3, 0)
        layout.addWidget(self.dwell, 3, 1)
        layout.addWidget(self.crossfade, 3, 2)
        layout.addWidget(self.reason, 4, 0, 1, 3)
        for column, stretch in enumerate((2, 3, 2)):  # "Free to change with the mood" is the longest
            layout.setColumnStretch(column, stretch)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        if player is not None:
            self.timer.start()

    def show_snapshot(self, snapshot: SessionSnapshot) -> None:
        """Remember the songs the session chose (their "why", their least time); drawn at the next refresh."""
        self._songs.take(snapshot)

    def song_started(self, song: Song) -> None:
        """The engine started ``song``: a crossfade runs when another song was playing; from silence the song
        just fades in."""
        self._song_started_at = time.monotonic() if self._playing_before else None
        self._playing_before = True
        self.refresh()

    def refresh(self) -> None:
        """The song the engine plays, its station and "why", its position, the dwell left and the
        crossfade's progress (the timer calls this four times a second)."""
        player = self._player
        if player is None:
            return
        song = player.current_song
        if song is None:
            self.show_song(None, None)
            self.show_progress(None, None, None, None)
            return
        decision = self._songs.decision_for(song)
        self.show_song(song, decision)
        # the session's clock is the monotonic one: the dwell counts down between steps and with no source
        dwell_left = self._songs.dwell_left_s(song, time.monotonic())
        crossfade = None
        if self._song_started_at is not None and player.crossfade_s > 0:
            progress = (time.monotonic() - self._song_started_at) / player.crossfade_s
            crossfade = progress if progress < 1 else None
        self.show_progress(player.position_s, player.duration_s, dwell_left, crossfade)

    def show_song(self, song: Song | None, decision: Decision | None) -> None:
        """``song`` (None: nothing plays) and the ``decision`` that chose it (None: not known): its station's
        name and why it plays, in plain words (the matcher's own words are the tooltip)."""
        if song is None:
            self.title.setText("Nothing playing yet")
            self.details.setText("")
            self.station.setText("")
            self.reason.setText("")
            self.reason.setToolTip("")
            return
        self.title.setText(song.title or f"Song {song.song_id}")
        self.details.setText(" · ".join(part for part in (song.artist, song.genre) if part))
        station = decision.station if decision is not None else None
        reason = decision.reason if decision is not None else ""
        self.station.setText(f"Station: {station}" if station else "")
        self.reason.setText(f"Why: {why_words(decision)}" if decision is not None and reason else "")
        matcher_words = f"Why this song plays, in the matcher's words: {reason}"
        self.reason.setToolTip(f"{self.reason.text()}\n\n{matcher_words}" if reason else "")

    def show_progress(
        self, elapsed_s: float | None, duration_s: float | None, dwell_left_s: float | None, crossfade: float | None
    ) -> None:
        """Times in seconds; crossfade in [0, 1] while one runs, else None."""
        total = f" / {format_clock(duration_s)}" if duration_s else ""
        self.elapsed.setText(f"Elapsed {format_clock(elapsed_s)}{total}" if elapsed_s is not None else "")
        if dwell_left_s is None:
            self.dwell.setText("")
        elif dwell_left_s > 0:
            self.dwell.setText(f"Stays at least {dwell_left_s:.0f} s more")
        else:
            self.dwell.setText("Free to change with the mood")
        self.crossfade.setVisible(crossfade is not None)
        if crossfade is not None:
            self.crossfade.setValue(round(100 * crossfade))
