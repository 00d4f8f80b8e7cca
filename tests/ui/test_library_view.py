"""File → Add music folder… and File → Music library…: a real window, the real library index, real audio
files written by the tests, the real import on its worker thread."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog, QPushButton

from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.reports import ImportReport, SongProblem
from moodsic_desktop.audio.library.schema import default_index_path
from moodsic_desktop.core.mood_words import feeling_words
from moodsic_desktop.core.song import SongMood
from moodsic_desktop.ui.library_dialog import (
    BANS_WORDS,
    FRESH_INSTALL,
    HISTORY_WORDS,
    NO_BANS,
    NO_HISTORY,
    PLAYS_NOW,
    import_report_text,
    name_key,
)
from tests.mood_music import write_song
from tests.ui.conftest import WAIT_MS

MOODS = [(-0.6, -0.6), (0.6, 0.7), (0.5, -0.5)]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty program folder: a fresh install, its index at home/music/library.sqlite."""
    folder = tmp_path / "home"
    monkeypatch.setenv("MOODSIC_HOME", str(folder))
    return folder


@pytest.fixture
def music_folder(tmp_path) -> Path:
    """Three generated songs (WAV and FLAC, 6 s each) and one file that is not audio at all."""
    folder = tmp_path / "my music"
    for i, (v, a) in enumerate(MOODS):
        write_song(folder / f"song_{i}.{'flac' if i % 2 else 'wav'}", v, a, seconds=6.0, seed=i)
    (folder / "broken.wav").write_bytes(b"not a sound file at all" * 100)
    return folder


def add_folder_through_menu(window, qtbot, monkeypatch, folder: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(folder))
    window.library_tools.add_folder_action.trigger()


def wait_for_import(window, qtbot) -> str:
    tools = window.library_tools
    qtbot.waitUntil(lambda: not tools.importing, timeout=WAIT_MS * 4)
    assert tools.report_box is not None
    return tools.report_box.text()


def test_add_folder_imports_in_the_background_and_reports(open_window, qtbot, monkeypatch, home, music_folder):
    window = open_window()
    tools = window.library_tools
    add_folder_through_menu(window, qtbot, monkeypatch, music_folder)
    assert tools.importing and tools.progress_dialog is not None and tools.progress_dialog.isVisible()
    assert not tools.add_folder_action.isEnabled()  # one import at a time
    assert tools.import_thread.objectName() == "moodsic-import"
    text = wait_for_import(window, qtbot)
    assert f"Added 3 songs from {music_folder.resolve()}: 3 new" in text
    assert "Moods estimated from the sound: 3." in text
    assert "broken.wav" in text and "could not be measured" in text
    assert PLAYS_NOW in text
    assert tools.add_folder_action.isEnabled()
    with LibraryIndex(default_index_path(), create=False) as index:
        entries = index.entries()
    assert sorted(entry.path.name for entry in entries) == ["song_0.wav", "song_1.flac", "song_2.wav"]
    assert {entry.song.mood.source for entry in entries} == {"estimated"}


def test_a_folder_without_music_is_refused_and_makes_no_index(open_window, qtbot, monkeypatch, home, tmp_path):
    window = open_window()
    empty = tmp_path / "empty"
    empty.mkdir()
    add_folder_through_menu(window, qtbot, monkeypatch, empty)
    text = wait_for_import(window, qtbot)
    assert text.startswith(f"Could not add {empty}")
    assert not default_index_path().exists()


def test_the_import_report_says_when_nothing_was_new_or_nothing_could_be_added():
    broken = [SongProblem("broken", "/music/broken.mp3", "unreadable")]
    again = import_report_text(ImportReport("/music", "folder", unchanged=10, estimated=10, skipped=broken))
    assert again.splitlines()[0] == "Nothing new in /music: its 10 songs are already in your music library."
    assert "broken.mp3: unreadable" in again and "Added" not in again and PLAYS_NOW not in again
    nothing = import_report_text(ImportReport("/music", "folder", skipped=broken))
    assert nothing.splitlines()[0] == "No song of /music could be added." and PLAYS_NOW not in nothing
    added = import_report_text(ImportReport("/music", "folder", new=2, unchanged=1, estimated=3))
    assert added.startswith("Added 3 songs from /music: 2 new, 0 updated, 1 already there.") and PLAYS_NOW in added


