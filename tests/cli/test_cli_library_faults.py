"""Bad tables and busy indexes through the real ``moodsic library`` and ``moodsic analyze`` commands: one
clear line on stderr, exit status 1, and no index file made, changed or deleted."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from moodsic_desktop.audio.library.importers import RatedImporter
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.cli.library_common import LIST_LIMIT
from tests.cli.cli_helpers import one_error_line, run
from tests.conftest import ANNOTATIONS, write_deam_folder
from tests.library_files import write_audio

HUGE_CELL = "x" * 200_000  # over the csv module's 131072-character field limit


def _music(tmp_path: Path) -> Path:
    music = tmp_path / "music_in"
    write_audio(music / "a.wav")
    write_audio(music / "b.flac", freq=330.0)
    return music


def test_add_folder_reads_a_csv_with_cr_only_line_endings(home, tmp_path, capsys):
    """Old-Mac CSVs end lines with CR alone; they are valid and read as such (CRLF/LF mixes too)."""
    music = _music(tmp_path)
    va = tmp_path / "va.csv"
    va.write_bytes(b"file,valence,arousal,title\ra.wav,7,3,Sunny\r\nb.flac,2,8,Storm\r")
    code, out, err = run(capsys, "library", "add-folder", str(music), "--va", str(va))
    assert code == 0, err
    assert "2 new" in out and "skipped" not in out
    with LibraryIndex(home / "music" / "library.sqlite", create=False) as index:
        titles = sorted(song.title for song in index.songs())
    assert titles == ["Storm", "Sunny"]


def test_a_huge_cell_is_one_line_naming_file_and_line_and_leaves_no_index(home, tmp_path, capsys):
    music = _music(tmp_path)
    va = tmp_path / "va.csv"
    va.write_text(f"file,valence,arousal\na.wav,7,3\nb.flac,{HUGE_CELL},8\n")
    code, _, err = run(capsys, "library", "add-folder", str(music), "--va", str(va))
    line = one_error_line(err)
    assert code == 1 and str(va) in line and "line 3" in line, line
    assert not (home / "music").exists() or not any((home / "music").iterdir())


def test_import_deam_with_a_bad_annotation_file_is_one_line(home, tmp_path, capsys):
    folder = write_deam_folder(tmp_path / "deam", [f"{i},5,,5," for i in range(1, 5)])
    annotations = folder / ANNOTATIONS / "static_annotations_averaged_songs_1_2000.csv"
    annotations.write_text(annotations.read_text() + f'5,"{HUGE_CELL}",,5,\n')
    code, _, err = run(capsys, "library", "import-deam", str(folder))
    line = one_error_line(err)
    assert code == 1 and str(annotations) in line and "line 6" in line, line
    assert not (home / "music" / "library.sqlite").exists()
    code, _, err = run(
        capsys, "analyze", "--demo", "--quiet", "--library", str(folder), "--out", str(tmp_path / "r.json")
    )
    line = one_error_line(err)
    assert code == 1 and str(annotations) in line and "line 6" in line, line
    assert not (tmp_path / "r.json").exists()


def test_a_missing_annotation_column_names_the_file_and_the_column(home, tmp_path, capsys):
    folder = write_deam_folder(tmp_path / "deam", [f"{i},5,,5," for i in range(1, 5)])
    annotations = folder / ANNOTATIONS / "static_annotations_averaged_songs_1_2000.csv"
    annotations.write_text("song_id, valence_avg, arousal_mean\n1,5,5\n2,4,4\n")
    code, _, err = run(capsys, "library", "import-deam", str(folder))
    line = one_error_line(err)
    assert code == 1 and str(annotations) in line and "valence_mean" in line and "column" in line, line


def test_bad_deam_metadata_is_left_out_with_one_warning(home, tmp_path, capsys, caplog):
    """Titles are a nicety: a metadata file that does not parse is named once and the songs import."""
    folder = write_deam_folder(tmp_path / "deam", [f"{i},{1 + i % 9},,{1 + (i * 4) % 9}," for i in range(1, 13)])
    metadata = folder / "metadata" / "metadata_2013.csv"
    metadata.write_text(f"song_id,Artist\n1,{HUGE_CELL}\n")
    code, out, err = run(capsys, "library", "import-deam", str(folder))
    assert code == 0 and "imported 12 songs" in out and "Traceback" not in err
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert len(warnings) == 1 and str(metadata) in warnings[0] and "line 2" in warnings[0], warnings


HOLDER = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    sys.stdin.readline()
    conn.execute("INSERT INTO plays (played_at, song_id) VALUES (1.0, 'other-writer')")
    conn.execute("COMMIT")
    conn.close()
    print("committed", flush=True)
    """
)


