"""Package the app that ``build/build_app.py`` built and checked, for the platform it runs on.

    python build/package.py            (or: python build/build_app.py --package)

Into ``build/dist/packages``:

- **Windows**: ``Moodsic-<version>-windows.zip`` (the one-folder app, to unpack and run) and
  ``Moodsic-<version>-windows-setup.exe``, made by Inno Setup from ``build/moodsic.iss`` (Start-menu entry,
  uninstaller in "Apps & features"). Needs Inno Setup 6's ``iscc`` (on GitHub's Windows runners).
- **macOS**: ``Moodsic-<version>-macos.dmg`` holding ``Moodsic.app``, after checking that the app's
  Info.plist carries the camera usage text (macOS refuses the camera to an app without it).
- **Linux**: ``Moodsic-<version>-linux.tar.gz`` of the one-folder app.

Exit status 0 with the packages' names, else 1 with the reason. Standard library only.
"""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DIST = HERE / "dist"
PACKAGES = DIST / "packages"
INNO_SCRIPT = HERE / "moodsic.iss"
INNO_DEFAULT = Path(r"C:\Program Files (x86)\Inno Setup 6\ISCC.exe")

sys.path.insert(0, str(HERE))
import bundle_config as config  # noqa: E402


class PackageError(Exception):
    """Packaging failed; the message says why."""


def package_names(version: str, platform: str) -> list[str]:
    """The files ``package`` makes on ``platform`` (``sys.platform``)."""
    stem = f"{config.APP_NAME}-{version}"
    if platform == "win32":
        return [f"{stem}-windows.zip", f"{stem}-windows-setup.exe"]
    if platform == "darwin":
        return [f"{stem}-macos.dmg"]
    return [f"{stem}-linux.tar.gz"]


def inno_command(iscc: str, version: str, source: Path, output: Path) -> list[str]:
    """The Inno Setup compiler's command line for ``build/moodsic.iss``."""
    return [iscc, f"/DAppVersion={version}", f"/DSourceDir={source}", f"/DOutputDir={output}", str(INNO_SCRIPT)]


def dmg_command(app: Path, out: Path) -> list[str]:
    """``hdiutil``'s command line for a compressed disk image holding ``app``."""
    image = ["-volname", config.APP_NAME, "-srcfolder", str(app), "-ov", "-format", "UDZO"]
    return ["hdiutil", "create", *image, str(out)]


def check_info_plist(app: Path) -> dict[str, object]:
    """The app's Info.plist; raises when it lacks the camera usage text or the version."""
    path = app / "Contents" / "Info.plist"
    if not path.is_file():
        raise PackageError(f"{path} is missing")
    with path.open("rb") as handle:
        info = plistlib.load(handle)
    text = info.get("NSCameraUsageDescription")
    if not isinstance(text, str) or "camera" not in text:
        raise PackageError(f"{path} has no NSCameraUsageDescription: macOS would refuse the camera")
    if not info.get("CFBundleShortVersionString"):
        raise PackageError(f"{path} has no CFBundleShortVersionString")
    return info


def find_iscc() -> str | None:
    """Inno Setup's compiler: ``iscc`` on the PATH, or its default install folder."""
    found = shutil.which("iscc")
    return found or (str(INNO_DEFAULT) if INNO_DEFAULT.is_file() else None)


def run(command: Sequence[str]) -> None:
    result = subprocess.run(list(command), check=False)
    if result.returncode != 0:
        raise PackageError(f"{command[0]} failed (exit status {result.returncode})")


def package(version: str, platform: str = sys.platform) -> list[Path]:
    """Make the packages for ``platform`` from ``build/dist``; returns their paths."""
    PACKAGES.mkdir(parents=True, exist_ok=True)
    names = [PACKAGES / name for name in package_names(version, platform)]
    if platform == "darwin":
        app = DIST / f"{config.APP_NAME}.app"
        check_info_plist(app)
        run(dmg_command(app, names[0]))
        return names
    folder = DIST / config.APP_NAME
    if not folder.is_dir():
        raise PackageError(f"{folder} is missing: run build/build_app.py first")
    if platform == "win32":
        shutil.make_archive(str(names[0].with_suffix("")), "zip", root_dir=DIST, base_dir=config.APP_NAME)
        iscc = find_iscc()
        if iscc is None:
            raise PackageError("Inno Setup's iscc was not found (choco install innosetup)")
        run(inno_command(iscc, version, folder, PACKAGES))
        return names
    with tarfile.open(names[0], "w:gz", compresslevel=6) as archive:  # tarfile defaults to 9: slow on 700 MiB
        archive.add(folder, arcname=config.APP_NAME)
    return names


def main() -> int:
    version = config.app_version(REPO)
    try:
        made = package(version)
    except PackageError as error:
        print(f"PACKAGE FAILED: {error}", flush=True)
        return 1
    for path in made:
        if not path.is_file():
            print(f"PACKAGE FAILED: {path} was not made", flush=True)
            return 1
        print(f"[package] {path} ({path.stat().st_size / 2**20:.0f} MiB)", flush=True)
    return 0


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
