"""A library index whose stored records (its ``meta`` rows) are not JSON: the built-in station plays, the
window says so in a banner and ``moodsic analyze`` goes on with the built-in station; the index file is
left exactly as it was."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from moodsic_desktop.audio.library.importers import RatedImporter
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.session.assembly import BUILTIN_ORIGIN, load_library
from tests.ui.conftest import write_mood_video

DAMAGE = {
    "station_settings": "{ not json",
    "station_model": "not json at all",
    "station_settings ": "[" * 50_000,  # nested too deeply (the key's space is stripped below)
    "station_settings  ": '{"n_stations": "five"}',
}


@pytest.fixture(scope="module")
def builtin_audio() -> Path:
    """The built-in station's synthesised audio in the session's MOODSIC_HOME (made once: seconds)."""
    from moodsic_desktop import paths
    from moodsic_desktop.audio.builtin.cache import ensure_builtin_audio

    ensure_builtin_audio()
    return paths.music_dir() / "builtin"


@pytest.fixture
def damaged_index(tmp_path, monkeypatch, playable_library, builtin_audio, request) -> tuple[Path, bytes]:
    """``music/library.sqlite`` of a fresh MOODSIC_HOME with playable songs and one damaged meta row (the
    built-in station's audio copied in, so that it is not synthesised again)."""
    monkeypatch.setenv("MOODSIC_HOME", str(tmp_path / "app"))
    path = tmp_path / "app" / "music" / "library.sqlite"
    shutil.copytree(builtin_audio, path.parent / "builtin")
    with LibraryIndex(path, create=True) as index:
        RatedImporter(index).import_deam(playable_library)
    key = request.param.strip()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = ? WHERE key = ?", (DAMAGE[request.param], key))
    connection.close()
    return path, path.read_bytes()


@pytest.mark.parametrize("damaged_index", DAMAGE, indirect=True)
def test_a_damaged_record_plays_the_builtin_station_and_says_why(damaged_index):
    path, before = damaged_index
    library = load_library(None)
    assert library.origin == BUILTIN_ORIGIN
    assert str(path) in library.problem and "damaged" in library.problem
    assert path.read_bytes() == before


@pytest.mark.parametrize("damaged_index", ["station_settings"], indirect=True)
def test_analyze_goes_on_with_the_builtin_station(damaged_index, tmp_path, capsys):
    from moodsic_desktop.cli.main import main

    path, before = damaged_index
    video = write_mood_video(tmp_path / "shop.mp4", seconds_per_mood=1.0)
    out = tmp_path / "report.json"
    assert main(["analyze", str(video), "--out", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "damaged" in err and str(path) in err and "Traceback" not in err
    assert json.loads(out.read_text())["settings"]["library"] == BUILTIN_ORIGIN
    assert path.read_bytes() == before


@pytest.mark.parametrize("damaged_index", ["station_model"], indirect=True)
def test_the_window_starts_and_shows_the_damage_in_a_banner(damaged_index, qtbot):
    from moodsic_desktop.audio.output import NullBackend
    from moodsic_desktop.ui.app import create_window

    path, before = damaged_index
    window = create_window(None, None, backend=NullBackend(), close_fade_s=0.05)
    try:
        text = window.banners.text("library")
        assert text is not None and "damaged" in text and str(path) in text
    finally:
        window.close()
        qtbot.waitUntil(lambda: window.closed_down, timeout=20_000)
        window.deleteLater()
    assert path.read_bytes() == before


@pytest.mark.parametrize("damaged_index", ["station_settings"], indirect=True)
def test_the_self_test_names_the_damage_in_its_library_line(damaged_index):
    from moodsic_desktop.cli import self_test as selftest

    path, before = damaged_index
    run = selftest._Run(library_folder=None, scratch=Path("."), audio_backend=None)
    line = selftest._stage_library(run)
    assert line.startswith(BUILTIN_ORIGIN) and "damaged" in line and str(path) in line
    assert path.read_bytes() == before


@pytest.mark.parametrize("damaged_index", ["station_settings", "station_model"], indirect=True)
def test_library_check_writes_a_damaged_record_again(damaged_index, capsys):
    from moodsic_desktop.cli.main import main

    path, _ = damaged_index
    assert main(["library", "check", "--quiet"]) == 0
    assert "station model refitted" in capsys.readouterr().out
    library = load_library(None)
    assert library.origin == f"library index {path}" and library.problem is None


@pytest.mark.parametrize("damaged_index", ["station_model"], indirect=True)
def test_library_stats_names_the_damage_in_one_line(damaged_index, capsys):
    from moodsic_desktop.cli.main import main

    path, before = damaged_index
    assert main(["library", "stats"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "damaged" in err[0] and str(path) in err[0]
    assert path.read_bytes() == before
