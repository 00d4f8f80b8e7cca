"""``moodsic library add-folder``, ``list`` and ``check`` with the files and names a real folder can hold: a
name that is not UTF-8, a FIFO and broken links named like audio, control characters in a name, an empty
index. The rest is imported; what is left out is named, printably, with its reason."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from moodsic_desktop.audio.library.index import LibraryIndex
from tests.cli.cli_helpers import run
from tests.mood_music import write_song
from tests.special_files import fifo_that_cannot_hang


@pytest.fixture(scope="module")
def two_songs(tmp_path_factory) -> Path:
    """Two short generated songs, to copy into each test's folder."""
    folder = tmp_path_factory.mktemp("songs")
    write_song(folder / "bright.flac", 0.7, 0.6, seconds=4, seed=1)
    write_song(folder / "dark.flac", -0.7, -0.6, seconds=4, seed=2)
    return folder


def add_folder(capsys, folder: Path, index: Path) -> tuple[int, str, str]:
    return run(capsys, "library", "add-folder", str(folder), "--index", str(index), "--workers", "1", "--quiet")


def stored_paths(index: Path) -> list[str]:
    with sqlite3.connect(index) as conn:
        return sorted(row[0] for row in conn.execute("SELECT path FROM songs"))


def test_a_name_that_is_not_utf8_is_named_and_the_rest_imported(two_songs, tmp_path, capsys):
    folder = shutil.copytree(two_songs, tmp_path / "music")
    shutil.copy(folder / "bright.flac", os.fsencode(folder) + b"/caf\xe9 latin-1.flac")
    code, out, err = add_folder(capsys, folder, tmp_path / "library.sqlite")
    assert code == 0, err
    assert "imported 2 songs" in out and "2 new" in out
    assert "caf\\xe9 latin-1.flac" in out and "not valid UTF-8" in out, out
    assert [Path(p).name for p in stored_paths(tmp_path / "library.sqlite")] == ["bright.flac", "dark.flac"]


def test_fifos_and_broken_links_named_like_audio_are_listed_with_their_reason(two_songs, tmp_path, capsys):
    folder = shutil.copytree(two_songs, tmp_path / "music")
    (folder / "gone.wav").symlink_to(folder / "nowhere.wav")
    (folder / "loop.ogg").symlink_to(folder / "loop.ogg")
    with fifo_that_cannot_hang(folder / "pipe.mp3"):
        code, out, err = add_folder(capsys, folder, tmp_path / "library.sqlite")
    assert code == 0, err
    assert "imported 2 songs" in out
    lines = {line.strip().split(":", 1)[0]: line for line in out.splitlines()}
    assert "named pipe (FIFO)" in lines[str(folder / "pipe.mp3")]
    assert "a link to a missing file" in lines[str(folder / "gone.wav")]
    assert "a link that loops" in lines[str(folder / "loop.ogg")]


def test_list_prints_names_with_control_characters_safely(two_songs, tmp_path, capsys):
    folder = tmp_path / "music"
    folder.mkdir()
    shutil.copy(two_songs / "bright.flac", folder / "red \x1b[31malarm\nsecond line.flac")
    index = tmp_path / "library.sqlite"
    code, out, err = add_folder(capsys, folder, index)
    assert code == 0 and "\x1b" not in out, (out, err)
    code, out, err = run(capsys, "library", "list", "--index", str(index))
    assert code == 0, err
    assert "\x1b" not in out
    (row,) = [line for line in out.splitlines() if "alarm" in line]
    assert row.endswith("red \\x1b[31malarm\\nsecond line") and "second line" not in out.replace(row, "")


def test_check_on_an_empty_index_says_it_in_words(tmp_path, capsys):
    index = tmp_path / "library.sqlite"
    LibraryIndex(index).close()
    code, out, err = run(capsys, "library", "check", "--index", str(index))
    assert code == 0, err
    assert "none stations" not in out
    assert "checked 0 songs" in out


def test_a_va_table_naming_a_fifo_says_so_and_a_fifo_as_the_table_is_refused(two_songs, tmp_path, capsys):
    folder = shutil.copytree(two_songs, tmp_path / "music")
    table = tmp_path / "va.csv"
    table.write_text("file,valence,arousal\nbright.flac,7,6\npipe.mp3,3,3\n")
    index = tmp_path / "library.sqlite"
    with fifo_that_cannot_hang(folder / "pipe.mp3"):
        code, out, err = run(capsys, "library", "add-folder", str(folder), "--va", str(table), "--index", str(index))
    assert code == 0, err
    assert "imported 1 songs" in out and "pipe.mp3: a named pipe (FIFO), not a regular file" in out, out
    with fifo_that_cannot_hang(tmp_path / "pipe.csv") as fifo:
        code, out, err = run(capsys, "library", "add-folder", str(folder), "--va", str(fifo), "--index", str(index))
    assert code == 1 and "pipe.csv is a named pipe (FIFO), not a regular file" in err, err
