"""``moodsic library import-deam / add-folder / list / stats / check``: what they print, the index they
leave, and one clear line on stderr with exit status 1 for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.cli.main import main
from tests.cli.cli_helpers import one_error_line, run
from tests.conftest import write_deam_folder
from tests.library_files import add_deam_audio, copy_deam_layout, require_mp3, write_audio

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_deam(tmp_path) -> Path:
    """Ten annotated songs (one bad row), audio for 1..6 (6 is garbage), none for 7..10."""
    require_mp3()
    rows = [f"{i},{1 + (i * 7) % 9},,{1 + (i * 4) % 9},," for i in range(1, 11)] + ["11,abc,,5,"]
    folder = write_deam_folder(tmp_path / "deam", rows)
    add_deam_audio(folder, [str(i) for i in range(1, 6)])
    (folder / "MEMD_audio" / "6.mp3").write_bytes(b"ID3 not really an mp3")
    return folder


def test_import_deam_reports_and_reimports(home, small_deam, capsys, tmp_path):
    code, out, err = run(capsys, "library", "import-deam", str(small_deam), "--report", str(tmp_path / "r.json"))
    assert code == 0, err
    assert "imported 10 songs from the DEAM folder" in out
    assert "10 new, 0 updated, 0 unchanged; 5 playable, 5 kept out of playback" in out
    assert "song 6 (" in out and "unreadable" in out
    assert "song 7 (" in out and "file not found" in out
    assert "skipped rows (not imported) (1):" in out and "line 12" in out
    assert "station model" not in out and "built-in" not in out  # 5 songs play, without stations
    assert "what plays: 5 playable songs of this index (they play in the window and in analyze); stations need" in out
    assert str(home / "music" / "library.sqlite") in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["imported"] == 10 and len(report["not_playable"]) == 5 and len(report["skipped"]) == 1
    code, out, _ = run(capsys, "library", "import-deam", str(small_deam))
    assert code == 0 and "0 new, 0 updated, 10 unchanged" in out
    with LibraryIndex(home / "music" / "library.sqlite", create=False) as index:
        assert len(index.songs(playable_only=False)) == 10 and len(index.songs()) == 5


def test_the_fixture_library_imports_through_the_cli(home, deam_fixture, tmp_path, capsys):
    folder = copy_deam_layout(deam_fixture, tmp_path / "DEAM")
    add_deam_audio(folder, ["2", "3", "4", "5", "7", "8", "10", "12", "13", "17", "18", "19"])
    index = tmp_path / "elsewhere" / "index.sqlite"
    code, out, err = run(capsys, "library", "import-deam", str(folder), "--index", str(index), "--quiet")
    assert code == 0, err
    assert "imported 1802 songs" in out and "12 playable, 1790 kept out of playback" in out
    assert "… and 1770 more" in out and "station model: 5 stations (refitted)" in out
    code, out, _ = run(capsys, "library", "stats", "--index", str(index))
    assert code == 0 and "songs: 1802 (1802 deam); playable: 12; not playable: 1790" in out
    assert "what plays: 12 playable songs of this index (they play in the window and in analyze), in 5 stations:" in out
    code, out, _ = run(capsys, "library", "list", "--index", str(index))
    assert code == 0 and out.splitlines()[-1] == "12 songs"


def test_add_folder_list_stats_and_check(home, tmp_path, capsys):
    require_mp3()
    music = tmp_path / "music"
    for name in ("calm.flac", "happy.mp3", "sad.ogg", "busy.wav"):
        write_audio(music / name)
    csv = tmp_path / "va.csv"
    csv.write_text(
        "file,valence,arousal,title,artist\n"
        "calm.flac,6,2,Calm Water,Ann\n"
        "happy.mp3,8.5,7,,\n"
        "sad.ogg,2,3,,\n"
        "busy.wav,5,8.5,,\n"
        "gone.mp3,5,5,,\n"
        "happy.mp3,0,5,,\n"
    )
    code, out, err = run(capsys, "library", "add-folder", str(music), "--va", str(csv))
    assert code == 0, err
    assert "imported 4 songs from the folder" in out and "4 playable, 0 kept out of playback" in out
    assert "skipped rows (not imported) (2):" in out
    assert "va.csv line 6: gone.mp3: file not found" in out
    assert "va.csv line 7: happy.mp3: valence 0 is outside the deam scale [1, 9]" in out

    code, out, _ = run(capsys, "library", "list")
    assert code == 0
    assert "Calm Water — Ann" in out and " 0.250  -0.750" in out and out.splitlines()[-1] == "4 songs"

    (music / "sad.ogg").write_bytes(b"OggS" + bytes(100))
    code, out, _ = run(capsys, "library", "check")
    assert code == 0
    assert "checked 4 songs: 3 play, 1 do not (1 newly broken, 0 restored)" in out
    assert "sad.ogg" in out
    code, out, _ = run(capsys, "library", "list")
    assert out.splitlines()[-1] == "3 songs" and "sad" not in out
    code, out, _ = run(capsys, "library", "list", "--all")
    assert out.splitlines()[-1] == "4 songs, 3 playable" and "[not playable:" in out
    code, out, _ = run(capsys, "library", "stats")
    assert "songs: 4 (4 folder); playable: 3; not playable: 1" in out
    assert "what plays: 3 playable songs of this index" in out and "(here 3)" in out

    ref = tmp_path / "ref.csv"
    ref.write_text("file,valence,arousal\nsad.ogg,-0.5,-0.5\nbusy.wav,0.1,2\n")
    code, out, _ = run(capsys, "library", "add-folder", str(music), "--va", str(ref), "--scale", "reference")
    assert code == 0 and "0 new, 1 updated" in out and "outside the reference scale [-1, 1]" in out


def test_bad_input_is_one_line_and_exit_1(home, tmp_path, capsys):
    cases = [
        (["library", "import-deam", str(tmp_path / "nowhere")], "nowhere"),
        (["library", "import-deam", str(tmp_path)], "DEAM annotations not found"),
        (["library", "add-folder", str(tmp_path), "--va", str(tmp_path / "va.csv")], "V-A table not found"),
        (["library", "add-folder", str(tmp_path / "nope"), "--va", str(tmp_path)], "nope"),
        (["library", "check"], "import songs first"),
        (["library", "learn-moods", "--index", str(tmp_path / "x.sqlite")], "x.sqlite"),
    ]
    for args, expected in cases:
        code, _, err = run(capsys, *args)
        line = one_error_line(err)
        assert code == 1 and expected in line and line.startswith(f"moodsic library {args[1]}: error:"), line
    assert not (home / "music" / "library.sqlite").exists()


def test_a_damaged_index_is_named_and_kept(home, tmp_path, small_deam, capsys):
    index = tmp_path / "broken.sqlite"
    index.write_bytes(b"\x00garbage" * 512)
    for args in (["import-deam", str(small_deam)], ["list"], ["stats"], ["check"]):
        code, _, err = run(capsys, "library", *args, "--index", str(index))
        line = one_error_line(err)
        assert code == 1 and str(index) in line and "left as it is" in line
    assert index.read_bytes() == b"\x00garbage" * 512


def test_the_installed_command(home, small_deam, tmp_path):
    """The real entry point: exit status, stdout and one stderr line, as a user sees them."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "moodsic_desktop", "library"]
    ok = subprocess.run(
        [*command, "import-deam", str(small_deam)], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert ok.returncode == 0 and "imported 10 songs" in ok.stdout
    bad = subprocess.run(
        [*command, "add-folder", str(tmp_path), "--va", "missing.csv"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert bad.returncode == 1 and "missing.csv" in one_error_line(bad.stderr)


def test_a_bad_option_is_a_usage_error(home, tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["library", "add-folder", str(tmp_path), "--va", "x.csv", "--scale", "percent"])
    assert exited.value.code == 2 and "invalid choice: 'percent'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["library", "add-folder", str(tmp_path), "--workers", "0"])
    assert "--workers" in capsys.readouterr().err


def test_history_ban_and_unban(home, small_deam, capsys):
    assert run(capsys, "library", "import-deam", str(small_deam))[0] == 0
    code, out, _ = run(capsys, "library", "history")
    assert code == 0 and out.startswith("no plays recorded in")
    with LibraryIndex() as index:
        index.record_play("3", when=1_700_000_000.0)
        index.record_play("builtin-02", when=1_700_000_060.0)
        index.record_play("2", when=1_700_000_120.0)
    code, out, _ = run(capsys, "library", "history", "-n", "2")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert " 2 " in lines[0] and "Title 2" in lines[0]  # newest first
    assert "builtin-02" in lines[1] and "(built-in)" in lines[1]

    with pytest.raises(SystemExit) as usage:  # a usage error, not "no plays"
        main(["library", "history", "-n", "0"])
    assert usage.value.code == 2 and "argument -n/--last: must be >= 1, got 0" in capsys.readouterr().err
    code, out, _ = run(capsys, "library", "ban", "4")
    assert code == 0 and "banned 4" in out and "unban 4" in out
    code, out, _ = run(capsys, "library", "list")
    assert "[banned]" in next(line for line in out.splitlines() if line.startswith("4 "))
    code, out, err = run(capsys, "library", "ban", "nope")
    assert code == 1 and "no song 'nope'" in one_error_line(err)
    code, out, _ = run(capsys, "library", "unban", "4")
    assert code == 0 and "4 may play again" in out
    code, out, _ = run(capsys, "library", "unban", "4")
    assert code == 0 and "was not banned" in out
    with LibraryIndex() as index:
        assert index.banned_ids() == set()
        assert [play.song_id for play in index.recent_plays(10)] == ["2", "builtin-02", "3"]  # history untouched


@pytest.mark.parametrize("count", ["99999999999999999999", str(2**63), str(10**400)])
def test_history_with_a_huge_count_shows_every_play(home, small_deam, capsys, count):
    assert run(capsys, "library", "import-deam", str(small_deam))[0] == 0
    with LibraryIndex() as index:
        index.record_play("3", when=1_700_000_000.0)
        index.record_play("2", when=1_700_000_060.0)
    code, out, err = run(capsys, "library", "history", "-n", count)
    assert code == 0 and "Traceback" not in err
    assert len(out.splitlines()) == 2
