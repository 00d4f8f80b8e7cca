"""The Diagnostics panel (View → Diagnostics, hidden at start): the engineering detail the owner does not
need. Which experts read the mood (with their licences), how the face and scene readings are fused, the
banners' messages in full, and once a second the rates (per second), timings (milliseconds) and audio
underflows.

It draws the session's snapshots (``show_snapshot``, connected to the pipeline worker's ``snapshot_ready``)
and keeps what the once-a-second lines need: the readings counted since the last second, each stage's
smoothed timing (an EMA of weight 0.2 per step), the last reading (the faces read, the room's energy),
the experts in use and the session's metrics. A step that arrives after the source stopped (``show_reading``)
is not counted. GUI thread.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QWidget

from moodsic_desktop.core.pipeline import StepRecord
from moodsic_desktop.core.settings_schema import FUSION
from moodsic_desktop.core.types import RoomEnergy
from moodsic_desktop.session.assembly import ExpertNotes
from moodsic_desktop.session.snapshot import ExpertInfo, SessionSnapshot

STATUS_PERIOD_MS = 1000
COUNTED = ("preview", "face", "scene", "steps")

FUSION_LABELS = dict(zip(FUSION.choices, FUSION.words, strict=True))  # the fusion modes in the window's words


def expert_lines(notes: Sequence[str], experts: Sequence[ExpertInfo]) -> list[str]:
    """What ``assembly.select_experts`` said (``notes``), and a word on the built-in readers in ``experts``."""
    lines = list(notes)
    fallbacks = [expert.role for expert in experts if expert.is_fallback]
    if fallbacks:
        lines.append(
            f"The built-in {' and '.join(fallbacks)} "
            + ("readers need no download but read" if len(fallbacks) > 1 else "reader needs no download but reads")
            + " the mood roughly; better models go in the models folder (README, “Models”)."
        )
    return lines


def status_lines(
    rates: Mapping[str, float],
    timings_ms: Mapping[str, float],
    metrics: Mapping[str, Any],
    faces_read: int,
    experts: Sequence[ExpertInfo],
    room: RoomEnergy | None = None,
) -> list[str]:
    """The once-a-second lines: ``rates`` per second ("preview", "face", "scene"), smoothed stage
    ``timings_ms``, the session ``metrics`` (face detection and gating rates, 0..1), the faces in the last
    reading, where each expert runs, and the room's energy of the last step (people, motion in grey change
    per second, arousal ± its standard deviation, milliseconds)."""
    face_rate = metrics.get("face_detection_rate")
    held = metrics.get("gating_rate")
    face_ms = timings_ms.get("face", 0) + timings_ms.get("detect", 0)
    energy = (
        f"Room energy {room.people} people, motion {room.motion:.3f}/s, arousal {room.arousal:+.2f} "
        f"± {math.sqrt(room.var_arousal):.2f}, {timings_ms.get('room', 0):.1f} ms"
        if room is not None
        else "Room energy –"
    )
    return [
        f"Preview {rates['preview']:.0f} fps",
        f"Face {rates['face']:.0f}/s {face_ms:.0f} ms",
        f"Scene {rates['scene']:.1f}/s {timings_ms.get('scene', 0):.0f} ms",
        f"Faces found {face_rate:.0%}" if face_rate is not None else "Faces found –",
        f"Faces read {faces_read}",
        f"Held {held:.0%}" if held is not None else "Held –",
        energy,
        ", ".join(f"{e.role}: {'built-in' if e.is_fallback else 'model'} on {e.device}" for e in experts),
    ]


class DiagnosticsPanel(QGroupBox):
    """The engineering view; hidden until View → Diagnostics shows it (see the module docstring).
    ``underflows`` counts the audio underflows so far, ``preview_frames`` the preview's pictures shown so far,
    ``sound_threads`` says how the system runs the sound's threads (``AudioEngine.thread_priorities``); all
    are read once a second, by the panel's own timer. GUI thread. ``changed("fusion", mode)`` when the owner
    picks another fusion (``core.settings_schema`` ``FUSION``)."""

    changed = Signal(str, object)

    def __init__(
        self,
        underflows: Callable[[], int] = lambda: 0,
        preview_frames: Callable[[], int] = lambda: 0,
        sound_threads: Callable[[], str] = lambda: "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Diagnostics", parent)
        self._underflows = underflows
        self._sound_threads = sound_threads
        self._preview_frames = preview_frames
        self._frames_before = preview_frames()
        self._counters: dict[str, int] = dict.fromkeys(COUNTED, 0)
        self._timings_ms: dict[str, float] = {}
        self._last_step: StepRecord | None = None
        self._reading = True
        self._clock = time.monotonic()
        self.experts: tuple[ExpertInfo, ...] = ()  # the experts in use, face first (from the last snapshot)
        self._metrics: Mapping[str, Any] = {}
        form = QFormLayout(self)
        self.experts_label = QLabel("")
        self.experts_label.setWordWrap(True)
        self.experts_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.experts_label)
        self.fusion_combo = QComboBox()
        for fusion, label in FUSION_LABELS.items():
            self.fusion_combo.addItem(label, fusion)
        self.fusion_combo.setToolTip(FUSION.tooltip)
        form.addRow("Fusion", self.fusion_combo)
        self.fusion_combo.currentIndexChanged.connect(lambda: self.changed.emit(FUSION.name, self.current_fusion()))
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setToolTip(
            "Per second: preview frames, face and scene readings with their milliseconds; the share of frames "
            "with a face; the faces in the last reading; the share of steps the stabiliser held"
        )
        form.addRow(self.status_label)
        self.audio_label = QLabel("")
        self.audio_label.setWordWrap(True)
        form.addRow(self.audio_label)
        self.details_label = QLabel("")  # the banners' messages in full, technical parts and all
        self.details_label.setWordWrap(True)
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.details_label)
        self._details: dict[str, str] = {}
        self.setVisible(False)
        self.timer = QTimer(self)
        self.timer.setInterval(STATUS_PERIOD_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def show_snapshot(self, snapshot: SessionSnapshot) -> None:
        """Keep the snapshot's experts and metrics; count its step, if any, while a source is read."""
        self.experts = snapshot.experts
        self._metrics = snapshot.metrics
        step = snapshot.step
        if step is None or not self._reading:
            return
        self._counters["steps"] += 1
        self._counters["face"] += step.face_fresh
        self._counters["scene"] += step.scene_fresh
        for stage, ms in step.timings_ms.items():
            self._timings_ms[stage] = 0.8 * self._timings_ms.get(stage, ms) + 0.2 * ms
        self._last_step = step

    def show_reading(self, reading: bool) -> None:
        """Whether a source is read; when none is, no reading is current (no faces, no room)."""
        self._reading = reading
        if not reading:
            self._last_step = None

    def show_expert_notes(self, notes: ExpertNotes) -> None:
        """Which experts read the mood and why (``notes.lines``: what ``assembly.select_experts`` said, with a
        model's licence), and how to get models when built-in experts stand in."""
        self.experts_label.setText("\n".join(expert_lines(notes.lines, self.experts)))

    def refresh(self) -> None:
        """The once-a-second lines, over the time since the last call (the timer calls this)."""
        now = time.monotonic()
        elapsed = max(now - self._clock, 1e-6)
        self._clock = now
        frames = self._preview_frames()
        self._counters["preview"] += frames - self._frames_before
        self._frames_before = frames
        rates = {key: count / elapsed for key, count in self._counters.items()}
        self._counters = dict.fromkeys(COUNTED, 0)
        step = self._last_step
        faces = step.faces_read if step is not None else 0
        room = step.room if step is not None else None
        lines = status_lines(rates, self._timings_ms, self._metrics, faces, self.experts, room)
        self.show_status(lines, self._underflows(), self._sound_threads())

    def show_detail(self, key: str, text: str) -> None:
        """The full text of the banner ``key`` (a newer one replaces it), for whoever looks into a problem."""
        self._details[key] = text
        self.details_label.setText("\n".join(f"In detail ({name}): {full}" for name, full in self._details.items()))

    def current_fusion(self) -> str:
        return str(self.fusion_combo.currentData())

    def show_status(self, lines: Sequence[str], underflows: int, sound_threads: str = "") -> None:
        """The once-a-second lines (``status_lines``), the audio underflows counted so far and how the
        sound's threads run."""
        self.status_label.setText("\n".join(lines))
        audio = f"Audio underflows: {underflows}"
        self.audio_label.setText(f"{audio}\nSound threads: {sound_threads}" if sound_threads else audio)
