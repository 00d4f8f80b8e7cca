"""DEAM's CSV files as other tools write them: CR-only line endings (old Mac), CRLF, UTF-16 with BOM."""

from __future__ import annotations

import logging

import pytest

from moodsic_desktop.audio.library.sources import ANNOTATION_FILES, ANNOTATIONS_DIR, METADATA_DIR, TableError, read_deam
from moodsic_desktop.regular_files import NotARegularFileError
from tests.special_files import fifo_that_cannot_hang


def write_deam(root, annotations: bytes, metadata: bytes):
    (root / ANNOTATIONS_DIR).mkdir(parents=True)
    (root / ANNOTATIONS_DIR / ANNOTATION_FILES[0]).write_bytes(annotations)
    (root / METADATA_DIR).mkdir()
    (root / METADATA_DIR / "metadata_2013.csv").write_bytes(metadata)
    return root


@pytest.mark.parametrize(
    ("ending", "encoding"), [("\r", "utf-8"), ("\r\n", "utf-8"), ("\n", "utf-16"), ("\r", "utf-16"), ("\r", "latin-1")]
)
def test_line_endings_and_encodings(tmp_path, ending, encoding):
    annotations = ending.join(["song_id, valence_mean, valence_std, arousal_mean", "7, 9, 1, 1", "8, 1, 1, 9", ""])
    metadata = ending.join(["song_id,Artist,Song title", '7,Zoë,"Two' + ending + 'lines"', "8,Band,Plain", ""])
    folder = write_deam(tmp_path, annotations.encode(encoding), metadata.encode(encoding))
    songs = {song.song_id: song for song in read_deam(folder).songs}
    assert (songs["7"].valence, songs["7"].arousal, songs["8"].valence, songs["8"].arousal) == (1.0, -1.0, -1.0, 1.0)
    assert songs["7"].artist == "Zoë" and songs["7"].title == f"Two{ending}lines" and songs["8"].title == "Plain"


def test_a_missing_column_is_named_with_the_file(tmp_path):
    folder = write_deam(tmp_path, b"song_id,valence_mean\r1,5\r", b"song_id\n")
    with pytest.raises(TableError, match=r"static_annotations.*lacks the column\(s\) arousal_mean"):
        read_deam(folder)


def test_a_metadata_file_that_is_a_fifo_is_left_out_without_waiting(tmp_path, caplog):
    folder = write_deam(tmp_path, b"song_id,valence_mean,arousal_mean\n7,9,1\n", b"song_id,Song title\n7,Plain\n")
    with fifo_that_cannot_hang(folder / METADATA_DIR / "metadata_2014.csv"), caplog.at_level(logging.WARNING):
        songs = read_deam(folder).songs
    assert [(song.song_id, song.title) for song in songs] == [("7", "Plain")]
    assert "metadata_2014.csv is a named pipe (FIFO), not a regular file" in caplog.text


def test_an_annotation_file_that_is_a_fifo_is_named(tmp_path):
    folder = write_deam(tmp_path, b"song_id,valence_mean,arousal_mean\n7,9,1\n", b"song_id\n")
    (folder / ANNOTATIONS_DIR / ANNOTATION_FILES[0]).unlink()
    fifo = folder / ANNOTATIONS_DIR / ANNOTATION_FILES[0]
    with fifo_that_cannot_hang(fifo), pytest.raises(NotARegularFileError, match=r"static_annota.*named pipe \(FIFO\)"):
        read_deam(folder)
