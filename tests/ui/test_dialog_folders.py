"""Where the file dialogs start: the folder last used for that kind of file, else the platform's usual one,
never the program's own working folder (ui/dialog_folders.py), with the real window's dialogs."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from moodsic_desktop.ui.dialog_folders import DialogFolders
from moodsic_desktop.ui.settings import WindowState

USUAL = {"video": "Videos", "music": "Music", "export": "Documents", "model": "Downloads"}


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A home folder with the usual Videos, Music, Documents and Downloads (no xdg user-dirs file, so Qt
    takes them under HOME), and the working folder elsewhere: the program's own folder."""
    home = tmp_path / "home"
    for name in USUAL.values():
        (home / name).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    program = tmp_path / "Moodsic"
    (program / "_internal").mkdir(parents=True)
    monkeypatch.chdir(program)
    return home


@pytest.mark.parametrize("kind", list(USUAL))
def test_each_kind_starts_in_its_usual_folder_not_the_programs(home, kind):
    start = DialogFolders().start(kind)
    assert Path(start) == home / USUAL[kind]
    assert Path(start) != Path.cwd()


def test_without_the_usual_folder_a_dialog_starts_at_home(home):
    shutil.rmtree(home / "Videos")
    assert Path(DialogFolders().start("video")) == home


def test_the_last_folder_is_kept_across_runs_and_a_folder_of_music_is_itself(home, tmp_path):
    clips, songs = tmp_path / "clips", tmp_path / "my songs"
    clips.mkdir()
    songs.mkdir()
    first_run = DialogFolders(WindowState(tmp_path / "config"))
    first_run.remember("video", clips / "morning.mp4")
    first_run.remember("music", songs)
    next_run = DialogFolders(WindowState(tmp_path / "config"))
    assert Path(next_run.start("video")) == clips
    assert Path(next_run.start("music")) == songs
    assert Path(next_run.start("export")) == home / "Documents"  # each kind keeps its own


def test_a_folder_that_is_gone_gives_the_usual_one_again(home, tmp_path):
    stick = tmp_path / "usb-stick"
    stick.mkdir()
    folders = DialogFolders(WindowState(tmp_path / "config"))
    folders.remember("video", stick / "clip.mp4")
    assert Path(folders.start("video")) == stick
    stick.rmdir()  # the stick was taken out
    assert Path(folders.start("video")) == home / "Videos"


def test_an_export_proposes_a_dated_name_in_documents(home):
    proposed = DialogFolders().export_path(datetime.date(2026, 12, 7))
    assert Path(proposed) == home / "Documents" / "moodsic-session-2026-12-07.json"


def test_the_windows_dialogs_start_there_and_remember_what_was_picked(open_window, home, tmp_path, monkeypatch):
    """Open video, Add music folder, Export session and the mood readers' Import, in the real window: each
    dialog is asked to start in its folder, and a file picked in another folder makes that the next start."""
    clips = tmp_path / "clips"
    clips.mkdir()
    asked: dict[str, list[str]] = {}

    def dialog(kind: str, answer: str):
        def ask(parent, caption, folder, *rest, **kwargs):
            asked.setdefault(kind, []).append(folder)
            return answer if kind == "music" else (answer, "")

        return staticmethod(ask)

    missing = str(clips / "missing.mp4")  # picked, then the source fails: the folder is still remembered
    monkeypatch.setattr(QFileDialog, "getOpenFileName", dialog("video", missing))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", dialog("music", ""))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog("export", ""))
    window = open_window()
    window.sources.open_dialog()
    window.sources.open_dialog()
    assert [Path(folder) for folder in asked["video"]] == [home / "Videos", clips]
    window.library_tools.add_folder_action.trigger()
    assert [Path(folder) for folder in asked["music"]] == [home / "Music"]
    window.export_session_dialog()
    proposed = Path(asked["export"][0])
    assert proposed.parent == home / "Documents" and proposed.name.startswith("moodsic-session-")
    window.open_models_dialog()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", dialog("model", ""))
    window.models_dialog.import_button.click()
    assert [Path(folder) for folder in asked["model"]] == [home / "Downloads"]
    window.models_dialog.close()
