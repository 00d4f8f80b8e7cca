"""Reading a DEAM folder (``sources.read_deam``, the one reader): songs in reference space, metadata,
audio paths, bad rows counted, clear errors."""

from pathlib import Path

import pytest

from moodsic_desktop.audio.library.sources import read_deam
from tests.conftest import write_deam_folder


def test_own_deam_folder(tmp_path):
    folder = write_deam_folder(
        tmp_path,
        ["1,5,,5,", "2, 9 ,1.2, 1 ,0.5", "3,7,,3,"],
        rows_2015=["2001,3,,7,,x"],
        audio_ids=["2"],
    )
    songs = {s.song_id: s for s in read_deam(folder).songs}
    assert set(songs) == {"1", "2", "3", "2001"}
    assert (songs["1"].valence, songs["1"].arousal) == (0.0, 0.0)
    assert (songs["2"].valence, songs["2"].arousal) == (1.0, -1.0)
    assert (songs["3"].valence, songs["3"].arousal) == (0.5, -0.5)
    assert (songs["2001"].valence, songs["2001"].arousal) == (-0.5, 0.5)
    assert (songs["2"].title, songs["2"].artist, songs["2"].genre) == ("Title 2", "Artist 2", "genre2")
    assert (songs["2001"].title, songs["2001"].artist, songs["2001"].genre) == ("Late", "Band", "rock")
    assert songs["2"].path == folder / "MEMD_audio" / "2.mp3"
    assert songs["1"].path is None


def test_bad_rows_are_skipped_and_counted(tmp_path):
    folder = write_deam_folder(tmp_path, ["1,5,,5,", "2,abc,,5,", "3,,,4,", "4,12,,5,", "1,6,,6,", "5,4,,4,"])
    result = read_deam(folder)
    assert [s.song_id for s in result.songs] == ["1", "5"]
    assert result.skipped_rows == 4
    assert len(result.problems) == 4
    assert any("duplicate" in p for p in result.problems)


def test_a_folder_without_a_usable_song_is_refused_with_the_count_of_bad_rows(tmp_path):
    folder = write_deam_folder(tmp_path, ["1,abc,,5,", "2,12,,5,"])
    with pytest.raises(ValueError, match=r"no usable song in the DEAM folder .*\(2 bad rows\)"):
        read_deam(folder)


def test_missing_annotations_is_a_clear_error(tmp_path):
    (tmp_path / "metadata").mkdir()
    with pytest.raises(FileNotFoundError, match=r"static_annotations_averaged_songs_1_2000\.csv"):
        read_deam(tmp_path)
    with pytest.raises(FileNotFoundError, match="not found"):
        read_deam(tmp_path / "nowhere")


def test_metadata_is_optional(tmp_path):
    folder = write_deam_folder(tmp_path, ["7,5,,5,"])
    for path in (folder / "metadata").iterdir():
        path.unlink()
    (song,) = read_deam(folder).songs
    assert (song.song_id, song.title, song.artist) == ("7", "", "")
    assert song.display_name == "Song 7"


def test_real_fixture_annotations(deam_fixture: Path):
    result = read_deam(deam_fixture)
    songs = {s.song_id: s for s in result.songs}
    assert len(songs) == 1802 and result.skipped_rows == 0
    # first rows of both real files: (3.1, 3) and (3.2, 6.6) on 1..9
    assert songs["2"].valence == pytest.approx((3.1 - 5) / 4) and songs["2"].arousal == pytest.approx(-0.5)
    assert songs["2001"].valence == pytest.approx(-0.45) and songs["2001"].arousal == pytest.approx(0.4)
    assert all(-1 <= s.valence <= 1 and -1 <= s.arousal <= 1 for s in songs.values())
    assert songs["2"].title == "Tonight  A Lonely Century" and songs["2"].genre == "blues/soul"
    assert songs["1001"].title == "Weatherman" and songs["1001"].artist == "The Rope River Blues Band"
    assert songs["2001"].title == "Old Tree" and songs["2001"].artist == "Creepoid"
    assert sum(1 for s in songs.values() if s.title) == 1802
    assert all(s.path is None for s in songs.values())  # the fixture has no audio