def test_a_failed_import_never_deletes_an_index_another_process_writes(home, tmp_path, capsys, monkeypatch):
    """The import creates the index, another process takes the write lock, the import gives up after the
    busy timeout: the index (and the other process's commit into it) must stay."""
    index_path = tmp_path / "new" / "library.sqlite"
    folder = write_deam_folder(tmp_path / "deam", [f"{i},5,,5," for i in range(1, 5)])
    holder: list[subprocess.Popen] = []
    original = RatedImporter.import_deam

    def import_while_another_writes(self, *args, **kwargs):
        # The file exists now (this command made it); a second process opens it and holds the write lock.
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(self.index.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        holder.append(process)
        assert process.stdout.readline().strip() == "locked"
        self.index._conn.execute("PRAGMA busy_timeout = 200")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RatedImporter, "import_deam", import_while_another_writes)
    try:
        code, _, err = run(capsys, "library", "import-deam", str(folder), "--index", str(index_path))
        line = one_error_line(err)
        assert code == 1 and str(index_path) in line and "nothing was changed" in line, line
    finally:
        process = holder[0]
        out, _ = process.communicate("go\n", timeout=30)
    assert process.returncode == 0 and "committed" in out
    assert index_path.exists()
    with sqlite3.connect(index_path) as conn:
        assert conn.execute("SELECT song_id FROM plays").fetchall() == [("other-writer",)]


@pytest.mark.parametrize("action", ["import-deam", "add-folder", "list", "stats", "check", "history"])
def test_an_empty_file_at_the_index_path_is_reported_and_kept(home, tmp_path, capsys, action):
    index_path = tmp_path / "library.sqlite"
    index_path.write_bytes(b"")
    music = _music(tmp_path)
    va = tmp_path / "va.csv"
    va.write_text("file,valence,arousal\na.wav,7,3\n")
    folder = write_deam_folder(tmp_path / "deam", [f"{i},5,,5," for i in range(1, 5)])
    extra = {"import-deam": [str(folder)], "add-folder": [str(music), "--va", str(va)]}.get(action, [])
    code, _, err = run(capsys, "library", action, *extra, "--index", str(index_path))
    line = one_error_line(err)
    assert code == 1 and str(index_path) in line and "empty file" in line and "left as it is" in line, line
    assert index_path.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("library")) == ["library.sqlite"]


def test_check_lists_what_broke_now_before_older_problems(home, tmp_path, capsys):
    """With more old problems than the listing shows, a song that broke since the last check is still the
    first one listed, and marked."""
    music = tmp_path / "many"
    names = [f"song{k:02d}.wav" for k in range(30)]
    for k, name in enumerate(names):
        write_audio(music / name, seconds=0.05, freq=200.0 + 10 * k)
    va = tmp_path / "va.csv"
    va.write_text(
        "file,valence,arousal\n" + "".join(f"{name},{1 + k % 9},{1 + (k * 5) % 9}\n" for k, name in enumerate(names))
    )
    assert run(capsys, "library", "add-folder", str(music), "--va", str(va))[0] == 0
    for name in names[:25]:  # old problems: broken before the first check
        (music / name).write_bytes(b"gone bad")
    code, out, _ = run(capsys, "library", "check")
    assert code == 0 and "25 newly broken" in out
    (music / names[-1]).write_bytes(b"broke since the last check")
    code, out, _ = run(capsys, "library", "check")
    assert code == 0 and "26 do not (1 newly broken" in out
    listed = [line for line in out.splitlines() if line.startswith("  song ")]
    assert len(listed) == LIST_LIMIT
    assert names[-1] in listed[0] and "[new]" in listed[0], listed[0]
    assert not any("[new]" in line for line in listed[1:])
