"""The system's cameras as Qt Multimedia lists them, kept current while cameras are plugged in and out.

The source row shows their names; the capture thread looks the chosen camera up by id in the newest list
each time it opens it (``perception.cameras.opencv_target``), so a camera plugged in again is found
whatever its position now.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, Signal

from moodsic_desktop.perception.cameras import CameraDevice, stable_id

log = logging.getLogger(__name__)

RawCamera = tuple[bytes | str, str]
"""``(Qt's device id, description)`` of one camera."""


def qt_cameras() -> list[RawCamera]:
    """``QMediaDevices.videoInputs()`` as ``(id, description)`` pairs; empty when Qt Multimedia has no back
    end here (files still work). GUI thread."""
    try:
        from PySide6.QtMultimedia import QMediaDevices

        return [(bytes(camera.id().data()), camera.description()) for camera in QMediaDevices.videoInputs()]
    except Exception:
        log.warning("cannot list cameras", exc_info=True)
        return []


def to_devices(raw: Iterable[RawCamera], platform: str = sys.platform) -> tuple[CameraDevice, ...]:
    """The cameras with ids as text; on Linux the id is the camera's ``/dev/v4l/by-id`` link when it has
    one (it survives the camera being plugged in again under another ``/dev/videoN``)."""
    devices = []
    for device_id, name in raw:
        text = device_id.decode("utf-8", errors="replace") if isinstance(device_id, bytes) else str(device_id)
        if platform.startswith("linux"):
            text = stable_id(text)
        devices.append(CameraDevice(text, name or "Camera"))
    return tuple(devices)


class CameraList(QObject):
    """The cameras now. ``changed`` is emitted (GUI thread) when Qt reports cameras added or removed.

    ``current()`` may be called from any thread (it reads one attribute, a tuple that is replaced whole);
    ``refresh()`` on the GUI thread. ``lister`` gives the raw list (Qt's by default; tests pass a fake).
    """

    changed = Signal()

    def __init__(self, lister: Callable[[], list[RawCamera]] = qt_cameras, platform: str = sys.platform) -> None:
        super().__init__()
        self._lister = lister
        self._platform = platform
        self._devices: tuple[CameraDevice, ...] = ()
        self._watcher: QObject | None = None
        self.refresh()

    def watch(self) -> None:
        """Follow Qt's notices of cameras added and removed (GUI thread; needs a Qt Multimedia back end)."""
        try:
            from PySide6.QtMultimedia import QMediaDevices

            self._watcher = QMediaDevices(self)
            self._watcher.videoInputsChanged.connect(self.refresh)
        except Exception:
            log.warning("cannot follow cameras being plugged in and out", exc_info=True)

    def refresh(self) -> None:
        """Read the list again (GUI thread)."""
        devices = to_devices(self._lister(), self._platform)
        if devices != self._devices:
            self._devices = devices
            self.changed.emit()

    def current(self) -> tuple[CameraDevice, ...]:
        """The cameras as last listed. Any thread."""
        return self._devices
