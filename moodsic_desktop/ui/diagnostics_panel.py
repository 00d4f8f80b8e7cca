"""The Diagnostics panel (View → Diagnostics, hidden at start): the engineering detail the owner does not
need. Which experts read the mood (with their licences), how the face and scene readings are fused, and
once a second the rates (per second), timings (milliseconds) and audio underflows. GUI thread.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QWidget

from moodsic_desktop.core.settings_schema import FUSION
from moodsic_desktop.core.types import RoomEnergy
from moodsic_desktop.session.snapshot import ExpertInfo

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
    """The engineering view; hidden until View → Diagnostics shows it. GUI thread. ``changed("fusion", mode)``
    when the owner picks another fusion (``core.settings_schema`` ``FUSION``)."""

    changed = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Diagnostics", parent)
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
        form.addRow(self.audio_label)
        self.details_label = QLabel("")  # the banners' messages in full, technical parts and all
        self.details_label.setWordWrap(True)
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.details_label)
        self._details: dict[str, str] = {}
        self.setVisible(False)

    def show_detail(self, key: str, text: str) -> None:
        """The full text of the banner ``key`` (a newer one replaces it), for whoever looks into a problem."""
        self._details[key] = text
        self.details_label.setText("\n".join(f"In detail ({name}): {full}" for name, full in self._details.items()))

    def current_fusion(self) -> str:
        return str(self.fusion_combo.currentData())

    def show_status(self, lines: Sequence[str], underflows: int) -> None:
        """The once-a-second lines (``status_lines``) and the audio underflows counted so far."""
        self.status_label.setText("\n".join(lines))
        self.audio_label.setText(f"Audio underflows: {underflows}")
