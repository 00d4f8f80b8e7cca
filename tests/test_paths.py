"""Where the program's files live: a checkout, a frozen build in each platform's folders (the platform mocked),
an older install or a portable copy beside its executable, macOS's .app; where the settings live."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs.windows
import pytest

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


def frozen(monkeypatch, tmp_path, platform: str) -> Path:
    """A frozen build in ``tmp_path/Moodsic`` on ``platform``, with a home folder of the test's own."""
    monkeypatch.delenv("MOODSIC_HOME", raising=False)
    monkeypatch.delenv("MOODSIC_CONFIG_DIR", raising=False)
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "Moodsic" / "_internal"), raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "Moodsic" / "Moodsic.exe"))
    monkeypatch.setattr(sys, "platform", platform)
    local = tmp_path / "home" / "AppData" / "Local"
    monkeypatch.setenv("LOCALAPPDATA", str(local))
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", lambda csidl: str(local))  # no Windows API here
    return tmp_path / "Moodsic"


@pytest.mark.parametrize(
    ("platform", "home"),
    [
        ("win32", ("AppData", "Local", "Moodsic")),
        ("linux", (".local", "share", "Moodsic")),
        ("darwin", ("Library", "Application Support", "Moodsic")),
    ],
)
def test_a_frozen_build_keeps_the_data_in_the_platforms_folder(monkeypatch, tmp_path, platform, home):
    program = frozen(monkeypatch, tmp_path, platform)
    for name in ("models", "music"):  # the build's empty folders with their README do not count as data
        (program / name).mkdir(parents=True)
        (program / name / "README.md").write_text("put your files here", encoding="utf-8")
    assert paths.models_dir() == tmp_path.joinpath("home", *home, "models")
    assert paths.resources_dir() == program / "_internal" / "resources"


@pytest.mark.parametrize("platform", ["linux", "win32"])
def test_data_already_beside_the_executable_is_not_stranded(monkeypatch, tmp_path, platform):
    program = frozen(monkeypatch, tmp_path, platform)
    (program / "music").mkdir(parents=True)
    (program / "music" / "library.sqlite").write_bytes(b"")  # an owner's library from an earlier version
    assert paths.music_dir() == program / "music"
    assert paths.models_dir() == program / "models"


def test_settings_go_to_the_platforms_folder_and_earlier_ones_are_found(monkeypatch, tmp_path):
    frozen(monkeypatch, tmp_path, "linux")
    new = tmp_path / "home" / ".config" / "Moodsic"
    assert paths.config_dir() == new
    earlier = new / "Moodsic"  # Qt's AppConfigLocation, where versions before kept them
    earlier.mkdir(parents=True)
    (earlier / "settings.json").write_text("{}", encoding="utf-8")
    assert paths.config_dir() == earlier  # found, not moved
    (new / "settings.json").write_text("{}", encoding="utf-8")
    assert paths.config_dir() == new  # once saved in the new place, that one
    monkeypatch.setattr(sys, "platform", "win32")
    assert paths.config_dir() == tmp_path / "home" / "AppData" / "Local" / "Moodsic"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert paths.config_dir() == tmp_path / "home" / "Library" / "Application Support" / "Moodsic"
    monkeypatch.setenv("MOODSIC_CONFIG_DIR", str(tmp_path / "mine"))
    assert paths.config_dir() == tmp_path / "mine"


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


@pytest.mark.parametrize(
    ("platform", "name"), [("win32", "moodsic.ico"), ("darwin", "moodsic.icns"), ("linux", "moodsic.png")]
)
def test_each_platform_gets_its_window_icon_and_the_bundle_carries_it(monkeypatch, platform, name):
    monkeypatch.setattr(sys, "platform", platform)
    icon = paths.window_icon()
    assert icon == REPO / "resources" / name and icon.is_file()
    config = (REPO / "build" / "bundle_config.py").read_text(encoding="utf-8")
    assert f'"{name}"' in config.split("RESOURCE_FILES = ")[1].split("\n")[0]
