"""File paths with names outside ASCII, as a café owner's folders have them (``Musique d'été``, ``C:\\Users\\José``):
the library imports and plays from them, the settings and the program's home live in them."""

from __future__ import annotations

from pathlib import Path

from moodsic_desktop import paths
from moodsic_desktop.audio import decoding
from moodsic_desktop.audio.library.importers import RatedImporter
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.ui.settings import SettingsStore, UserSettings
from tests.library_files import write_audio

NAMES = ("Musique d'été", "Café ☕ Ümlaut", "José Núñez — 東京")


def test_the_library_imports_and_decodes_songs_in_non_ascii_folders(tmp_path):
    folder = tmp_path.joinpath(*NAMES)
    song = write_audio(folder / "Chanson — été.flac", seconds=1.0)
    other = write_audio(folder / "Sous-dossier ñ" / "Ça va.wav", seconds=1.0)
    table = folder / "humeurs é.csv"
    table.write_text("file,valence,arousal\nChanson — été.flac,0.5,0.25\nSous-dossier ñ/Ça va.wav,-0.5,0\n", "utf-8")
    with LibraryIndex(tmp_path / "Données ☕" / "music" / "library.sqlite") as index:
        report = RatedImporter(index).add_folder(folder, table, scale="reference")
        assert (report.new, report.playable, report.skipped) == (2, 2, [])
        by_name = {Path(entry.path).name: entry for entry in index.entries()}
    assert set(by_name) == {song.name, other.name}
    assert by_name[song.name].song.title == "Chanson — été"
    assert decoding.probe(by_name[song.name].path).duration_s > 0.9


def test_settings_and_the_programs_home_in_non_ascii_folders(tmp_path, monkeypatch):
    home = tmp_path / NAMES[2] / "Moodsic"
    monkeypatch.setenv("MOODSIC_HOME", str(home))
    assert paths.music_dir() == home.resolve() / "music"
    store = SettingsStore(tmp_path / NAMES[1] / "réglages")
    store.save(UserSettings(min_dwell_s=42.0, last_source=str(tmp_path / NAMES[0] / "vidéo.mp4")))
    loaded, problem = store.load()
    assert problem is None and loaded.min_dwell_s == 42.0 and loaded.last_source.endswith("vidéo.mp4")
