"""The station model stored in the library index: reloaded, refitted after a change, none with too few
songs; and ``load_library`` choosing between the index and the built-in station."""

from __future__ import annotations

import numpy as np

from moodsic_desktop.audio.library.importers import RatedImporter
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.core.stations import StationModel, fit_station_model
from moodsic_desktop.session.assembly import BUILTIN_ORIGIN, load_library
from tests.audio.library.index_rows import N_AUDIO, meta
from tests.conftest import write_deam_folder
from tests.library_files import add_deam_audio, require_mp3, write_audio


def test_station_model_is_stored_reloaded_and_refitted_after_a_change(deam_with_audio, tmp_path):
    folder, _ = deam_with_audio
    path = tmp_path / "library.sqlite"
    probe_v, probe_a = np.linspace(-0.9, 0.9, 25), np.linspace(0.8, -0.8, 25)
    with LibraryIndex(path) as index:
        RatedImporter(index).import_deam(folder)
        songs = index.songs()
        stored_at = meta(index)["station_fitted_at"]
    fresh = StationModel.fit([s.valence for s in songs], [s.arousal for s in songs], n_stations=5, seed=0)
    with LibraryIndex(path) as index:
        reloaded = index.station_model()
        assert index.station_settings() == (5, 0)
        np.testing.assert_allclose(
            reloaded.predict_proba(probe_v, probe_a), fresh.predict_proba(probe_v, probe_a), atol=1e-9
        )
        assert reloaded.names == fresh.names
        # a library change (new songs that play) refits, in the same transaction as the import
        own = tmp_path / "own"
        for k in range(6):
            write_audio(own / f"x{k}.wav", freq=300.0 + 20 * k)
        csv = tmp_path / "va.csv"
        csv.write_text("file,valence,arousal\n" + "".join(f"x{k}.wav,9,{1 + k}\n" for k in range(6)))
        report = RatedImporter(index).add_folder(own, csv)
        assert report.refitted and meta(index)["station_fitted_at"] != stored_at
        changed = index.station_model()
        assert not np.allclose(changed.predict_proba(probe_v, probe_a), fresh.predict_proba(probe_v, probe_a))
        everything = index.songs()
        expected = fit_station_model(everything)
        np.testing.assert_allclose(changed.centres, expected.centres, atol=1e-9)


def test_too_few_songs_store_no_model(tmp_path, index):
    require_mp3()
    folder = write_deam_folder(tmp_path / "deam", [f"{i},{i},,{10 - i},," for i in range(1, 9)])
    add_deam_audio(folder, [str(i) for i in range(1, 10)])
    report = RatedImporter(index).import_deam(folder)
    assert report.playable == 8 and report.stations is None and index.station_model() is None
    assert fit_station_model(index.songs()) is None  # 8 < 2 · 5 distinct songs


# ---- load_library


def test_load_library_prefers_an_index_with_playable_songs(deam_with_audio, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("MOODSIC_HOME", str(home))
    with LibraryIndex() as index:
        assert index.path == home / "music" / "library.sqlite"
        RatedImporter(index).import_deam(deam_with_audio[0])
        index.ban(deam_with_audio[1][0])
        played = [song.song_id for song in index.songs()][:3]
        for when, song_id in enumerate(played):
            index.record_play(song_id, when=1000.0 + when)
        stored = index.station_model()
    library = load_library(None)
    assert library.recent == tuple(played)  # oldest first, for the matcher's recent-song memory
    assert library.origin == f"library index {home / 'music' / 'library.sqlite'}"
    assert len(library.songs) == N_AUDIO and all(s.path is not None for s in library.songs)
    assert library.banned == {deam_with_audio[1][0]} and library.index_path == home / "music" / "library.sqlite"
    np.testing.assert_allclose(library.stations.centres, stored.centres)
    # other station settings: refitted in memory, the stored model is kept
    seven = load_library(None, n_stations=3)
    assert seven.stations.n_stations == 3
    with LibraryIndex() as index:
        assert index.station_settings() == (5, 0)
    # a DEAM folder given explicitly is still read directly
    direct = load_library(deam_with_audio[0])
    assert len(direct.songs) == 1802 and direct.origin.startswith("DEAM folder")


def test_load_library_falls_back_to_the_builtin_station(deam_fixture, tmp_path, monkeypatch):
    from moodsic_desktop.audio.builtin import cache
    from moodsic_desktop.audio.builtin.catalogue import builtin_songs

    home = tmp_path / "home"
    monkeypatch.setenv("MOODSIC_HOME", str(home))

    def fake_audio():  # the real synthesis is tested in tests/audio/builtin/
        songs = builtin_songs()
        for song in songs:
            song.path = home / "music" / "builtin" / f"{song.song_id}.flac"
        return songs

    monkeypatch.setattr(cache, "ensure_builtin_audio", fake_audio)
    assert load_library(None).origin == BUILTIN_ORIGIN  # no index
    with LibraryIndex() as index:
        RatedImporter(index).import_deam(deam_fixture)  # 1,802 songs, none playable
    library = load_library(None)
    assert library.origin == BUILTIN_ORIGIN and len(library.songs) == 12
    assert all(s.path is not None and s.song_id.startswith("builtin-") for s in library.songs)
    assert library.stations is not None
    # a damaged index: reported with the library (for the banner), left alone, and the built-in station plays
    index_file = home / "music" / "library.sqlite"
    index_file.write_bytes(b"garbage" * 1000)
    library = load_library(None)
    assert library.origin == BUILTIN_ORIGIN
    assert "left as it is" in library.problem and index_file.read_bytes() == b"garbage" * 1000
