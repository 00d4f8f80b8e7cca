"""Live mood charts (QtCharts): valence and arousal over time, and the valence-arousal plane.

``MoodTimelineChart`` shows the last ``window_s`` seconds of pipeline steps, one chart per dimension, with
the scene, face, fused and stabilised readings, the fused uncertainty as a band (fused ± sigma) and the
periods in which the stabiliser held that dimension shaded. ``MoodPlaneChart`` shows the library's songs as
points coloured by station, the current stabilised point with its recent trail, the playing song and the
next candidates.

Both are cheap to feed at camera rate: new data only go into buffers, and a single-shot ``QTimer`` redraws
at most once per ``redraw_interval_ms`` (``flush()`` redraws at once). Every value is in reference space
[-1, 1]. Everything here is GUI-thread only: call it from the thread that owns the widgets (connect the
capture worker's signals to these methods with the default, queued, connection).
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCharts import (
    QAbstractSeries,
    QAreaSeries,
    QCategoryAxis,
    QChart,
    QChartView,
    QLegend,
    QLineSeries,
    QScatterSeries,
    QValueAxis,
    QXYSeries,
)
from PySide6.QtCore import QMargins, QPointF, QSize, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QCursor, QFont, QPainter, QPen, QShowEvent
from PySide6.QtWidgets import QGraphicsSimpleTextItem, QToolTip, QVBoxLayout, QWidget

from moodsic_desktop.core.library import Song
from moodsic_desktop.core.pipeline import StepRecord

DIMENSIONS = ("valence", "arousal")
THEMES = ("dark", "light")


@dataclass(frozen=True)
class _Palette:
    background: str
    plot_area: str
    text: str
    muted_text: str
    grid: str
    axis: str
    scene: str
    face: str
    fused: str
    stabilised: str
    band_alpha: int
    held: str
    held_alpha: int
    current: str
    current_border: str
    playing: str
    playing_border: str
    candidate: str
    trail: str
    guide: str


_PALETTES = {
    "dark": _Palette(
        background="#1d2025",
        plot_area="#23272e",
        text="#dfe2e7",
        muted_text="#9aa1ab",
        grid="#353a43",
        axis="#5b626d",
        scene="#f0a04b",
        face="#5fb7f0",
        fused="#d17bc9",
        stabilised="#f4f4f0",
        band_alpha=60,
        held="#8a93a3",
        held_alpha=45,
        current="#ffffff",
        current_border="#111316",
        playing="#ffd23f",
        playing_border="#111316",
        candidate="#ffd23f",
        trail="#ffffff",
        guide="#6b7380",
    ),
    "light": _Palette(
        background="#f6f7f9",
        plot_area="#ffffff",
        text="#24272c",
        muted_text="#5f6670",
        grid="#e2e5ea",
        axis="#a3a9b2",
        scene="#d4760a",
        face="#1f86c9",
        fused="#a23d9b",
        stabilised="#1b1d21",
        band_alpha=50,
        held="#7d8594",
        held_alpha=40,
        current="#1b1d21",
        current_border="#ffffff",
        playing="#e0a800",
        playing_border="#1b1d21",
        candidate="#c98a00",
        trail="#1b1d21",
        guide="#9aa1ab",
    ),
}

# Tableau 10: distinct on light and dark backgrounds; stations beyond ten reuse colours.
STATION_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


def _palette(theme: str) -> _Palette:
    if theme not in _PALETTES:
        raise ValueError(f"unknown chart theme {theme!r}; expected one of {', '.join(THEMES)}")
    return _PALETTES[theme]


def _colour(name: str, alpha: int = 255) -> QColor:
    colour = QColor(name)
    colour.setAlpha(alpha)
    return colour


def _pen(colour: QColor | str, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(QColor(colour))
    pen.setWidthF(width)
    pen.setStyle(style)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


_HAS_REPLACE_NP = hasattr(QXYSeries, "replaceNp")


def _set_points(series: QXYSeries, x: np.ndarray, y: np.ndarray) -> None:
    """Replace all points of ``series`` in one call (one repaint), from float arrays of equal length.
    Uses PySide6's ``replaceNp`` (no QPointF per point); a QPointF list where it is missing."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if len(x) == 0:
        series.clear()
    elif _HAS_REPLACE_NP:
        series.replaceNp(x, y)
    else:
        series.replace([QPointF(a, b) for a, b in zip(x.tolist(), y.tolist(), strict=True)])


