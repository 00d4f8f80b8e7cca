"""The CI's build workflow and the packages it keeps, checked here without a Windows or Mac machine: the YAML's
shape, the Inno Setup script, the macOS Info.plist check and the archives ``build/package.py`` makes."""

from __future__ import annotations

import importlib.util
import plistlib
import re
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "build.yml"


@pytest.fixture(scope="module")
def package():
    sys.path.insert(0, str(REPO / "build"))
    spec = importlib.util.spec_from_file_location("package", REPO / "build" / "package.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps_of(workflow: dict) -> list[dict]:
    return workflow["jobs"]["build"]["steps"]


def test_the_workflow_builds_on_linux_windows_and_macos(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request", "workflow_dispatch"} <= set(triggers)
    job = workflow["jobs"]["build"]
    runners = job["strategy"]["matrix"]["os"]
    assert [r.split("-")[0] for r in runners] == ["ubuntu", "windows", "macos"]
    assert job["runs-on"] == "${{ matrix.os }}" and job["strategy"]["fail-fast"] is False


def test_each_runner_builds_self_tests_and_packages_with_the_one_script(workflow):
    runs = [step.get("run", "") for step in steps_of(workflow)]
    build = [run for run in runs if "build/build_app.py" in run]
    assert build == ["python build/build_app.py --package"]  # the frozen --self-test is one of its steps
    assert any('pip install -e ".[build]"' in run for run in runs)
    setup = next(step for step in steps_of(workflow) if step.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["python-version"] == "3.11"


def test_the_packages_are_kept_as_artefacts(workflow):
    upload = next(step for step in steps_of(workflow) if step.get("uses", "").startswith("actions/upload-artifact"))
    assert "build/dist/packages/*" in upload["with"]["path"]
    assert upload["if"] == "always()"  # the build report is kept when a step failed too


def test_linux_gets_strace_and_windows_inno_setup(workflow):
    linux = next(step for step in steps_of(workflow) if step.get("if") == "runner.os == 'Linux'")
    assert "strace" in linux["run"] and "libportaudio2" in linux["run"] and "xvfb" in linux["run"]
    windows = next(step for step in steps_of(workflow) if step.get("if") == "runner.os == 'Windows'")
    assert "innosetup" in windows["run"]


def inno_sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(";") or line.startswith("#"):
            continue
        if re.fullmatch(r"\[\w+\]", line):
            current = line[1:-1]
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return sections


def test_the_installer_has_a_start_menu_entry_and_an_uninstaller_that_keeps_the_owners_data(package):
    text = package.INNO_SCRIPT.read_text(encoding="utf-8")
    sections = inno_sections(text)
    setup = dict(line.split("=", 1) for line in sections["Setup"])
    assert setup["AppVersion"] == "{#AppVersion}" and setup["Uninstallable"] == "yes"
    assert setup["OutputBaseFilename"] == "Moodsic-{#AppVersion}-windows-setup"
    assert (package.INNO_SCRIPT.parent / setup["SetupIconFile"].replace("\\", "/")).is_file()
    icons = sections["Icons"]
    assert any(line.startswith('Name: "{autoprograms}\\Moodsic"') and "{app}\\Moodsic.exe" in line for line in icons)
    assert any("{uninstallexe}" in line for line in icons)
    assert any("recursesubdirs" in line and "{#SourceDir}\\*" in line for line in sections["Files"])
    assert "UninstallDelete" not in sections and "localappdata" not in text.lower().split("[setup]")[1]
    command = package.inno_command("iscc", "1.2.3", Path("dist/Moodsic"), Path("dist/packages"))
    assert command[1] == "/DAppVersion=1.2.3" and command[-1] == str(package.INNO_SCRIPT)


def test_package_names_per_platform(package):
    assert package.package_names("1.2.3", "win32") == ["Moodsic-1.2.3-windows.zip", "Moodsic-1.2.3-windows-setup.exe"]
    assert package.package_names("1.2.3", "darwin") == ["Moodsic-1.2.3-macos.dmg"]
    assert package.package_names("1.2.3", "linux") == ["Moodsic-1.2.3-linux.tar.gz"]


def test_the_mac_app_must_carry_the_camera_usage_text(package, tmp_path):
    app = tmp_path / "Moodsic.app"
    (app / "Contents").mkdir(parents=True)
    info = package.config.macos_info_plist("1.2.3")
    (app / "Contents" / "Info.plist").write_bytes(plistlib.dumps(info))
    assert package.check_info_plist(app)["NSCameraUsageDescription"] == info["NSCameraUsageDescription"]
    del info["NSCameraUsageDescription"]
    (app / "Contents" / "Info.plist").write_bytes(plistlib.dumps(info))
    with pytest.raises(package.PackageError, match="NSCameraUsageDescription"):
        package.check_info_plist(app)
    dmg = package.dmg_command(app, tmp_path / "Moodsic.dmg")
    assert dmg[:2] == ["hdiutil", "create"] and dmg[dmg.index("-srcfolder") + 1] == str(app)


def fake_build(package, monkeypatch, tmp_path) -> Path:
    dist = tmp_path / "dist"
    (dist / "Moodsic" / "_internal").mkdir(parents=True)
    (dist / "Moodsic" / "Moodsic.exe").write_bytes(b"MZ")
    (dist / "Moodsic" / "_internal" / "base_library.zip").write_bytes(b"PK")
    monkeypatch.setattr(package, "DIST", dist)
    monkeypatch.setattr(package, "PACKAGES", dist / "packages")
    return dist


def test_linux_gets_a_tarball_of_the_one_folder_app(package, monkeypatch, tmp_path):
    dist = fake_build(package, monkeypatch, tmp_path)
    (made,) = package.package("1.2.3", platform="linux")
    with tarfile.open(made) as archive:
        assert sorted(archive.getnames()) == [
            "Moodsic",
            "Moodsic/Moodsic.exe",
            "Moodsic/_internal",
            "Moodsic/_internal/base_library.zip",
        ]
    assert made.parent == dist / "packages"


def test_windows_gets_a_zip_and_says_when_inno_setup_is_missing(package, monkeypatch, tmp_path):
    dist = fake_build(package, monkeypatch, tmp_path)
    monkeypatch.setattr(package, "find_iscc", lambda: None)
    with pytest.raises(package.PackageError, match="iscc was not found"):
        package.package("1.2.3", platform="win32")
    with zipfile.ZipFile(dist / "packages" / "Moodsic-1.2.3-windows.zip") as archive:
        assert "Moodsic/Moodsic.exe" in archive.namelist()
