"""A DEAM folder given to play from directly (``load_library(folder)``) is checked as an import checks it:
one check, one message, for a folder whose rows are all unusable."""

from __future__ import annotations

import pytest

from moodsic_desktop.audio.library.sources import ANNOTATION_FILES, ANNOTATIONS_DIR, read_deam
from moodsic_desktop.session.assembly import load_library


def deam_folder(tmp_path, rows: str):
    annotations = tmp_path / "deam" / ANNOTATIONS_DIR
    annotations.mkdir(parents=True)
    (annotations / ANNOTATION_FILES[0]).write_text("song_id, valence_mean, arousal_mean\n" + rows)
    return tmp_path / "deam"


def test_a_folder_without_a_usable_song_is_refused_as_the_import_refuses_it(tmp_path):
    folder = deam_folder(tmp_path, "2,x,5\n3,,4\n4,nan,5\n")
    with pytest.raises(ValueError) as playing:
        load_library(folder)
    with pytest.raises(ValueError) as importing:
        read_deam(folder)
    assert str(playing.value) == f"no usable song in the DEAM folder {folder} (3 bad rows)"
    assert str(importing.value) == str(playing.value)


def test_a_folder_with_songs_plays_them_and_counts_the_bad_rows(tmp_path):
    folder = deam_folder(
        tmp_path, "2,7,3\n3,x,4\n" + "".join(f"{n},{n % 9 + 1},{(n * 5) % 9 + 1}\n" for n in range(4, 24))
    )
    library = load_library(folder, n_stations=2)
    assert len(library.songs) == 21 and library.skipped_rows == 1
    assert library.origin == f"DEAM folder {folder}"
