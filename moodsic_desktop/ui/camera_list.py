"""The system's cameras, kept current while cameras are plugged in and out.

On Linux the list comes from the V4L2 nodes themselves (``perception.v4l2_cameras``) and a watch on
``/dev`` notices cameras plugged in and out, so the Linux bundle needs no Qt Multimedia (with its FFmpeg,
about 40 MiB); Windows and macOS ask Qt Multimedia (``QMediaDevices``). The ids are the same either way.
The source row shows their names; the capture thread looks the chosen camera up by id in the newest list
each time it opens it (``perception.cameras.opencv_target``), so a camera plugged in again is found
whatever its position now.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from moodsic_desktop.perception import v4l2_cameras
from moodsic_desktop.perception.cameras import CameraDevice, stable_id

log = logging.getLogger(__name__)

RawCamera = tuple[bytes | str, str]
"""``(the system's device id, description)`` of one camera (Qt's id, or the V4L2 node on Linux)."""

SETTLE_MS = 1000
"""Linux: after a change in ``/dev``, how long to wait before listing again (ms): udev adds a camera's
nodes, their permissions and ``/dev/v4l/by-id`` links one after the other, so one listing sees them all."""

POLL_MS = 5000
"""Linux: how often the list is read again (ms) where ``/dev`` cannot be watched."""


def system_cameras(platform: str = sys.platform) -> Sequence[RawCamera]:
    """The cameras as ``platform`` (``sys.platform``) lists them: the V4L2 nodes on Linux, else Qt
    Multimedia's list. GUI thread."""
    if platform.startswith("linux"):
        return v4l2_cameras.list_cameras()
    return qt_cameras()


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
    """The cameras now. ``changed`` is emitted (GUI thread) when cameras are added or removed.

    ``current()`` may be called from any thread (it reads one attribute, a tuple that is replaced whole);
    ``refresh()`` on the GUI thread. ``lister`` gives the raw list (``system_cameras`` by default; tests
    pass a fake); ``dev_folder`` is the folder watched on Linux.
    """

    changed = Signal()

    def __init__(
        self,
        lister: Callable[[], Sequence[RawCamera]] | None = None,
        platform: str = sys.platform,
        dev_folder: Path = v4l2_cameras.DEV_FOLDER,
    ) -> None:
        super().__init__()
        self._lister = lister
        self._platform = platform
        self._dev_folder = dev_folder
        self._devices: tuple[CameraDevice, ...] = ()
        self._watcher: QObject | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self.refresh()

    def watch(self) -> None:
        """Follow cameras being plugged in and out (GUI thread): on Linux a watch on ``dev_folder`` (a
        slow poll where it cannot be watched), elsewhere Qt Multimedia's notices."""
        if self._platform.startswith("linux"):
            self._watch_dev_folder()
            return
        try:
            from PySide6.QtMultimedia import QMediaDevices

            devices = QMediaDevices(self)
            devices.videoInputsChanged.connect(self.refresh)
            self._watcher = devices
        except Exception:
            log.warning("cannot follow cameras being plugged in and out", exc_info=True)

    def _watch_dev_folder(self) -> None:
        watcher = QFileSystemWatcher([str(self._dev_folder)], self)
        self._watcher = watcher
        if watcher.directories():
            self._timer.setSingleShot(True)
            self._timer.setInterval(SETTLE_MS)
            watcher.directoryChanged.connect(self._timer.start)
        else:
            log.warning("cannot watch %s: the camera list is read again every %d s", self._dev_folder, POLL_MS // 1000)
            self._timer.setSingleShot(False)
            self._timer.start(POLL_MS)

    def watching(self) -> str:
        """How cameras plugged in and out are noticed: "folder" (Linux, the watch on ``dev_folder``), "poll"
        (Linux, the slow poll), "qt" (Qt Multimedia's notices) or "no" (not watched). GUI thread."""
        if isinstance(self._watcher, QFileSystemWatcher):
            return "folder" if self._watcher.directories() else "poll"
        return "qt" if self._watcher is not None else "no"

    def refresh(self) -> None:
        """Read the list again (GUI thread)."""
        raw = self._lister() if self._lister is not None else system_cameras(self._platform)
        devices = to_devices(raw, self._platform)
        if devices != self._devices:
            self._devices = devices
            self.changed.emit()

    def current(self) -> tuple[CameraDevice, ...]:
        """The cameras as last listed. Any thread."""
        return self._devices
