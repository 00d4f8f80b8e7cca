"""Plays and bans, kept in the library index across openings."""

from __future__ import annotations

import pytest

from moodsic_desktop.audio.library.importers import RatedImporter
from moodsic_desktop.audio.library.index import LibraryIndex
from tests.conftest import write_deam_folder


def test_play_history_and_bans_persist(tmp_path):
    path = tmp_path / "library.sqlite"
    folder = write_deam_folder(tmp_path / "deam", ["1,5,,5,", "2,3,,7,", "3,7,,2,"])
    with LibraryIndex(path) as index:
        RatedImporter(index).import_deam(folder)
        for when, song_id in [(100.0, "1"), (160.0, "2"), (130.0, "3"), (220.0, "builtin-04")]:
            index.record_play(song_id, when)
        index.ban("2")
        index.ban("builtin-07")
        index.ban("2")  # twice is fine
        with pytest.raises(KeyError, match="no song 'nope'"):
            index.ban("nope")
    with LibraryIndex(path) as index:
        assert index.recent_plays(3) == [(220.0, "builtin-04"), (160.0, "2"), (130.0, "3")]
        assert index.recent_plays(0) == [] and len(index.recent_plays(10)) == 4
        assert index.banned_ids() == {"2", "builtin-07"}
        assert [e.song.song_id for e in index.entries() if e.banned] == ["2"]
        index.unban("2")
        index.unban("never-banned")
        assert index.banned_ids() == {"builtin-07"}
        assert index.stats()["plays"] == 4 and index.stats()["banned"] == 1
