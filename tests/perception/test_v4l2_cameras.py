"""Linux's camera list read from the V4L2 nodes (``perception/v4l2_cameras.py``), with ``/dev`` and the ioctl
faked: no camera is needed."""

from __future__ import annotations

import errno
import logging

import pytest

from moodsic_desktop.perception import v4l2_cameras
from moodsic_desktop.perception.v4l2_cameras import CAPABILITY, list_cameras, parse_capability, video_nodes

VIDEO_CAPTURE = 0x00000001
META_CAPTURE = 0x00800000
STREAMING = 0x04000000
DEVICE_CAPS = 0x80000000


def answer(card: bytes, device_caps: int, capabilities: int | None = None) -> bytes:
    """What a node answers to VIDIOC_QUERYCAP (``struct v4l2_capability``)."""
    if capabilities is None:
        capabilities = VIDEO_CAPTURE | META_CAPTURE | STREAMING | DEVICE_CAPS
    return CAPABILITY.pack(b"uvcvideo", card, b"usb-0000:00:14.0-1", 0x60800, capabilities, device_caps)


def fake_dev(tmp_path, names):
    for name in names:
        (tmp_path / name).touch()
    return tmp_path


def test_the_request_and_the_struct_are_the_kernels():
    # _IOR('V', 0, struct v4l2_capability): read direction (2) << 30 | size << 16 | type << 8 | number
    assert CAPABILITY.size == 104
    assert v4l2_cameras.VIDIOC_QUERYCAP == 0x80685600


def test_a_camera_is_listed_once_by_its_capture_node_and_named_by_its_card(tmp_path):
    dev = fake_dev(tmp_path, ["video0", "video1", "video10", "video2", "vbi0", "video", "videoX", "null"])
    answers = {
        f"{dev}/video0": answer(b"HD Webcam C615", VIDEO_CAPTURE | STREAMING),
        f"{dev}/video1": answer(b"HD Webcam C615", META_CAPTURE | STREAMING),  # the same camera's metadata
        f"{dev}/video2": answer("Caméra intégrée".encode(), VIDEO_CAPTURE | STREAMING),
        # an old driver that does not fill in device_caps: its capabilities are the node's
        f"{dev}/video10": answer(b"Old Capture Card\0junk", 0, capabilities=VIDEO_CAPTURE | STREAMING),
    }
    asked = []

    def query(node):
        asked.append(node)
        return answers[node]

    assert list_cameras(dev, query) == [
        (f"{dev}/video0", "HD Webcam C615"),
        (f"{dev}/video2", "Caméra intégrée"),
        (f"{dev}/video10", "Old Capture Card"),
    ]
    assert asked == [f"{dev}/video{n}" for n in (0, 1, 2, 10)]  # only video nodes, by number


def test_a_node_that_cannot_be_opened_or_queried_is_left_out_and_logged(tmp_path, caplog):
    dev = fake_dev(tmp_path, ["video0", "video1", "video2"])

    def query(node):
        if node.endswith("video0"):
            raise PermissionError(errno.EACCES, "Permission denied", node)
        if node.endswith("video1"):
            raise OSError(errno.ENOTTY, "Inappropriate ioctl for device", node)
        return answer(b"", VIDEO_CAPTURE)

    with caplog.at_level(logging.WARNING, logger=v4l2_cameras.__name__):
        assert list_cameras(dev, query) == [(f"{dev}/video2", "Camera")]  # no card text: a plain name
    messages = [record.getMessage() for record in caplog.records]
    assert any("video0" in m and "Permission denied" in m and "'video' group" in m for m in messages)
    assert any("video1" in m and "Inappropriate ioctl" in m for m in messages)


def test_the_real_query_on_a_file_that_is_no_device_is_refused_and_left_out(tmp_path):
    dev = fake_dev(tmp_path, ["video0"])
    with pytest.raises(OSError):  # ENOTTY: a regular file answers no V4L2 request
        v4l2_cameras.query_capability(str(dev / "video0"))
    assert list_cameras(dev) == []
    assert list_cameras(tmp_path / "no-such-folder") == []


def test_the_real_query_asks_the_node_once_and_closes_it(tmp_path, monkeypatch):
    import fcntl
    import os

    dev = fake_dev(tmp_path, ["video3"])
    calls = []

    def ioctl(fd, request, buffer, mutate):
        calls.append((request, len(buffer), mutate))
        buffer[:] = answer(b"USB Camera", VIDEO_CAPTURE | STREAMING)
        return 0

    closed = []
    real_close = os.close
    monkeypatch.setattr(fcntl, "ioctl", ioctl)
    monkeypatch.setattr(os, "close", lambda fd: (closed.append(fd), real_close(fd)))
    assert list_cameras(dev) == [(f"{dev}/video3", "USB Camera")]
    assert calls == [(0x80685600, 104, True)]
    assert len(closed) == 1


def test_the_answer_is_read_field_by_field():
    capability = parse_capability(answer(b"Integrated Camera: Integrated C", VIDEO_CAPTURE | STREAMING))
    assert capability.card == "Integrated Camera: Integrated C"
    assert capability.driver == "uvcvideo" and capability.bus_info == "usb-0000:00:14.0-1"
    assert capability.captures_video
    assert not parse_capability(answer(b"x", META_CAPTURE)).captures_video
    assert parse_capability(answer(b"\xff\xfeodd", VIDEO_CAPTURE)).card == "\ufffd\ufffdodd"


def test_video_nodes_sort_by_number(tmp_path):
    dev = fake_dev(tmp_path, ["video11", "video9", "video0"])
    assert video_nodes(dev) == [f"{dev}/video0", f"{dev}/video9", f"{dev}/video11"]
