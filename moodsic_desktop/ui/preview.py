"""``PreviewWidget``: the newest frame scaled to fit, with a box around every face read, coloured by its
valence and captioned with its expression; or a message when there is no picture (nothing read yet, the
privacy switch, a camera gone).

The pictures come from the capture worker (``SourceControl`` hands them to ``show_frame``); the faces come
from the session's snapshots (``show_snapshot``, connected to the pipeline worker's ``snapshot_ready``): the
faces of the snapshot's step, while a source is read (``show_reading``) and the picture is not hidden for
privacy (``private``). Face boxes are in the frame's pixels. GUI thread only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from moodsic_desktop.core.types import FaceRead
from moodsic_desktop.session.snapshot import SessionSnapshot

EMPTY_TEXT = "No camera or video yet.\nPick a camera above, open a video or a photo, or drop one here."
PRIVACY_TEXT = "Preview hidden for privacy.\nThe mood is still being read."
ENDED_TEXT = "The video has ended.\nPress Start to play it again, or pick another one above."
UNREADABLE_TEXT = "This file can't be read.\nOpen another video or photo, or pick a camera above."


def valence_colour(valence: float | None) -> QColor:
    """The colour of a face box: grey when unread, else from red (valence -1) through amber (0) to green (+1)."""
    if valence is None or not math.isfinite(valence):
        return QColor("#8a929c")
    t = max(-1.0, min(1.0, valence))
    low, mid, high = QColor("#e5534b"), QColor("#e0b341"), QColor("#4cd37a")
    a, b, f = (low, mid, t + 1.0) if t < 0 else (mid, high, t)
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * f,
        a.greenF() + (b.greenF() - a.greenF()) * f,
        a.blueF() + (b.blueF() - a.blueF()) * f,
    )


def face_caption(read: FaceRead) -> str:
    """The words over a face box: its expression and how likely (``"happy 87 %"``), or "not read"."""
    if read.estimate is None:
        return "not read"
    if read.expression is None or read.expression_probability is None:
        return ""
    return f"{read.expression} {read.expression_probability:.0%}".replace("%", " %")


def place_caption(box: QRectF, width: float, height: float, taken: Sequence[QRectF], bounds: QRectF) -> QRectF:
    """Where a face's caption (``width`` x ``height`` pixels) goes: just above its ``box``, else just below,
    else further up or down, at the first place that overlaps no caption already ``taken`` and lies within
    ``bounds`` (the widget); above the box when there is no such place."""
    left = min(max(box.x(), bounds.left()), max(bounds.right() - width, bounds.left()))
    above, below = box.top() - height, box.bottom()
    tops = [above, below]
    for k in range(1, len(taken) + 1):
        tops += [above - k * height, below + k * height]
    for top in tops:
        label = QRectF(left, top, width, height)
        if bounds.contains(label) and not any(label.intersects(other) for other in taken):
            return label
    return QRectF(left, max(above, bounds.top()), width, height)


class PreviewWidget(QWidget):
    """Shows the newest frame scaled to fit, with a box around every face read, coloured by its valence and
    captioned with its expression; or a message when there is no picture."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._image: QImage | None = None
        self._faces: tuple[FaceRead, ...] = ()
        self._message = EMPTY_TEXT
        self.frames_shown = 0
        self.caption_rects: list[QRectF] = []  # where the last paint put the faces' captions (widget pixels)
        self.private = False  # the privacy switch: no picture, no faces (``SourceControl`` sets it)
        self._reading = True

    @property
    def has_image(self) -> bool:
        return self._image is not None

    def show_frame(self, image: QImage) -> None:
        """Draw ``image`` (replacing the last one) at the next paint."""
        self._image = image
        self.frames_shown += 1
        self.update()

    def set_faces(self, faces: tuple[FaceRead, ...]) -> None:
        """The faces read in the frame (boxes in the frame's pixels); empty: no face."""
        self._faces = tuple(faces)
        self.update()

    @property
    def faces(self) -> tuple[FaceRead, ...]:
        return self._faces

    def show_snapshot(self, snapshot: SessionSnapshot) -> None:
        """The faces of the snapshot's step, if any, while a source is read and the picture is not private."""
        if snapshot.step is not None and self._reading and not self.private:
            self.set_faces(snapshot.step.faces)

    def show_reading(self, reading: bool) -> None:
        """Whether a source is read: a step that arrives after it stopped boxes no faces."""
        self._reading = reading

    def show_message(self, message: str) -> None:
        """Drop the picture and show ``message`` instead (empty state, privacy)."""
        self._image = None
        self._faces = ()
        self._message = message
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#15181d"))
        if self._image is None:
            painter.setPen(QColor("#aab2bd"))
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * 1.15)
            painter.setFont(font)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message)
            return
        image = self._image
        scale = min(self.width() / image.width(), self.height() / image.height())
        width, height = image.width() * scale, image.height() * scale
        target = QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, image)
        metrics = painter.fontMetrics()
        captions: list[QRectF] = []
        self.caption_rects = captions
        for read in self._faces:
            box = read.box
            rect = QRectF(target.x() + box.x * scale, target.y() + box.y * scale, box.width * scale, box.height * scale)
            colour = valence_colour(read.estimate.valence if read.estimate is not None else None)
            pen = QPen(colour, 2)
            if read.estimate is None:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRect(rect)
            caption = face_caption(read)
            if caption:
                size = (metrics.horizontalAdvance(caption) + 8, metrics.height() + 2)
                label = place_caption(rect, *size, captions, QRectF(self.rect()))
                captions.append(label)
                painter.fillRect(label, QColor(0, 0, 0, 160))
                painter.setPen(colour)
                painter.drawText(label, Qt.AlignmentFlag.AlignCenter, caption)
