"""Which camera opens: the one the owner picked, found by its device id, never by a position in a list.

The system lists the cameras (an id and a description per camera: on Linux the V4L2 nodes themselves,
``perception/v4l2_cameras.py``; on Windows and macOS Qt Multimedia's ``QMediaDevices.videoInputs()``); the
capture opens them through OpenCV, which numbers them in its own back end's order. The two orders need not
agree (on Windows OpenCV may fall back to DirectShow, which lists cameras differently from Media
Foundation; on Linux a USB camera has two ``/dev/video`` nodes). So the owner's choice is stored as a spec
that holds the camera's id (``camera:<id>``), and each time the camera is opened (first start, and again
after it was unplugged) the id is looked up in the list the system gives *now* and turned into an OpenCV
target with an explicit back end (:func:`opencv_target`):

=========  =====================================  =================================================
platform   the id (who lists the cameras)         what OpenCV opens
=========  =====================================  =================================================
Linux      the V4L2 node, ``/dev/videoN``, as     that path, with ``CAP_V4L2`` (the path itself, so
           Qt 6 gave it (listed by                no numbering is involved)
           ``v4l2_cameras``: the nodes that
           capture video); here its
           ``/dev/v4l/by-id/…`` link when it
           has one (:func:`stable_id`)
Windows    Media Foundation's symbolic link       ``CAP_MSMF`` with the camera's position in Qt's
           (``\\\\?\\usb#vid_…``)                 list: OpenCV's MSMF back end indexes the video
                                                  capture sources ``MFEnumDeviceSources`` gives, the
                                                  list Qt's Windows back end reads
macOS      AVFoundation's ``uniqueID``            ``CAP_AVFOUNDATION`` with the position in Qt's
                                                  list (OpenCV indexes AVFoundation's video devices)
=========  =====================================  =================================================

OpenCV takes only an index on Windows and macOS, so there the mapping rests on both reading the system's
list in its order; it has not been tried on a Windows PC or a Mac (OpenCV's macOS back end asks AVFoundation
for its plain device list; should Qt's ask differently, a camera only one of them lists would shift the
positions). Linux opens the device itself.

A camera that is unplugged is simply absent from the list: opening it raises :class:`CameraNotFoundError`
(the capture's retry tries again later) and when it is plugged in again it is found by its id, wherever it
now sits in the list. Older settings that hold a bare index (``"0"``) still open that OpenCV index.

Pure logic (no Qt, no OpenCV); safe on any thread.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "CAMERA_PREFIX",
    "CameraDevice",
    "CameraNotFoundError",
    "OpenCvTarget",
    "camera_id",
    "camera_spec",
    "is_camera_spec",
    "opencv_target",
    "stable_id",
]

CAMERA_PREFIX = "camera:"
"""Specs of cameras chosen by id start with this; the rest is the system's device id (as text)."""

LINUX_BY_ID = Path("/dev/v4l/by-id")
"""udev's links named after each camera's USB vendor, model and serial: they survive unplugging and a new
``/dev/videoN`` number."""

Backend = Literal["v4l2", "msmf", "avfoundation", "any"]


class CameraNotFoundError(LookupError):
    """The chosen camera is not in the system's list of cameras now (unplugged, or in use by a driver
    that hides it); the message names it."""


@dataclass(frozen=True)
class CameraDevice:
    """A camera as the system lists it: ``device_id`` (the system's id as text, stable for that camera) and
    ``name`` (its description, for people)."""

    device_id: str
    name: str


@dataclass(frozen=True)
class OpenCvTarget:
    """What to hand ``cv2.VideoCapture``: ``target`` (an index or a device path) and the back end to
    use (``backend``; "any" lets OpenCV choose, for bare indices from older settings)."""

    target: int | str
    backend: Backend
    name: str


def camera_spec(device_id: str) -> str:
    """The spec stored for the camera with ``device_id`` (``camera:<id>``)."""
    return CAMERA_PREFIX + device_id


def camera_id(spec: str) -> str | None:
    """The device id in a ``camera:<id>`` spec, else None."""
    return spec[len(CAMERA_PREFIX) :] if spec.startswith(CAMERA_PREFIX) and len(spec) > len(CAMERA_PREFIX) else None


def is_camera_spec(spec: str | int) -> bool:
    """True for a camera spec: ``camera:<id>``, an int, or a string of digits (an OpenCV index)."""
    if isinstance(spec, int):
        return True
    return camera_id(spec) is not None or spec.strip().isdigit()


def stable_id(node: str, by_id: Path = LINUX_BY_ID) -> str:
    """Linux: the ``/dev/v4l/by-id`` link that points at the V4L2 node ``node`` (``/dev/video2``), which
    keeps its name when the camera is plugged in again and gets another number; ``node`` itself when no
    link points at it (built-in cameras without a serial, or ``by_id`` missing). Ids that are not paths
    are returned unchanged."""
    if not node.startswith("/"):
        return node
    try:
        links = sorted(by_id.iterdir())
    except OSError:
        return node
    target = os.path.realpath(node)
    for link in links:
        if link.name.endswith("-video-index0") and os.path.realpath(link) == target:
            return str(link)
    return node


def _same_device(listed: str, wanted: str, platform: str) -> bool:
    if listed == wanted:
        return True
    # Linux: an id stored as a by-id link matches the node it points at now (and the reverse).
    return platform.startswith("linux") and os.path.realpath(listed) == os.path.realpath(wanted)


def opencv_target(spec: str | int, devices: Sequence[CameraDevice], platform: str) -> OpenCvTarget:
    """The OpenCV target for a camera spec, looked up in ``devices`` (the system's list now, in the
    order) on ``platform`` (``sys.platform``). A bare index (int or digits) opens that OpenCV index with
    the default back end. Raises :class:`CameraNotFoundError` when the id is not listed, ``ValueError`` for
    a spec that is not a camera."""
    if isinstance(spec, int) or spec.strip().isdigit():
        index = int(spec)
        return OpenCvTarget(index, "any", f"camera {index}")
    wanted = camera_id(spec)
    if wanted is None:
        raise ValueError(f"not a camera: {spec!r}")
    for position, device in enumerate(devices):
        if not _same_device(device.device_id, wanted, platform):
            continue
        if platform.startswith("linux"):
            return OpenCvTarget(os.path.realpath(device.device_id), "v4l2", device.name)
        if platform == "win32":
            return OpenCvTarget(position, "msmf", device.name)
        if platform == "darwin":
            return OpenCvTarget(position, "avfoundation", device.name)
        return OpenCvTarget(position, "any", device.name)
    listed = ", ".join(device.name for device in devices) or "none"
    raise CameraNotFoundError(f"The chosen camera is not connected now (cameras found: {listed}); its id: {wanted}")
