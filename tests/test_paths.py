"""Where the program's files live: a checkout, a frozen build beside its executable, macOS's .app."""

from __future__ import annotations

import sys
from pathlib import Path

from moodsic_desktop import paths

REPO = Path(__file__).resolve().parents[1]


def test_a_checkout_keeps_its_files_in_the_repository(monkeypatch):
    monkeypatch.delenv("MOODSIC_HOME", raising=False)
    assert paths.app_dir() == REPO
    assert paths.models_dir() == REPO / "models" and paths.music_dir() == REPO / "music"
    assert paths.resources_dir() == REPO / "resources"


def test_moodsic_home_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("MOODSIC_HOME", str(tmp_path / "portable"))
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert paths.music_dir() == tmp_path / "portable" / "music"


def test_a_frozen_build_keeps_them_beside_the_executable(monkeypatch, tmp_path):
    monkeypatch.delenv("MOODSIC_HOME", raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "Moodsic" / "_internal"), raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "Moodsic" / "Moodsic.exe"))
    for platform in ("linux", "win32"):
        monkeypatch.setattr(sys, "platform", platform)
        assert paths.models_dir() == tmp_path / "Moodsic" / "models"
    assert paths.resources_dir() == tmp_path / "Moodsic" / "_internal" / "resources"


def test_a_mac_app_keeps_them_out_of_the_signed_bundle(monkeypatch, tmp_path):
    monkeypatch.delenv("MOODSIC_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "Moodsic.app" / "Contents" / "MacOS" / "Moodsic"))
    monkeypatch.setattr(sys, "platform", "darwin")
    assert paths.music_dir() == tmp_path / "home" / "Library" / "Application Support" / "Moodsic" / "music"
