"""The mood timeline (QtCharts): valence and arousal over the last minutes, one chart each.

Per dimension: the scene, face, fused and stabilised readings, the fused uncertainty as a band (fused ±
sigma), the periods in which the stabiliser held that dimension shaded, and the day plan's range while a part
of the day bent the target (``plan_bands``). The points come from the Qt-free
``moodsic_desktop.ui.chart_series``; this module only draws them. GUI thread only: the pipeline
worker's ``snapshot_ready`` is connected to ``show_snapshot`` with the default, queued, connection.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCharts import QAreaSeries, QCategoryAxis, QChart, QChartView, QLegend, QLineSeries, QValueAxis
from PySide6.QtCore import QMargins, QSize, Qt, QTimer
from PySide6.QtGui import QBrush, QPainter, QPen, QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from moodsic_desktop.core.day_plan import PlanState
from moodsic_desktop.core.pipeline import StepRecord
from moodsic_desktop.session.snapshot import SessionSnapshot
from moodsic_desktop.ui.chart_palettes import palette_for
from moodsic_desktop.ui.chart_series import (
    COLUMNS,
    DIMENSIONS,
    LEGEND_NAMES,
    STOPPED_GAP_S,
    ContinuousTime,
    StepBuffer,
    gap_row,
    step_row,
    time_ticks,
    timeline_points,
)
from moodsic_desktop.ui.chart_style import grab_to_png, round_pen, set_points, style_axis, style_chart, with_alpha
from moodsic_desktop.ui.plan_bands import PlanBands

PLAN_COLOUR = "#4a90c2"  # the day plan's range (translucent)
PLAN_ALPHA = 55


@dataclass(frozen=True)
class TimelineSeries:
    """The series of one dimension's chart (read them for tests or restyling; GUI thread only).

    ``band`` is the fused uncertainty (upper = fused + sigma, lower = fused - sigma); ``held`` is shaded
    where the stabiliser held this dimension."""

    chart: QChart
    scene: QLineSeries
    face: QLineSeries
    fused: QLineSeries
    stabilised: QLineSeries
    band: QAreaSeries
    held: QAreaSeries

    def lines(self) -> dict[str, QLineSeries]:
        return {"scene": self.scene, "face": self.face, "fused": self.fused, "stabilised": self.stabilised}


class MoodTimelineChart(QWidget):
    """Valence (top) and arousal (bottom) over the last ``window_s`` seconds, one ``QChartView`` each.

    Per dimension: the scene, face and fused readings (thin), the stabilised value (bold), the fused
    uncertainty as a translucent band (fused ± sigma) and translucent vertical bands where the stabiliser
    held the dimension. The x axis is time relative to the newest step (right edge = "now", labels in
    minutes:seconds ago); the y axis is fixed to [-1, 1].

    Missing values (an expert that saw nothing: ``None``) are gaps: each run of missing values becomes one
    point with a NaN y, which QtCharts draws as a break in a solid line (no zeros are invented; the line
    pens stay solid for that reason). The band is collapsed to zero width across a gap.

    Feeding: ``add_step`` only appends one row of floats to a buffer and (re)arms a single-shot timer; the
    series are rebuilt from the buffer at most once every ``redraw_interval_ms`` with one ``replaceNp`` call
    per series. Rows older than the window are dropped, and beyond ``max_points`` rows per window the rows
    are averaged into time bins of ``window_s / max_points`` seconds, so memory and drawing cost stay bounded
    however long the run. Step times that jump backwards (a looping video file) are stitched on after the
    newest one so the chart keeps scrolling. GUI thread only.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        window_s: float = 180.0,
        redraw_interval_ms: int = 200,
        max_points: int = 400,
        theme: str = "dark",
    ) -> None:
        super().__init__(parent)
        if max_points < 10:
            raise ValueError(f"max_points must be at least 10, got {max_points}")
        self._palette = palette_for(theme)
        self._window_s = 0.0
        self._max_points = int(max_points)
        self._area_points = max(10, self._max_points // 2)
        self._buffer = StepBuffer(COLUMNS)
        self._plan_bands = PlanBands()
        self._reading = True
        self.plan_series: list[QAreaSeries] = []  # per dimension: the day plan's range
        self._clock = ContinuousTime()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(0, int(redraw_interval_ms)))
        self._timer.timeout.connect(self._redraw_if_visible)
        self._stale = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self._views: list[QChartView] = []
        self._series: list[TimelineSeries] = []
        self._x_axes: list[QCategoryAxis] = []
        for index, dimension in enumerate(DIMENSIONS):
            series, x_axis = self._build_chart(dimension, show_legend=index == 0)
            view = QChartView(series.chart, self)
            view.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            view.setMinimumSize(360, 150)
            view.setStyleSheet(f"background: {self._palette.background}; border: none;")
            layout.addWidget(view, 1)
            self._views.append(view)
            self._series.append(series)
            self._x_axes.append(x_axis)
        self.setMinimumSize(420, 320)
        self.window_s = window_s

    # -- construction -------------------------------------------------------------------------------------------

    def _build_chart(self, dimension: str, show_legend: bool) -> tuple[TimelineSeries, QCategoryAxis]:
        palette = self._palette
        chart = QChart()
        style_chart(chart, palette)
        chart.legend().setVisible(show_legend)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignTop)

        x_axis = QCategoryAxis()
        x_axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
        style_axis(x_axis, palette, "")
        x_axis.setTitleVisible(False)
        x_axis.setLabelsVisible(not show_legend)  # time labels once, under the bottom chart
        chart.setMargins(QMargins(4, 4, 18, 4))  # room for the "now" label at the right edge
        y_axis = QValueAxis()
        y_axis.setRange(-1.0, 1.0)
        y_axis.setTickCount(5)
        y_axis.setLabelFormat("%.1f")
        style_axis(y_axis, palette, dimension.capitalize())
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)

        plan = QAreaSeries(QLineSeries(chart), QLineSeries(chart))
        plan.setName("day plan range")
        plan.setBrush(QBrush(with_alpha(PLAN_COLOUR, PLAN_ALPHA)))
        plan.setPen(QPen(Qt.PenStyle.NoPen))
        self.plan_series.append(plan)

        held_upper, held_lower = QLineSeries(chart), QLineSeries(chart)  # parented: QAreaSeries does not own them
        held = QAreaSeries(held_upper, held_lower)
        held.setName("music held")
        held.setBrush(QBrush(with_alpha(palette.held, palette.held_alpha)))
        held.setPen(QPen(Qt.PenStyle.NoPen))

        band_upper, band_lower = QLineSeries(chart), QLineSeries(chart)
        band = QAreaSeries(band_upper, band_lower)
        band.setName("uncertainty")
        band.setBrush(QBrush(with_alpha(palette.fused, palette.band_alpha)))
        band.setPen(QPen(Qt.PenStyle.NoPen))

        lines = {}
        for name, colour, width in (
            ("scene", palette.scene, 1.4),
            ("face", palette.face, 1.4),
            ("fused", palette.fused, 1.6),
            ("stabilised", palette.stabilised, 3.0),
        ):
            line = QLineSeries()
            line.setName(LEGEND_NAMES[name])
            line.setPen(round_pen(colour, width))  # solid on purpose: NaN gaps break solid lines only
            lines[name] = line

        for series in (plan, held, band, lines["scene"], lines["face"], lines["fused"], lines["stabilised"]):
            chart.addSeries(series)
            series.attachAxis(x_axis)
            series.attachAxis(y_axis)
        # Area series would show their faint fill in the legend; give their markers a readable swatch.
        for area, colour in ((plan, PLAN_COLOUR), (held, palette.held), (band, palette.fused)):
            for marker in chart.legend().markers(area):
                marker.setShape(QLegend.MarkerShape.MarkerShapeRectangle)
                marker.setBrush(QBrush(with_alpha(colour, 150)))
                marker.setPen(QPen(with_alpha(colour, 150)))

        timeline = TimelineSeries(
            chart=chart,
            scene=lines["scene"],
            face=lines["face"],
            fused=lines["fused"],
            stabilised=lines["stabilised"],
            band=band,
            held=held,
        )
        return timeline, x_axis

    def _update_time_axes(self) -> None:
        window = self._window_s
        ticks = time_ticks(window)
        for axis in self._x_axes:
            for label in list(axis.categoriesLabels()):
                axis.remove(label)
            axis.setRange(-window, 0.0)
            axis.setStartValue(-window - 1e-6)
            for label, value in ticks:
                axis.append(label, value)

    # -- public API ---------------------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(720, 440)

    @property
    def window_s(self) -> float:
        """Seconds of history shown (and kept). Shrinking it drops older rows at the next redraw; growing
        it cannot bring back rows already dropped."""
        return self._window_s

    @window_s.setter
    def window_s(self, seconds: float) -> None:
        seconds = float(seconds)
        if not (math.isfinite(seconds) and seconds > 0):
            raise ValueError(f"window_s must be a positive number of seconds, got {seconds}")
        self._window_s = seconds
        self._buffer.keep_s = seconds
        self._update_time_axes()
        self._schedule()

    @property
    def max_points(self) -> int:
        """Most rows drawn per window before rows are averaged into time bins."""
        return self._max_points

    @property
    def buffered_steps(self) -> int:
        """How many steps the buffer holds (bounded by the window; for tests and diagnostics)."""
        return len(self._buffer)

    def dimension(self, name: str) -> TimelineSeries:
        """The series of the ``"valence"`` or ``"arousal"`` chart."""
        return self._series[DIMENSIONS.index(name)]

    def chart_view(self, name: str) -> QChartView:
        """The ``QChartView`` of the ``"valence"`` or ``"arousal"`` chart."""
        return self._views[DIMENSIONS.index(name)]

    def add_step(self, step: StepRecord, plan: PlanState | None = None) -> None:
        """Buffer one pipeline step (and the day ``plan``'s state at it) and schedule a redraw (cheap: a few
        microseconds). After a stopped period (no step for ``STOPPED_GAP_S`` seconds) the lines break: nothing
        was read then. GUI thread only."""
        raw = float(step.time)
        if not math.isfinite(raw):
            return
        time = self._clock.advance(raw)
        last = self._buffer.last_time()
        if last is not None and time - last > STOPPED_GAP_S:
            # the break just after the last reading, a bin of the coarsest binning further (so binning keeps
            # it): a held step is shaded until the next row, and the music was not "held" for half of the
            # time nothing was read
            after = max(STOPPED_GAP_S / 2.0, self._window_s / self._area_points)
            self._buffer.append(gap_row(min(last + after, (last + time) / 2.0)))
        self._buffer.append(step_row(step, time))
        self._plan_bands.add(time, plan.block if plan is not None else None)
        self._schedule()

    def show_snapshot(self, snapshot: SessionSnapshot) -> None:
        """The snapshot's step, if any, with the day plan's state at it, while a source is read (the pipeline
        worker's ``snapshot_ready`` is connected here). GUI thread only."""
        if snapshot.step is not None and self._reading:
            self.add_step(snapshot.step, snapshot.day_plan)

    def show_reading(self, reading: bool) -> None:
        """Whether a source is read: a step that arrives after it stopped is not drawn."""
        self._reading = reading

    def clear(self) -> None:
        """Forget every step and empty the charts. GUI thread only."""
        self._buffer.clear()
        self._plan_bands.clear()
        self._clock.reset()
        self.flush()

    def flush(self) -> None:
        """Redraw now from the buffer (the timer calls this; call it yourself before reading series)."""
        self._timer.stop()
        self._stale = False
        last = self._buffer.last_time()
        if last is not None:
            self._buffer.drop_before(last - self._window_s)
            self._plan_bands.drop_before(last - self._window_s)
        points = timeline_points(self._buffer.rows(), self._window_s, self._max_points, self._area_points)
        for series, shaped in zip(self._series, points, strict=True):
            for name, line in series.lines().items():
                set_points(line, *shaped.lines[name])
            bx, upper, lower = shaped.band
            set_points(series.band.upperSeries(), bx, upper)
            set_points(series.band.lowerSeries(), bx, lower)
            set_points(series.held.upperSeries(), *shaped.held_upper)
            set_points(series.held.lowerSeries(), *shaped.held_lower)
        for dimension, plan in zip(DIMENSIONS, self.plan_series, strict=True):
            x, upper, lower = self._plan_bands.points(dimension, self._window_s)
            set_points(plan.upperSeries(), x, upper)
            set_points(plan.lowerSeries(), x, lower)
            for marker in plan.chart().legend().markers(plan):  # in the legend only while shown
                marker.setVisible(len(x) > 0)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._schedule()

    def _redraw_if_visible(self) -> None:
        if self.isVisible():
            self.flush()
        else:  # nothing to see: keep the work for when the charts are shown again
            self._stale = True

    def save_png(self, path: str | os.PathLike[str]) -> Path:
        """Redraw, then write both charts as one PNG image; returns the path. GUI thread only."""
        self.flush()
        return grab_to_png(self, path)

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()


__all__ = ["MoodTimelineChart", "TimelineSeries"]
