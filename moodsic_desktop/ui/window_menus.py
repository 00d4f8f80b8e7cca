"""The main window's menus: File (open a video or photo, export the session, the music library, quit), Edit
(undo and redo a change of the settings), Settings (the day plan, the mood readers, starting with the
computer; last, reset to defaults) and View (Diagnostics). GUI thread.

``WindowMenus`` only builds the menus and holds their actions; the window connects the actions to what
they do.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QMenuBar, QWidget

from moodsic_desktop.ui.library_dialog import LibraryTools


class WindowMenus:
    """The actions of the menu bar ``menu_bar``, parented to ``window``; ``library_tools`` gives the two
    music library items of the File menu; ``undo_stack`` the settings' changes (Edit → Undo / Redo). GUI thread."""

    def __init__(
        self, window: QWidget, menu_bar: QMenuBar, library_tools: LibraryTools, undo_stack: QUndoStack
    ) -> None:
        file_menu = menu_bar.addMenu("&File")
        self.open_action = QAction("&Open video or photo…", window)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.export_action = QAction("&Export session…", window)
        self.export_action.setToolTip("Save the session's report (JSON) and pictures of the charts (PNG)")
        self.quit_action = QAction("&Quit", window)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        file_menu.addActions([self.open_action, self.export_action])
        file_menu.addSeparator()
        file_menu.addActions([library_tools.add_folder_action, library_tools.library_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = menu_bar.addMenu("&Edit")
        self.undo_action = undo_stack.createUndoAction(window, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = undo_stack.createRedoAction(window, "&Redo")
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)
        edit_menu.addActions([self.undo_action, self.redo_action])

        settings_menu = menu_bar.addMenu("&Settings")
        self.day_plan_action = QAction("&Day plan…", window)
        self.day_plan_action.setToolTip("Opening hours, and a volume and a mood for each part of the day")
        settings_menu.addAction(self.day_plan_action)
        self.models_action = QAction("Mood &readers…", window)
        self.models_action.setToolTip("Which models read the mood; install, import or remove one")
        settings_menu.addAction(self.models_action)
        self.autostart_action = QAction("&Start Moodsic when this computer starts", window)
        self.autostart_action.setToolTip("Opens Moodsic when you log in, with the last camera or video, playing")
        settings_menu.addSeparator()
        settings_menu.addAction(self.autostart_action)
        settings_menu.addSeparator()  # last, apart: it changes every setting at once (asks first; can be undone)
        self.reset_action = QAction("&Reset to defaults…", window)
        self.reset_action.setToolTip("Put every setting back to its default, after asking; Edit → Undo takes it back")
        settings_menu.addAction(self.reset_action)
        self.settings_menu = settings_menu

        view_menu = menu_bar.addMenu("&View")
        self.diagnostics_action = QAction("&Diagnostics", window)
        self.diagnostics_action.setCheckable(True)
        self.diagnostics_action.setToolTip("Show the engineering detail: models, timings, audio underflows")
        view_menu.addAction(self.diagnostics_action)
