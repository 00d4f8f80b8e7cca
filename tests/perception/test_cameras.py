"""The camera the owner picked is the camera that opens: looked up by its id in the list of now, per back end."""

from __future__ import annotations

import os
from typing import ClassVar

import cv2
import pytest

from moodsic_desktop.perception import sources
from moodsic_desktop.perception.cameras import (
    CameraDevice,
    CameraNotFoundError,
    OpenCvTarget,
    camera_id,
    camera_spec,
    is_camera_spec,
    opencv_target,
    stable_id,
)
from moodsic_desktop.perception.sources import SourceError, open_source

WEBCAM_WIN = "\\\\?\\usb#vid_046d&pid_0825&mi_00#7&1a2b&0&0000#{e5323777-f976-4f5b-9b55-b94699c46e44}\\global"
BUILTIN_WIN = "\\\\?\\usb#vid_0bda&pid_58f4&mi_00#6&3c4d&0&0000#{e5323777-f976-4f5b-9b55-b94699c46e44}\\global"


def test_specs_hold_the_device_id():
    spec = camera_spec(WEBCAM_WIN)
    assert spec.startswith("camera:") and camera_id(spec) == WEBCAM_WIN
    assert is_camera_spec(spec) and is_camera_spec("0") and is_camera_spec(2)
    assert not is_camera_spec("/videos/shop.mp4") and not is_camera_spec("camera:")
    assert camera_id("/videos/camera:1.mp4") is None


def test_windows_opens_media_foundation_at_the_position_qt_lists_now():
    devices = [CameraDevice(BUILTIN_WIN, "Integrated Camera"), CameraDevice(WEBCAM_WIN, "Logitech HD Webcam")]
    target = opencv_target(camera_spec(WEBCAM_WIN), devices, "win32")
    assert target == OpenCvTarget(1, "msmf", "Logitech HD Webcam")  # never DirectShow, whose order differs


def test_windows_camera_unplugged_and_plugged_in_again_is_found_by_its_id():
    spec = camera_spec(WEBCAM_WIN)
    before = [CameraDevice(BUILTIN_WIN, "Integrated Camera"), CameraDevice(WEBCAM_WIN, "Logitech HD Webcam")]
    assert opencv_target(spec, before, "win32").target == 1
    unplugged = [CameraDevice(BUILTIN_WIN, "Integrated Camera")]
    with pytest.raises(CameraNotFoundError, match=r"not connected now \(cameras found: Integrated Camera\)"):
        opencv_target(spec, unplugged, "win32")
    # plugged into another port after a second camera arrived: the system lists it first now
    again = [
        CameraDevice(WEBCAM_WIN, "Logitech HD Webcam"),
        CameraDevice("\\\\?\\usb#vid_1111#other", "Other"),
        CameraDevice(BUILTIN_WIN, "Integrated Camera"),
    ]
    assert opencv_target(spec, again, "win32") == OpenCvTarget(0, "msmf", "Logitech HD Webcam")


def test_macos_opens_avfoundation_by_position_of_the_unique_id():
    devices = [CameraDevice("0x8020000005ac8514", "FaceTime HD Camera"), CameraDevice("0x1420000046d0825", "C920")]
    assert opencv_target(camera_spec("0x1420000046d0825"), devices, "darwin") == OpenCvTarget(1, "avfoundation", "C920")


def test_linux_opens_the_device_node_itself(tmp_path):
    node = tmp_path / "video2"
    node.touch()
    devices = [CameraDevice(str(tmp_path / "video0"), "Integrated"), CameraDevice(str(node), "USB camera")]
    target = opencv_target(camera_spec(str(node)), devices, "linux")
    assert target == OpenCvTarget(str(node), "v4l2", "USB camera")


def test_linux_camera_plugged_in_again_under_another_node_is_found_by_its_by_id_link(tmp_path):
    dev, by_id = tmp_path / "dev", tmp_path / "by-id"
    dev.mkdir()
    by_id.mkdir()
    for name in ("video0", "video1", "video2", "video3"):
        (dev / name).touch()
    link = by_id / "usb-046d_HD_Pro_Webcam_C920_ABC123-video-index0"
    (by_id / "usb-046d_HD_Pro_Webcam_C920_ABC123-video-index1").symlink_to(dev / "video3")  # metadata node
    link.symlink_to(dev / "video2")
    listed_id = stable_id(str(dev / "video2"), by_id)
    assert listed_id == str(link)
    assert stable_id(str(dev / "video0"), by_id) == str(dev / "video0")  # no link: the node itself
    spec = camera_spec(listed_id)

    # unplugged, then plugged in again: the kernel gives it /dev/video0 this time
    link.unlink()
    link.symlink_to(dev / "video0")
    devices = [CameraDevice(stable_id(str(dev / "video0"), by_id), "HD Pro Webcam C920")]
    target = opencv_target(spec, devices, "linux")
    assert target.target == os.path.realpath(dev / "video0") and target.backend == "v4l2"


def test_a_bare_index_from_older_settings_opens_that_opencv_index():
    assert opencv_target("1", [], "win32") == OpenCvTarget(1, "any", "camera 1")
    with pytest.raises(ValueError, match="not a camera"):
        opencv_target("/videos/shop.mp4", [], "linux")


class _Recorder:
    """Stands in for ``cv2.VideoCapture``: records what it was asked to open, opens nothing."""

    calls: ClassVar[list[tuple[object, int]]] = []

    def __init__(self, target, backend):
        _Recorder.calls.append((target, backend))

    def isOpened(self):
        return False

    def release(self):
        pass


def test_open_source_opens_the_chosen_camera_with_its_back_end(monkeypatch):
    monkeypatch.setattr(sources.cv2, "VideoCapture", _Recorder)
    _Recorder.calls = []
    devices = [CameraDevice(BUILTIN_WIN, "Integrated Camera"), CameraDevice(WEBCAM_WIN, "Logitech HD Webcam")]
    with pytest.raises(SourceError, match="cannot open Logitech HD Webcam"):
        open_source(camera_spec(WEBCAM_WIN), cameras=lambda: devices, platform="win32")
    assert _Recorder.calls == [(1, cv2.CAP_MSMF)]


def test_open_source_says_plainly_when_the_chosen_camera_is_not_connected(monkeypatch):
    monkeypatch.setattr(sources.cv2, "VideoCapture", _Recorder)
    _Recorder.calls = []
    with pytest.raises(SourceError, match="The chosen camera is not connected now"):
        open_source(camera_spec(WEBCAM_WIN), cameras=lambda: [], platform="win32")
    assert _Recorder.calls == []  # nothing else was opened in its place
