"""Controls that change a value take the mouse wheel only when they have the keyboard focus.

A slider, spin box or drop-down list under the pointer takes every wheel notch by default, so scrolling
the window's left column with the wheel moved "How fast the music reacts" or the crossfade, and the
changed value was saved. The usual Qt practice for controls inside a scrolling panel: they take the focus
only by a click or Tab (``Qt.StrongFocus``, never by the wheel), and an event filter ignores a wheel event
that reaches a control without the focus, so that Qt hands it on to the parent (the scroll area scrolls).

GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QComboBox, QScrollBar, QWidget

GUARDED = (QAbstractSlider, QAbstractSpinBox, QComboBox)  # the controls a wheel notch changes
# not scroll bars: they change no setting, and a scroll area scrolls by handing them the wheel


class WheelGuard(QObject):
    """The event filter: a wheel event on a guarded control without the focus is ignored (not taken by the
    control; Qt then offers it to the control's parents). GUI thread."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()  # not accepted: QApplication passes it on to the parent widget
            return True  # the control itself never sees it
        return False


def guard_wheel(root: QWidget) -> WheelGuard:
    """Guard every slider (not the scroll bars), spin box and drop-down list inside ``root`` (made before this
    call): they take the focus by a click or Tab only, and the wheel only while they have it. The guard is a
    child of ``root``; call again for controls made later (another guard, same effect)."""
    guard = WheelGuard(root)
    for kind in GUARDED:
        for control in root.findChildren(kind):
            if not isinstance(control, QScrollBar):
                guard_control(control, guard)
    return guard


def guard_control(control: QWidget, guard: WheelGuard) -> None:
    """Guard one control with ``guard`` (see :func:`guard_wheel`)."""
    control.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    control.installEventFilter(guard)