def test_cancel_stops_the_import_and_leaves_the_index_as_it_was(open_window, qtbot, monkeypatch, home, music_folder):
    window = open_window()
    tools = window.library_tools
    add_folder_through_menu(window, qtbot, monkeypatch, music_folder)
    cancel = tools.progress_dialog.findChild(QPushButton)
    assert cancel.text() == "Cancel"
    cancel.click()
    text = wait_for_import(window, qtbot)
    assert text == "The import was cancelled; the music library is as it was."
    with LibraryIndex(default_index_path(), create=False) as index:  # opened before the first file is read
        assert index.entries() == []


def test_library_view_on_a_fresh_install(open_window, qtbot, home):
    window = open_window()
    window.library_tools.library_action.trigger()
    dialog = window.library_tools.dialog
    assert dialog.isVisible()
    assert dialog.message.text() == FRESH_INSTALL
    assert "built-in station plays" in FRESH_INSTALL and "File → Add music folder…" in FRESH_INSTALL
    assert not dialog.tabs.isVisible()
    assert not default_index_path().exists()  # looking makes no file


def cell(table, row: int, column: int) -> str:
    return table.item(row, column).text()


def test_library_view_lists_places_resets_bans_and_undoes(open_window, qtbot, monkeypatch, home, music_folder):
    window = open_window()
    add_folder_through_menu(window, qtbot, monkeypatch, music_folder)
    wait_for_import(window, qtbot)
    with LibraryIndex(default_index_path(), create=False) as index:
        index.record_play("does-not-matter-older", when=1_000)
        song_id = index.entries()[0].song.song_id
        index.record_play(song_id, when=2_000)
        estimate = (index.entries()[0].song.valence, index.entries()[0].song.arousal)

    window.library_tools.library_action.trigger()
    dialog = window.library_tools.dialog
    assert dialog.tabs.isVisible()
    table = dialog.songs_table
    assert table.rowCount() == 3
    for row in range(3):
        assert cell(table, row, 3) == "estimated from the sound ±0.50"
        assert cell(table, row, 4) == "yes"
        assert "valence" in cell(table, row, 2) and "arousal" in cell(table, row, 2)
    assert cell(table, 0, 0) == "song 0"
    history = dialog.history_table  # newest first, titles where known
    assert [cell(history, row, 1) for row in range(2)] == ["song 0", "does-not-matter-older"]

    dialog.select_song(song_id)
    assert not dialog.reset_button.isEnabled()  # nothing to reset yet
    dialog.valence_spin.setValue(0.8)
    dialog.arousal_spin.setValue(-0.9)
    dialog.place_button.click()
    with LibraryIndex(default_index_path(), create=False) as index:
        placed = index.entries()[0].song
    assert placed.mood == SongMood(0.8, -0.9, "placed")
    assert cell(table, 0, 3) == "placed by you"
    assert cell(table, 0, 2) == "Calm and content (valence +0.80, arousal -0.90)"  # the live view's words
    assert dialog.reset_button.isEnabled()

    dialog.reset_button.click()
    with LibraryIndex(default_index_path(), create=False) as index:
        back = index.entries()[0].song
    assert back.mood.source == "estimated"
    assert (back.valence, back.arousal) == pytest.approx(estimate)
    assert cell(table, 0, 3) == "estimated from the sound ±0.50"

    dialog.select_song(song_id)
    dialog.ban_button.click()
    with LibraryIndex(default_index_path(), create=False) as index:
        assert index.banned_ids() == {song_id}
    assert cell(table, 0, 4) == "never (you said so)"
    assert dialog.bans_table.rowCount() == 1 and cell(dialog.bans_table, 0, 0) == "song 0"
    dialog.bans_table.selectRow(0)
    dialog.unban_button.click()
    with LibraryIndex(default_index_path(), create=False) as index:
        assert index.banned_ids() == set()
    assert dialog.bans_table.rowCount() == 0
    assert cell(table, 0, 4) == "yes"


