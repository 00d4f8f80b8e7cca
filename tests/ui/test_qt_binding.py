"""Facts about the Qt binding that the program relies on; a PySide6 upgrade that breaks them fails here."""

import sys

from PySide6.QtCore import QObject, Signal


class Emitter(QObject):
    plain = Signal()
    carrying = Signal(object)


def test_emitting_signals_keeps_reference_counts():
    """PySide6 6.12.0 dropped a reference to True on each emit(): after some hours of a session the
    interpreter aborted ("deallocating True"). The workers emit signals for every frame."""
    emitter = Emitter()
    emitter.plain.connect(lambda: None)
    emitter.carrying.connect(lambda value: None)
    before = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(200):
        emitter.plain.emit()
        emitter.carrying.emit(None)
    assert (sys.getrefcount(True), sys.getrefcount(None)) == before
