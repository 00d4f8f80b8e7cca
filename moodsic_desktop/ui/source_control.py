"""``SourceControl``: the source's lifecycle in the window. It owns the capture worker and its thread,
starts and stops them (the source row's buttons and list, File → Open…), and turns the worker's signals
into banners, preview pictures and pipeline-worker calls. It says whether a source is read
(``reading(bool)``; the panels that draw readings connect to it). The music never depends on it: stopping
or losing the source leaves the music playing.

Every method runs on the GUI thread except ``_wants_preview``, which the capture thread calls. The capture
worker's signals connect to methods of this QObject (it lives on the GUI thread), so they are queued there.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QWidget

from moodsic_desktop.ui.banner_area import BannerArea
from moodsic_desktop.ui.dialog_folders import DialogFolders
from moodsic_desktop.ui.preview import EMPTY_TEXT, ENDED_TEXT, PRIVACY_TEXT, UNREADABLE_TEXT, PreviewWidget
from moodsic_desktop.ui.settings import UserSettings
from moodsic_desktop.ui.source_bar import SOURCE_FILTER, SourceBar, is_photo
from moodsic_desktop.ui.workers import CaptureWorker, LatestSlot, PipelineWorker, TimedFrame, start_in_thread


class SourceControl(QObject):
    """Starts and stops reading a camera or a video file for ``window`` (the parent of the file dialog).

    ``frames``: the slot the capture worker fills and the pipeline worker reads. ``settings`` and
    ``pipeline_worker`` are asked each time (the window replaces its settings at each change, and its
    pipeline worker when one is restarted). ``banners`` and ``preview`` show what happens to the source;
    ``folders``: where the file dialog starts (default: the usual Videos folder, remembered for this run).
    ``started(spec)`` says which source is now read, once it opened or is waited for (a camera unplugged, a
    drive not there): the window saves it as the last source; a file that cannot be read is not resumed;
    ``reading(bool)`` whether pictures are read now: True when a source starts or its picture comes back,
    False when it stops or its picture is lost (a step drawn after that would be read from its last frames)."""

    started = Signal(str)
    reading = Signal(bool)

    def __init__(
        self,
        window: QWidget,
        source_bar: SourceBar,
        banners: BannerArea,
        preview: PreviewWidget,
        frames: LatestSlot[TimedFrame],
        settings: Callable[[], UserSettings],
        pipeline_worker: Callable[[], PipelineWorker],
        folders: DialogFolders | None = None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self.source_bar = source_bar
        self.banners = banners
        self.preview = preview
        self._frames = frames
        self._preview: LatestSlot[QImage] = LatestSlot()
        self._settings = settings
        self._pipeline_worker = pipeline_worker
        self.folders = folders or DialogFolders()
        self._capture: CaptureWorker | None = None
        self._capture_thread: QThread | None = None
        self._idle_text = EMPTY_TEXT  # what the preview says while nothing is read: why the last source stopped
        source_bar.open_button.clicked.connect(self.open_dialog)
        source_bar.start_button.clicked.connect(self._toggle_running)
        source_bar.source_combo.activated.connect(self._source_picked)

    @property
    def running(self) -> bool:
        """True while a source is read (or being opened, or tried again after it was lost)."""
        return self._capture is not None

    def _source_picked(self) -> None:
        spec = self.source_bar.current_spec()
        if spec is not None:
            self.start(spec)
        elif not self.open_dialog() and self._capture is not None:
            # the list's first line ("… open a video or a photo…") opens the file dialog; cancelled, the list
            # shows the source still read again, not a prompt over a running video
            self.source_bar.select(str(self._capture.spec))

    def _toggle_running(self) -> None:
        if self.running:
            self.stop()
        else:
            spec = self.source_bar.current_spec() or self._settings().last_source
            if spec is None:
                self.open_dialog()
            else:
                self.start(spec)

    def open_dialog(self) -> bool:
        """File → Open…, the source row's Open button and its list's first line: pick a video or a photo, and
        read it. False when the owner picked none."""
        path, _ = QFileDialog.getOpenFileName(
            self._window, "Open a video or a photo", self.folders.start("video"), SOURCE_FILTER
        )
        if not path:
            return False
        self.folders.remember("video", path)
        self.start(path)
        return True

    def start(self, spec: str | int) -> None:
        """Start reading a camera (its spec from the source row, or an index) or a video file (stopping the
        current source first)."""
        spec = str(spec)
        self.stop()
        self._idle_text = EMPTY_TEXT
        self.source_bar.select(spec)
        for key in ("source", "camera"):
            self.banners.hide_banner(key)
        self._pipeline_worker().new_source(self.source_bar.describe(spec))
        self._capture = CaptureWorker(
            spec,
            self._settings().loop_video or is_photo(spec),  # a photo is a still scene: it never ends
            self._frames,
            self._preview,
            want_preview=self._wants_preview,
            cameras=self.source_bar.cameras.current,
        )
        self._capture.opened.connect(self._source_opened)
        self._capture.preview_ready.connect(self._show_preview)
        self._capture.failed.connect(self._source_failed)
        self._capture.lost.connect(self._camera_lost)
        self._capture.recovered.connect(self._camera_recovered)
        self._capture.ended.connect(self._source_ended)
        self._capture.finished.connect(self._capture_finished)
        self._capture_thread = start_in_thread(self._capture, "moodsic-capture")
        self.source_bar.show_running(True)
        self.reading.emit(True)
        if not self._settings().privacy:
            self.preview.show_message("Opening the source…")

    def set_loop(self, loop: bool) -> None:
        """The owner turned "Loop video": the video read now follows it at once (a photo never ends)."""
        if self._capture is not None:
            self._capture.set_loop(loop or is_photo(str(self._capture.spec)))

    def _wants_preview(self) -> bool:
        """Capture thread: whether to make preview pictures (reads one attribute; touches no widget)."""
        return not self._settings().privacy

    def stop(self) -> None:
        """Stop reading frames (waits for the capture thread to end); the music carries on."""
        capture, thread = self._capture, self._capture_thread
        self._capture = self._capture_thread = None
        if capture is not None:
            capture.stop()
        if thread is not None:
            thread.quit()
            thread.wait()
        self._frames.clear()
        self._preview.clear()
        self._forget_picture()
        self.source_bar.show_running(False)
        if not self._settings().privacy:
            self.preview.show_message(self._idle_text)

    def show_privacy(self, hidden: bool) -> None:
        """The privacy switch: no picture is shown while ``hidden``; the one waiting is dropped either way."""
        self._preview.clear()
        self.preview.private = hidden
        if hidden:
            self.preview.show_message(PRIVACY_TEXT)
        elif not self.running:
            self.preview.show_message(self._idle_text)

    def _forget_picture(self) -> None:
        """No picture now: the session reads no one, the window shows no last reading."""
        self._pipeline_worker().picture_lost()
        self.reading.emit(False)

    def _show_preview(self) -> None:
        image = self._preview.take()
        if image is None or self._settings().privacy or not self.running:
            return
        self.preview.show_frame(image)

    def _capture_finished(self) -> None:
        sender = self.sender()
        if sender is not None and sender is self._capture:
            self.stop()

    def _source_opened(self) -> None:
        """The source opened: it is the one to resume at the next start (``started``)."""
        if self._capture is not None and self.sender() is self._capture:
            self.started.emit(str(self._capture.spec))

    def _source_failed(self, message: str) -> None:
        text = f"This video can't be read: {message}. The music plays on."
        self.banners.show_banner("source", text, "error")
        self._idle_text = UNREADABLE_TEXT  # said once the capture worker has finished (stop)

    def _camera_lost(self, message: str) -> None:
        """No picture for now (the capture worker tries again by itself); the music plays on."""
        text = f"{message} The music plays on, and the room is read again as soon as the picture is back."
        self.banners.show_banner("camera", text, "warning")
        self._source_opened()  # the owner's choice still: resumed at the next start, when it may be back
        self._forget_picture()
        if not self._settings().privacy:
            self.preview.show_message("No picture for now: trying again by itself…")

    def _camera_recovered(self) -> None:
        self.banners.hide_banner("camera")
        self.reading.emit(True)

    def _source_ended(self) -> None:
        text = "The video has ended. The music plays on for the last mood read."
        self.banners.show_banner("source", text, "info")
        self._idle_text = ENDED_TEXT  # said once the capture worker has finished (stop), not "No … yet"
