"""Small widgets of the main window: the preview, the banner area, the mood in words and the now-playing
panel. Text that changes is shown on one elided line of a fixed height, so that no widget changes size as
titles or reasons change (the full text is in the tooltip).

GUI thread only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import ClassVar

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from moodsic_desktop.core.decision_words import why_words
from moodsic_desktop.core.library import Song
from moodsic_desktop.core.matcher import Decision
from moodsic_desktop.core.mood_words import MoodLine
from moodsic_desktop.core.types import FaceRead
from moodsic_desktop.ui.plain_messages import plain_message

EMPTY_TEXT = "No camera or video yet.\nPick a camera above, open a video or a photo, or drop one here."
PRIVACY_TEXT = "Preview hidden for privacy.\nThe mood is still being read."


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


class BannerArea(QWidget):
    """A stack of dismissable one-line notices, one per key (a newer text for a key replaces the older).
    A banner shows its text in plain words (``plain_message``); when that left technical parts out, the
    whole text is its tooltip and ``detailed(key, text)`` carries it to View → Diagnostics."""

    COLOURS: ClassVar[dict[str, str]] = {"info": "#24476b", "warning": "#6b5424", "error": "#6b2424"}
    closed = Signal(str)
    detailed = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self._banners: dict[str, tuple[QFrame, QLabel]] = {}
        self._levels: dict[str, str] = {}

    def show_banner(
        self, key: str, text: str, level: str = "info", button: tuple[str, Callable[[], None]] | None = None
    ) -> None:
        """Show (or update) the banner ``key``; ``button``: (label, action) of a button beside the text, added
        when the banner is first shown. GUI thread."""
        if key in self._banners:
            frame, label = self._banners[key]
        else:
            frame = QFrame(self)
            row = QHBoxLayout(frame)
            row.setContentsMargins(10, 4, 4, 4)
            label = QLabel(frame)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            close = QToolButton(frame)
            close.setText("✕")
            close.setAutoRaise(True)
            close.setToolTip("Dismiss")
            close.clicked.connect(lambda: self.hide_banner(key))
            row.addWidget(label, 1)
            if button is not None:
                action = QPushButton(button[0], frame)
                action.clicked.connect(button[1])
                row.addWidget(action)
            row.addWidget(close)
            self._layout.addWidget(frame)
            self._banners[key] = (frame, label)
        self._levels[key] = level
        colour = self.COLOURS.get(level, self.COLOURS["info"])
        frame.setStyleSheet(f"QFrame {{ background: {colour}; color: white; }}")
        plain = plain_message(text)
        label.setText(plain)
        label.setToolTip(text if plain != text else "")
        if plain != text:
            self.detailed.emit(key, text)
        frame.show()

    def hide_banner(self, key: str) -> None:
        banner = self._banners.pop(key, None)
        if banner is not None:
            banner[0].deleteLater()
            self.closed.emit(key)

    def text(self, key: str) -> str | None:
        """The text of a shown banner, as shown (None when hidden)."""
        banner = self._banners.get(key)
        return banner[1].text() if banner else None

    def level(self, key: str) -> str | None:
        """The level ("info", "warning" or "error") of a shown banner (None when hidden)."""
        return self._levels.get(key) if key in self._banners else None


def format_clock(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–:––"
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class ElidedLabel(QLabel):
    """A one-line label that never asks for more width than it has: text too long for it ends in "…", and
    the whole text is its tooltip. Its height is one line of its font, whatever the text."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text if text else "")
        self._elide()

    def text(self) -> str:
        """The text as set, before eliding (``shown_text`` is what fits)."""
        return self._full

    def shown_text(self) -> str:
        """The text as drawn: elided to the label's width."""
        return super().text()

    def setFont(self, font: QFont | str | Sequence[str]) -> None:
        super().setFont(font)
        self.setFixedHeight(self.fontMetrics().height() + 4)
        self._elide()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def minimumSizeHint(self):
        hint = super().minimumSizeHint()
        hint.setWidth(20)
        return hint

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(min(hint.width(), 200))
        return hint

    def _elide(self) -> None:
        self.setFixedHeight(self.fontMetrics().height() + 4)
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(self.width(), 20))
        super().setText(shown)


class MoodWordsPanel(QFrame):
    """How the room feels, in large plain words, over one line of how sure, whom it reads and what the
    music does (see ``core.mood_words``). A fixed height: the words change, the layout does not."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("moodWords")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(2)
        self.headline = ElidedLabel("")
        font = QFont(self.headline.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        self.headline.setFont(font)
        self.detail = ElidedLabel("")
        self.setToolTip(
            "How the room feels now, from the smoothed mood the music follows; how sure the program is "
            "(the reading's spread against “Only react when sure”); how many faces it reads; and what the "
            "music mode does about the mood."
        )
        layout.addWidget(self.headline)
        layout.addWidget(self.detail)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(layout.contentsMargins().top() * 2 + self.headline.height() + self.detail.height() + 6)

    def show_line(self, line: MoodLine) -> None:
        self.headline.setText(line.headline)
        self.detail.setText(line.detail)

    def text(self) -> str:
        """The headline and the detail, one per line (the full words, never elided)."""
        return f"{self.headline.text()}\n{self.detail.text()}"


class NowPlayingPanel(QFrame):
    """Title, artist, genre, station, elapsed time, the dwell countdown, crossfade progress and why."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QGridLayout(self)
        self.title = ElidedLabel("Nothing playing yet")
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.title.setFont(font)
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
        self.reason = QLabel("")  # why the song plays, in plain words: up to two lines, the detail in its tooltip
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("color: #8aa0b6; font-style: italic;")
        self.reason.setFixedHeight(2 * self.reason.fontMetrics().lineSpacing() + 4)
        self.reason.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
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
        self.reason.setToolTip(f"Why this song plays, in the matcher's words: {reason}" if reason else "")

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
