"""``moodsic library …`` on a fresh install (no index file) and with few songs: every command says what the
window and ``moodsic analyze`` really play: the built-in station, or the index's songs with or without
stations."""

from __future__ import annotations

import pytest

from moodsic_desktop.audio.builtin import cache as builtin_cache
from moodsic_desktop.audio.builtin.catalogue import builtin_songs
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.core.stations import fit_station_model, songs_for_stations
from moodsic_desktop.session.assembly import EngineSettings, build_pipeline, load_library
from tests.cli.cli_helpers import one_error_line, run
from tests.library_files import require_mp3, write_audio


@pytest.fixture
def no_synthesis(monkeypatch):
    """The built-in pieces without their audio (synthesising them is tested in tests/audio)."""
    monkeypatch.setattr(builtin_cache, "ensure_builtin_audio", builtin_songs)


def test_stats_list_and_history_show_the_built_in_station_and_make_no_index(home, capsys):
    index = home / "music" / "library.sqlite"
    code, out, err = run(capsys, "library", "stats")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"no library index at {index} yet: no songs added, no plays recorded, nothing banned"
    assert lines[1] == "what plays: the built-in station, 12 pieces made by Moodsic, in 5 stations:"
    assert len([line for line in lines if line.startswith("  ") and ": centre V " in line]) == 5
    assert "moodsic library add-folder FOLDER" in lines[-1]
    assert f"stations need at least {songs_for_stations()} songs with distinct mood points" in lines[-1]

    code, out, err = run(capsys, "library", "list")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"no library index at {index} yet: the built-in station plays"
    pieces = builtin_songs()
    for song in pieces:
        (row,) = [line for line in lines if line.startswith(f"{song.song_id} ")]
        assert song.title in row and "built-in" in row and "[banned]" not in row
    assert lines[-1].startswith(f"{len(pieces)} built-in pieces; add your music")

    code, out, err = run(capsys, "library", "history")
    assert code == 0, err
    assert out.startswith(f"no plays recorded: there is no library index at {index} yet")
    code, out, _ = run(capsys, "library", "unban", "builtin-03")
    assert code == 0 and "was not banned; nothing changed" in out
    assert not index.exists()


def test_an_unknown_song_cannot_be_banned_on_a_fresh_install(home, capsys):
    code, out, err = run(capsys, "library", "ban", "nope")
    line = one_error_line(err)
    assert code == 1 and out == ""
    assert line.startswith("moodsic library ban: error: no song 'nope': there is no library index at ")
    assert "`moodsic library list` shows its pieces" in line
    assert not (home / "music" / "library.sqlite").exists()


def test_a_built_in_piece_banned_on_a_fresh_install_is_kept_and_honoured(home, capsys, no_synthesis):
    index = home / "music" / "library.sqlite"
    code, out, err = run(capsys, "library", "ban", "builtin-03")
    assert code == 0, err
    assert out.startswith("banned builtin-03 (Quiet Hours (built-in) — Moodsic built-in station)")
    assert f"bans are kept in the library index, so {index} was made to keep it" in out
    with LibraryIndex(index, create=False) as opened:
        assert opened.banned_ids() == {"builtin-03"} and opened.songs(playable_only=False) == []
    code, out, _ = run(capsys, "library", "list")
    assert "[banned]" in next(line for line in out.splitlines() if line.startswith("builtin-03 "))
    assert sum("[banned]" in line for line in out.splitlines()) == 1
    code, out, _ = run(capsys, "library", "stats")
    assert "banned: 1" in out and "what plays: the built-in station (12 pieces" in out

    # what the window and `moodsic analyze` play from: the built-in station, without the banned piece
    library = load_library(None)
    assert library.origin == "built-in station" and library.banned == {"builtin-03"}
    matcher = build_pipeline(library, EngineSettings()).matcher
    assert matcher.is_banned("builtin-03")
    quiet_hours = next(song for song in library.songs if song.song_id == "builtin-03")
    assert matcher.recommend(quiet_hours.valence, quiet_hours.arousal, 0.0).song.song_id != "builtin-03"

    code, out, _ = run(capsys, "library", "unban", "builtin-03")
    assert code == 0 and "builtin-03 may play again" in out
    assert load_library(None).banned == frozenset()


def test_a_few_songs_play_without_stations_and_the_commands_say_so(home, tmp_path, capsys, no_synthesis):
    require_mp3()
    music = tmp_path / "music"
    names = ("calm.flac", "happy.mp3", "sad.ogg", "busy.wav")
    for name in names:
        write_audio(music / name)
    table = tmp_path / "va.csv"
    table.write_text("file,valence,arousal\ncalm.flac,6,2\nhappy.mp3,8,7\nsad.ogg,2,3\nbusy.wav,5,8\n")
    need = songs_for_stations()
    truth = (
        "what plays: 4 playable songs of this index (they play in the window and in analyze); stations need at "
        f"least {need} songs with distinct mood points (here 4): until then the music is chosen from all of them, "
        "without stations"
    )
    code, out, err = run(capsys, "library", "add-folder", str(music), "--va", str(table))
    assert code == 0, err
    assert truth in out.splitlines() and "built-in station plays" not in out
    code, out, _ = run(capsys, "library", "stats")
    assert truth in out.splitlines() and "built-in station" not in out

    library = load_library(None)  # what the window and analyze do with these songs
    assert sorted(song.path.name for song in library.songs) == sorted(names)
    assert library.stations is None and fit_station_model(library.songs) is None
