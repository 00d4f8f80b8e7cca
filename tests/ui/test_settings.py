import json

import pytest

from moodsic_desktop.ui.settings import SCHEMA_VERSION, SettingsStore, UserSettings, WindowState


def test_defaults_when_no_file(tmp_path):
    settings, problem = SettingsStore(tmp_path).load()
    assert settings == UserSettings() and problem is None


def test_round_trip_with_schema_version(tmp_path):
    store = SettingsStore(tmp_path)
    chosen = UserSettings(
        alpha=0.55,
        tau=0.25,
        dwell_s=40.0,
        mode="calm",
        fusion="face",
        volume=0.3,
        audio_device="USB Speakers",
        last_source="/videos/shop.mp4",
        privacy=True,
    )
    store.save(chosen)
    data = json.loads((tmp_path / "settings.json").read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert store.load() == (chosen, None)
    assert not (tmp_path / "settings.json.part").exists()


def test_broken_file_is_kept_and_defaults_used(tmp_path):
    (tmp_path / "settings.json").write_text("{ this is not json")
    settings, problem = SettingsStore(tmp_path).load()
    assert settings == UserSettings()
    assert "could not be read" in problem and "settings.json.broken" in problem
    assert (tmp_path / "settings.json.broken").read_text() == "{ this is not json"


def test_out_of_range_values_fall_back_one_by_one(tmp_path):
    (tmp_path / "settings.json").write_text(
        json.dumps({"schema_version": 1, "alpha": 7, "tau": 0.2, "mode": "party", "volume": "loud", "dwell_s": 30})
    )
    settings, problem = SettingsStore(tmp_path).load()
    assert settings.alpha == UserSettings.alpha and settings.mode == "match" and settings.volume == UserSettings.volume
    assert settings.tau == 0.2 and settings.dwell_s == 30.0  # an int is taken as seconds
    assert "alpha" in problem and "mode" in problem and "volume" in problem


def test_newer_schema_is_not_misread(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1, "alpha": 0.9}))
    settings, problem = SettingsStore(tmp_path).load()
    assert settings == UserSettings() and "newer" in problem


@pytest.mark.usefixtures("qapp")
def test_window_state_is_apart_from_settings(tmp_path):
    from PySide6.QtCore import QByteArray

    state = WindowState(tmp_path)
    state.save("geometry", QByteArray(b"\x01\x02geometry"))
    assert WindowState(tmp_path).restore("geometry") == QByteArray(b"\x01\x02geometry")
    assert WindowState(tmp_path).restore("missing") is None
    assert not (tmp_path / "settings.json").exists()
