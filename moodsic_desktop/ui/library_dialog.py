"""The music library in the window: *File → Add music folder…* and *File → Music library…*.

Both work on the same library index as ``moodsic library`` (``music/library.sqlite``, or the one the
window's songs came from) through the same calls: ``MoodImporter.add_folder_estimated`` (what
``moodsic library add-folder FOLDER`` runs without ``--va``), and ``LibraryIndex``'s ``place`` /
``unplace``, ``recent_plays``, ``ban`` / ``unban`` and ``entries``.

Threads: the import runs on its own worker QThread ("moodsic-import"), which opens its own connection to
the index (an index connection belongs to the thread that opened it); its progress reaches the GUI thread
as a queued signal, and Cancel stops it between two files, leaving the index as it was. Everything else
here runs on the GUI thread and opens the index only for the few milliseconds a read or a one-row change
takes. Changes made here are saved at once; ``LibraryTools.changed`` then tells the window (after an import,
or once a quick run of edits is over), which has the pipeline worker read the index again and play from it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.mood_imports import MoodImporter
from moodsic_desktop.audio.library.reports import ImportReport, IndexedSong, LibraryIndexError
from moodsic_desktop.audio.library.sources import audio_files_in
from moodsic_desktop.core.mood_words import feeling_words
from moodsic_desktop.ui.dialog_folders import DialogFolders
from moodsic_desktop.ui.wheel_guard import guard_wheel
from moodsic_desktop.ui.workers import ThreadWorker, start_in_thread

log = logging.getLogger(__name__)

PLAYS_NOW = "New songs and changes play at once; the song playing now plays to its end."
RELOAD_DELAY_MS = 1500  # edits closer together than this make one reload of the library
FRESH_INSTALL = (
    "No music of your own yet: the built-in station plays (a dozen pieces that come with Moodsic).\n\n"
    "To play your own music, choose File → Add music folder… and pick a folder of MP3, WAV, FLAC or OGG "
    "files. Moodsic listens to each song and places it on the mood plane by itself."
)
SOURCE_WORDS = {"rated": "rated by listeners", "placed": "placed by you"}
HISTORY_WORDS = "Your songs that played lately, the newest first."
NO_HISTORY = "None of your songs has played yet."
BANS_WORDS = "Songs you said never to play. Choose one and press Undo to let it play again."
NO_BANS = "No song is on this list: every song can play."
NAME_COLUMNS_PX = {0: 240, 1: 160}  # the title and artist columns at most this wide: the mood stays in view
SORT_KEY = Qt.ItemDataRole.UserRole + 1  # what a cell sorts by, when not its words as they read


class ImportCancelledError(Exception):
    """The owner pressed Cancel: raised from the import's progress callback, which ends the import
    before it writes anything."""


def mood_text(valence: float, arousal: float) -> str:
    """ "Calm and content (valence +0.50, arousal -0.60)": the window's words for that point of the mood plane
    (``core.mood_words``, the same as for the room), then the numbers in reference units [-1, 1]."""
    return f"{feeling_words(valence, arousal)} (valence {valence:+.2f}, arousal {arousal:+.2f})"


def source_text(entry: IndexedSong) -> str:
    """Where the song's mood point comes from: rated, estimated ±σ (per dimension), or placed by you."""
    song = entry.song
    if song.mood.source == "estimated":
        return f"estimated from the sound ±{song.mood.spread:.2f}"
    return SOURCE_WORDS.get(song.mood.source, song.mood.source)


def library_count_text(entries: list[IndexedSong]) -> str:
    """ "10 songs: 9 can play, 1 you said never to play.": a banned song is not counted among those that can
    play, though its file plays."""
    can_play = sum(entry.playable and not entry.banned for entry in entries)
    banned = sum(entry.banned for entry in entries)
    never = f", {banned} you said never to play" if banned else ""
    return f"{len(entries)} songs: {can_play} can play{never}."


