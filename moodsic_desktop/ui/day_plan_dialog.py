"""*Settings → Day plan…*: opening hours and the parts of the day, in plain words, over a 24-hour strip.

The dialog edits a copy of the plan: every change redraws the strip and checks the plan
(``core.day_plan.DayPlan``); a plan that cannot be used (two parts that overlap, a part without a name)
says why under the table and keeps OK greyed out. OK hands the new plan to ``accepted_plan``; Cancel
changes nothing. A part whose mood is an own range written in the settings file keeps it ("Own range").
GUI thread.
"""

from __future__ import annotations

import datetime

from PySide6.QtCore import QTime, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from moodsic_desktop.core.day_plan import MOOD_LEANS, DayPlan, MoodLean, Span, TimeBlock, minute_of_day
from moodsic_desktop.ui.day_strip import DayStrip

# The owner's words for each mood lean (core.day_plan.MOOD_LEANS), in the menu's order.
MOOD_LABELS = {
    "room": "Follow the room",
    "calm": "Calm",
    "cosy": "Warm and calm",
    "bright": "Bright",
    "lively": "Lively",
    "upbeat": "Bright and lively",
}
OWN_RANGE_LABEL = "Own range (from the settings file)"
YOUR_VOLUME = "Your volume"
COLUMNS = ("Name", "From", "To", "Mood", "Volume")
INTRO = (
    "When the music plays, and how it sounds at each part of the day. The room's mood still chooses the "
    "songs, within what the plan allows. Outside the opening hours the music is off."
)
NEW_PART_NAME = "New part"


