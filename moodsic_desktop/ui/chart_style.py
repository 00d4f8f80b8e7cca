"""Qt helpers shared by the mood chart widgets: colours, pens, chart and axis styling, loading point arrays
into a series, and saving a widget as a PNG image. GUI thread only."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCharts import QAbstractSeries, QCategoryAxis, QChart, QLegend, QValueAxis, QXYSeries
from PySide6.QtCore import QMargins, QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QWidget

from moodsic_desktop import atomic_files
from moodsic_desktop.ui.chart_palettes import Palette


def with_alpha(name: str, alpha: int = 255) -> QColor:
    """``name`` (e.g. "#rrggbb") with opacity ``alpha`` in 0..255."""
    result = QColor(name)
    result.setAlpha(alpha)
    return result


def round_pen(colour: QColor | str, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    """A round-capped pen ``width`` pixels wide."""
    result = QPen(QColor(colour))
    result.setWidthF(width)
    result.setStyle(style)
    result.setCapStyle(Qt.PenCapStyle.RoundCap)
    result.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return result


_HAS_REPLACE_NP = hasattr(QXYSeries, "replaceNp")


def set_points(series: QXYSeries, x: np.ndarray, y: np.ndarray) -> None:
    """Replace all points of ``series`` in one call (one repaint), from float arrays of equal length.
    Uses PySide6's ``replaceNp`` (no QPointF per point); a QPointF list where it is missing."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if len(x) == 0:
        series.clear()
    elif _HAS_REPLACE_NP:
        series.replaceNp(x, y)  # type: ignore[arg-type]  # the stub says Sequence; it takes numpy arrays
    else:
        series.replace([QPointF(a, b) for a, b in zip(x.tolist(), y.tolist(), strict=True)])


def style_chart(chart: QChart, palette: Palette) -> None:
    """No animation, square corners, the palette's backgrounds, 4-pixel margins and a 9-point legend."""
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


def style_axis(axis: QValueAxis | QCategoryAxis, palette: Palette, title: str) -> None:
    """The palette's colours, 9-point labels and a 9.5-point title."""
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


def hide_from_legend(chart: QChart, series: QAbstractSeries) -> None:
    for marker in chart.legend().markers(series):
        marker.setVisible(False)


def grab_to_png(widget: QWidget, path: str | os.PathLike[str]) -> Path:
    """Write ``widget`` as drawn now to a PNG file, whole (``atomic_files``; folders made as needed);
    ``OSError`` when it cannot. GUI thread."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    pixmap = widget.grab()
    with atomic_files.replacing(target) as temporary:
        if pixmap.isNull() or not pixmap.save(str(temporary), "PNG"):
            raise OSError(f"could not write the chart image {target}")
    return target