def import_report_text(report: ImportReport) -> str:
    """What an import did, in plain words, for the café owner; a folder added again with nothing new in it
    says just that (not "Added 10 songs", nor that changes play at once)."""
    changed = report.new + report.updated > 0
    if changed:
        lines = [
            f"Added {report.imported} songs from {report.source}: {report.new} new, {report.updated} updated, "
            f"{report.unchanged} already there.",
            f"Moods estimated from the sound: {report.estimated}."
            + (f" {report.kept_rated} songs kept the mood listeners gave them." if report.kept_rated else ""),
        ]
    elif report.unchanged:
        lines = [f"Nothing new in {report.source}: its {report.unchanged} songs are already in your music library."]
    else:
        lines = [f"No song of {report.source} could be added."]
    if report.not_playable:
        lines.append(f"Not playable ({len(report.not_playable)}):")
        lines += [f"  • {Path(p.where).name}: {p.reason}" for p in report.not_playable[:10]]
    if report.skipped:
        count = len(report.skipped)
        lines.append(f"Not added: the mood could not be measured, or the file cannot be used ({count}):")
        lines += [f"  • {Path(p.where).name}: {p.reason}" for p in report.skipped[:10]]
    hidden = max(len(report.not_playable) - 10, 0) + max(len(report.skipped) - 10, 0)
    if hidden:
        lines.append(f"  … and {hidden} more (File → Music library… lists every song).")
    if changed:
        lines.append(PLAYS_NOW)
    return "\n".join(lines)


def name_key(text: str) -> str:
    """How a title or artist sorts: without regard to capitals, numbers by their value ("Track 4" before
    "Track 16")."""
    return re.sub(r"\d+", lambda number: number.group().zfill(12), text.casefold())


class SortedItem(QTableWidgetItem):
    """A cell of the songs list that sorts by its ``SORT_KEY`` (a name by ``name_key``, a mood by its words
    then its valence). GUI thread."""

    def __init__(self, text: str, key: str | None = None) -> None:
        super().__init__(text)
        self.setData(SORT_KEY, key if key is not None else name_key(text))

    def __lt__(self, other: QTableWidgetItem) -> bool:
        return str(self.data(SORT_KEY)) < str(other.data(SORT_KEY))


