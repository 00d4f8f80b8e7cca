"""Fixtures of the library index tests: the DEAM fixture with generated MP3s, and a fresh index."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.sources import read_deam
from tests.audio.library.index_rows import N_AUDIO
from tests.library_files import add_deam_audio, copy_deam_layout


@pytest.fixture(scope="session")
def deam_with_audio(deam_fixture, tmp_path_factory) -> tuple[Path, list[str]]:
    """A copy of the fixture's layout with real MP3s for the first ``N_AUDIO`` songs (several rates,
    mono and stereo), and the ids of those songs."""
    folder = copy_deam_layout(deam_fixture, tmp_path_factory.mktemp("deam") / "DEAM")
    ids = [song.song_id for song in read_deam(folder).songs[:N_AUDIO]]
    add_deam_audio(folder, ids)
    return folder, ids


@pytest.fixture
def index(tmp_path) -> LibraryIndex:
    with LibraryIndex(tmp_path / "music" / "library.sqlite") as opened:
        yield opened
