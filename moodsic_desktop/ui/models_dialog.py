"""*Settings → Mood readers…*: which readers (experts) read the mood, in plain words, and one click to
install, import or remove a model.

Each row is one reader: the face readers (EmoNet, FER-2013 in the box, the built-in face geometry, any
imported face model) and the scene readers (installed scene models, the built-in image statistics), with
its state (in use, installed, not installed, downloaded but not converted, broken and why), what it needs
and its licence. The rows come from :func:`reader_rows`, a plain function of ``model_store.scan_models``
and the names of the window's current experts
(``reader_rows.py``).

**Install** downloads what ``moodsic models fetch`` knows (:data:`moodsic_desktop.perception.model_download.SOURCES`)
with :func:`moodsic_desktop.perception.model_download.download` on a worker QThread (progress, Cancel, resume of a
partial file, SHA-256 check), after an explicit "I accept" for a non-commercial licence. A download that is
a ready ONNX model (``Source.register_as``) is registered in ``models/manifest.json``; EmoNet's ``.pth``
still needs PyTorch to become an ONNX model, and the dialog says so rather than pretend. **Import a file…**
copies a Moodsic ONNX file into ``models/`` and registers it; **Remove** deletes a registered model after a
confirmation naming its files (the model in the box cannot be removed). New readers are used from the next
start: the experts are not swapped while the music plays.

Test seam: ``catalogue`` (the sources offered for Install; default ``SOURCES``' EmoNet entry) and
``models_folder`` (default ``models/``, which ``MOODSIC_HOME`` moves). Every method runs on the GUI thread;
only :class:`DownloadWorker.run` runs on its own thread, and nothing here opens a connection unless the user
presses Install (``model_download`` is imported when the dialog opens, never at start).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QThread, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import Shiboken

from moodsic_desktop.paths import models_dir
from moodsic_desktop.perception.model_store import (
    META_PREFIX,
    ManifestError,
    OnnxFileError,
    make_entry,
    read_onnx_metadata,
    register_model,
    scan_models,
    unregister_model,
)
from moodsic_desktop.perception.onnx_runtime import ModelTerms
from moodsic_desktop.session.assembly import BUNDLED_FACE_MODEL
from moodsic_desktop.ui.dialog_folders import DialogFolders
from moodsic_desktop.ui.reader_rows import ReaderRow, reader_rows
from moodsic_desktop.ui.workers import ThreadWorker, start_in_thread

__all__ = ["DownloadWorker", "LicenceDialog", "ModelsDialog", "ReaderRow", "default_catalogue", "reader_rows"]

NEXT_START = "Moodsic uses it from the next start (close the program and open it again)."
SINGLE_FILE_KINDS = ("emonet", "fer2013")


def default_catalogue() -> dict[str, Any]:
    """What Install offers in the program: EmoNet-8 (the download ``moodsic models fetch emonet-8`` makes).
    The scene backbones are left to the command line: they are only a start for a training run."""
    from moodsic_desktop.perception.model_download import SOURCES  # plain data; no connection is opened

    return {"emonet-8": SOURCES["emonet-8"]}


# ---------------------------------------------------------------------------------------------- worker
class DownloadWorker(ThreadWorker):
    """Downloads the files of one source into ``folder`` (an absolute path) on its own QThread.

    Signals: ``progress(done_bytes, total_bytes)`` (total -1 when unknown; Python ints, any size);
    ``succeeded(paths)`` with the downloaded files; ``failed(kind, message)`` with kind "offline",
    "checksum", "interrupted" (cut off or stalled: the part is kept), "wrong file" (a web page, a file cut
    short: removed), "cancelled" or "error"; ``finished()`` last, always. Construct on the GUI thread and start
    with ``start_in_thread``; ``run`` runs on the worker thread; ``stop`` from any thread (the download stops
    after the current chunk, keeping the partial file for a resume)."""

    progress = Signal(object, object)  # Python ints: a Qt int has 32 bits, a model file may pass 2 GiB
    succeeded = Signal(list)
    failed = Signal(str, str)

    def __init__(self, source: Any, folder: Path, timeout_s: float = 30.0) -> None:
        super().__init__()
        self.source = source
        self.folder = Path(folder)
        self.timeout_s = timeout_s
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        from moodsic_desktop.perception import model_download as md

        try:
            paths = []
            for url, name, sha256 in self.source.files:
                dest = self.folder / name
                # A whole earlier download is kept (a damaged one is downloaded again); a .part is resumed.
                if not dest.exists() or md.download_problem(dest, sha256) is not None:
                    md.download(
                        url, dest, sha256=sha256, headers=md.request_headers(self.source.gated),
                        timeout=self.timeout_s, cancelled=self._stop.is_set,
                        on_progress=lambda done, total: self.progress.emit(done, -1 if total is None else total),
                    )  # fmt: skip
                paths.append(str(dest))
            self.succeeded.emit(paths)
        except md.DownloadCancelledError as error:
            self.failed.emit("cancelled", str(error))
        except md.OfflineError as error:
            self.failed.emit("offline", str(error))
        except md.ChecksumError as error:
            self.failed.emit("checksum", str(error))
        except md.IncompleteDownloadError as error:
            self.failed.emit("interrupted", str(error))
        except md.WrongFileError as error:
            self.failed.emit("wrong file", str(error))
        except (md.FetchError, OSError) as error:
            self.failed.emit("error", str(error))
        finally:
            self.finished.emit()


# ---------------------------------------------------------------------------------------------- licence
class LicenceDialog(QDialog):
    """Shows a licence; the "I accept" button works only once the box "I have read …" is ticked. GUI
    thread; open it with ``open()`` (it does not block) and listen to ``accepted``/``rejected``."""

    def __init__(self, name: str, licence: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Licence of {name}")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{name} may only be used under this licence:"))
        text = QTextBrowser()
        text.setOpenExternalLinks(False)
        text.setPlainText(licence)
        layout.addWidget(text)
        self.agree = QCheckBox("I have read the licence and accept it")
        layout.addWidget(self.agree)
        buttons = QDialogButtonBox()
        self.accept_button = buttons.addButton("I accept", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.accept_button.setEnabled(False)
        self.agree.toggled.connect(self.accept_button.setEnabled)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


# ---------------------------------------------------------------------------------------------- dialog
class ModelsDialog(QDialog):
    """The *Mood readers* dialog (see the module docstring). GUI thread.

    ``face_in_use``/``scene_in_use``: the ``name`` of the window's current experts. ``catalogue``: what
    Install offers (key → ``model_download.Source``; default :func:`default_catalogue`). ``models_folder``:
    where models go (default ``models/``). ``message`` holds the last outcome in plain words (also shown)."""

    changed = Signal()  # a model was installed, imported or removed (used from the next start)

    def __init__(
        self,
        face_in_use: str | None = None,
        scene_in_use: str | None = None,
        *,
        catalogue: Mapping[str, Any] | None = None,
        models_folder: Path | None = None,
        parent: QWidget | None = None,
        folders: DialogFolders | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Mood readers")
        self.resize(760, 560)
        self.face_in_use, self.scene_in_use = face_in_use, scene_in_use
        self.catalogue = dict(catalogue) if catalogue is not None else default_catalogue()
        self.folder = Path(models_folder) if models_folder is not None else models_dir()
        self.folders = folders or DialogFolders()  # where "Import…" starts
        self.rows: list[ReaderRow] = []
        self.row_buttons: dict[str, dict[str, QPushButton]] = {}
        self._frames: list[QFrame] = []
        self.licence_dialog: LicenceDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self._worker: DownloadWorker | None = None
        self._thread: QThread | None = None
        self._installing: str | None = None
        self._close_when_done = False

        layout = QVBoxLayout(self)
        intro = QLabel(
            "The readers that watch faces and the room. Better models read the mood more surely; "
            f"they live in the models folder:\n{self.folder}"  # the path on a line of its own, not cut at a "/"
        )
        intro.setWordWrap(True)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(intro)
        self._list = QWidget()
        self._grid = QGridLayout(self._list)
        scroll = QScrollArea()
        scroll.setWidget(self._list)
        scroll.setWidgetResizable(True)
        layout.addWidget(scroll, 1)
        progress_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_download)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        layout.addLayout(progress_row)
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message_label)
        bottom = QHBoxLayout()
        self.import_button = QPushButton("Import a file…")
        self.import_button.setToolTip("Add a Moodsic model file (.onnx) you already have")
        self.import_button.clicked.connect(self._pick_file)
        bottom.addWidget(self.import_button)
        bottom.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        bottom.addWidget(close)
        layout.addLayout(bottom)
        self.refresh()

    # ------------------------------------------------------------------------------------------ rows
    @property
    def message(self) -> str:
        return self.message_label.text()

    def _say(self, text: str) -> None:
        self.message_label.setText(text)

    def row(self, title_start: str) -> ReaderRow:
        """The row whose title starts with ``title_start`` (for tests and the window)."""
        return next(r for r in self.rows if r.title.startswith(title_start))

    def refresh(self) -> None:
        """Scan the models folder (sizes and labels; the checksums are checked at start) and rebuild the rows."""
        scan = scan_models(self.folder, verify_checksums=False)
        self.rows = reader_rows(scan, self.face_in_use, self.scene_in_use, self.catalogue)
        for frame in self._frames:
            # Hidden, not deleted: a button of it may be emitting the click that led here, and deleting rows
            # (even with deleteLater) crashed PySide in the tests. The few hidden rows go with the dialog.
            self._grid.removeWidget(frame)
            frame.hide()
        self._frames = []
        self.row_buttons = {}
        busy = self._worker is not None
        for index, row in enumerate(self.rows):
            frame = QFrame(self._list)
            frame.setFrameShape(QFrame.Shape.StyledPanel)
            box = QGridLayout(frame)
            title = QLabel(f"<b>{row.title}</b> — {row.role} reader — <i>{row.state}</i>")
            box.addWidget(title, 0, 0)
            detail = QLabel(f"{row.detail}<br>Licence: {row.licence}")
            detail.setWordWrap(True)
            detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            detail.setToolTip(row.technical)  # the tools and commands, for whoever sets the computer up
            box.addWidget(detail, 1, 0, 1, 2)
            button_box = QWidget(frame)  # a widget with a parent: Qt, not Python, owns the row's buttons
            buttons = QHBoxLayout(button_box)
            buttons.setContentsMargins(0, 0, 0, 0)
            self.row_buttons[row.title] = {}
            if row.install is not None and row.state == "not installed":  # broken: Remove first, then Install
                install = QPushButton("Install", button_box)
                install.setEnabled(not busy)
                install.clicked.connect(lambda _=False, key=row.install: self.install(key))
                buttons.addWidget(install)
                self.row_buttons[row.title]["install"] = install
            if row.entry is not None:
                remove = QPushButton("Remove", button_box)
                remove.setEnabled(not busy)
                remove.clicked.connect(lambda _=False, name=row.entry: self.remove(name))
                buttons.addWidget(remove)
                self.row_buttons[row.title]["remove"] = remove
            box.addWidget(button_box, 0, 1, Qt.AlignmentFlag.AlignRight)
            self._grid.addWidget(frame, index, 0)
            self._frames.append(frame)
        self._grid.setRowStretch(len(self.rows), 1)

    # ------------------------------------------------------------------------------------------ install
    def install(self, key: str) -> None:
        """Install the catalogue entry ``key``: the licence first when it must be accepted, then the download."""
        source = self.catalogue[key]
        if not source.must_accept:
            self._start_download(key)
            return
        self.licence_dialog = LicenceDialog(key, source.licence, self)
        self.licence_dialog.accepted.connect(lambda: self._start_download(key))
        self.licence_dialog.rejected.connect(lambda: self._say(f"Licence not accepted: {key} was not downloaded."))
        self.licence_dialog.open()

    def _start_download(self, key: str) -> None:
        if self._worker is not None:
            return
        source = self.catalogue[key]
        self._installing = key
        self._worker = DownloadWorker(source, self.folder / source.folder)
        self._worker.progress.connect(self._show_progress)
        self._worker.succeeded.connect(self._downloaded)
        self._worker.failed.connect(self._download_failed)
        self._worker.finished.connect(self._download_finished)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self._say(f"Downloading {key}…")
        self.refresh()  # disables the other buttons while it runs
        self._thread = start_in_thread(self._worker, "moodsic-model-download")

    def downloading(self) -> bool:
        return self._worker is not None

    def cancel_download(self) -> None:
        """Stop the running download after its current chunk; the part already downloaded is kept."""
        if self._worker is not None:
            self._worker.stop()

    def _show_progress(self, done: int, total: int) -> None:
        if total > 0:  # QProgressBar counts in int32: show kilobytes
            self.progress.setRange(0, max(1, total // 1024))
            self.progress.setValue(done // 1024)
            self.progress.setFormat(f"{done / 1e6:.1f} of {total / 1e6:.1f} MB")
        else:
            self.progress.setFormat(f"{done / 1e6:.1f} MB")

    def _downloaded(self, paths: list[str]) -> None:
        key = self._installing or "?"
        source = self.catalogue[key]
        if source.register_as is None:
            self._say(
                f"Downloaded {key} to {paths[0]}. It is not ready yet: it has to be converted into a model "
                "Moodsic can run, on a computer set up for it (point at its row for how). "
                "Until then Moodsic keeps its current readers."
            )
            return
        try:
            self._register(key, source.register_as, Path(paths[0]))
        except (OnnxFileError, ManifestError, OSError, ValueError) as error:
            self._say(f"{key} was downloaded but cannot be used: {error}")
            return
        self._say(f"Installed {key}. {NEXT_START}")
        self.changed.emit()

    def _register(self, name: str, kind: str, path: Path) -> None:
        meta = read_onnx_metadata(path)
        if meta.get(META_PREFIX + "kind") != kind:
            raise ValueError(f"{path.name} is not a {kind} model")
        terms = ModelTerms.from_metadata(meta)
        extra = {"licence": terms.licence, "commercial_use": terms.commercial_use}
        register_model(make_entry(name, kind, {"model": path}, self.folder, **extra), self.folder)

    def _download_failed(self, kind: str, message: str) -> None:
        key = self._installing or "?"
        source = self.catalogue[key]
        folder = self.folder / source.folder
        if kind == "offline":
            files = "; ".join(f"{url} saved as {folder / name}" for url, name, _ in source.files)
            self._say(
                f"Could not connect to the internet ({message}). To install {key} by hand, download on a "
                f"computer with internet: {files}. Then open this window again and press Install."
            )
        elif kind == "checksum":
            self._say(f"The download of {key} arrived damaged (its checksum did not match), so it was deleted. "
                      "Press Install to try again.")  # fmt: skip
        elif kind == "interrupted":
            self._say(f"The download of {key} was cut off or stalled. The part already downloaded is kept: press "
                      f"Install to carry on from there. ({message})")  # fmt: skip
        elif kind == "wrong file":
            self._say(f"The server sent something that is not the {key} model file, so it was deleted. Press "
                      f"Install to try again later. ({message})")  # fmt: skip
        elif kind == "cancelled":
            self._say(f"Download of {key} stopped. The part already downloaded is kept: Install carries on from there.")
        else:
            self._say(f"{key} could not be downloaded: {message}")

    def _download_finished(self) -> None:
        thread, worker, self._thread, self._worker = self._thread, self._worker, None, None
        if thread is not None:  # the worker's run has returned: the thread is only leaving its event loop
            thread.quit()
            thread.wait()
        if worker is not None:
            # Delete the worker now, on this thread: left to Python's garbage collector (an exception's
            # traceback can hold it in a cycle) it could be destroyed on whichever thread collects next.
            Shiboken.delete(worker)
        self._installing = None
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.refresh()
        if self._close_when_done:
            super().reject()

    def reject(self) -> None:
        """Close; a running download is stopped first (the dialog closes when its thread has ended)."""
        if self._worker is not None:
            self._close_when_done = True
            self._worker.stop()
            return
        super().reject()

    # ------------------------------------------------------------------------------------------ import
    def _pick_file(self) -> None:
        start = self.folders.start("model")
        path, _ = QFileDialog.getOpenFileName(self, "Import a mood model", start, "ONNX models (*.onnx)")
        if path:
            self.folders.remember("model", path)
            self.import_file(Path(path))

    def import_file(self, path: Path) -> bool:
        """Copy a Moodsic ONNX face model into the models folder and register it; True when done."""
        try:
            meta = read_onnx_metadata(path)
        except (OnnxFileError, OSError) as error:
            self._say(f"{path.name} is not a model file Moodsic can read ({error}).")
            return False
        kind = meta.get(META_PREFIX + "kind")
        if kind in ("scene-backbone", "scene-head"):
            self._say(
                f"{path.name} is half of a scene model (they come as two files, a backbone and a head). Put both "
                f"into {self.folder} and run `moodsic models verify --register`."
            )
            return False
        if kind not in SINGLE_FILE_KINDS:
            self._say(
                f"{path.name} was not made for Moodsic (it carries no Moodsic labels). Models are prepared "
                "with `moodsic models export` or `moodsic models import` (README, “Models”)."
            )
            return False
        name = meta.get(META_PREFIX + "name") or path.stem
        dest = self.folder / f"{name}.onnx"
        if name == BUNDLED_FACE_MODEL:
            self._say(f"{path.name} is the model already in the box; nothing to import.")
            return False
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if dest.resolve() != path.resolve():
                shutil.copyfile(path, dest)
            self._register(name, kind, dest)
        except (OnnxFileError, ManifestError, OSError, ValueError) as error:
            self._say(f"{path.name} could not be imported: {error}")
            return False
        self._say(f"Imported {name} into {dest}. {NEXT_START}")
        self.refresh()
        self.changed.emit()
        return True

    # ------------------------------------------------------------------------------------------ remove
    def remove(self, name: str) -> None:
        """Ask (naming the files), then remove the model ``name``; answer through ``confirm_box``."""
        status = scan_models(self.folder, verify_checksums=False).find(name)
        files = list(status.files.values()) if status else []
        inside = [f for f in files if self._inside(f)]
        outside = [f for f in files if not self._inside(f)]
        text = f"Remove {name}?"
        if inside:
            text += " These files will be deleted: " + ", ".join(str(f) for f in inside) + "."
        if outside:
            text += " These files lie outside the models folder and are kept: " + ", ".join(map(str, outside)) + "."
        box = QMessageBox(QMessageBox.Icon.Question, "Remove a mood reader", text, parent=self)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self.confirm_remove = box.button(QMessageBox.StandardButton.Yes)
        self.confirm_keep = box.button(QMessageBox.StandardButton.No)
        self.confirm_remove.setText("Remove")
        self.confirm_keep.setText("Keep")
        self.confirm_remove.clicked.connect(lambda: self._remove_now(name, inside))
        self.confirm_keep.clicked.connect(lambda: self._say(f"Nothing removed: {name} stays."))
        self.confirm_box = box
        box.open()

    def _inside(self, path: Path) -> bool:
        try:
            path.resolve().relative_to(self.folder.resolve())
        except ValueError:
            return False
        return True

    def _remove_now(self, name: str, files: list[Path]) -> None:
        try:
            unregister_model(name, self.folder)
        except ManifestError as error:
            self._say(f"{name} could not be removed: {error}")
            return
        kept = []
        for path in files:
            try:
                path.unlink(missing_ok=True)
            except OSError:  # e.g. Windows, while the running reader still has it open
                kept.append(str(path))
        left = f" Delete {', '.join(kept)} after closing Moodsic (it is in use now)." if kept else ""
        self._say(f"Removed {name}.{left} {NEXT_START}")
        self.refresh()
        self.changed.emit()
