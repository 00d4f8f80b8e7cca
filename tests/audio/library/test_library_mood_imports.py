"""The library index with moods estimated from the audio: an import without a V-A
table, the feature cache, bad files, interrupted imports, rated points that win, owner placements and
learning the mapping."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from moodsic_desktop.audio.library.importers import RatedImporter
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.mood_estimation import DEFAULT_SIGMA, MIN_LABELLED_SONGS
from moodsic_desktop.audio.library.mood_imports import MoodImporter
from moodsic_desktop.core.song import SongMood
from tests.mood_music import write_labelled_library, write_song

CORNERS = {"calm_sad": (-0.8, -0.8), "lively_sad": (-0.8, 0.8), "calm_happy": (0.8, -0.8), "lively_happy": (0.8, 0.8)}


def everything(index: LibraryIndex) -> dict[str, list[tuple]]:
    """Every row of every table, timestamps included: to show that nothing changed."""
    tables = [row[0] for row in index._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {table: sorted(index._conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr) for table in tables}


@pytest.fixture(scope="module")
def own_folder(tmp_path_factory) -> Path:
    """An owner's folder: four generated songs at the corners of the mood plane (one in a sub-folder,
    one MP3-free format each), a silent file, a file that is not audio and a text file."""
    folder = tmp_path_factory.mktemp("own") / "My Music"
    for i, (name, (v, a)) in enumerate(CORNERS.items()):
        suffix = (".wav", ".flac", ".ogg", ".flac")[i]
        write_song(folder / ("albums" if i == 3 else "") / f"{name}{suffix}", v, a, seconds=12, seed=i)
    sf.write(str(folder / "silence.wav"), np.zeros(22050 * 4, np.float32), 22050)
    (folder / "broken.flac").write_bytes(b"fLaC and then nothing useful" * 20)
    (folder / "notes.txt").write_text("not music")
    return folder


@pytest.fixture
def index(tmp_path) -> LibraryIndex:
    with LibraryIndex(tmp_path / "library.sqlite") as opened:
        yield opened


def by_title(index: LibraryIndex) -> dict:
    """Entries by file name without its suffix (the title, with "_" for the spaces the import puts in)."""
    return {entry.song.title.replace(" ", "_"): entry for entry in index.entries(playable_only=False)}


def test_a_folder_without_a_table_gets_estimated_moods_in_the_right_order(own_folder, index):
    report = MoodImporter(index).add_folder_estimated(own_folder, workers=1)
    assert (report.new, report.estimated, report.analysed, report.from_cache, report.method) == (4, 4, 6, 0, "default")
    reasons = {Path(problem.where).name: problem.reason for problem in report.skipped}
    assert set(reasons) == {"silence.wav", "broken.flac"}
    assert "silent" in reasons["silence.wav"] and "unreadable" in reasons["broken.flac"]
    songs = {title: entry.song for title, entry in by_title(index).items()}
    assert set(songs) == set(CORNERS)
    assert all(
        s.mood == SongMood(s.valence, s.arousal, "estimated", DEFAULT_SIGMA**2, DEFAULT_SIGMA**2)
        for s in songs.values()
    )
    for calm, lively in (("calm_sad", "lively_sad"), ("calm_happy", "lively_happy")):
        assert songs[calm].arousal < songs[lively].arousal
    for sad, happy in (("calm_sad", "calm_happy"), ("lively_sad", "lively_happy")):
        assert songs[sad].valence < songs[happy].valence
    assert index.stats()["moods"] == {"placed": 0, "estimated": 4}


def test_a_second_import_comes_from_the_cache_and_a_changed_file_is_analysed_again(own_folder, index, tmp_path):
    folder = tmp_path / "copy"
    for path in own_folder.rglob("*.*"):
        (folder / path.relative_to(own_folder)).parent.mkdir(parents=True, exist_ok=True)
        (folder / path.relative_to(own_folder)).write_bytes(path.read_bytes())
    MoodImporter(index).add_folder_estimated(folder, workers=1)
    before = everything(index)
    again = MoodImporter(index).add_folder_estimated(folder, workers=1)
    assert (again.analysed, again.from_cache, again.unchanged, again.new, again.updated) == (0, 6, 4, 0, 0)
    assert len(again.skipped) == 2  # the bad files are remembered as bad, not analysed again
    assert everything(index) == before
    changed = folder / "calm_sad.wav"
    write_song(changed, 0.8, 0.8, seconds=12, seed=7)  # new content: now lively and happy
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    third = MoodImporter(index).add_folder_estimated(folder, workers=1)
    assert (third.analysed, third.from_cache, third.updated) == (1, 5, 1)
    assert by_title(index)["calm_sad"].song.arousal > by_title(index)["calm_happy"].song.arousal


def test_an_import_interrupted_while_analysing_or_writing_leaves_the_index_as_it_was(own_folder, index, monkeypatch):
    MoodImporter(index).add_folder_estimated(own_folder.parent / "My Music" / "albums", workers=1)
    before = everything(index)

    def interrupt(done: int, total: int) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        MoodImporter(index).add_folder_estimated(own_folder, progress=interrupt, workers=1)
    assert everything(index) == before

    real_upsert = LibraryIndex.upsert
    calls = []

    def failing_upsert(self, row, existing, report):
        calls.append(row["song_id"])
        if len(calls) == 3:
            raise RuntimeError("injected failure in the middle of writing")
        return real_upsert(self, row, existing, report)

    monkeypatch.setattr(LibraryIndex, "upsert", failing_upsert)
    with pytest.raises(RuntimeError, match="injected"):
        MoodImporter(index).add_folder_estimated(own_folder, workers=1)
    assert len(calls) == 3 and everything(index) == before


def test_a_rated_point_wins_and_a_placed_one_is_kept(own_folder, index, tmp_path):
    MoodImporter(index).add_folder_estimated(own_folder, workers=1)
    table = tmp_path / "va.csv"
    table.write_text("file,valence,arousal\ncalm_sad.wav,2,3\n")
    RatedImporter(index).add_folder(own_folder, table)
    rated = by_title(index)["calm_sad"].song
    assert rated.mood == SongMood(-0.75, -0.5, "rated", 0.0, 0.0)
    again = MoodImporter(index).add_folder_estimated(own_folder, workers=1)
    assert again.kept_rated == 1 and by_title(index)["calm_sad"].song == rated

    lively = by_title(index)["lively_happy"].song
    index.place(lively.song_id, -0.9, 0.1)
    MoodImporter(index).add_folder_estimated(own_folder, workers=1)
    RatedImporter(index).add_folder(own_folder, table)
    placed = by_title(index)["lively_happy"].song
    assert placed.mood == SongMood(-0.9, 0.1, "placed", 0.0, 0.0)
    assert index.stats()["moods"] == {"placed": 1, "rated": 1, "estimated": 2}
    assert index.unplace(lively.song_id) is True and by_title(index)["lively_happy"].song == lively
    assert index.unplace(lively.song_id) is False
    with pytest.raises(KeyError):
        index.place("no-such-song", 0, 0)
    with pytest.raises(ValueError, match="outside"):
        index.place(lively.song_id, 1.5, 0)


def test_a_folder_without_audio_is_refused(index, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no audio files"):
        MoodImporter(index).add_folder_estimated(tmp_path / "empty")
    with pytest.raises(FileNotFoundError):
        MoodImporter(index).add_folder_estimated(tmp_path / "missing")


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("labelled")
    return folder, write_labelled_library(folder, MIN_LABELLED_SONGS + 4, seconds=8)


def test_learning_refuses_too_few_rated_songs_and_changes_nothing(labelled, index, tmp_path):
    folder, table = labelled
    lines = table.read_text().splitlines()
    short = tmp_path / "short.csv"
    short.write_text("\n".join(lines[:MIN_LABELLED_SONGS]) + "\n")  # header + one song too few
    RatedImporter(index).add_folder(folder, short, scale="reference")
    before = everything(index)
    with pytest.raises(ValueError, match=f"at least {MIN_LABELLED_SONGS}.* has {MIN_LABELLED_SONGS - 1}"):
        MoodImporter(index).learn_moods(workers=1)
    assert everything(index) == before and index.mood_model() is None


def test_learning_fits_stores_and_re_estimates(labelled, own_folder, index):
    folder, table = labelled
    RatedImporter(index).add_folder(folder, table, scale="reference")
    MoodImporter(index).add_folder_estimated(own_folder, workers=1)
    index.place(by_title(index)["calm_happy"].song.song_id, 0.0, 0.0)
    placed = by_title(index)["calm_happy"].song
    before = {title: entry.song for title, entry in by_title(index).items()}
    report = MoodImporter(index).learn_moods(workers=1)
    assert (report.labelled, report.used, report.analysed, report.reestimated) == (34, 34, 34, 4)
    model = index.mood_model()
    assert model is not None and model.n_songs == 34 and model.cv == report.model.cv
    assert model.cv["reference"]["spearman_arousal"] > 0.8
    after = {title: entry.song for title, entry in by_title(index).items()}
    for title in CORNERS:
        expected = (0.0, 0.0) if title == "calm_happy" else tuple(model.var)
        assert (after[title].mood.valence_var, after[title].mood.arousal_var) == pytest.approx(expected)
    assert after["calm_happy"] == placed and placed.mood == SongMood(0, 0, "placed")
    assert after["lively_happy"].arousal > after["calm_sad"].arousal
    assert after["lively_sad"] != before["lively_sad"]
    assert index.stats()["mood_model"]["n_songs"] == 34
    new = MoodImporter(index).add_folder_estimated(own_folder, workers=1)
    assert new.method == "learned" and new.analysed == 0 and new.unchanged == 4
    again = MoodImporter(index).learn_moods(workers=1)
    assert again.analysed == 0 and again.from_cache == 34
