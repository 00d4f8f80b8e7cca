"""Linux: the cameras listed from the V4L2 device nodes themselves, without Qt Multimedia (and its FFmpeg).

Each ``/dev/videoN`` is opened read-only and asked ``VIDIOC_QUERYCAP`` (the kernel's ``struct
v4l2_capability``, 104 bytes); the nodes whose own capabilities (``device_caps``) include video capture
are the cameras, named by the driver's ``card`` text. A USB camera has a second node for its metadata
(``device_caps``: metadata capture only), which is left out, so each camera is listed once, as Qt
Multimedia's own V4L2 listing does. The ids are the node paths, exactly what Qt's list gives on Linux:
``perception.cameras.stable_id`` turns them into their ``/dev/v4l/by-id`` links, so a choice saved from
Qt's list opens the same camera.

Only ``open``, one ioctl and ``close`` per node: no frame is read, the camera's light stays off. A node
that cannot be opened (no permission: the user is not in the ``video`` group; busy) or does not answer
the query (not a V4L2 device) is left out, and the log says which and why. No Qt, no OpenCV; any thread.
"""

from __future__ import annotations

import logging
import os
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CAPABILITY",
    "DEV_FOLDER",
    "VIDIOC_QUERYCAP",
    "Capability",
    "list_cameras",
    "parse_capability",
    "query_capability",
    "video_nodes",
]

log = logging.getLogger(__name__)

DEV_FOLDER = Path("/dev")
"""Where the kernel (devtmpfs, udev) puts the ``videoN`` nodes."""

CAPABILITY = struct.Struct("=16s32s32sIII12x")
"""``struct v4l2_capability``: driver, card, bus_info (NUL-padded text), version, capabilities,
device_caps, reserved[3] (``linux/videodev2.h``)."""

VIDIOC_QUERYCAP = (2 << 30) | (CAPABILITY.size << 16) | (ord("V") << 8) | 0
"""``_IOR('V', 0, struct v4l2_capability)`` = 0x80685600."""

CAP_VIDEO_CAPTURE = 0x00000001
CAP_DEVICE_CAPS = 0x80000000
"""``capabilities`` has this bit when ``device_caps`` is filled in (kernels since 3.3)."""

NODE_NAME = re.compile(r"video(\d+)")


@dataclass(frozen=True)
class Capability:
    """What one node answered: ``card`` (the camera's name for people), ``driver``, ``bus_info``, and
    the capability bits of the whole device (``capabilities``) and of this node (``device_caps``)."""

    driver: str
    card: str
    bus_info: str
    capabilities: int
    device_caps: int

    @property
    def node_caps(self) -> int:
        """This node's capabilities: ``device_caps`` where the driver fills it in, else the device's."""
        return self.device_caps if self.capabilities & CAP_DEVICE_CAPS else self.capabilities

    @property
    def captures_video(self) -> bool:
        """True when this node delivers video frames (a camera), not metadata or codec work."""
        return bool(self.node_caps & CAP_VIDEO_CAPTURE)


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", errors="replace").strip()


def parse_capability(raw: bytes) -> Capability:
    """The ``struct v4l2_capability`` in ``raw`` (``CAPABILITY.size`` bytes)."""
    driver, card, bus_info, _version, capabilities, device_caps = CAPABILITY.unpack(raw)
    return Capability(_text(driver), _text(card), _text(bus_info), capabilities, device_caps)


def query_capability(node: str) -> bytes:
    """Open ``node`` read-only (never blocking), ask it ``VIDIOC_QUERYCAP`` and close it; the answer's
    bytes. Raises ``OSError`` when the node cannot be opened or is not a V4L2 device (``ENOTTY``)."""
    import fcntl  # POSIX only; this module is called on Linux alone, but imported everywhere

    fd = os.open(node, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        answer = bytearray(CAPABILITY.size)
        fcntl.ioctl(fd, VIDIOC_QUERYCAP, answer, True)
        return bytes(answer)
    finally:
        os.close(fd)


def video_nodes(dev: Path = DEV_FOLDER) -> list[str]:
    """The ``videoN`` paths in ``dev``, by number (``video2`` before ``video10``); empty when ``dev``
    cannot be read."""
    try:
        names = os.listdir(dev)
    except OSError:
        return []
    numbered = [(int(found.group(1)), name) for name in names if (found := NODE_NAME.fullmatch(name))]
    return [str(dev / name) for _, name in sorted(numbered)]


def list_cameras(dev: Path = DEV_FOLDER, query: Callable[[str], bytes] = query_capability) -> list[tuple[str, str]]:
    """``(node path, name)`` of every camera in ``dev``, by node number. ``query`` answers
    ``VIDIOC_QUERYCAP`` for a node (tests pass a fake); a node it cannot answer for is left out and
    logged."""
    cameras = []
    for node in video_nodes(dev):
        try:
            capability = parse_capability(query(node))
        except OSError as error:
            hint = " (the user may need to be in the 'video' group)" if isinstance(error, PermissionError) else ""
            log.warning("camera list: %s left out: %s%s", node, error.strerror or error, hint)
            continue
        if capability.captures_video:
            cameras.append((node, capability.card or "Camera"))
    return cameras