def _style_chart(chart: QChart, palette: _Palette) -> None:
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.setBackgroundRoundness(0)
    chart.setBackgroundBrush(QBrush(QColor(palette.background)))
    chart.setPlotAreaBackgroundBrush(QBrush(QColor(palette.plot_area)))
    chart.setPlotAreaBackgroundVisible(True)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.layout().setContentsMargins(0, 0, 0, 0)
    legend = chart.legend()
    legend.setLabelColor(QColor(palette.text))
    legend.setBackgroundVisible(False)
    font = QFont(legend.font())
    font.setPointSizeF(9.0)
    legend.setFont(font)
    legend.setMarkerShape(QLegend.MarkerShape.MarkerShapeFromSeries)


def _style_axis(axis: QValueAxis | QCategoryAxis, palette: _Palette, title: str) -> None:
    axis.setTitleText(title)
    axis.setTitleBrush(QBrush(QColor(palette.muted_text)))
    axis.setLabelsColor(QColor(palette.text))
    axis.setGridLineColor(QColor(palette.grid))
    axis.setLinePenColor(QColor(palette.axis))
    axis.setMinorGridLineVisible(False)
    font = QFont(axis.labelsFont())
    font.setPointSizeF(9.0)
    axis.setLabelsFont(font)
    title_font = QFont(axis.titleFont())
    title_font.setPointSizeF(9.5)
    title_font.setBold(False)
    axis.setTitleFont(title_font)


def _hide_from_legend(chart: QChart, series: QAbstractSeries) -> None:
    for marker in chart.legend().markers(series):
        marker.setVisible(False)


