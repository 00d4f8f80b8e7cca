"""Build the one-folder Moodsic app from this checkout, prove that it works, and report size and start-up time.

    python build/build_app.py [--clean] [--flavour cpu|gpu] [--skip-build] [--no-strip] [--full-icu]
                              [--keep-openblas] [--no-window] [--no-library-check] [--with-station-audio]
                              [--package]

Run it with the Python of an environment where the app is installed with the build extra
(``pip install -e ".[build]"``). The steps, each reported as it finishes:

1. **build**: PyInstaller runs ``build/moodsic.spec`` into ``build/dist`` (work files in ``build/work``).
   Lighter builds of the same versions are bundled in place of installed ones (headless OpenCV; in the
   default ``cpu`` flavour the CPU onnxruntime where this environment has onnxruntime-gpu): pip installs
   them once into ``build/work/replacements-<flavour>``, first on PyInstaller's path; the environment
   itself is not changed. ``--flavour gpu`` bundles onnxruntime-gpu with its CUDA providers.
   **strip** (Linux with binutils): the libraries' symbol tables are stripped where the stripped library
   still loads (``build/strip_libraries.py``; about 45 MB; ``--no-strip`` keeps them).
   **icu** (Linux with icupkg and binutils): Qt's ICU data library keeps only the data an English-only
   program needs, and is checked before it replaces the bundle's copy (``build/icu_data.py``; 30.5 → 4.2 MiB;
   ``--full-icu`` keeps it whole).
   **lapack** (Linux with patchelf, nm and Debian's ``liblapack3``/``libblas3``): OpenCV is re-linked to the
   reference LAPACK/BLAS in place of its wheel's 35 MiB OpenBLAS, checked against numpy before the swap
   (``build/opencv_lapack.py``; about 26 MiB; ``--keep-openblas`` keeps the OpenBLAS).
2. **layout**: the frozen app keeps ``models/`` and ``music/`` in each platform's folder for the user's
   data (``moodsic_desktop.paths``); the checks below use ``build/dist/check-home`` instead (through
   ``MOODSIC_HOME``, with the folders' READMEs), removed at the end, so they never touch the builder's.
3. **size**: the bundle's size on disk, and its 15 largest parts; a bundle over its budget
   (``bundle_config.SIZE_BUDGET_MIB``) fails the build.
4. **self-test**: the frozen ``--self-test`` with nothing installed: built-in experts, built-in station.
5. **privacy** (Linux with strace): the frozen ``--self-test`` again, as a new user (an empty ``HOME``, no
   ``MOODSIC_HOME``: its data goes to ``~/.local/share/Moodsic``), under strace: no ``connect()`` to a
   network address, nothing created in ``HOME`` outside the program's own folders
   (``build/syscall_trace.py``; ``tests/test_privacy.py`` checks the program from source the same way).
   Skipped, and said so, where strace is missing.
6. **library**: a small library index (generated audio, ``moodsic library add-folder``) is placed in
   ``music/library.sqlite`` of the check's home; the frozen self-test must play from it. Removed after.
7. **window** (Linux with Xvfb, xwd and xwdtopnm): the frozen program is started on a virtual screen with a
   generated video, twice: the first start (the built-in station is synthesised) and a later one; the time
   from launch until a screenshot is no longer mostly blank is the time to a visible window.

8. **package** (``--package``): ``build/package.py`` makes the platform's packages in
   ``build/dist/packages`` (Windows: a zip and an Inno Setup installer; macOS: a .dmg; Linux: a .tar.gz).

At the end the bundle holds only what the build made (``--with-station-audio`` keeps the built-in station's
audio that the self-test synthesised, for installs where ``music/`` is read-only), and
``build/dist/build-report.json`` holds the numbers. Exit status 0 when everything passed, else 1 with the
failing step named.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DIST = HERE / "dist"
WORK = HERE / "work"
SPEC = HERE / "moodsic.spec"
RUN_TIMEOUT_S = 300.0
WINDOW_TIMEOUT_S = 120.0
SCREEN = "1600x1000x24"
COVERED_FRACTION = 0.3
SELF_TEST_NO_SOUND = 3
"""The self-test's exit status when every stage passed but no sound output opened
(``moodsic_desktop.cli.self_test.EXIT_NO_SOUND``): accepted here, since a build machine often has no sound card."""
"""A screenshot counts as showing the window once this share of its pixels is not near-black."""

sys.path.insert(0, str(REPO))  # this checkout's moodsic_desktop (for the test video), not another copy
sys.path.insert(0, str(HERE))
import bundle_config as config  # noqa: E402
import icu_data  # noqa: E402
import opencv_lapack  # noqa: E402
import strip_libraries  # noqa: E402
import syscall_trace  # noqa: E402


class BuildError(Exception):
    """A step failed; the message says which and why."""


def say(text: str) -> None:
    print(text, flush=True)


def bundle_root() -> Path:
    """What is shipped: ``Moodsic.app`` on macOS, else the one-folder directory."""
    if sys.platform == "darwin":
        return DIST / f"{config.APP_NAME}.app"
    return DIST / config.APP_NAME


def executable() -> Path:
    """The program a user double-clicks (inside the .app on macOS)."""
    if sys.platform == "darwin":
        return bundle_root() / "Contents" / "MacOS" / config.APP_NAME
    suffix = ".exe" if sys.platform == "win32" else ""
    return bundle_root() / f"{config.APP_NAME}{suffix}"


def check_home() -> Path:
    """Where the checks' frozen runs keep ``models/`` and ``music/`` (the app itself uses the platform's
    folder for the user's data): a folder of the build's own, so the checks never touch the builder's."""
    return DIST / "check-home"


