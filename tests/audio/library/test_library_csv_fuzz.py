"""Generated garbage in every CSV the library reads: the V-A table of ``add-folder``, DEAM's annotation and
metadata files. Each either imports or fails with one clear message (``ValueError``, ``TableError`` among
them, naming the file, on one line: what the CLI prints); nothing else is raised, and an existing index
loses nothing: unchanged after a failure, its old songs still there after a success."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from moodsic_desktop.audio.library.importers import RatedImporter
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.sources import ANNOTATION_FILES, ANNOTATIONS_DIR, METADATA_DIR
from tests.library_files import write_audio

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TERMINATORS = st.sampled_from(["\n", "\r", "\r\n", "\n\r", ""])
DELIMITERS = st.sampled_from([",", ";", "\t", "|"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252", "utf-32"])
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-20, 20).map(str),
    st.sampled_from(["", " 5 ", "5,5", "1e400", "-0", "nan", "0x10", "5_0", "٣"]),
)
CELLS = st.one_of(
    NUMBERS,
    st.text(max_size=30),
    st.sampled_from(["a.wav", "A.WAV", "../a.wav", "/a.wav", "a.wav\x00", "", '"', '"a,b"', "x" * 300]),
    st.just("y" * 140_000),  # over the csv module's field limit
    st.sampled_from(["z" * 5000 + ".wav", "z" * 5000]),  # a file name (or song id) over any system's limit
)


def tables(columns: list[str]) -> st.SearchStrategy[bytes]:
    """Bytes of a table: sometimes raw random bytes, mostly a header (the right columns, some missing,
    shuffled or renamed) and rows of odd cells, with mixed line endings, delimiters and encodings."""

    @st.composite
    def structured(draw) -> bytes:
        header = draw(
            st.one_of(
                st.just(columns),
                st.permutations(columns),
                st.lists(st.sampled_from([*columns, "title", "junk", "", " Valence "]), max_size=6),
                st.lists(st.text(max_size=12), max_size=4),
            )
        )
        width = max(len(header), 1)
        rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=width + 1), max_size=8))
        delimiter = draw(DELIMITERS)
        lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
        text = ""
        for line in lines:
            text += line + draw(TERMINATORS)
        if draw(st.booleans()):
            text = text.replace("\n", draw(st.sampled_from(["\n", "\r", "\x00", "\u2028"])))
        return text.encode(draw(ENCODINGS), errors="replace")

    return st.one_of(st.binary(max_size=600), structured())


def dump(path: Path) -> dict[str, list]:
    """Every row of every table of the index, read through a separate connection."""
    with sqlite3.connect(path) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: sorted(map(repr, conn.execute(f"SELECT * FROM {name}"))) for name in names}


def assert_one_clear_line(error: Exception, *names: Path) -> None:
    """A ``ValueError`` whose message is one line and names one of ``names`` (the file, or its folder)."""
    message = str(error)
    assert isinstance(error, ValueError), f"{type(error).__name__}: {message[:300]}"
    assert "\n" not in message and "\r" not in message and "\x00" not in message, repr(message[:300])
    assert len(message) < 1000, message[:300]
    assert any(str(name) in message for name in names), message


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """Made once: music/ with two real WAVs and an index of them."""
    root = tmp_path_factory.mktemp("fuzz-template")
    music = root / "music"
    write_audio(music / "a.wav", seconds=0.05)
    write_audio(music / "b.wav", seconds=0.05, freq=330.0)
    good = root / "good.csv"
    good.write_text("file,valence,arousal\na.wav,2,3\nb.wav,8,7\n")
    with LibraryIndex(root / "library.sqlite") as index:
        RatedImporter(index).add_folder(music, good)
    return root


@contextmanager
def library_with_songs(template: Path):
    """A temporary folder with an index that already holds two songs from a real audio folder (a copy of
    the template, so each example starts from the same state)."""
    with tempfile.TemporaryDirectory(prefix="moodsic-fuzz-") as scratch:
        root = Path(scratch) / "lib"
        shutil.copytree(template, root)
        yield root, root / "music", root / "library.sqlite"


def deam_folder(root: Path, annotations: bytes, metadata: bytes) -> Path:
    folder = root / "deam"
    (folder / ANNOTATIONS_DIR).mkdir(parents=True)
    (folder / ANNOTATIONS_DIR / ANNOTATION_FILES[0]).write_bytes(annotations)
    (folder / METADATA_DIR).mkdir()
    (folder / METADATA_DIR / "metadata_2013.csv").write_bytes(metadata)
    return folder


def import_checked(index_path: Path, do_import, *names: Path):
    """Run ``do_import(index)``; on failure check the message (naming one of ``names``) and that the index
    did not change; on success that the songs it held are still there. Returns the report or None."""
    before = dump(index_path)
    try:
        with LibraryIndex(index_path, create=False) as index:
            report = do_import(index)
    except Exception as error:  # the assertion names anything unexpected
        assert_one_clear_line(error, *names)
        assert dump(index_path) == before
        return None
    after = dump(index_path)  # rows may be updated (a row for a.wav), none may go
    old_ids = {row.split(",")[0] for row in before["songs"]}
    assert old_ids <= {row.split(",")[0] for row in after["songs"]}
    assert set(before["plays"]) <= set(after["plays"]) and set(before["bans"]) <= set(after["bans"])
    return report


LONG_NAME = "z" * 5000 + ".wav"


@FUZZ
@given(table=tables(["file", "valence", "arousal"]), scale=st.sampled_from(["deam", "reference"]))
@example(table=f"file,valence,arousal\n{LONG_NAME},5,5\na.wav,5,5\n".encode(), scale="deam")
@example(table=b'file,valence,arousal\r"a\nb.wav",5,5\rb.wav,"\n5",5\r', scale="deam")
@example(table=b"file;valence;arousal\r\na.wav;5;5\r" + b"b" * 140_000 + b";1;1\n", scale="deam")
def test_add_folder_va_tables(template, table, scale):
    with library_with_songs(template) as (root, music, index_path):
        va = root / "va.csv"
        va.write_bytes(table)
        import_checked(index_path, lambda index: RatedImporter(index).add_folder(music, va, scale=scale), va)


GOOD_ANNOTATIONS = b"song_id,valence_mean,valence_std,arousal_mean,arousal_std\n" + b"".join(
    f"{i},{1 + i % 9},1,{1 + (i * 4) % 9},1\n".encode() for i in range(1, 13)
)
GOOD_METADATA = b"song_id,Artist,Song title,Genre\n1,Band,Song,rock\n"


@FUZZ
@given(table=tables(["song_id", "valence_mean", "valence_std", "arousal_mean", "arousal_std"]))
@example(table=b"song_id,valence_mean,arousal_mean\n" + b"9" * 5000 + b"1,5,5\n../../x,5,5\n2,5,5\n")
@example(table=b'song_id,valence_mean,arousal_mean\r1,5,5\r2,"5\r",5\r')
@example(table=b"song_id,arousal_mean\n1,5\n")
def test_deam_annotation_files(template, table):
    with library_with_songs(template) as (root, _, index_path):
        folder = deam_folder(root, table, GOOD_METADATA)
        file = folder / ANNOTATIONS_DIR / ANNOTATION_FILES[0]
        import_checked(index_path, lambda index: RatedImporter(index).import_deam(folder), file, folder)


@FUZZ
@given(table=tables(["song_id", "artist", "song title", "genre"]))
def test_deam_metadata_files_never_stop_an_import(template, table):
    """Metadata only adds titles: whatever it holds, the twelve annotated songs import."""
    with library_with_songs(template) as (root, _, index_path):
        folder = deam_folder(root, GOOD_ANNOTATIONS, table)
        report = import_checked(
            index_path, lambda index: RatedImporter(index).import_deam(folder), folder / METADATA_DIR
        )
        assert report is not None and report.imported == 12
