"""The source row at the top of the window: the camera, video or photo to read, "Open video or photo…",
"Loop video" and Start/Stop. GUI thread.

A source is a spec: a camera chosen by its device id (``camera:<id>``, see ``perception/cameras.py``; a
string of digits from older settings is an OpenCV index), or a video or photo file's path (OpenCV reads
both). The camera list follows cameras being plugged in and out (``camera_list.CameraList``); with no camera
found, the list says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from moodsic_desktop.core.settings_schema import LOOP_VIDEO
from moodsic_desktop.perception.cameras import camera_spec, is_camera_spec
from moodsic_desktop.ui.camera_list import CameraList

log = logging.getLogger(__name__)

VIDEO_PATTERNS = "*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *.mpeg *.wmv *.flv"
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
PHOTO_PATTERNS = " ".join(f"*{suffix}" for suffix in PHOTO_SUFFIXES)
SOURCE_FILTER = (
    f"Videos and photos ({VIDEO_PATTERNS} {PHOTO_PATTERNS});;Videos ({VIDEO_PATTERNS});;"
    f"Photos ({PHOTO_PATTERNS});;All files (*)"
)
PROMPT = "Choose a camera or a video file…"
NO_CAMERA_PROMPT = "No camera found: open a video or a photo…"


def is_photo(spec: str) -> bool:
    """Whether the source ``spec`` is a photo file (by its name's suffix): read as a still scene, it never
    ends, whatever "Loop video" says."""
    return Path(spec).suffix.lower() in PHOTO_SUFFIXES


def file_label(path: str) -> str:
    """How the list names a file source: "Photo: x.jpg" or "Video: x.mp4"."""
    name = Path(path).name
    return f"Photo: {name}" if is_photo(path) else f"Video: {name}"


class SourceBar(QWidget):
    """The combo box of cameras and video files (item data: the spec, None for the prompt), the buttons and
    the loop switch. The window connects them. GUI thread. ``changed("loop_video", on)`` when the owner turns
    the loop switch (``core.settings_schema`` ``LOOP_VIDEO``)."""

    changed = Signal(str, object)

    def __init__(self, parent: QWidget | None = None, cameras: CameraList | None = None) -> None:
        super().__init__(parent)
        if cameras is None:
            cameras = CameraList()
            cameras.setParent(self)
            cameras.watch()
        self.cameras = cameras
        self.cameras.changed.connect(self._cameras_changed)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Camera or video:"))
        self.source_combo = QComboBox()
        self.source_combo.setMinimumWidth(240)
        self.source_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source_combo.setToolTip("The camera that watches the room, or a video file to try the program with")
        row.addWidget(self.source_combo, 1)
        self.open_button = QPushButton("Open video or photo…")
        self.open_button.setToolTip(
            "Read a video file or a photo instead of a camera (you can also drop one on the window)"
        )
        row.addWidget(self.open_button)
        self.loop_check = QCheckBox("Loop video")
        self.loop_check.setToolTip(LOOP_VIDEO.tooltip)
        self.loop_check.toggled.connect(lambda on: self.changed.emit(LOOP_VIDEO.name, on))
        row.addWidget(self.loop_check)
        self.start_button = QPushButton("Start")
        self.start_button.setMinimumWidth(90)
        self.start_button.setToolTip("Start or stop reading the room (the music carries on when stopped)")
        row.addWidget(self.start_button)

    def fill(self, last_source: str | None) -> None:
        """The prompt, the cameras Qt Multimedia lists, and ``last_source`` when it is a video file that exists
        or a camera (listed, or shown as not connected now)."""
        self.source_combo.clear()
        self.source_combo.addItem(PROMPT, None)
        cameras = self.cameras.current()
        for camera in cameras:
            self.source_combo.addItem(f"Camera: {camera.name}", camera_spec(camera.device_id))
        if not cameras:  # said where the owner looks for one
            self.source_combo.setItemText(0, NO_CAMERA_PROMPT)
            self.source_combo.setItemData(
                0, "No camera is connected, or none can be used.", Qt.ItemDataRole.ToolTipRole
            )
        if last_source and is_camera_spec(last_source):
            self.add_camera(last_source)
        elif last_source and Path(last_source).is_file():
            self.add_file(last_source)

    def _cameras_changed(self) -> None:
        """A camera was plugged in or out: list them again, keeping the current choice (quietly: no source is
        started or stopped by it)."""
        spec = self.current_spec()
        blocked = self.source_combo.blockSignals(True)
        try:
            self.fill(spec)
            self.select(spec or "")
        finally:
            self.source_combo.blockSignals(blocked)

    def add_camera(self, spec: str) -> int:
        """The combo index of the camera ``spec``, added as "not connected now" when it is not listed."""
        index = self.source_combo.findData(spec)
        if index < 0:
            label = f"Camera {spec}" if spec.isdigit() else "Camera (not connected now)"
            self.source_combo.addItem(label, spec)
            index = self.source_combo.count() - 1
        return index

    def describe(self, spec: str) -> str:
        """``spec`` in words for the report: "camera <name>" or the video file's path."""
        if not is_camera_spec(spec):
            return spec
        index = self.source_combo.findData(spec)
        return self.source_combo.itemText(index).replace("Camera: ", "camera ") if index >= 0 else "camera"

    def add_file(self, path: str) -> int:
        """The combo index of the video or photo file ``path``, added when it is not listed yet."""
        index = self.source_combo.findData(path)
        if index < 0:
            self.source_combo.addItem(file_label(path), path)
            index = self.source_combo.count() - 1
        return index

    def select(self, spec: str) -> None:
        """Show ``spec`` (a camera, or a video file path) as the current source."""
        if not spec:
            self.source_combo.setCurrentIndex(0)
        elif is_camera_spec(spec):
            self.source_combo.setCurrentIndex(self.add_camera(spec))
        else:
            self.source_combo.setCurrentIndex(self.add_file(spec))

    def current_spec(self) -> str | None:
        spec = self.source_combo.currentData()
        return None if spec is None else str(spec)

    def show_running(self, running: bool) -> None:
        self.start_button.setText("Stop" if running else "Start")
