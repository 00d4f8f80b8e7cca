"""The camera list in the source row follows cameras plugged in and out, and the capture opens the chosen one
by its id (fake device lists: no camera is needed)."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from types import SimpleNamespace
from typing import ClassVar

import cv2
import pytest

from moodsic_desktop.perception import sources, v4l2_cameras
from moodsic_desktop.perception.cameras import CameraDevice, camera_spec, opencv_target
from moodsic_desktop.perception.sources import SourceError
from moodsic_desktop.ui import camera_list
from moodsic_desktop.ui.camera_list import CameraList, to_devices
from moodsic_desktop.ui.source_bar import SourceBar
from moodsic_desktop.ui.workers import CaptureWorker, LatestSlot, start_in_thread

WEBCAM = "\\\\?\\usb#vid_046d&pid_0825&mi_00#7&1a2b&0&0000#{e5323777}\\global"
BUILTIN = "\\\\?\\usb#vid_0bda&pid_58f4&mi_00#6&3c4d&0&0000#{e5323777}\\global"


class FakeSystem:
    """What Qt would list: ``(id bytes, description)`` pairs, changed by the test."""

    def __init__(self, cameras):
        self.cameras = list(cameras)

    def __call__(self):
        return list(self.cameras)


class Recorder:
    """Stands in for ``cv2.VideoCapture``: records the target and back end, opens nothing."""

    calls: ClassVar[list[tuple[object, int]]] = []

    def __init__(self, target, backend):
        Recorder.calls.append((target, backend))

    def isOpened(self):
        return False

    def release(self):
        pass


def test_ids_become_text_and_names_are_kept():
    devices = to_devices([(WEBCAM.encode(), "Logitech HD Webcam"), ("0x1420000046d0825", "")], platform="win32")
    assert devices == (CameraDevice(WEBCAM, "Logitech HD Webcam"), CameraDevice("0x1420000046d0825", "Camera"))


def test_the_source_row_lists_cameras_by_id_and_keeps_the_choice_when_cameras_change(qtbot):
    system = FakeSystem([(BUILTIN.encode(), "Integrated Camera"), (WEBCAM.encode(), "Logitech HD Webcam")])
    cameras = CameraList(system, platform="win32")
    bar = SourceBar(cameras=cameras)
    qtbot.addWidget(bar)
    bar.fill(None)
    combo = bar.source_combo
    names = [combo.itemText(i) for i in range(1, combo.count())]
    assert names == ["Camera: Integrated Camera", "Camera: Logitech HD Webcam"]
    bar.select(camera_spec(WEBCAM))
    assert bar.current_spec() == camera_spec(WEBCAM)
    assert bar.describe(camera_spec(WEBCAM)) == "camera Logitech HD Webcam"

    system.cameras = [(BUILTIN.encode(), "Integrated Camera")]  # unplugged
    with qtbot.waitSignal(cameras.changed, timeout=1000):
        cameras.refresh()
    assert bar.current_spec() == camera_spec(WEBCAM)  # still the owner's choice, shown as not connected
    assert combo.currentText() == "Camera (not connected now)"

    system.cameras = [(WEBCAM.encode(), "Logitech HD Webcam"), (BUILTIN.encode(), "Integrated Camera")]  # back
    cameras.refresh()
    assert bar.current_spec() == camera_spec(WEBCAM) and combo.currentText() == "Camera: Logitech HD Webcam"
    assert combo.findText("Camera (not connected now)") < 0


def test_an_older_index_setting_is_still_shown(qtbot):
    bar = SourceBar(cameras=CameraList(FakeSystem([]), platform="win32"))
    qtbot.addWidget(bar)
    bar.fill("0")
    assert bar.current_spec() is None and bar.source_combo.findData("0") > 0


def test_the_capture_looks_the_camera_up_again_at_each_opening(qtbot, monkeypatch):
    monkeypatch.setattr(sources.cv2, "VideoCapture", Recorder)
    monkeypatch.setattr(sources, "sys", SimpleNamespace(platform="win32"))
    Recorder.calls = []
    listed = [CameraDevice(BUILTIN, "Integrated Camera"), CameraDevice(WEBCAM, "Logitech HD Webcam")]
    # a camera that cannot be opened may come back: the worker says the picture is lost and would wait to try
    # again; this ``wait`` answers "stopped meanwhile", so the worker ends after its first try
    worker = CaptureWorker(
        camera_spec(WEBCAM), False, LatestSlot(), LatestSlot(), cameras=lambda: listed, wait=lambda _seconds: True
    )
    events: list[str] = []
    worker.lost.connect(events.append)
    thread = start_in_thread(worker, "moodsic-capture")
    qtbot.waitUntil(lambda: bool(events), timeout=10_000)
    thread.wait()
    assert "Logitech HD Webcam" in events[0]
    listed.reverse()  # plugged in again elsewhere: it is first in the list now
    listed.pop()  # and the built-in camera is gone
    with pytest.raises(SourceError, match="Logitech HD Webcam"):
        worker._open()  # what the capture thread calls at each (re)opening
    assert Recorder.calls == [(1, cv2.CAP_MSMF), (0, cv2.CAP_MSMF)]


def capture_node(card: bytes) -> bytes:
    """A V4L2 node's answer to VIDIOC_QUERYCAP: a video capture node named ``card``."""
    return v4l2_cameras.CAPABILITY.pack(b"uvcvideo", card, b"usb-1", 0, 0x84A00001, 0x04200001)


