"""``ElidedLabel``: a one-line label of a fixed height whose text never pushes the layout: text too long for
it ends in "…", the whole text in its tooltip. The mood words and the now-playing panel show every text
that changes on such lines, so that nothing moves as titles or reasons change. ``WrappedElidedLabel``: the
same over a few wrapped lines (the song's "why"). GUI thread only.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics, QTextLayout, QTextOption
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


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


def elide_lines(text: str, font: QFont, width: int, lines: int) -> str:
    """``text`` as it wraps at ``width`` pixels in ``font``, cut to ``lines`` lines: the last line shown ends
    in "…" when more followed (the lines before it unchanged, so they wrap as before)."""
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)
    layout.setTextOption(option)
    layout.beginLayout()
    starts = []
    while (line := layout.createLine()).isValid():
        line.setLineWidth(width)
        starts.append(line.textStart())
    layout.endLayout()
    if len(starts) <= lines:
        return text
    last = starts[lines - 1]
    return text[:last] + QFontMetrics(font).elidedText(text[last:], Qt.TextElideMode.ElideRight, width)


class WrappedElidedLabel(QLabel):
    """A label of ``lines`` wrapped lines and that fixed height, whatever the text: text too long for them
    ends in "…" on the last line (``text`` is the whole text, ``shown_text`` what is drawn)."""

    def __init__(self, lines: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self._lines = lines
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(lines * self.fontMetrics().lineSpacing() + 4)

    def setText(self, text: str) -> None:
        self._full = text
        self._elide()

    def text(self) -> str:
        return self._full

    def shown_text(self) -> str:
        return super().text()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.ensurePolished()  # the style sheet's font (italic) is the one drawn
        width = max(self.contentsRect().width() - 2 * self.margin(), 20)
        super().setText(elide_lines(self._full, self.font(), width, self._lines))


def heading(text: str, scale: float) -> ElidedLabel:
    """An ``ElidedLabel`` in bold, its font ``scale`` times the usual size: a panel's first line."""
    label = ElidedLabel(text)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(True)
    label.setFont(font)
    return label
