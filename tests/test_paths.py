"""Where the program's files live: a checkout, a frozen build beside its executable, macOS's .app."""

from __future__ import annotations

import os
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


def test_gl_shader_caches_go_into_the_programs_cache_unless_the_user_chose(monkeypatch, tmp_path):
    """Mesa would write its shader cache into the passwd home's ~/.cache (not HOME's), NVIDIA's driver into
    ~/.nv: both are pointed into the program's cache before Qt can load a GL driver."""
    monkeypatch.setenv("MOODSIC_CACHE_DIR", str(tmp_path / "cache"))
    for variable in paths.GL_SHADER_CACHES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("__GL_SHADER_DISK_CACHE_PATH", str(tmp_path / "mine"))
    paths.keep_libraries_private()
    assert os.environ["MESA_SHADER_CACHE_DIR"] == str(tmp_path / "cache" / "gl_shaders")
    assert os.environ["MESA_GLSL_CACHE_DIR"] == str(tmp_path / "cache" / "gl_shaders")
    assert os.environ["__GL_SHADER_DISK_CACHE_PATH"] == str(tmp_path / "mine")  # the user's choice is kept