def test_the_songs_sort_by_any_heading_and_a_change_goes_to_the_song_chosen(
    open_window, qtbot, monkeypatch, home, tmp_path
):
    folder = tmp_path / "sorting"
    for i, (name, (v, a)) in enumerate(zip(("cherry", "Banana", "apple"), MOODS, strict=True)):
        write_song(folder / f"{name}.wav", v, a, seconds=6.0, seed=i)
    window = open_window()
    add_folder_through_menu(window, qtbot, monkeypatch, folder)
    wait_for_import(window, qtbot)
    window.library_tools.library_action.trigger()
    dialog = window.library_tools.dialog
    table = dialog.songs_table
    assert [cell(table, row, 0) for row in range(3)] == ["apple", "Banana", "cherry"]  # by title, capitals or not
    assert sorted(["Track 16", "track 4", "Track 100"], key=name_key) == ["track 4", "Track 16", "Track 100"]
    by_mood = sorted(dialog.entries, key=lambda e: (feeling_words(e.song.valence, e.song.arousal), e.song.valence))
    header = table.horizontalHeader()
    mood_heading = QPoint(header.sectionViewportPosition(2) + 10, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=mood_heading)  # by mood: its words, then valence
    assert [cell(table, row, 0) for row in range(3)] == [entry.song.title for entry in by_mood]
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=mood_heading)  # again: the other way
    titles = [cell(table, row, 0) for row in range(3)]
    assert titles == [entry.song.title for entry in reversed(by_mood)]
    table.selectRow(0)
    assert dialog.selected_entry().song.title == titles[0]
    assert dialog.selected_label.text().startswith(f"“{titles[0]}”")
    dialog.valence_spin.setValue(0.3)
    dialog.arousal_spin.setValue(0.3)
    dialog.place_button.click()  # the list is read again, still sorted by mood; the song stays chosen
    with LibraryIndex(default_index_path(), create=False) as index:
        placed = {entry.song.title for entry in index.entries() if entry.song.mood.source == "placed"}
    assert placed == {titles[0]}
    assert dialog.selected_entry().song.title == titles[0]
    row = next(row for row in range(3) if cell(table, row, 0) == titles[0])
    assert cell(table, row, 3) == "placed by you"


def test_a_long_title_leaves_every_column_in_view(open_window, qtbot, monkeypatch, home, tmp_path):
    folder = tmp_path / "long"
    title = "Harbour Lights (Live at the Royal Albert Hall, Extended Version with the Full Orchestra)"
    write_song(folder / f"{title}.wav", 0.2, 0.3, seconds=6.0)
    window = open_window()
    add_folder_through_menu(window, qtbot, monkeypatch, folder)
    wait_for_import(window, qtbot)
    window.library_tools.library_action.trigger()
    dialog = window.library_tools.dialog
    dialog.resize(1100, 600)  # its size on a 1366x768 screen (the offscreen screen here is smaller)
    qtbot.wait(10)
    table = dialog.songs_table
    assert cell(table, 0, 0) == title and table.item(0, 0).toolTip() == title  # the whole title, in its tip
    last = table.columnCount() - 2  # the column before "Plays?", which stretches to the edge
    assert table.columnViewportPosition(last) + table.columnWidth(last) <= table.viewport().width()
    assert table.horizontalScrollBar().maximum() == 0  # no scrolling sideways to read a song's mood


def test_empty_lists_say_so_and_the_library_view_adds_a_folder(open_window, qtbot, monkeypatch, home, music_folder):
    window = open_window()
    window.library_tools.library_action.trigger()
    dialog = window.library_tools.dialog
    assert dialog.message.text() == FRESH_INSTALL and dialog.add_button.isVisible()  # the next step, at hand
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(music_folder))
    dialog.add_button.click()
    assert window.library_tools.importing and not dialog.add_button.isEnabled()  # one import at a time
    wait_for_import(window, qtbot)
    assert dialog.add_button.isEnabled() and dialog.tabs.isVisible() and dialog.songs_table.rowCount() == 3
    assert dialog.history_note.text() == NO_HISTORY and dialog.bans_note.text() == NO_BANS
    assert not dialog.unban_button.isEnabled()  # nothing to let play again
    dialog.select_song(dialog.entries[0].song.song_id)
    assert dialog.message.text() == f"3 songs: 3 can play. {PLAYS_NOW}"
    dialog.ban_button.click()
    assert dialog.bans_note.text() == BANS_WORDS and not dialog.unban_button.isEnabled()
    assert dialog.message.text() == f"3 songs: 2 can play, 1 you said never to play. {PLAYS_NOW}"
    dialog.bans_table.selectRow(0)
    assert dialog.unban_button.isEnabled()
    with LibraryIndex(default_index_path(), create=False) as index:
        index.record_play(dialog.entries[0].song.song_id)
    dialog.reload()
    assert dialog.history_note.text() == HISTORY_WORDS and dialog.history_table.rowCount() == 1
    when = dialog.history_table.item(0, 0)
    assert dialog.history_table.columnWidth(0) > dialog.history_table.fontMetrics().horizontalAdvance(when.text())


