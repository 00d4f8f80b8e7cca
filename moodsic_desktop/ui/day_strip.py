"""``DayStrip``: the day plan drawn as one 24-hour strip, midnight to midnight: closed hours dark, each part of
the day a coloured box with its name (cut with "…" where the box is short), hour marks every three hours, and
"now" as a thin line. GUI thread.

The colours of the moods (``MOOD_COLOURS``) are shared with the timeline chart's day-plan bands.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from moodsic_desktop.core.day_plan import MINUTES_PER_DAY, DayPlan, MoodLean

MOOD_COLOURS = {
    "room": "#7f8c99",
    "calm": "#4a90c2",
    "cosy": "#c28a4a",
    "bright": "#e0c341",
    "lively": "#e0694a",
    "upbeat": "#d0509a",
}
CUSTOM_COLOUR = "#8a6fc9"
CLOSED_COLOUR = "#2b2f36"
OPEN_COLOUR = "#dfe5ec"
SIDE_MARGIN = 22  # pixels left and right of the day, for the labels "00:00" and "24:00"
LABEL_ROOM = 48
"""Pixels between hour marks that a label "09:00" needs; on a narrower strip only every sixth hour is named."""


def mood_colour(mood: MoodLean) -> QColor:
    """The colour of a part of the day with ``mood``."""
    return QColor(MOOD_COLOURS.get(mood.name, CUSTOM_COLOUR))


class DayStrip(QWidget):
    """The 24-hour strip of ``plan``; ``now_minute`` (minutes since midnight, or None) marks the time now."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plan = DayPlan()
        self._now: float | None = None
        self.setMinimumHeight(62)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("The day from midnight to midnight: dark when closed, a coloured box for each part of the day")

    def sizeHint(self) -> QSize:
        return QSize(640, 62)

    @property
    def plan(self) -> DayPlan:
        return self._plan

    def show_plan(self, plan: DayPlan, now_minute: float | None = None) -> None:
        """Draw ``plan`` (and "now" at ``now_minute``)."""
        self._plan, self._now = plan, now_minute
        self.update()

    def bar(self) -> QRectF:
        """Where the day is drawn (pixels): room on both sides for the first and last hour's labels."""
        return QRectF(SIDE_MARGIN, 4, self.width() - 2 * SIDE_MARGIN, self.height() - 22)

    def x_of(self, minute: float) -> float:
        """The x (pixels) of ``minute`` (minutes since midnight) on the strip."""
        return self._x(self.bar(), minute)

    def _x(self, bar: QRectF, minute: float) -> float:
        return bar.left() + bar.width() * minute / MINUTES_PER_DAY

    def _runs(self, bar: QRectF, start: int, length: int) -> list[QRectF]:
        """The boxes of a span from ``start`` for ``length`` minutes (two when it wraps past midnight)."""
        end = start + length
        pieces = [(start, min(end, MINUTES_PER_DAY))] + ([(0, end - MINUTES_PER_DAY)] if end > MINUTES_PER_DAY else [])
        return [QRectF(self._x(bar, a), bar.top(), self._x(bar, b) - self._x(bar, a), bar.height()) for a, b in pieces]

    def hour_labels(self) -> list[tuple[int, str]]:
        """The marks every three hours and their labels ("09:00"); where the strip is too narrow for all of
        them (``LABEL_ROOM``), only every sixth hour is named and the others are left blank."""
        room = self.bar().width() / 8
        return [(hour, f"{hour:02d}:00" if room >= LABEL_ROOM or hour % 6 == 0 else "") for hour in range(0, 25, 3)]

    def fitted_name(self, name: str, width: float) -> str:
        """``name`` as it fits in ``width`` pixels, cut with "…" at its end; "" where not even one letter and the
        "…" fit (a clipped middle such as "w p" for "New part" reads as nonsense)."""
        fitted = self.fontMetrics().elidedText(name, Qt.TextElideMode.ElideRight, max(0, int(width)))
        return "" if fitted in ("", "…") else fitted

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        bar = self.bar()
        hours = self._plan.opening_hours
        painter.fillRect(bar, QColor(OPEN_COLOUR if hours is None else CLOSED_COLOUR))
        if hours is not None:
            for box in self._runs(bar, hours.start % MINUTES_PER_DAY, hours.length):
                painter.fillRect(box, QColor(OPEN_COLOUR))
        for block in self._plan.blocks:
            colour = mood_colour(block.mood)
            for box in self._runs(bar, block.span.start % MINUTES_PER_DAY, block.span.length):
                painter.fillRect(box.adjusted(1, 3, -1, -3), colour)  # a gap between parts side by side
                painter.setPen(QColor("#ffffff" if colour.lightness() < 150 else "#111316"))
                name = self.fitted_name(block.name, box.width() - 4)
                if name:
                    flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextSingleLine
                    painter.drawText(box.adjusted(2, 0, -2, 0), int(flags), name)
        painter.setPen(QPen(QColor("#8a93a3"), 1))
        painter.drawRect(bar)
        for hour, text in self.hour_labels():
            x = self._x(bar, hour * 60)
            painter.drawLine(int(x), int(bar.bottom()), int(x), int(bar.bottom()) + 4)
            if text:
                painter.drawText(QRectF(x - 20, bar.bottom() + 4, 40, 14), int(Qt.AlignmentFlag.AlignCenter), text)
        if self._now is not None:
            painter.setPen(QPen(QColor("#e04a4a"), 2))
            x = self._x(bar, self._now)
            painter.drawLine(int(x), int(bar.top()) - 2, int(x), int(bar.bottom()) + 2)
        painter.end()