def _time_edit(minute: int) -> QTimeEdit:
    edit = QTimeEdit(QTime((minute // 60) % 24, minute % 60))
    edit.setDisplayFormat("HH:mm")
    return edit


def _minute(edit: QTimeEdit) -> int:
    time = edit.time()
    return time.hour() * 60 + time.minute()


class DayPlanDialog(QDialog):
    """Edits ``plan`` (see the module docstring); ``accepted_plan(DayPlan)`` on OK. ``now`` (a local
    wall-clock time, default the current one) marks "now" on the strip. GUI thread."""

    accepted_plan = Signal(object)

    def __init__(self, plan: DayPlan, parent: QWidget | None = None, now: datetime.datetime | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Day plan")
        self.setMinimumWidth(640)
        self._now = minute_of_day(now or datetime.datetime.now())
        self._plan: DayPlan | None = plan
        layout = QVBoxLayout(self)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        hours = QHBoxLayout()
        self.all_day_check = QCheckBox("Open all day")
        opening = plan.opening_hours or Span(8 * 60, 22 * 60)
        self.opens_edit, self.closes_edit = _time_edit(opening.start), _time_edit(opening.end)
        hours.addWidget(QLabel("Opening hours:"))
        hours.addWidget(self.all_day_check)
        hours.addWidget(QLabel("opens at"))
        hours.addWidget(self.opens_edit)
        hours.addWidget(QLabel("closes at"))
        hours.addWidget(self.closes_edit)
        hours.addStretch(1)
        layout.addLayout(hours)

        self.strip = DayStrip(self)
        layout.addWidget(self.strip)

        layout.addWidget(QLabel("Parts of the day:"))
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # the Mood column is as wide as its choices (each row's list, in _add_row): the header's word alone
        # would leave "Fo" of "Follow the room" showing
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        layout.addWidget(self.table, 1)
        rows = QHBoxLayout()
        self.add_button = QPushButton("Add a part of the day")
        self.remove_button = QPushButton("Remove the selected part")
        rows.addWidget(self.add_button)
        rows.addWidget(self.remove_button)
        rows.addStretch(1)
        layout.addLayout(rows)

        self.problem_label = QLabel("")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #c0392b;")
        layout.addWidget(self.problem_label)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.clear_button = self.buttons.addButton("No plan", QDialogButtonBox.ButtonRole.ResetRole)
        self.clear_button.setToolTip("Open all day with no parts of the day: the music follows the room at your volume")
        layout.addWidget(self.buttons)

        self.all_day_check.setChecked(plan.opening_hours is None)
        for block in plan.blocks:
            self._add_row(block)
        self.all_day_check.toggled.connect(self._refresh)
        self.opens_edit.timeChanged.connect(self._refresh)
        self.closes_edit.timeChanged.connect(self._refresh)
        self.table.itemChanged.connect(self._refresh)
        self.add_button.clicked.connect(self.add_part)
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(self.clear_plan)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self._refresh()

    # -- rows ------------------------------------------------------------------------------------------------
    def _add_row(self, block: TimeBlock) -> None:
        row = self.table.rowCount()
        self.table.blockSignals(True)
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(block.name))
        self.table.blockSignals(False)
        start, end = _time_edit(block.span.start), _time_edit(block.span.end)
        mood = QComboBox()
        for name, label in MOOD_LABELS.items():
            mood.addItem(label, MOOD_LEANS[name])
        if block.mood.name not in MOOD_LABELS:
            mood.addItem(OWN_RANGE_LABEL, block.mood)
        mood.setCurrentIndex(max(0, [mood.itemData(i) for i in range(mood.count())].index(block.mood)))
        volume = QSpinBox()
        volume.setRange(-1, 100)
        volume.setSuffix(" %")
        volume.setSpecialValueText(YOUR_VOLUME)
        volume.setValue(-1 if block.volume is None else round(block.volume * 100))
        volume.setToolTip(f"{YOUR_VOLUME}: the Volume slider's. A part's own volume holds until the next part.")
        for column, widget in ((1, start), (2, end), (3, mood), (4, volume)):
            self.table.setCellWidget(row, column, widget)
            self.table.setColumnWidth(column, max(self.table.columnWidth(column), widget.sizeHint().width()))
        start.timeChanged.connect(self._refresh)
        end.timeChanged.connect(self._refresh)
        mood.currentIndexChanged.connect(self._refresh)
        volume.valueChanged.connect(self._refresh)

    def add_part(self) -> None:
        """A new part of the day after the last one (an hour long), following the room at your volume."""
        last = max((b.span.start + b.span.length for b in self._blocks_or_none() or ()), default=8 * 60)
        start = last % (24 * 60)
        self._add_row(TimeBlock(NEW_PART_NAME, Span(start, (start + 60) % (24 * 60) or 24 * 60)))
        self._refresh()

    def remove_selected(self) -> None:
        """Remove the selected part (the last one when none is selected)."""
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        for row in rows or ([self.table.rowCount() - 1] if self.table.rowCount() else []):
            self.table.removeRow(row)
        self._refresh()

    def clear_plan(self) -> None:
        """Open all day, no parts of the day."""
        self.table.setRowCount(0)
        self.all_day_check.setChecked(True)
        self._refresh()

    # -- the plan --------------------------------------------------------------------------------------------
    def _blocks_or_none(self) -> tuple[TimeBlock, ...] | None:
        try:
            return tuple(self._row_block(row) for row in range(self.table.rowCount()))
        except ValueError:
            return None

    def _row_block(self, row: int) -> TimeBlock:
        item = self.table.item(row, 0)
        name = item.text().strip() if item is not None else ""
        start, end = self.table.cellWidget(row, 1), self.table.cellWidget(row, 2)
        mood, volume = self.table.cellWidget(row, 3), self.table.cellWidget(row, 4)
        assert isinstance(start, QTimeEdit) and isinstance(end, QTimeEdit)
        assert isinstance(mood, QComboBox) and isinstance(volume, QSpinBox)
        lean = mood.currentData()
        assert isinstance(lean, MoodLean)
        if not name:
            raise ValueError(f"part {row + 1} of the day needs a name")
        try:
            span = Span(_minute(start), _minute(end))
        except ValueError:
            raise ValueError(f"“{name}” must end at another time than it starts") from None
        return TimeBlock(name, span, None if volume.value() < 0 else volume.value() / 100, lean)

    def _build(self) -> DayPlan:
        hours = None
        if not self.all_day_check.isChecked():
            try:
                hours = Span(_minute(self.opens_edit), _minute(self.closes_edit))
            except ValueError:
                raise ValueError("the café must close at another time than it opens") from None
        return DayPlan(hours, tuple(self._row_block(row) for row in range(self.table.rowCount())))

    def _refresh(self) -> None:
        self.opens_edit.setEnabled(not self.all_day_check.isChecked())
        self.closes_edit.setEnabled(not self.all_day_check.isChecked())
        try:
            self._plan = self._build()
        except ValueError as error:
            self._plan = None
            text = str(error)
            self.problem_label.setText(f"This plan cannot be used yet: {text[:1].lower()}{text[1:]}.")
        else:
            self.problem_label.setText("")
            self.strip.show_plan(self._plan, self._now)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(self._plan is not None)

    def plan(self) -> DayPlan | None:
        """The plan as edited now, or None while it cannot be used (``problem_label`` says why)."""
        return self._plan

    def _accept(self) -> None:
        if self._plan is None:
            return
        self.accepted_plan.emit(self._plan)
        self.accept()
