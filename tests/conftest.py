"""Fixtures shared by the whole suite: the ../shared folder, a DEAM-layout folder the suite makes itself."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Native MediaPipe / TF Lite start-up chatter would drown test output.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Widget tests draw offscreen; the Xvfb test sets its own display for the real window.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEAM_FIXTURE = SHARED / "fixtures" / "deam"


@pytest.fixture(scope="session", autouse=True)
def moodsic_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point ``MOODSIC_HOME`` at an empty folder for the whole session (subprocesses inherit it), so no test
    reads or writes the checkout's ``music/`` (library index, built-in station cache) or ``models/``."""
    home = tmp_path_factory.mktemp("moodsic-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOODSIC_HOME", str(home))
        yield home


@pytest.fixture(scope="session")
def deam_fixture() -> Path:
    """The real DEAM annotations in ../shared (1,802 songs, no audio); skips when absent."""
    if not (DEAM_FIXTURE / "DEAM_Annotations").is_dir():
        pytest.skip(f"../shared/fixtures/deam is absent (looked in {DEAM_FIXTURE})")
    return DEAM_FIXTURE


ANNOTATIONS = Path("DEAM_Annotations", "annotations", "annotations averaged per song", "song_level")


def write_deam_folder(root: Path, rows: list[str], rows_2015: list[str] | None = None, audio_ids=()) -> Path:
    """Make a small DEAM-layout folder: annotation rows as CSV text lines (without header), metadata for
    ids 1..9 (2013 layout) and 2001 (2015 layout), and empty-but-present MEMD_audio files for ``audio_ids``."""
    annotations = root / ANNOTATIONS
    annotations.mkdir(parents=True)
    header = "song_id, valence_mean, valence_std, arousal_mean, arousal_std\n"
    (annotations / "static_annotations_averaged_songs_1_2000.csv").write_text(header + "\n".join(rows) + "\n")
    if rows_2015 is not None:
        (annotations / "static_annotations_averaged_songs_2000_2058.csv").write_text(
            " song_id , Valence_Mean, valence_std, AROUSAL_MEAN, arousal_std, extra_column\n"
            + "\n".join(rows_2015)
            + "\n"
        )
    metadata = root / "metadata"
    metadata.mkdir()
    lines = ["song_id,file_name,Artist,Song title,start of the segment (min.sec),end of the segment (min.sec),Genre"]
    lines += [f"{i},{i}.mp3,Artist {i},Title {i},,,genre{i}" for i in range(1, 10)]
    (metadata / "metadata_2013.csv").write_text("\n".join(lines) + "\n")
    (metadata / "metadata_2015.csv").write_text(
        "id,file_name,title,artist,album,genre\n2001,2001.mp3,Late,Band,,rock\n"
    )
    if audio_ids:
        audio = root / "MEMD_audio"
        audio.mkdir()
        for song_id in audio_ids:
            (audio / f"{song_id}.mp3").write_bytes(b"\0")
    return root


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh MOODSIC_HOME: the default index is ``home/music/library.sqlite``."""
    folder = tmp_path / "home"
    monkeypatch.setenv("MOODSIC_HOME", str(folder))
    return folder
