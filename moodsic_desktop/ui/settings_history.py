"""Every change of the owner's settings can be undone: Edit → Undo / Redo, over a ``QUndoStack``.

Each change is one command holding the settings before and after it. Changes of the same setting in
quick succession (one slider drag, a few key presses) merge into one command, so one Undo takes the
slider back to where it was before the drag. A reset to the defaults is one command too. What the owner
does not tune (the last source: not ``undoable`` in ``core.settings_schema``) is not a change to undo. An undo,
a redo and a reset travel the same road as a control's change (``changed_values`` → the window's ``apply``).
GUI thread only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QMessageBox, QWidget

from moodsic_desktop.core.settings_schema import SETTINGS
from moodsic_desktop.ui.settings import UserSettings

MERGE_WITHIN_S = 3.0  # changes of one setting closer together than this are one step to undo

SETTING_NAMES = {s.name: s.label for s in SETTINGS if s.undoable}  # the owner's words for each, in form order
UNDONE_KEYS = frozenset(SETTING_NAMES)  # the settings whose changes can be undone
_MERGE_ID = 1  # QUndoCommand.id: commands with one id are offered to ``mergeWith``


def changed_names(before: UserSettings, after: UserSettings) -> list[str]:
    """The owner's names of the settings that differ between ``before`` and ``after``, in form order."""
    return [SETTING_NAMES[name] for name in changed_values(before, after)]


def changed_values(before: UserSettings, after: UserSettings) -> dict[str, Any]:
    """The settings that can be undone and differ between ``before`` and ``after``: their values in
    ``after``, by name, in form order (what an undo, a redo or a reset sends down the settings road)."""
    old, new = asdict(before), asdict(after)
    return {name: new[name] for name in SETTING_NAMES if old[name] != new[name]}


class SettingsChange(QUndoCommand):
    """One change of the settings, from ``before`` to ``after``; ``apply`` shows settings in the window."""

    def __init__(
        self, before: UserSettings, after: UserSettings, apply: Callable[[UserSettings], None], text: str
    ) -> None:
        super().__init__(text)
        self.before, self.after, self.apply = before, after, apply
        self.keys = frozenset(key for key in UNDONE_KEYS if getattr(before, key) != getattr(after, key))
        self.at = time.monotonic()
        self._done_once = False

    def id(self) -> int:
        return _MERGE_ID if len(self.keys) == 1 else -1  # a reset never merges

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SettingsChange) or other.keys != self.keys or other.at - self.at > MERGE_WITHIN_S:
            return False
        self.after, self.at = other.after, other.at
        return True

    def redo(self) -> None:
        if self._done_once:  # the first redo is the change itself, already made by the control
            self.apply(self.after)
        self._done_once = True

    def undo(self) -> None:
        self.apply(self.before)


class SettingsHistory(QObject):
    """The undo stack of the settings. ``apply(settings)`` is the window's way to show settings in its
    controls (which pass them on); it runs with recording paused. GUI thread."""

    def __init__(self, apply: Callable[[UserSettings], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stack = QUndoStack(self)
        self._apply = apply
        self._paused = 0

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Changes made inside are not recorded (showing saved settings, undoing, redoing)."""
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    def record(self, before: UserSettings, after: UserSettings, text: str | None = None) -> bool:
        """Record a change made in the window; False (nothing recorded) while paused, or when no setting the
        owner tunes differs. ``text`` names it in Edit → Undo (default: the setting's name)."""
        names = changed_names(before, after)
        if self._paused or not names:
            return False
        self.stack.push(SettingsChange(before, after, self._show, text or ", ".join(names)))
        return True

    def _show(self, settings: UserSettings) -> None:
        with self.paused():
            self._apply(settings)


def keep_unrecorded(settings: UserSettings, current: UserSettings) -> UserSettings:
    """``settings`` with what undo does not touch (the last source) taken from ``current``."""
    return replace(settings, last_source=current.last_source)


def ask_to_reset(parent: QWidget, names: list[str]) -> bool:
    """Ask the owner whether to put the settings ``names`` back to their defaults; True for Yes."""
    question = "Put these settings back to their defaults?\n\n" + "\n".join(f"• {name}" for name in names)
    question += "\n\nEdit → Undo takes it back."
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    return QMessageBox.question(parent, "Reset to defaults", question, buttons) == QMessageBox.StandardButton.Yes
