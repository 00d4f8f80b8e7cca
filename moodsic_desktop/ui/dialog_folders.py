"""Where each file dialog starts: the folder the owner last used for that kind of file, else the usual one.

A file dialog given no folder opens in the program's working folder, which for a double-clicked program is
often its own install folder (``_internal`` and all): no place to look for a video, and a place an exported
session must not go. So each kind of file has its start folder:

* the folder the owner last picked a file of that kind in (or the folder itself, for a folder of music),
  kept across runs in the window state (``WindowState``, not a user setting: "Reset to defaults" keeps it);
* when that folder is gone (a USB stick taken out) or none was picked yet, the platform's usual folder for
  the kind (``QStandardPaths``: Videos, Music, Documents, Downloads; on Windows, macOS and Linux each as the
  platform names it);
* when that does not exist either, the home folder.

GUI thread.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QStandardPaths

from moodsic_desktop.ui.settings import WindowState

FileKind = Literal["video", "music", "export", "model"]
"""A video or photo to read; a folder of music to add; a session report to export; an ONNX model to import."""

USUAL_PLACES: dict[FileKind, QStandardPaths.StandardLocation] = {
    "video": QStandardPaths.StandardLocation.MoviesLocation,
    "music": QStandardPaths.StandardLocation.MusicLocation,
    "export": QStandardPaths.StandardLocation.DocumentsLocation,
    "model": QStandardPaths.StandardLocation.DownloadLocation,
}
"""The platform's usual folder for each kind of file."""

STATE_KEY = "dialog-folder/{kind}"
"""The window state's key for the folder last used for a kind."""


class DialogFolders:
    """The start folder of each kind of file dialog (see the module docstring). ``state``: where the last
    folders are kept across runs; None keeps them for this run only. GUI thread."""

    def __init__(self, state: WindowState | None = None) -> None:
        self._state = state
        self._this_run: dict[FileKind, str] = {}  # also where the window state cannot be kept (its INI unusable)

    def start(self, kind: FileKind) -> str:
        """The folder a dialog for ``kind`` opens in: the last one used, else the usual one, else home."""
        kept = self._state.restore_text(STATE_KEY.format(kind=kind)) if self._state is not None else None
        last = self._this_run.get(kind) or kept
        for folder in (last, QStandardPaths.writableLocation(USUAL_PLACES[kind]), str(Path.home())):
            if folder and Path(folder).is_dir():
                return folder
        return ""  # no home either: Qt's own choice

    def export_path(self, today: datetime.date | None = None) -> str:
        """The path a session export proposes: ``moodsic-session-<date>.json`` in the export start folder."""
        day = (today or datetime.date.today()).isoformat()
        return str(Path(self.start("export") or ".") / f"moodsic-session-{day}.json")

    def remember(self, kind: FileKind, picked: str | Path) -> None:
        """Keep the folder of ``picked`` (a file, or a folder for ``music``) as ``kind``'s start folder."""
        path = Path(picked)
        folder = str(path if kind == "music" else path.parent)
        self._this_run[kind] = folder
        if self._state is not None:
            self._state.save(STATE_KEY.format(kind=kind), folder)