def frozen_env(home: Path | None = None) -> dict[str, str]:
    """The environment for the frozen program: the builder's, without overrides of where its files live
    (``home``, else ``check_home()``, becomes ``MOODSIC_HOME``)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MOODSIC_HOME", "PYTHONPATH", "PYTHONHOME")}
    home = home if home is not None else check_home()
    if home is not None:
        env["MOODSIC_HOME"] = str(home)
    return env


def folder_size(path: Path) -> int:
    """Bytes of the regular files under ``path`` (links not followed, so nothing counts twice)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            file = Path(root, name)
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def largest_parts(root: Path, count: int = 15) -> list[tuple[str, int]]:
    """The biggest entries of the bundle's ``_internal`` folder (``Contents/Frameworks`` on macOS)."""
    inner = root / "Contents" / "Frameworks" if sys.platform == "darwin" else root / "_internal"
    if not inner.is_dir():
        return []
    sizes = [
        (p.name, folder_size(p) if p.is_dir() else p.stat().st_size) for p in inner.iterdir() if not p.is_symlink()
    ]
    return sorted(sizes, key=lambda item: -item[1])[:count]


def mib(size: int) -> str:
    return f"{size / 2**20:.0f} MiB"


# ---- steps


def installed_version(distribution: str) -> str | None:
    """The version of ``distribution`` installed in this environment, or None."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def replacement_path(flavour: str) -> Path | None:
    """A folder to put first on PyInstaller's path with the distributions bundled in place of installed
    ones (``bundle_config.replacements``: headless OpenCV; the CPU onnxruntime for ``cpu``), installed
    there by pip once (needs the package index); None when nothing is replaced."""
    names = [*config.LIGHTER_BUILDS, *config.FLAVOURS.values()]
    installed = {name: version for name in names if (version := installed_version(name)) is not None}
    if flavour == "gpu" and config.FLAVOURS["gpu"] not in installed:
        raise BuildError("the gpu flavour bundles onnxruntime-gpu, which is not installed here")
    wanted = config.replacements(flavour, installed)
    if not wanted:
        return None
    folder = WORK / f"replacements-{flavour}"
    stamp = folder / "installed.json"
    if not stamp.is_file() or json.loads(stamp.read_text(encoding="utf-8")) != wanted:
        shutil.rmtree(folder, ignore_errors=True)
        say(f"[build] bundled instead of the installed builds: {', '.join(sorted(wanted))} (pip, into {folder})")
        result = subprocess.run(config.replacement_command(sys.executable, str(folder), wanted), check=False)
        if result.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            raise BuildError(f"pip could not install {wanted} (exit status {result.returncode})")
        stamp.write_text(json.dumps(wanted), encoding="utf-8")
    return folder


def build(clean: bool, flavour: str) -> float:
    """Run PyInstaller on the spec for ``flavour``; returns the seconds it took."""
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise BuildError('PyInstaller is not installed here: pip install -e ".[build]"') from None
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN"]
    command += ["--distpath", str(DIST), "--workpath", str(WORK)] + (["--clean"] if clean else []) + [str(SPEC)]
    if flavour == "gpu":
        command += ["--", "--keep-cuda"]
    env = dict(os.environ)
    overlay = replacement_path(flavour)
    if overlay is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(overlay), *filter(None, [env.get("PYTHONPATH")])])
    start = time.monotonic()
    result = subprocess.run(command, cwd=REPO, env=env, check=False)
    if result.returncode != 0:
        raise BuildError(f"PyInstaller failed (exit status {result.returncode}); its messages are above")
    return time.monotonic() - start


def bundled_builds(root: Path) -> dict[str, str]:
    """Which onnxruntime ("gpu" when a CUDA provider library is in the bundle, else "cpu") and which OpenCV
    ("with Qt 5" when the Qt 5 libraries of OpenCV's own windows came along, else "headless") the bundle
    carries."""
    gpu = any(config.is_gpu_only(path.name) for path in root.rglob("*onnxruntime_providers_*"))
    qt5 = any(root.rglob("libQt5Core*")) or any(root.rglob("Qt5Core*"))
    return {"onnxruntime": "gpu" if gpu else "cpu", "opencv": "with Qt 5" if qt5 else "headless"}


def lay_out() -> Path:
    """Put ``models/`` and ``music/`` (with their READMEs) into ``check_home()``; returns it."""
    if not executable().is_file():
        raise BuildError(f"the build made no executable at {executable()}")
    folder = check_home()
    folder.mkdir(parents=True, exist_ok=True)
    for name in config.USER_FOLDERS:
        target = folder / name
        target.mkdir(exist_ok=True)
        readme = REPO / name / "README.md"
        if readme.is_file():
            shutil.copy2(readme, target / "README.md")
    return folder


def run_frozen(args: Sequence[str], env: dict[str, str], timeout: float = RUN_TIMEOUT_S) -> tuple[int, str, str]:
    """Run the frozen program; returns (exit status, stdout, stderr). A windowed Windows build has no
    stdout: its self-test report is then read from ``self-test.txt`` in the program's home (``MOODSIC_HOME``)."""
    report = Path(env.get("MOODSIC_HOME") or executable().parent) / "self-test.txt"
    report.unlink(missing_ok=True)
    try:
        result = subprocess.run(
            [str(executable()), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tempfile.gettempdir(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BuildError(f"the frozen program did not finish {' '.join(args)} within {timeout:.0f} s") from None
    out, err = result.stdout, result.stderr
    if not out.strip() and report.is_file():
        out = report.read_text(encoding="utf-8")
        report.unlink()
    return result.returncode, out, err


def self_test(label: str, env: dict[str, str]) -> list[str]:
    """The frozen ``--self-test``; returns its report lines, raises with its failure line. No sound output
    (exit status ``SELF_TEST_NO_SOUND``: every stage passed) is accepted, and said so."""
    code, out, err = run_frozen(["--self-test"], env)
    lines = [line for line in out.splitlines() if line.strip()]
    for line in lines:
        say(f"    {line}")
    if code == SELF_TEST_NO_SOUND:
        say(
            f"    (exit status {code}: no sound output on this build machine; accepted for the build, since every "
            "other stage passed; run the self-test on the café PC to test its speakers)"
        )
        return lines
    if code != 0:
        failure = next((line for line in (err + out).splitlines() if "self-test FAILED" in line), err.strip()[-500:])
        raise BuildError(f"the frozen self-test ({label}) failed (exit status {code}): {failure}")
    return lines


def privacy_check() -> dict[str, object] | str:
    """The frozen ``--self-test`` as a new user (an empty ``HOME``, none of the variables that would
    silence or move a library's files) under strace: it must open no network connection, create
    nothing in ``HOME`` outside the program's own folders, and write nothing outside ``HOME``, the
    program's folder, its scratch folders and the system's runtime folders. Returns what was seen, or why the check was
    skipped (not Linux, no strace); raises ``BuildError`` listing what it did that it must not."""
    if not sys.platform.startswith("linux"):
        return "skipped: the system-call trace needs Linux (strace)"
    if shutil.which("strace") is None:
        return "skipped: strace is not installed (Debian: apt install strace)"
    with tempfile.TemporaryDirectory(prefix="moodsic-privacy-") as scratch:
        root = Path(scratch)
        home, runtime, trace = root / "home", root / "runtime", root / "trace" / "strace"
        for folder in (home, runtime, trace.parent, root / "tmp"):
            folder.mkdir(parents=True)
        before = syscall_trace.listing(home)
        as_new_user = {k: v for k, v in frozen_env().items() if k != "MOODSIC_HOME"}  # data in ~/.local/share
        env = syscall_trace.new_user_env(as_new_user, home, runtime)
        env["TMPDIR"] = str(root / "tmp")
        try:
            result = syscall_trace.run_traced(
                [str(executable()), "--self-test"],
                trace,
                env=env,
                cwd=root,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise BuildError(f"the traced self-test did not finish within {RUN_TIMEOUT_S:.0f} s") from None
        if result.returncode not in (0, SELF_TEST_NO_SOUND):  # no sound card on a build machine is no failure
            raise BuildError(f"the traced self-test failed (exit status {result.returncode}): {result.stderr[-500:]}")
        seen = syscall_trace.read_trace(trace, root)
        # where it may write outside HOME: this scratch folder (its working, temporary and runtime folders)
        # and the program's own folder (beside the executable, or the checks' MOODSIC_HOME)
        places = [root, executable().resolve().parent, *filter(None, [check_home()])]
        problems = syscall_trace.findings(seen, home, syscall_trace.own_folders(home), before, places)
        if problems:
            shown = "; ".join(problems[:5]) + (f"; … {len(problems) - 5} more" if len(problems) > 5 else "")
            raise BuildError(f"the frozen self-test, run as a new user, did what it must not: {shown}")
        return {
            "network_connects": 0,
            "calls_that_created_a_file": len(seen.created),
            "created_in_home": sorted(str(p.relative_to(home)) for p in syscall_trace.listing(home) - before),
        }


def library_check(app_folder: Path) -> list[str]:
    """Place a small library index in the check's home, check that the frozen self-test plays from it,
    remove it again."""
    import numpy as np
    import soundfile as sf

    index = app_folder / "music" / "library.sqlite"
    if index.exists():
        raise BuildError(f"{index} exists already; the library check would overwrite it")
    with tempfile.TemporaryDirectory(prefix="moodsic-build-library-") as scratch:
        folder = Path(scratch)
        rows = ["file,valence,arousal,title,artist"]
        for k in range(12):
            valence, arousal = np.cos(k * 0.52) * 0.8, np.sin(k * 0.52) * 0.8
            t = np.arange(6 * 44100) / 44100
            tone = 0.2 * np.sin(2 * np.pi * (220 + 20 * k) * t) * np.minimum(1, 5 * t)
            sf.write(folder / f"tone{k:02d}.flac", np.stack([tone, tone], axis=1).astype(np.float32), 44100)
            rows.append(f"tone{k:02d}.flac,{valence:.3f},{arousal:.3f},Build check tone {k},Moodsic build")
        (folder / "va.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        command = [sys.executable, "-m", "moodsic_desktop", "library", "add-folder", str(folder)]
        command += ["--va", str(folder / "va.csv"), "--scale", "reference", "--index", str(index), "--quiet"]
        made = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
        try:
            if made.returncode != 0:
                raise BuildError(f"moodsic library add-folder failed: {made.stderr.strip() or made.stdout.strip()}")
            lines = self_test("with a library beside it", frozen_env())
            library = next((line for line in lines if line.startswith("ok  library")), "")
            if "library index" not in library or "12 songs" not in library:
                raise BuildError(f"the frozen program did not play from {index}: {library or 'no library line'}")
            return lines
        finally:
            for leftover in (index, index.with_name(index.name + "-wal"), index.with_name(index.name + "-shm")):
                leftover.unlink(missing_ok=True)


def _screenshot(display: str, scratch: Path) -> float | None:
    """The share of the virtual screen that is not near-black, or None when no screenshot could be taken."""
    import cv2

    env = {**os.environ, "DISPLAY": display}
    xwd = subprocess.run(["xwd", "-root", "-silent"], env=env, capture_output=True, check=False)
    if xwd.returncode != 0:
        return None
    pnm = subprocess.run(["xwdtopnm"], input=xwd.stdout, capture_output=True, check=False)
    path = scratch / "screen.ppm"
    path.write_bytes(pnm.stdout)
    image = cv2.imread(str(path))
    return None if image is None else float((image.max(axis=2) > 20).mean())


def _start_xvfb() -> tuple[subprocess.Popen, str]:
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        server.wait()
        raise BuildError("Xvfb did not start")
    return server, f":{number}"


def time_to_window(display: str, video: Path, home: Path, scratch: Path) -> float:
    """Seconds from starting the frozen program until its window covers the virtual screen."""
    env = {**frozen_env(home), "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    env["MOODSIC_CONFIG_DIR"] = str(home / "config")
    log_path = scratch / "window.log"
    with log_path.open("w") as log:
        start = time.monotonic()
        app = subprocess.Popen(
            [str(executable()), "--source", str(video)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            while time.monotonic() - start < WINDOW_TIMEOUT_S:
                if app.poll() is not None:
                    tail = log_path.read_text(errors="replace")[-1500:]
                    raise BuildError(f"the frozen program exited with status {app.returncode} before a window: {tail}")
                covered = _screenshot(display, scratch)
                if covered is not None and covered > COVERED_FRACTION:
                    seconds = time.monotonic() - start
                    time.sleep(3.0)  # it must keep running with the video playing
                    if app.poll() is not None:
                        raise BuildError(f"the frozen program exited with status {app.returncode} after its window")
                    return seconds
                time.sleep(0.1)
            raise BuildError(f"no window within {WINDOW_TIMEOUT_S:.0f} s")
        finally:
            if app.poll() is None:
                app.send_signal(signal.SIGTERM)
                try:
                    app.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    app.kill()
                    app.wait()


def window_check() -> dict[str, float] | str:
    """Times to a visible window (first and later start), or why they were not measured."""
    missing = [tool for tool in ("Xvfb", "xwd", "xwdtopnm") if shutil.which(tool) is None]
    if not sys.platform.startswith("linux") or missing:
        return f"not measured (needs Linux with {', '.join(missing) or 'Xvfb, xwd, xwdtopnm'})"
    from moodsic_desktop.perception.synthetic import write_demo_clip

    server, display = _start_xvfb()
    try:
        with tempfile.TemporaryDirectory(prefix="moodsic-build-window-") as scratch:
            scratch_dir = Path(scratch)
            video = write_demo_clip(scratch_dir / "shop.mp4", segment_s=10.0)
            home = scratch_dir / "home"
            home.mkdir()
            first = time_to_window(display, video, home, scratch_dir)
            later = time_to_window(display, video, home, scratch_dir)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {"first_start_s": round(first, 2), "later_start_s": round(later, 2)}


def tidy(app_folder: Path, keep_station_audio: bool) -> None:
    """Remove what the checks left beside the executable, so the bundle is what the build made."""
    if not keep_station_audio:
        shutil.rmtree(app_folder / "music" / "builtin", ignore_errors=True)
    (app_folder / "self-test.txt").unlink(missing_ok=True)


def tidy_up(keep_station_audio: bool) -> None:
    """At the end: the bundle as the build made it, and no folder of the checks left (``keep_station_audio``:
    the built-in station's audio the self-test synthesised is copied beside the executable, in
    ``music/builtin``: a quicker first start; the copy then keeps its data beside itself, as a portable
    copy does, see ``moodsic_desktop.paths``)."""
    station = check_home() / "music" / "builtin"
    if keep_station_audio and station.is_dir() and executable().exists():
        target = executable().parent / "music" / "builtin"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(station, target)
    shutil.rmtree(check_home(), ignore_errors=True)


def privacy_step() -> dict[str, object] | str:
    """``privacy_check`` with its report lines."""
    say("[privacy] frozen --self-test as a new user, under strace:")
    seen = privacy_check()
    say(f"[privacy] {seen if isinstance(seen, str) else 'no network connection, nothing created in HOME'}")
    return seen


def window_step() -> dict[str, float] | str:
    """``window_check`` with its report line."""
    times = window_check()
    if isinstance(times, dict):
        say(
            f"[window] launch to visible window: {times['first_start_s']:.1f} s on the first start "
            f"(built-in station synthesised), {times['later_start_s']:.1f} s later"
        )
    else:
        say(f"[window] {times}")
    return times


def strip_step() -> dict[str, object] | str:
    """``strip_libraries.strip_bundle`` on the bundle (Linux): what it saved and which libraries it kept
    whole, or why it was skipped."""
    if not sys.platform.startswith("linux"):
        return "skipped: symbol tables are stripped on Linux only"
    if shutil.which("strip") is None:
        return "skipped: strip is not installed (Debian: apt install binutils)"
    done = strip_libraries.strip_bundle(bundle_root())
    say(f"[strip] {mib(done.saved_bytes)} of symbol tables out of {len(done.stripped)} libraries")
    for name, why in done.kept.items():
        say(f"[strip]   kept whole: {name} ({why})")
    return {"saved_bytes": done.saved_bytes, "stripped": len(done.stripped), "kept_whole": done.kept}


def icu_step() -> dict[str, object] | str:
    """``icu_data.reduce_bundle`` on the bundle (Linux): what it saved, or why it was skipped; raises when a
    reduced library fails its check (the bundle's copy is then kept whole)."""
    why = None
    if not sys.platform.startswith("linux"):
        why = "skipped: Qt ICU data is cut on Linux only"
    elif missing := icu_data.missing_tools():
        why = f"skipped: {', '.join(missing)} not installed (Debian: apt install icu-devtools binutils)"
    if why is not None:
        say(f"[icu] {why}")
        return why
    try:
        done = icu_data.reduce_bundle(bundle_root())
    except icu_data.IcuDataError as error:
        raise BuildError(f"{error} (the bundle keeps its full ICU data)") from None
    for path, cut in done:
        sizes = f"{cut.original_bytes / 2**20:.1f} → {cut.reduced_bytes / 2**20:.1f} MiB"
        say(f"[icu] {path}: {sizes}, English only ({len(cut.dropped)} items left out); checked:")
        for line in cut.checks:
            say(f"[icu]   {line}")
    if not done:
        say("[icu] no ICU data library in the bundle")
    return {path: {"saved_bytes": cut.saved_bytes, "dropped_items": len(cut.dropped)} for path, cut in done}


def lapack_step() -> dict[str, object] | str:
    """``opencv_lapack.swap_openblas`` on the bundle's OpenCV (Linux): what it saved, added and removed, or why
    it was skipped. The bootloader puts ``_internal`` on ``LD_LIBRARY_PATH``, so that is where the libraries go."""
    why_not = opencv_lapack.unavailable()
    if why_not is not None:
        say(f"[lapack] skipped: {why_not}")
        return f"skipped: {why_not}"
    inner = bundle_root() / "_internal"
    extension = next(iter(sorted(inner.glob("cv2/cv2*.so"))), None)
    if extension is None:
        raise BuildError(f"the bundle has no OpenCV extension in {inner / 'cv2'}")
    try:
        done = opencv_lapack.swap_openblas(extension, bundle_root(), search=[inner])
    except opencv_lapack.SwapError as error:
        raise BuildError(str(error)) from None
    if done is None:
        say("[lapack] skipped: OpenCV needs no OpenBLAS (replaced by an earlier run)")
        return "skipped: OpenCV needs no OpenBLAS (replaced by an earlier run)"
    say(f"[lapack] OpenCV uses the reference LAPACK/BLAS in place of {done.openblas}: {mib(done.saved_bytes)} saved")
    say(f"[lapack]   added {', '.join(done.added)}; removed {', '.join(done.removed) or 'nothing'}")
    for name, who in done.kept.items():
        say(f"[lapack]   kept {name}: {len(who)} other libraries need it ({', '.join(who[:2])}, …)")
    for line in done.checked:
        say(f"[lapack]   {line}")
    return {
        **{key: getattr(done, key) for key in ("saved_bytes", "openblas", "added", "removed", "symbols", "checked")},
        "kept": {name: len(who) for name, who in done.kept.items()},
    }


def size_step(flavour: str) -> dict[str, object]:
    """The bundle's size and its 15 largest parts, reported one per line; which onnxruntime and OpenCV it
    carries (raises when the onnxruntime is not ``flavour``'s)."""
    root = bundle_root()
    size = folder_size(root)
    say(f"[size] {mib(size)} ({size:,} bytes); the 15 largest parts:")
    parts = largest_parts(root)
    for name, part in parts:
        say(f"[size]   {mib(part):>8}  {name}")
    builds = bundled_builds(root)
    say(f"[size] in the bundle: the {builds['onnxruntime']} onnxruntime, the {builds['opencv']} OpenCV")
    if builds["onnxruntime"] != flavour:
        raise BuildError(f"the {flavour} flavour bundled the {builds['onnxruntime']} onnxruntime")
    budget = config.size_budget(sys.platform)
    if budget is not None and size > budget * 2**20:
        raise BuildError(
            f"the bundle is {mib(size)}, over its budget of {budget} MiB (bundle_config.SIZE_BUDGET_MIB); "
            "its largest parts are listed above"
        )
    return {"size_bytes": size, "largest_parts": dict(parts), **builds}


def package_step(version: str) -> list[str] | None:
    """``build/package.py`` for this platform: the packages' paths, or None (said why) when it failed."""
    import package

    try:
        made = package.package(version)
    except package.PackageError as error:
        say(f"BUILD FAILED at package: {error}")
        return None
    for path in made:
        say(f"[package] {path} ({mib(path.stat().st_size)})")
    return [str(path) for path in made]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line's options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", action="store_true", help="let PyInstaller start from an empty cache")
    parser.add_argument(
        "--flavour",
        choices=sorted(config.FLAVOURS),
        default="cpu",
        help="cpu (default): the CPU onnxruntime; gpu: onnxruntime-gpu with its CUDA/TensorRT providers",
    )
    parser.add_argument("--keep-cuda", action="store_true", help="the same as --flavour gpu")
    parser.add_argument("--package", action="store_true", help="then make the platform's packages (build/package.py)")
    parser.add_argument("--skip-build", action="store_true", help="check and report the existing build/dist")
    parser.add_argument("--no-window", action="store_true", help="skip the time-to-window measurement")
    parser.add_argument(
        "--no-strip", action="store_true", help="keep the libraries' symbol tables (then over the size budget)"
    )
    parser.add_argument("--full-icu", action="store_true", help="keep Qt's ICU data for every language (Linux)")
    parser.add_argument("--keep-openblas", action="store_true", help="keep OpenCV's OpenBLAS (Linux; 26 MiB more)")
    parser.add_argument("--no-library-check", action="store_true", help="skip the library-beside-it check")
    parser.add_argument(
        "--with-station-audio", action="store_true", help="keep the built-in station's audio in music/builtin"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    version = config.app_version(REPO)
    flavour = "gpu" if args.keep_cuda else args.flavour
    report: dict[str, object] = {
        "version": version,
        "platform": sys.platform,
        "flavour": flavour,
        "bundle": str(bundle_root()),
    }
    step = "build"
    try:
        if not args.skip_build:
            say(f"[build] PyInstaller: {SPEC.relative_to(REPO)} → {DIST.relative_to(REPO)} (Moodsic {version})")
            report["build_s"] = round(build(args.clean, flavour), 1)
            say(f"[build] done in {report['build_s']} s")
        if not args.no_strip:
            step = "strip"
            report["strip"] = strip_step()
        if not args.full_icu:
            step = "icu"
            report["icu"] = icu_step()
        if not args.keep_openblas:
            step = "lapack"
            report["lapack"] = lapack_step()
        step = "layout"
        app_folder = lay_out()
        say(f"[layout] {executable()} with models/ and music/ in {app_folder}")
        step = "size"
        tidy(app_folder, keep_station_audio=False)
        report.update(size_step(flavour))
        size = int(report["size_bytes"])
        step = "self-test"
        say("[self-test] frozen --self-test, nothing installed:")
        report["self_test"] = self_test("nothing installed", frozen_env())
        step = "privacy"
        report["privacy"] = privacy_step()
        if not args.no_library_check:
            step = "library"
            say("[library] frozen --self-test with a library index in music/:")
            report["library_check"] = library_check(app_folder)
        if not args.no_window:
            step = "window"
            report["window"] = window_step()
    except BuildError as error:
        say(f"BUILD FAILED at {step}: {error}")
        return 1
    finally:
        tidy_up(keep_station_audio=args.with_station_audio)
    if args.package:
        made = package_step(version)
        if made is None:
            return 1
        report["packages"] = made
    DIST.mkdir(parents=True, exist_ok=True)
    (DIST / "build-report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    say(f"OK: {bundle_root()} ({mib(size)}); report in {DIST / 'build-report.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
