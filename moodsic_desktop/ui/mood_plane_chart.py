"""The valence-arousal plane (QtCharts): the library's songs by station, the current mood and its trail,
the playing song and the next candidates.

It draws the session's snapshots (``show_snapshot``, connected to the pipeline worker's ``snapshot_ready``)
and the song the engine starts (``set_playing``, from the engine bridge's ``started``). The points come from
the Qt-free ``moodsic_desktop.ui.chart_series``; this module only draws them. Every value is in reference
space [-1, 1]. GUI thread only.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCharts import QChart, QChartView, QLineSeries, QScatterSeries, QValueAxis, QXYSeries
from PySide6.QtCore import QPointF, QSize, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QCursor, QFont, QPainter, QPen, QTextDocumentFragment
from PySide6.QtWidgets import QGraphicsSimpleTextItem, QToolTip, QWidget

from moodsic_desktop.core.pipeline import StepRecord
from moodsic_desktop.core.song import Song
from moodsic_desktop.session.snapshot import LibraryView, SessionSnapshot
from moodsic_desktop.ui.chart_palettes import palette_for, station_colour
from moodsic_desktop.ui.chart_series import nearest_point, song_points, station_groups, trail_segments
from moodsic_desktop.ui.chart_style import (
    grab_to_png,
    hide_from_legend,
    round_pen,
    set_points,
    style_axis,
    style_chart,
    with_alpha,
)

# (long text, short text for a narrow plot, sign of valence, sign of arousal)
_QUADRANT_LABELS: tuple[tuple[str, str, int, int], ...] = (
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
        self._palette = palette = palette_for(theme)
        chart = QChart()
        super().__init__(chart, parent)
        style_chart(chart, palette)
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
        self._library_shown = False
        self._reading = True

    # -- construction -------------------------------------------------------------------------------------------

    def _build_axes(self) -> tuple[QValueAxis, QValueAxis]:
        chart = self.chart()
        x_axis, y_axis = QValueAxis(), QValueAxis()
        for axis, (title, _) in zip((x_axis, y_axis), _PLANE_TITLES, strict=True):
            axis.setRange(-1.0, 1.0)
            axis.setTickCount(5)
            axis.setLabelFormat("%.1f")
            style_axis(axis, self._palette, title)
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        return x_axis, y_axis

    def _build_guides(self) -> list[QLineSeries]:
        guides = []
        for points in (((-1.0, 0.0), (1.0, 0.0)), ((0.0, -1.0), (0.0, 1.0))):
            guide = QLineSeries()
            guide.setPen(round_pen(self._palette.guide, 1.2, Qt.PenStyle.DashLine))
            guide.append([QPointF(x, y) for x, y in points])
            self._add(guide, legend=False)
            guides.append(guide)
        return guides

    def _build_overlays(self) -> None:
        palette = self._palette
        for segment in range(self.TRAIL_SEGMENTS):
            line = QLineSeries()
            alpha = int(40 + 180 * (segment + 1) / self.TRAIL_SEGMENTS)
            line.setPen(round_pen(with_alpha(palette.trail, alpha), 1.0 + segment * 0.5))
            self._trail_series.append(line)
        self._candidates = self._marker("next", QScatterSeries.MarkerShape.MarkerShapeCircle, 17.0)
        self._candidates.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self._candidates.setPen(round_pen(palette.candidate, 2.0))
        self._playing = self._marker("playing", QScatterSeries.MarkerShape.MarkerShapeStar, 24.0)
        self._playing.setBrush(QBrush(QColor(palette.playing)))
        self._playing.setPen(round_pen(palette.playing_border, 1.0))
        self._current = self._marker("now", QScatterSeries.MarkerShape.MarkerShapeCircle, 15.0)
        self._current.setBrush(QBrush(QColor(palette.current)))
        self._current.setPen(round_pen(palette.current_border, 2.0))
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
            hide_from_legend(chart, series)

    def _place_quadrant_labels(self) -> None:
        """Keep the quadrant names in the plot's corners; shorten them and the axis titles when narrow."""
        area = self.chart().plotArea()
        narrow = area.width() < _NARROW_PLOT_PX
        for axis, titles in zip((self._x_axis, self._y_axis), _PLANE_TITLES, strict=True):
            if axis.titleText() != titles[narrow]:
                axis.setTitleText(titles[narrow])
        pad = 6.0
        for (item, sx, sy), texts in zip(self._quadrant_items, _QUADRANT_LABELS, strict=True):
            item.setText(texts[1] if narrow else texts[0])
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
        groups = station_groups(songs, station_of, station_names)
        # Library points sit under the trail and markers: re-add those so they stay on top.
        overlays = self._overlays()
        for overlay in overlays:
            chart.removeSeries(overlay)
        for k, (label, group) in enumerate(groups):
            series = QScatterSeries()
            series.setName(label)
            series.setMarkerShape(QScatterSeries.MarkerShape.MarkerShapeCircle)
            series.setMarkerSize(7.0)
            series.setBrush(QBrush(with_alpha(station_colour(k), 215)))
            series.setPen(QPen(Qt.PenStyle.NoPen))
            points = song_points(group)
            set_points(series, points[:, 0], points[:, 1])
            series.hovered.connect(lambda point, state, k=k: self._show_song_tip(k, point, state))
            self._add(series, legend=True)
            self._station_series.append(series)
            self._station_songs.append(group)
            self._station_points.append(points)
        for overlay in overlays:
            self._add(overlay, legend=overlay not in self._trail_series)
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
            set_points(self._playing, np.array([song.valence]), np.array([song.arousal]))

    def set_candidates(self, songs: Iterable[Song]) -> None:
        """Mark the next candidate songs with rings (an empty list clears them). GUI thread only."""
        songs = tuple(songs)
        if len(songs) == len(self._shown_candidates) and all(
            a is b for a, b in zip(songs, self._shown_candidates, strict=True)
        ):
            return  # unchanged: callers may pass the same candidates at camera rate
        self._shown_candidates = songs
        set_points(
            self._candidates,
            np.array([s.valence for s in songs], dtype=np.float64),
            np.array([s.arousal for s in songs], dtype=np.float64),
        )

    def show_snapshot(self, snapshot: SessionSnapshot) -> None:
        """The library the songs come from (the first snapshot's, then each change of library), and, while
        a source is read, the step's stabilised mood and its decision's next candidates (the pipeline
        worker's ``snapshot_ready`` is connected here). GUI thread only."""
        change = snapshot.library_change
        if change is not None or not self._library_shown:
            self.show_library(change.library if change is not None else snapshot.library)
        step = snapshot.step
        if step is None or not self._reading:
            return
        if step.stabilized is not None:
            self.set_current(step.stabilized.valence, step.stabilized.arousal)
        if step.decision is not None:
            self.set_candidates(list(step.decision.candidates[:5]))

    def show_reading(self, reading: bool) -> None:
        """Whether a source is read: a step that arrives after it stopped is not drawn."""
        self._reading = reading

    def show_library(self, library: LibraryView) -> None:
        """Draw ``library``'s songs, coloured by station."""
        self._library_shown = True
        self.set_library(library.songs, library.station_of, library.station_names)

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
            set_points(self._current, trail[-1:, 0], trail[-1:, 1])
        else:
            self._current.clear()
        # Segments that share end points, oldest (faintest) first.
        for line, part in zip(self._trail_series, trail_segments(trail, self.TRAIL_SEGMENTS), strict=True):
            set_points(line, part[:, 0], part[:, 1])

    def save_png(self, path: str | os.PathLike[str]) -> Path:
        """Redraw, then write the chart as a PNG image; returns the path. GUI thread only."""
        self.flush()
        return grab_to_png(self, path)

    def _show_song_tip(self, station: int, point: QPointF, state: bool) -> None:
        if not state or station >= len(self._station_points) or not len(self._station_points[station]):
            QToolTip.hideText()
            return
        points = self._station_points[station]
        song = self._station_songs[station][nearest_point(points, point.x(), point.y())]
        name = QTextDocumentFragment.fromHtml(self._station_series[station].name()).toPlainText().replace("\n", " ")
        QToolTip.showText(QCursor.pos(), f"{song.display_name}\n{name} · V {song.valence:+.2f} A {song.arousal:+.2f}")


__all__ = ["MoodPlaneChart"]