def test_a_placed_song_stays_placed_when_the_folder_is_added_again(open_window, qtbot, monkeypatch, home, music_folder):
    window = open_window()
    add_folder_through_menu(window, qtbot, monkeypatch, music_folder)
    wait_for_import(window, qtbot)
    window.library_tools.library_action.trigger()
    dialog = window.library_tools.dialog
    song_id = dialog.entries[1].song.song_id
    dialog.select_song(song_id)
    dialog.valence_spin.setValue(-0.3)
    dialog.arousal_spin.setValue(0.4)
    dialog.place_button.click()

    add_folder_through_menu(window, qtbot, monkeypatch, music_folder)
    text = wait_for_import(window, qtbot)
    assert text.startswith(f"Nothing new in {music_folder.resolve()}: its 3 songs are already in your music library.")
    assert "broken.wav" in text and PLAYS_NOW not in text and "Added" not in text
    with LibraryIndex(default_index_path(), create=False) as index:
        song = {entry.song.song_id: entry.song for entry in index.entries()}[song_id]
    assert song.mood == SongMood(-0.3, 0.4, "placed")
    assert cell(dialog.songs_table, 1, 3) == "placed by you"  # the open view was read again


@pytest.fixture
def long_folder(tmp_path) -> Path:
    """30 files of 30 s: seconds of analysis, far longer than closing the window or a timer tick takes."""
    folder = tmp_path / "a long folder"
    first = write_song(folder / "song_00.flac", 0.2, 0.3, seconds=30.0)
    for i in range(1, 30):
        shutil.copy(first, folder / f"song_{i:02}.flac")
    return folder


def test_the_window_goes_on_during_an_import_and_cancel_stops_it(open_window, qtbot, monkeypatch, home, long_folder):
    window = open_window()
    tools = window.library_tools
    ticks = []
    window.now_playing.timer.timeout.connect(lambda: ticks.append(tools.importing))
    add_folder_through_menu(window, qtbot, monkeypatch, long_folder)
    qtbot.waitUntil(lambda: ticks.count(True) >= 3 and tools.progress_dialog.value() >= 1, timeout=WAIT_MS)
    assert tools.importing  # the now-playing panel's 4-a-second timer ticked, and the progress bar moved, meanwhile
    tools.progress_dialog.findChild(QPushButton).click()
    text = wait_for_import(window, qtbot)
    assert text == "The import was cancelled; the music library is as it was."
    with LibraryIndex(default_index_path(), create=False) as index:
        assert index.entries() == []


def test_closing_the_window_during_an_import_stops_it(open_window, qtbot, monkeypatch, home, long_folder):
    window = open_window()
    add_folder_through_menu(window, qtbot, monkeypatch, long_folder)
    assert window.library_tools.importing
    window.close()
    qtbot.waitUntil(lambda: window.closed_down, timeout=WAIT_MS)
    assert not window.library_tools.importing  # and the fixture checks that no thread is left running
    assert window.library_tools.report_box is None


def test_library_view_says_when_the_index_cannot_be_read(open_window, qtbot, home):
    window = open_window()
    default_index_path().parent.mkdir(parents=True)
    default_index_path().write_bytes(b"")
    window.library_tools.library_action.trigger()
    dialog = window.library_tools.dialog
    assert dialog.message.text().startswith("The music library cannot be read:")
    assert "empty file" in dialog.message.text()
    assert not dialog.tabs.isVisible()
    assert default_index_path().read_bytes() == b""  # never overwritten


def test_songs_imported_in_the_window_play_without_a_restart(open_window, qtbot, monkeypatch, home, music_folder):
    window = open_window(library=None)  # the music library of a fresh install: the built-in station plays
    assert window.session.programme.library.origin == "built-in station"
    add_folder_through_menu(window, qtbot, monkeypatch, music_folder)
    wait_for_import(window, qtbot)
    with LibraryIndex(default_index_path(), create=False) as index:
        imported = {song.song_id for song in index.songs()}
    assert len(imported) == 3

    def playing_ids() -> set[str]:
        return {song.song_id for song in window.session.pipeline.matcher.songs}

    qtbot.waitUntil(lambda: playing_ids() == imported, timeout=WAIT_MS)
    assert window.session.index_path == default_index_path()