def _grab_to_png(widget: QWidget, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    pixmap = widget.grab()
    if pixmap.isNull() or not pixmap.save(str(target), "PNG"):
        raise OSError(f"could not write the chart image {target}")
    return target


# --------------------------------------------------------------------------------------------------------------
# Time series


# Buffer columns: time, then per dimension (scene, face, fused, fused sigma, stabilised, held).
_T = 0
_PER_DIMENSION = 6
_SCENE, _FACE, _FUSED, _SIGMA, _STABLE, _HELD = range(_PER_DIMENSION)
# the legend in plain words: the room's look, the faces, the two combined (fused), and the stabilised
# reading the music follows
LEGEND_NAMES = {"scene": "room", "face": "faces", "fused": "combined", "stabilised": "music follows"}
_LINE_FIELDS = {"scene": _SCENE, "face": _FACE, "fused": _FUSED, "stabilised": _STABLE}
_COLUMNS = 1 + _PER_DIMENSION * len(DIMENSIONS)


def _column(dimension: int, field: int) -> int:
    return 1 + dimension * _PER_DIMENSION + field


class _StepBuffer:
    """Rows of floats in time order (column 0), appended at the end and dropped from the front.

    Appending is amortised O(1): rows live in one array that is compacted (and grown only when mostly live)
    when its end is reached. When it is, rows older than ``keep_s`` before the newest are dropped first, and
    at most ``max_rows`` are kept (the oldest go), so memory stays bounded even if nobody redraws."""

    def __init__(self, columns: int, keep_s: float = math.inf, capacity: int = 1024, max_rows: int = 400_000) -> None:
        self._data = np.empty((capacity, columns), dtype=np.float64)
        self._start = 0
        self._end = 0
        self.keep_s = keep_s
        self._max_rows = max_rows

    def __len__(self) -> int:
        return self._end - self._start

    @property
    def capacity(self) -> int:
        return len(self._data)

    def append(self, row: Sequence[float]) -> None:
        if self._end == len(self._data):
            self._make_room()
        self._data[self._end] = row
        self._end += 1

    def _make_room(self) -> None:
        if len(self):
            self.drop_before(self._data[self._end - 1, 0] - self.keep_s)
        if len(self) >= self._max_rows:
            self._start = self._end - self._max_rows + 1
        size = len(self)
        capacity = len(self._data)
        if size > capacity // 2:  # mostly live rows: grow (at most to 2 × max_rows)
            capacity = min(capacity * 2, 2 * self._max_rows)
            data = np.empty((capacity, self._data.shape[1]), dtype=np.float64)
        else:
            data = self._data
        data[:size] = self._data[self._start : self._end]
        self._data, self._start, self._end = data, 0, size

    def drop_before(self, time: float) -> None:
        """Forget the rows older than ``time``."""
        times = self._data[self._start : self._end, 0]
        self._start += int(np.searchsorted(times, time, side="left"))

    def rows(self) -> np.ndarray:
        """The live rows, oldest first (a view: do not keep it across appends)."""
        return self._data[self._start : self._end]

    def last_time(self) -> float | None:
        return float(self._data[self._end - 1, 0]) if len(self) else None

    def clear(self) -> None:
        self._start = self._end = 0


def _bin_rows(rows: np.ndarray, bin_s: float) -> np.ndarray:
    """Average rows into time bins of ``bin_s`` seconds aligned on absolute time (so bins do not shimmer as
    the window scrolls). Missing values (NaN) are left out of each mean; a bin where a value is missing
    throughout stays missing. Held flags become 1 when any row of the bin was held."""
    index = np.floor(rows[:, _T] / bin_s)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(index)) + 1))
    valid = np.isfinite(rows)
    sums = np.add.reduceat(np.where(valid, rows, 0.0), starts, axis=0)
    counts = np.add.reduceat(valid, starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        binned = np.where(counts > 0, sums / counts, np.nan)
    for dimension in range(len(DIMENSIONS)):
        held = _column(dimension, _HELD)
        binned[:, held] = np.maximum.reduceat(np.nan_to_num(rows[:, held]), starts) > 0
    return binned


def _gapped(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points of a line with missing values (NaN): valid points are kept; each run of missing values
    becomes one (x, NaN) point, which QtCharts draws as a break in a solid line. Leading and trailing
    missing values are dropped."""
    valid = np.isfinite(y)
    if valid.all():
        return x, y
    if not valid.any():
        return x[:0], y[:0]
    previous_valid = np.concatenate(([False], valid[:-1]))
    keep = valid | previous_valid
    last = int(np.flatnonzero(valid)[-1])
    keep[last + 1 :] = False
    return x[keep], y[keep]


def _band(x: np.ndarray, centre: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper and lower edges of centre ± sigma over the valid points: returns (x, upper, lower).

    Across a gap both edges run along the centre line from the last point before to the first point after
    it, so the filled area there has zero width (no band is drawn over missing data)."""
    valid = np.flatnonzero(np.isfinite(centre) & np.isfinite(sigma))
    xs, cs, ss = x[valid], centre[valid], sigma[valid]
    upper, lower = cs + ss, cs - ss
    gaps = np.flatnonzero(np.diff(valid) > 1)
    if len(gaps):
        where = np.repeat(gaps + 1, 2)
        gx = np.column_stack((xs[gaps], xs[gaps + 1])).ravel()
        gc = np.column_stack((cs[gaps], cs[gaps + 1])).ravel()
        xs = np.insert(xs, where, gx)
        upper = np.insert(upper, where, gc)
        lower = np.insert(lower, where, gc)
    return xs, upper, lower


def _held_area(x: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The outline of the held periods as one polyline along the bottom edge (y = -1) that rises to +1 over
    each held period. A held step covers the time until the next step."""
    flags = held > 0
    if not flags.any():
        return x[:0], x[:0]
    x_end = np.concatenate((x[1:], x[-1:]))
    before = np.concatenate(([False], flags[:-1]))
    after = np.concatenate((flags[1:], [False]))
    starts = x[flags & ~before]
    ends = x_end[flags & ~after]
    xs = np.column_stack((starts, starts, ends, ends)).ravel()
    ys = np.tile([-1.0, 1.0, 1.0, -1.0], len(starts))
    return xs, ys


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


_NICE_STEPS_S = (5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)


def _time_label(seconds_ago: float) -> str:
    if seconds_ago < 0.5:
        return "now"
    total = round(seconds_ago)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"−{hours}:{minutes:02d}:{seconds:02d}" if hours else f"−{minutes}:{seconds:02d}"


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
        self._palette = _palette(theme)
        self._window_s = 0.0
        self._max_points = int(max_points)
        self._area_points = max(10, self._max_points // 2)
        self._buffer = _StepBuffer(_COLUMNS)
        self._time_offset = 0.0
        self._last_raw_time: float | None = None
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
        _style_chart(chart, palette)
        chart.legend().setVisible(show_legend)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignTop)

        x_axis = QCategoryAxis()
        x_axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
        _style_axis(x_axis, palette, "")
        x_axis.setTitleVisible(False)
        x_axis.setLabelsVisible(not show_legend)  # time labels once, under the bottom chart
        chart.setMargins(QMargins(4, 4, 18, 4))  # room for the "now" label at the right edge
        y_axis = QValueAxis()
        y_axis.setRange(-1.0, 1.0)
        y_axis.setTickCount(5)
        y_axis.setLabelFormat("%.1f")
        _style_axis(y_axis, palette, dimension.capitalize())
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)

        held_upper, held_lower = QLineSeries(chart), QLineSeries(chart)  # parented: QAreaSeries does not own them
        held = QAreaSeries(held_upper, held_lower)
        held.setName("music held")
        held.setBrush(QBrush(_colour(palette.held, palette.held_alpha)))
        held.setPen(QPen(Qt.PenStyle.NoPen))

        band_upper, band_lower = QLineSeries(chart), QLineSeries(chart)
        band = QAreaSeries(band_upper, band_lower)
        band.setName("uncertainty")
        band.setBrush(QBrush(_colour(palette.fused, palette.band_alpha)))
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
            line.setPen(_pen(colour, width))  # solid on purpose: NaN gaps break solid lines only
            lines[name] = line

        for series in (held, band, lines["scene"], lines["face"], lines["fused"], lines["stabilised"]):
            chart.addSeries(series)
            series.attachAxis(x_axis)
            series.attachAxis(y_axis)
        # Area series would show their faint fill in the legend; give their markers a readable swatch.
        for area, colour in ((held, palette.held), (band, palette.fused)):
            for marker in chart.legend().markers(area):
                marker.setShape(QLegend.MarkerShape.MarkerShapeRectangle)
                marker.setBrush(QBrush(_colour(colour, 150)))
                marker.setPen(QPen(_colour(colour, 150)))

        series = TimelineSeries(
            chart=chart,
            scene=lines["scene"],
            face=lines["face"],
            fused=lines["fused"],
            stabilised=lines["stabilised"],
            band=band,
            held=held,
        )
        return series, x_axis

    def _update_time_axes(self) -> None:
        window = self._window_s
        step = next((s for s in _NICE_STEPS_S if window / s <= 6), _NICE_STEPS_S[-1])
        for axis in self._x_axes:
            for label in list(axis.categoriesLabels()):
                axis.remove(label)
            axis.setRange(-window, 0.0)
            axis.setStartValue(-window - 1e-6)
            ticks = [-window] + [-k * step for k in range(int(window // step), -1, -1) if k * step < window - 1e-9]
            for value in ticks:
                axis.append(_time_label(-value), value)

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

    def add_step(self, step: StepRecord) -> None:
        """Buffer one pipeline step and schedule a redraw (cheap: a few microseconds). GUI thread only."""
        raw = float(step.time)
        if not math.isfinite(raw):
            return
        if self._last_raw_time is not None and raw < self._last_raw_time:
            self._time_offset += self._last_raw_time - raw  # a new or looping source: continue from here
        self._last_raw_time = raw
        row = [raw + self._time_offset]
        stabilised = step.stabilized
        for name in DIMENSIONS:
            scene = getattr(step.scene, name) if step.scene is not None else math.nan
            face = getattr(step.face, name) if step.face is not None else math.nan
            if step.fused is not None:
                fused = getattr(step.fused, name)
                sigma = math.sqrt(max(getattr(step.fused, f"var_{name}"), 0.0))
            else:
                fused = sigma = math.nan
            if stabilised is not None:
                stable = getattr(stabilised, name)
                held = 1.0 if getattr(stabilised, f"held_{name}") else 0.0
            else:
                stable, held = math.nan, 0.0
            row += (scene, face, fused, sigma, stable, held)
        self._buffer.append(row)
        self._schedule()

    def clear(self) -> None:
        """Forget every step and empty the charts. GUI thread only."""
        self._buffer.clear()
        self._time_offset = 0.0
        self._last_raw_time = None
        self.flush()

    def flush(self) -> None:
        """Redraw now from the buffer (the timer calls this; call it yourself before reading series)."""
        self._timer.stop()
        self._stale = False
        last = self._buffer.last_time()
        if last is not None:
            self._buffer.drop_before(last - self._window_s)
        rows = self._buffer.rows()
        now = last if last is not None else 0.0
        lines = _bin_rows(rows, self._window_s / self._max_points) if len(rows) > self._max_points else rows
        x = lines[:, _T] - now
        # The band and the held shading are filled polygons, the costliest things to paint: coarser bins.
        areas = _bin_rows(rows, self._window_s / self._area_points) if len(rows) > self._area_points else rows
        area_x = areas[:, _T] - now
        for index, series in enumerate(self._series):
            for field, line in series.lines().items():
                _set_points(line, *_gapped(x, lines[:, _column(index, _LINE_FIELDS[field])]))
            bx, upper, lower = _band(area_x, areas[:, _column(index, _FUSED)], areas[:, _column(index, _SIGMA)])
            _set_points(series.band.upperSeries(), bx, upper)
            _set_points(series.band.lowerSeries(), bx, lower)
            hx, hy = _held_area(area_x, areas[:, _column(index, _HELD)])
            _set_points(series.held.upperSeries(), hx, hy)
            _set_points(series.held.lowerSeries(), hx[[0, -1]] if len(hx) else hx, np.full(min(len(hx), 2), -1.0))

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
        return _grab_to_png(self, path)

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()


# --------------------------------------------------------------------------------------------------------------
# Valence-arousal plane

# (long text, short text for a narrow plot, sign of valence, sign of arousal)
_QUADRANT_LABELS = (
    ("tense · angry", "tense", -1, 1),
    ("excited · happy", "happy", 1, 1),
    ("sad · bored", "sad", -1, -1),
    ("calm · content", "calm", 1, -1),
)
# (long title, short title for a narrow plot)
_PLANE_TITLES = (("Valence  (unpleasant → pleasant)", "Valence"), ("Arousal  (calm → energetic)", "Arousal"))
_NARROW_PLOT_PX = 300


class MoodPlaneChart(QChartView):
    """The valence-arousal plane (x valence, y arousal, both [-1, 1]) with quadrant guides.

    Shows the library's songs as small points, one ``QScatterSeries`` per station (coloured by station,
    named in the legend); the current stabilised point with its recent trail (fading from old to new); the
    playing song (a star) and the next candidates (rings). Hovering over a song shows its name.

    ``set_current`` is cheap (it appends to a deque and schedules a redraw at most every
    ``redraw_interval_ms``); the other setters redraw at once. GUI thread only.
    """

    TRAIL_SEGMENTS = 4

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        trail_length: int = 60,
        redraw_interval_ms: int = 100,
        theme: str = "dark",
    ) -> None:
        self._palette = palette = _palette(theme)
        chart = QChart()
        super().__init__(chart, parent)
        _style_chart(chart, palette)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setStyleSheet(f"background: {palette.background}; border: none;")
        self.setMinimumSize(340, 300)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignRight)

        self._x_axis, self._y_axis = self._build_axes()
        self._guides = self._build_guides()
        self._station_series: list[QScatterSeries] = []
        self._station_songs: list[list[Song]] = []
        self._station_points: list[np.ndarray] = []
        self._trail_points: deque[tuple[float, float]] = deque(maxlen=max(2, int(trail_length)))
        self._trail_series: list[QLineSeries] = []
        self._build_overlays()
        self._quadrant_items = self._build_quadrant_labels()
        chart.plotAreaChanged.connect(self._place_quadrant_labels)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(0, int(redraw_interval_ms)))
        self._timer.timeout.connect(self.flush)
        self._shown_playing: Song | None = None
        self._shown_candidates: tuple[Song, ...] = ()

    # -- construction -------------------------------------------------------------------------------------------

    def _build_axes(self) -> tuple[QValueAxis, QValueAxis]:
        chart = self.chart()
        x_axis, y_axis = QValueAxis(), QValueAxis()
        for axis, (title, _) in zip((x_axis, y_axis), _PLANE_TITLES, strict=True):
            axis.setRange(-1.0, 1.0)
            axis.setTickCount(5)
            axis.setLabelFormat("%.1f")
            _style_axis(axis, self._palette, title)
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        return x_axis, y_axis

    def _build_guides(self) -> list[QLineSeries]:
        guides = []
        for points in (((-1.0, 0.0), (1.0, 0.0)), ((0.0, -1.0), (0.0, 1.0))):
            guide = QLineSeries()
            guide.setPen(_pen(self._palette.guide, 1.2, Qt.PenStyle.DashLine))
            guide.append([QPointF(x, y) for x, y in points])
            self._add(guide, legend=False)
            guides.append(guide)
        return guides

    def _build_overlays(self) -> None:
        palette = self._palette
        for segment in range(self.TRAIL_SEGMENTS):
            line = QLineSeries()
            alpha = int(40 + 180 * (segment + 1) / self.TRAIL_SEGMENTS)
            line.setPen(_pen(_colour(palette.trail, alpha), 1.0 + segment * 0.5))
            self._trail_series.append(line)
        self._candidates = self._marker("next", QScatterSeries.MarkerShape.MarkerShapeCircle, 17.0)
        self._candidates.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self._candidates.setPen(_pen(palette.candidate, 2.0))
        self._playing = self._marker("playing", QScatterSeries.MarkerShape.MarkerShapeStar, 24.0)
        self._playing.setBrush(QBrush(QColor(palette.playing)))
        self._playing.setPen(_pen(palette.playing_border, 1.0))
        self._current = self._marker("now", QScatterSeries.MarkerShape.MarkerShapeCircle, 15.0)
        self._current.setBrush(QBrush(QColor(palette.current)))
        self._current.setPen(_pen(palette.current_border, 2.0))
        for series in self._overlays():
            self._add(series, legend=series not in self._trail_series)

    def _overlays(self) -> list[QXYSeries]:
        """The series drawn above the library points, bottom first."""
        return [*self._trail_series, self._candidates, self._playing, self._current]

    def _build_quadrant_labels(self) -> list[tuple[QGraphicsSimpleTextItem, int, int]]:
        font = QFont(self.font())
        font.setPointSizeF(8.5)
        font.setItalic(True)
        items = []
        for text, _, sx, sy in _QUADRANT_LABELS:
            item = QGraphicsSimpleTextItem(text, self.chart())
            item.setBrush(QBrush(QColor(self._palette.muted_text)))
            item.setFont(font)
            item.setZValue(2.5)  # above the plot background and grid, below the series
            items.append((item, sx, sy))
        return items

    def _marker(self, name: str, shape: QScatterSeries.MarkerShape, size: float) -> QScatterSeries:
        series = QScatterSeries()
        series.setName(name)
        series.setMarkerShape(shape)
        series.setMarkerSize(size)
        return series

    def _add(self, series: QXYSeries, legend: bool) -> None:
        chart = self.chart()
        chart.addSeries(series)
        series.attachAxis(self._x_axis)
        series.attachAxis(self._y_axis)
        if not legend:
            _hide_from_legend(chart, series)

    def _place_quadrant_labels(self) -> None:
        """Keep the quadrant names in the plot's corners; shorten them and the axis titles when narrow."""
        area = self.chart().plotArea()
        narrow = area.width() < _NARROW_PLOT_PX
        for axis, titles in zip((self._x_axis, self._y_axis), _PLANE_TITLES, strict=True):
            if axis.titleText() != titles[narrow]:
                axis.setTitleText(titles[narrow])
        pad = 6.0
        for (item, sx, sy), texts in zip(self._quadrant_items, _QUADRANT_LABELS, strict=True):
            item.setText(texts[narrow])
            box = item.boundingRect()
            x = area.left() + pad if sx < 0 else area.right() - pad - box.width()
            y = area.top() + pad if sy > 0 else area.bottom() - pad - box.height()
            item.setPos(x, y)

    # -- public API ---------------------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(600, 440)

    @property
    def station_series(self) -> list[QScatterSeries]:
        """One scatter series per station, in station order (for tests and restyling)."""
        return list(self._station_series)

    @property
    def current_series(self) -> QScatterSeries:
        return self._current

    @property
    def trail_series(self) -> list[QLineSeries]:
        """The trail, oldest segment first (consecutive segments share their end points)."""
        return list(self._trail_series)

    @property
    def playing_series(self) -> QScatterSeries:
        return self._playing

    @property
    def candidate_series(self) -> QScatterSeries:
        return self._candidates

    def set_library(
        self,
        songs: Sequence[Song],
        station_of: Sequence[int] | None = None,
        station_names: Sequence[str] | None = None,
    ) -> None:
        """Draw ``songs`` as points coloured by station: ``station_of[i]`` is the station index of
        ``songs[i]`` (for example ``StationModel.predict(v, a)``) and ``station_names[k]`` the legend name of
        station k (default "Station k+1"). Without ``station_of`` all songs form one "Library" series.
        Replaces the previous library. GUI thread only."""
        chart = self.chart()
        for series in self._station_series:
            chart.removeSeries(series)
            series.deleteLater()
        self._station_series, self._station_songs, self._station_points = [], [], []
        songs = list(songs)
        if station_of is None:
            groups = [songs] if songs else []
            names = ["Library"]
        else:
            stations = np.asarray(station_of, dtype=np.int64).ravel()
            if len(stations) != len(songs):
                raise ValueError(f"station_of has {len(stations)} entries for {len(songs)} songs")
            if len(stations) and stations.min() < 0:
                raise ValueError("station indices must not be negative")
            count = max(int(stations.max()) + 1 if len(stations) else 0, len(station_names or ()))
            groups = [[] for _ in range(count)]
            for song, station in zip(songs, stations, strict=True):
                groups[station].append(song)
            names = [
                station_names[k] if station_names is not None and k < len(station_names) else f"Station {k + 1}"
                for k in range(count)
            ]
        # Library points sit under the trail and markers: re-add those so they stay on top.
        overlays = self._overlays()
        for series in overlays:
            chart.removeSeries(series)
        for k, group in enumerate(groups):
            series = QScatterSeries()
            series.setName(f"{names[k]} ({len(group)})" if station_of is not None else names[k])
            series.setMarkerShape(QScatterSeries.MarkerShape.MarkerShapeCircle)
            series.setMarkerSize(7.0)
            colour = _colour(STATION_COLOURS[k % len(STATION_COLOURS)], 215)
            series.setBrush(QBrush(colour))
            series.setPen(QPen(Qt.PenStyle.NoPen))
            points = np.array([(s.valence, s.arousal) for s in group], dtype=np.float64).reshape(-1, 2)
            _set_points(series, points[:, 0], points[:, 1])
            series.hovered.connect(lambda point, state, k=k: self._show_song_tip(k, point, state))
            self._add(series, legend=True)
            self._station_series.append(series)
            self._station_songs.append(group)
            self._station_points.append(points)
        for series in overlays:
            self._add(series, legend=series not in self._trail_series)
        # Legend markers for library series: opaque colour swatches.
        for series in self._station_series:
            for marker in chart.legend().markers(series):
                marker.setPen(QPen(Qt.PenStyle.NoPen))

    def set_current(self, valence: float, arousal: float) -> None:
        """Move the current stabilised point (and extend its trail); redrawn within ``redraw_interval_ms``.
        Non-finite values are ignored. GUI thread only."""
        if not (math.isfinite(valence) and math.isfinite(arousal)):
            return
        self._trail_points.append((float(valence), float(arousal)))
        if not self._timer.isActive():
            self._timer.start()

    def clear_trail(self) -> None:
        """Forget the trail and the current point. GUI thread only."""
        self._trail_points.clear()
        self.flush()

    def set_playing(self, song: Song | None) -> None:
        """Mark the playing song (``None``: nothing playing). GUI thread only."""
        if song is self._shown_playing:
            return
        self._shown_playing = song
        if song is None:
            self._playing.clear()
        else:
            _set_points(self._playing, np.array([song.valence]), np.array([song.arousal]))

    def set_candidates(self, songs: Iterable[Song]) -> None:
        """Mark the next candidate songs with rings (an empty list clears them). GUI thread only."""
        songs = tuple(songs)
        if len(songs) == len(self._shown_candidates) and all(
            a is b for a, b in zip(songs, self._shown_candidates, strict=True)
        ):
            return  # unchanged: callers may pass the same candidates at camera rate
        self._shown_candidates = songs
        _set_points(
            self._candidates,
            np.array([s.valence for s in songs], dtype=np.float64),
            np.array([s.arousal for s in songs], dtype=np.float64),
        )

    def add_step(self, step: StepRecord) -> None:
        """Convenience for a pipeline step: the stabilised point, and the decision's song and candidates.
        GUI thread only."""
        if step.stabilized is not None:
            self.set_current(step.stabilized.valence, step.stabilized.arousal)
        decision = step.decision
        if decision is not None:
            self.set_playing(decision.song)
            self.set_candidates(decision.candidates)

    def flush(self) -> None:
        """Redraw the trail and the current point now (the timer calls this)."""
        self._timer.stop()
        trail = np.array(self._trail_points, dtype=np.float64).reshape(-1, 2)
        if len(trail):
            _set_points(self._current, trail[-1:, 0], trail[-1:, 1])
        else:
            self._current.clear()
        # Split the trail into segments that share end points, oldest (faintest) first.
        bounds = np.linspace(0, len(trail) - 1, self.TRAIL_SEGMENTS + 1).round().astype(int) if len(trail) > 1 else None
        for index, line in enumerate(self._trail_series):
            if bounds is None or bounds[index + 1] <= bounds[index]:
                line.clear()
                continue
            part = trail[bounds[index] : bounds[index + 1] + 1]
            _set_points(line, part[:, 0], part[:, 1])

    def save_png(self, path: str | os.PathLike[str]) -> Path:
        """Redraw, then write the chart as a PNG image; returns the path. GUI thread only."""
        self.flush()
        return _grab_to_png(self, path)

    def _show_song_tip(self, station: int, point: QPointF, state: bool) -> None:
        if not state or station >= len(self._station_points) or not len(self._station_points[station]):
            QToolTip.hideText()
            return
        points = self._station_points[station]
        nearest = int(np.argmin((points[:, 0] - point.x()) ** 2 + (points[:, 1] - point.y()) ** 2))
        song = self._station_songs[station][nearest]
        name = self._station_series[station].name()
        QToolTip.showText(QCursor.pos(), f"{song.display_name}\n{name} · V {song.valence:+.2f} A {song.arousal:+.2f}")


__all__ = ["DIMENSIONS", "STATION_COLOURS", "THEMES", "MoodPlaneChart", "MoodTimelineChart", "TimelineSeries"]