class ImportWorker(ThreadWorker):
    """Adds a folder to the library index on a worker thread, with moods estimated from the audio.

    Signals: ``progress(done, total)`` after each file (files, not songs); ``done(report)`` with the
    ``ImportReport``; ``failed(message)`` with a plain sentence (also when cancelled); ``finished()`` last.
    ``cancel`` may be called from any thread."""

    progress = Signal(int, int)
    done = Signal(ImportReport)
    failed = Signal(str)

    def __init__(self, index_path: Path, folder: Path, workers: int | None = 1) -> None:
        super().__init__()
        self.index_path = index_path
        self.folder = folder
        self.workers = workers
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Stop after the file being analysed now; nothing is written."""
        self._cancel.set()

    def _progress(self, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise ImportCancelledError
        self.progress.emit(done, total)

    def run(self) -> None:
        """Worker thread: check the folder before any index file is made, then import (blocks)."""
        try:
            audio_files_in(self.folder)
            with LibraryIndex(self.index_path, create=True) as index:
                report = MoodImporter(index).add_folder_estimated(
                    self.folder, progress=self._progress, workers=self.workers
                )
            self.done.emit(report)
        except ImportCancelledError:
            self.failed.emit("The import was cancelled; the music library is as it was.")
        except (OSError, ValueError, LibraryIndexError) as error:
            log.warning("cannot add %s: %s", self.folder, error)
            self.failed.emit(f"Could not add {self.folder}: {error}")
        finally:
            self.finished.emit()


class LibraryTools(QObject):
    """The window's library menu items and the import they start. GUI thread.

    ``add_folder_action`` asks for a folder and imports it on a worker thread with a progress dialog;
    ``library_action`` opens ``LibraryDialog``. ``shut_down`` cancels a running import and waits for it.
    ``changed()`` is emitted when the index changed: after an import, and ``RELOAD_DELAY_MS`` after the last
    of a run of edits in the dialog."""

    changed = Signal()

    def __init__(
        self, parent: QWidget, index_path: Path, workers: int | None = 1, folders: DialogFolders | None = None
    ) -> None:
        super().__init__(parent)
        self.window = parent
        self.folders = folders or DialogFolders()  # where "Add music folder…" starts
        self.index_path = index_path
        self.workers = workers
        self.add_folder_action = QAction("&Add music folder…", parent)
        self.add_folder_action.triggered.connect(self.add_folder_dialog)
        self.add_folder_action.setToolTip("Add a folder of your own music; Moodsic finds each song's mood")
        self.library_action = QAction("&Music library…", parent)
        self.library_action.triggered.connect(self.show_library)
        self.library_action.setToolTip("Your songs, their moods, what played and what never plays")
        self.worker: ImportWorker | None = None
        self.import_thread: QThread | None = None
        self.progress_dialog: QProgressDialog | None = None
        self.report_box: QMessageBox | None = None
        self.dialog: LibraryDialog | None = None
        self._edits = QTimer(self)
        self._edits.setSingleShot(True)
        self._edits.setInterval(RELOAD_DELAY_MS)
        self._edits.timeout.connect(self.changed)

    @property
    def importing(self) -> bool:
        return self.worker is not None

    def add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Add a folder of music", self.folders.start("music"))
        if folder:
            self.folders.remember("music", folder)
            self.start_import(Path(folder))

    def start_import(self, folder: Path) -> None:
        """Import ``folder`` on the "moodsic-import" thread; a progress dialog with Cancel shows meanwhile."""
        if self.importing:
            return
        self.add_folder_action.setEnabled(False)
        self.worker = ImportWorker(self.index_path, folder, self.workers)
        dialog = QProgressDialog(f"Listening to the songs in {folder}…", "Cancel", 0, 0, self.window)
        dialog.setWindowTitle("Adding music")
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self.cancel_import)
        dialog.show()
        self.progress_dialog = dialog
        self.worker.progress.connect(self._progress)
        self.worker.done.connect(self._done)
        self.worker.failed.connect(self._failed)
        self.worker.finished.connect(self._finished)
        self.import_thread = start_in_thread(self.worker, "moodsic-import")

    def cancel_import(self) -> None:
        """Cancel pressed. Called here, on the GUI thread: a signal connected to the worker's own slot
        would wait in its thread's queue until the import is over."""
        if self.worker is not None:
            self.worker.cancel()
        if self.progress_dialog is not None:
            self.progress_dialog.setLabelText("Stopping after the song being listened to now…")

    def _progress(self, done: int, total: int) -> None:
        if self.progress_dialog is not None:
            self.progress_dialog.setMaximum(max(total, 1))
            self.progress_dialog.setValue(done)
            self.progress_dialog.setLabelText(f"Listening to the songs: {done} of {total} files")

    def _done(self, report: ImportReport) -> None:
        self._tell("Music added", import_report_text(report), QMessageBox.Icon.Information)
        if self.worker is not None:  # not after the window closed (``shut_down``)
            self._edits.stop()
            self.changed.emit()

    def _failed(self, message: str) -> None:
        self._tell("Music not added", message, QMessageBox.Icon.Warning)

    def _tell(self, title: str, text: str, icon: QMessageBox.Icon) -> None:
        if self.worker is None:
            return  # the window closed during the import (``shut_down``): nobody to tell
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self.window)
        box.setModal(False)
        box.show()  # not exec(): the window goes on drawing and playing
        self.report_box = box
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.reload()

    def _finished(self) -> None:
        if self.import_thread is not None:  # quit here: the queued quit from ``start_in_thread`` comes after this
            self.import_thread.quit()
            self.import_thread.wait()
        if self.progress_dialog is not None:
            self.progress_dialog.close()
            self.progress_dialog.deleteLater()
        self.worker = self.import_thread = self.progress_dialog = None
        self.add_folder_action.setEnabled(True)

    def shut_down(self) -> None:
        """Cancel a running import and wait until its thread ended (closing the window)."""
        self._edits.stop()
        if self.worker is not None:
            self.worker.cancel()
        if self.import_thread is not None:
            self.import_thread.quit()
            self.import_thread.wait()
        if self.worker is not None:
            self._finished()

    def show_library(self) -> None:
        if self.dialog is None:
            self.dialog = LibraryDialog(self.index_path, self.window)
            self.dialog.changed.connect(self._edits.start)  # (re)started: one reload after a run of edits
            self.dialog.add_button.clicked.connect(self.add_folder_dialog)
            self.dialog.add_button.setEnabled(self.add_folder_action.isEnabled())
            self.add_folder_action.enabledChanged.connect(self.dialog.add_button.setEnabled)  # one import at a time
        self.dialog.reload()
        self.dialog.show()


