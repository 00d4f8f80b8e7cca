"""``BannerArea``: a stack of dismissable one-line notices above the window's columns, in plain words.
Anything may show one under a key of its own: the session's news (``session_banners``), the source, the
sound output, the settings, starting with the computer.

Messages from libraries (PortAudio, the operating system, decoders) tell a café owner nothing in their
technical parts: "No sound: no audio output works (default device: Error querying device -1)", "Skipped
“Song”: [Errno -2] No such file or directory". ``plain_message`` leaves those out (a parenthesis naming an
error, error numbers) and says the common ones in words; the whole message goes to View → Diagnostics.
``plain_message`` is pure (any thread); ``BannerArea`` is GUI thread only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

# a parenthesis that holds an error's technical text ("(default device: Error querying device -1)")
_TECHNICAL_PARENTHESIS = re.compile(r"\s*\([^()]*(?:[Ee]rror|Errno|PaErrorCode|errno|Traceback)[^()]*\)")
_ERROR_NUMBER = re.compile(r"\[Errno -?\d+\]\s*|\[PaErrorCode -?\d+\]\s*")
WORDS = {  # what operating systems and PortAudio say → the owner's words
    "Error querying device -1": "the sound device could not be found",
    "No such file or directory": "the file is not there",
    "Permission denied": "no permission to read it",
    "Invalid data found when processing input": "the file is damaged or not audio",
}


def plain_message(message: str) -> str:
    """``message`` without its technical parts, common errors in words (see the module docstring)."""
    plain = _TECHNICAL_PARENTHESIS.sub("", message)
    plain = _ERROR_NUMBER.sub("", plain)
    for technical, words in WORDS.items():
        plain = plain.replace(technical, words)
    return re.sub(r"\s{2,}", " ", plain).strip()


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