def linux_cameras(dev, cards):
    """``CameraList`` on Linux reading the V4L2 nodes of the fake ``dev`` folder (``cards``: node → name)."""
    lister = functools.partial(v4l2_cameras.list_cameras, dev, lambda node: capture_node(cards[node]))
    return CameraList(lister, platform="linux", dev_folder=dev)


def test_linux_lists_the_v4l2_nodes_with_the_ids_qt_gave(tmp_path, monkeypatch):
    """The ids are the node paths (Qt 6's ids on Linux), so a camera chosen from Qt's list still opens."""
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "video0").touch()
    monkeypatch.setattr(camera_list, "stable_id", lambda node: node)  # no /dev/v4l/by-id link here
    cameras = linux_cameras(dev, {f"{dev}/video0": b"HD Webcam C615"})
    assert cameras.current() == (CameraDevice(f"{dev}/video0", "HD Webcam C615"),)
    saved = camera_spec(f"{dev}/video0")  # what a setting saved from Qt's list holds
    target = opencv_target(saved, cameras.current(), "linux")
    assert (target.target, target.backend, target.name) == (f"{dev}/video0", "v4l2", "HD Webcam C615")


def test_linux_notices_a_camera_plugged_in_and_out_by_watching_the_device_folder(tmp_path, qtbot, monkeypatch):
    monkeypatch.setattr(camera_list, "SETTLE_MS", 50)
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "video0").touch()
    cards = {f"{dev}/video0": b"Integrated Camera", f"{dev}/video2": b"USB Camera"}
    cameras = linux_cameras(dev, cards)
    cameras.watch()
    assert cameras.watching() == "folder"
    assert [device.name for device in cameras.current()] == ["Integrated Camera"]

    with qtbot.waitSignal(cameras.changed, timeout=10_000):
        (dev / "video2").touch()  # udev adds the node of a camera plugged in
    assert [device.name for device in cameras.current()] == ["Integrated Camera", "USB Camera"]

    with qtbot.waitSignal(cameras.changed, timeout=10_000):
        (dev / "video0").unlink()  # and removes one unplugged
    assert [device.name for device in cameras.current()] == ["USB Camera"]


def test_linux_reads_the_list_again_slowly_where_the_folder_cannot_be_watched(tmp_path, qtbot, monkeypatch):
    monkeypatch.setattr(camera_list, "POLL_MS", 50)
    missing = tmp_path / "not-there"
    listed: list[tuple[str, str]] = []
    cameras = CameraList(lambda: list(listed), platform="linux", dev_folder=missing)
    cameras.watch()
    assert cameras.watching() == "poll"
    with qtbot.waitSignal(cameras.changed, timeout=10_000):
        listed.append(("/dev/video4", "USB Camera"))  # a camera appears; only the poll can see it
    assert [device.name for device in cameras.current()] == ["USB Camera"]


def test_linux_lists_and_watches_cameras_without_loading_qt_multimedia():
    """The Linux bundle carries no Qt Multimedia: the default list and its watch must not need it."""
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from moodsic_desktop.ui.camera_list import CameraList\n"
        "cameras = CameraList(); cameras.watch(); cameras.refresh()\n"
        "print(cameras.watching(), 'PySide6.QtMultimedia' in sys.modules)\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    if sys.platform.startswith("linux"):
        assert result.stdout.split() == ["folder", "False"]
    else:
        assert result.stdout.split() == ["qt", "True"]