class LibraryDialog(QDialog):
    """The library index's songs (mood, where it comes from, playable or why not), the play history and
    the never-play list; the owner can put a song where they hear it on the mood plane or undo that, sort
    the songs by any heading, and add a folder (``add_button``, wired by ``LibraryTools``).
    GUI thread; the index is opened for each read or change and closed again."""

    COLUMNS = ("Title", "Artist", "Mood", "Where the mood comes from", "Plays?")
    changed = Signal()  # the index was changed here (a place, reset, ban or undo)

    def __init__(self, index_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Music library")
        room = (parent.screen() if parent is not None else QGuiApplication.primaryScreen()).availableGeometry()
        self.resize(min(1100, room.width() - 40), min(600, room.height() - 60))  # every column in view at 1366x768
        self.index_path = index_path
        self.entries: list[IndexedSong] = []
        layout = QVBoxLayout(self)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)
        self.tabs.addTab(self._build_songs_tab(), "Songs")
        self.tabs.addTab(self._build_history_tab(), "Played lately")
        self.tabs.addTab(self._build_bans_tab(), "Never play")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        self.add_button = buttons.addButton("Add music folder…", QDialogButtonBox.ButtonRole.ActionRole)
        self.add_button.setToolTip("Add a folder of your own music; Moodsic finds each song's mood")
        layout.addWidget(buttons)
        guard_wheel(self)  # the wheel over a spin box scrolls the list; it moves no value unasked

    def _table(self, headers: tuple[str, ...]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(list(headers))
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.horizontalHeader().setStretchLastSection(True)
        table.verticalHeader().setVisible(False)
        return table

    def _spin(self, tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(-1.0, 1.0)
        spin.setSingleStep(0.1)
        spin.setDecimals(2)
        spin.setToolTip(tip)
        return spin

    def _build_songs_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.songs_table = self._table(self.COLUMNS)
        self.songs_table.itemSelectionChanged.connect(self._song_selected)
        self.songs_table.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # by title, until a heading is clicked
        self.songs_table.setSortingEnabled(True)
        self.songs_table.horizontalHeader().setToolTip("Click a heading to sort the songs by it")
        layout.addWidget(self.songs_table, 1)
        form = QFormLayout()
        self.selected_label = QLabel("Choose a song above to put it where you hear it.")
        form.addRow(self.selected_label)
        self.valence_spin = self._spin("-1 is as unpleasant as music gets, +1 as pleasant (reference scale)")
        self.arousal_spin = self._spin("-1 is as calm as music gets, +1 as energetic (reference scale)")
        form.addRow("unpleasant (−1) ↔ pleasant (+1)", self.valence_spin)
        form.addRow("calm (−1) ↔ energetic (+1)", self.arousal_spin)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.place_button = QPushButton("Put the song here")
        self.place_button.setToolTip("Keep this mood for the song, also when the folder is added again")
        self.place_button.clicked.connect(self.place_selected)
        self.reset_button = QPushButton("Reset to the estimate")
        self.reset_button.setToolTip("Forget where you put the song: its rated or estimated mood counts again")
        self.reset_button.clicked.connect(self.reset_selected)
        self.ban_button = QPushButton("Never play this song")
        self.ban_button.clicked.connect(self.ban_selected)
        for button in (self.place_button, self.reset_button, self.ban_button):
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        self._enable_song_buttons(None)
        return page

    def _build_history_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.history_note = QLabel(HISTORY_WORDS)
        layout.addWidget(self.history_note)
        self.history_table = self._table(("When", "Song"))
        layout.addWidget(self.history_table, 1)
        return page

    def _build_bans_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.bans_note = QLabel(BANS_WORDS)
        layout.addWidget(self.bans_note)
        self.bans_table = self._table(("Song",))
        self.bans_table.itemSelectionChanged.connect(self._bans_selection_changed)
        layout.addWidget(self.bans_table, 1)
        self.unban_button = QPushButton("Undo: let it play again")
        self.unban_button.clicked.connect(self.unban_selected)
        self.unban_button.setEnabled(False)
        layout.addWidget(self.unban_button, 0, Qt.AlignmentFlag.AlignLeft)
        return page

    # ---- reading
    def _open(self) -> LibraryIndex | None:
        """The index, or None with the reason shown (a fresh install, or a damaged index)."""
        if not self.index_path.exists():
            self.message.setText(FRESH_INSTALL)
            return None
        try:
            return LibraryIndex(self.index_path, create=False, busy_timeout_s=2.0)
        except LibraryIndexError as error:
            self.message.setText(f"The music library cannot be read: {error}")
            return None

    def reload(self) -> None:
        """Read the songs, the history and the bans again from the index."""
        index = self._open()
        self.tabs.setVisible(index is not None)
        if index is None:
            self.entries = []
            return
        with index:
            self.entries = index.entries()
            plays = index.recent_plays(100)
            banned = sorted(index.banned_ids())
        self.message.setText(f"{library_count_text(self.entries)} {PLAYS_NOW}" if self.entries else FRESH_INSTALL)
        names = {entry.song.song_id: entry.song.display_name for entry in self.entries}
        self.songs_table.setSortingEnabled(False)  # rows stay where they are put while the list is filled
        self.songs_table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            song = entry.song
            plays_text = "yes" if entry.playable else f"no: {entry.problem}"
            if entry.banned:
                plays_text = "never (you said so)"
            mood_key = f"{feeling_words(song.valence, song.arousal)}\t{song.valence + 1:.4f}"
            cells = (
                SortedItem(song.title or song.song_id),
                SortedItem(song.artist),
                SortedItem(mood_text(song.valence, song.arousal), mood_key),
                SortedItem(source_text(entry)),
                SortedItem(plays_text),
            )
            cells[0].setData(Qt.ItemDataRole.UserRole, song.song_id)
            for cell in cells[:2]:
                cell.setToolTip(cell.text())
            for column, item in enumerate(cells):
                self.songs_table.setItem(row, column, item)
        self.songs_table.setSortingEnabled(True)  # sorted again by the heading chosen
        self.songs_table.resizeColumnsToContents()
        for column, widest in NAME_COLUMNS_PX.items():  # a long title leaves the mood in view; "…", whole in its tip
            self.songs_table.setColumnWidth(column, min(self.songs_table.columnWidth(column), widest))
        self.history_note.setText(HISTORY_WORDS if plays else NO_HISTORY)
        self.bans_note.setText(BANS_WORDS if banned else NO_BANS)
        self.history_table.setRowCount(len(plays))
        for row, play in enumerate(plays):
            when = time.strftime("%a %d %b %H:%M", time.localtime(play.when))
            self.history_table.setItem(row, 0, QTableWidgetItem(when))
            self.history_table.setItem(row, 1, QTableWidgetItem(names.get(play.song_id, play.song_id)))
        self.history_table.resizeColumnToContents(0)  # "Mon 07 Dec 09:46" on one line, not cut in two
        self.bans_table.setRowCount(len(banned))
        for row, song_id in enumerate(banned):
            ban_item = QTableWidgetItem(names.get(song_id, song_id))
            ban_item.setData(Qt.ItemDataRole.UserRole, song_id)
            self.bans_table.setItem(row, 0, ban_item)
        self._song_selected()
        self._bans_selection_changed()

    def selected_entry(self) -> IndexedSong | None:
        """The song of the selected row (rows are sorted as the owner chose: found by the song's id)."""
        rows = self.songs_table.selectionModel().selectedRows()
        item = self.songs_table.item(rows[0].row(), 0) if rows else None
        song_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return next((entry for entry in self.entries if entry.song.song_id == song_id), None)

    def _enable_song_buttons(self, entry: IndexedSong | None) -> None:
        for widget in (self.place_button, self.valence_spin, self.arousal_spin, self.ban_button):
            widget.setEnabled(entry is not None)
        self.reset_button.setEnabled(entry is not None and entry.song.mood.source == "placed")

    def _song_selected(self) -> None:
        entry = self.selected_entry()
        self._enable_song_buttons(entry)
        if entry is not None:
            song = entry.song
            self.selected_label.setText(f"“{song.display_name}”: {mood_text(song.valence, song.arousal)}")
            self.valence_spin.setValue(entry.song.valence)
            self.arousal_spin.setValue(entry.song.arousal)

    # ---- changing
    def select_song(self, song_id: str) -> None:
        """Select the row of ``song_id`` in the songs table."""
        for row in range(self.songs_table.rowCount()):
            item = self.songs_table.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == song_id:
                self.songs_table.selectRow(row)
                return
        raise KeyError(song_id)

    def _change(self, action) -> None:
        """Run ``action(index)``, then show the index as it is now; a failure is said in the dialog."""
        index = self._open()
        if index is None:
            return
        selected = self.selected_entry()
        try:
            with index:
                action(index)
        except (LibraryIndexError, KeyError, ValueError) as error:
            QMessageBox.warning(self, "Music library", f"That did not work: {error}")
        else:
            self.changed.emit()
        self.reload()
        if selected is not None:
            self.select_song(selected.song.song_id)

    def place_selected(self) -> None:
        entry = self.selected_entry()
        if entry is not None:
            v, a = self.valence_spin.value(), self.arousal_spin.value()
            self._change(lambda index: index.place(entry.song.song_id, v, a))

    def reset_selected(self) -> None:
        entry = self.selected_entry()
        if entry is not None:
            self._change(lambda index: index.unplace(entry.song.song_id))

    def ban_selected(self) -> None:
        entry = self.selected_entry()
        if entry is not None:
            self._change(lambda index: index.ban(entry.song.song_id))

    def _bans_selection_changed(self) -> None:
        self.unban_button.setEnabled(bool(self.bans_table.selectedItems()))

    def unban_selected(self) -> None:
        items = self.bans_table.selectedItems()
        if items:
            song_id = items[0].data(Qt.ItemDataRole.UserRole)
            self._change(lambda index: index.unban(song_id))
