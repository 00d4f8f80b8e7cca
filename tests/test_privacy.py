"""Privacy, checked at the operating-system level: the program opens no network connection, creates
nothing in the user's home folder outside its own folders, and writes no camera frame.

``moodsic analyze`` and the real window (``main.py`` on a virtual X screen) run as a new user would, with
an empty ``HOME``, under ``strace`` (``build/syscall_trace.py``): every ``connect()`` and every system call
that creates a name in the file system is recorded, whatever library makes it (onnxruntime, Qt, MediaPipe
and PortAudio are native code that Python's audit hooks never see). ``HOME`` is also listed before and
after. Two control runs show that the check does see what it looks for: onnxruntime loaded without the
program's precautions writes its telemetry device id into ``HOME``, and a socket connected to an address
shows up as a ``connect()``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from tests.ui.conftest import write_mood_video
from tests.ui.test_real_window import screenshot, virtual_screen  # noqa: F401 - a fixture used below

REPO = Path(__file__).resolve().parents[1]
PICTURE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"P6\n", b"P5\n", b"BM", b"GIF8", b"RIFF", b"\x1aE\xdf\xa3")
PICTURE_SUFFIXES = {".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".bmp", ".gif", ".webp", ".mp4", ".avi", ".mkv"}
RUNTIME_PACKAGES = ("core", "perception", "audio", "session", "ui")
# The one module that opens connections: it downloads model files when the owner asks (Install in the window,
# `moodsic models fetch`), and the running program does not load it until then
# (tests/ui/test_models_dialog.py::test_the_running_program_does_not_load_the_download_code).
DOWNLOAD_CODE = "perception/model_download.py"

needs_strace = pytest.mark.skipif(
    shutil.which("strace") is None, reason="needs strace (Debian: apt install strace; .ci/run installs it)"
)


def load_syscall_trace() -> ModuleType:
    spec = importlib.util.spec_from_file_location("syscall_trace", REPO / "build" / "syscall_trace.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("syscall_trace", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return sys.modules["syscall_trace"]


st = load_syscall_trace()


class NewUser:
    """Fresh folders for one traced run: an empty HOME, the program's folder (MOODSIC_HOME: models/ and
    music/ beside the program), a temporary folder, a runtime folder and a working folder."""

    def __init__(self, root: Path) -> None:
        self.home, self.app, self.tmp, self.runtime, self.cwd = (
            root / name for name in ("home", "app", "tmp", "runtime", "cwd")
        )
        for folder in (self.home, self.app, self.tmp, self.runtime, self.cwd):
            folder.mkdir()
        self.trace = root / "trace" / "strace"
        self.trace.parent.mkdir()
        self.home_before = st.listing(self.home)

    def env(self, **extra: str) -> dict[str, str]:
        env = st.new_user_env(dict(os.environ), self.home, self.runtime)
        env.update(MOODSIC_HOME=str(self.app), TMPDIR=str(self.tmp), PYTHONPATH=str(REPO), **extra)
        return env

    def findings(self) -> list[str]:
        """What the run did that it must not: connections, names created in HOME outside the program's own
        folders, and files written anywhere but HOME, the program's folder, its temporary, runtime and
        working folders and the system's runtime folders (/dev, /proc)."""
        trace = st.read_trace(self.trace, self.cwd)
        places = [self.app, self.tmp, self.runtime, self.cwd]
        return st.findings(trace, self.home, st.own_folders(self.home), self.home_before, places)

    def created(self) -> list[Path]:
        return st.read_trace(self.trace, self.cwd).created

    def pictures(self) -> list[Path]:
        """Pictures or videos created by the run (by name, in the trace) or lying in its folders (by content)."""
        named = [p for p in self.created() if p.suffix.lower() in PICTURE_SUFFIXES and not is_system(p)]
        folders = (self.home, self.app, self.tmp, self.cwd, self.runtime)
        found = [p for f in folders for p in f.rglob("*") if p.is_file() and looks_like_a_picture(p)]
        return sorted(set(named + found))


def is_system(path: Path) -> bool:
    return path.parts[1:2] in (("dev",), ("proc",), ("sys",))


def looks_like_a_picture(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        return False
    return head.startswith(PICTURE_MAGIC)


# ---- the check can fail: it sees what it looks for


@needs_strace
def test_the_check_sees_onnxruntime_telemetry_when_nothing_stops_it(tmp_path):
    """onnxruntime loaded by itself (not through the program), as a new user: its telemetry writes a
    device id into HOME. If a later onnxruntime stops doing that, this control says so and skips."""
    user = NewUser(tmp_path)
    code = "import onnxruntime, os; print(os.environ.get('ORT_DISABLE_TELEMETRY'))"
    result = st.run_traced(
        [sys.executable, "-c", code], user.trace, cwd=user.cwd, env=user.env(), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "None"
    findings = user.findings()
    if not findings:
        pytest.skip("the installed onnxruntime writes no telemetry device id here; the control shows nothing")
    assert any("deviceid" in line for line in findings), findings
    assert any(".onnxruntime" in line and "(listing)" in line for line in findings), findings


@needs_strace
def test_the_check_sees_a_connect_to_a_network_address(tmp_path):
    """A UDP socket connected to a documentation address (TEST-NET-1: nothing is sent, nothing answers)."""
    user = NewUser(tmp_path)
    code = (
        "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "try:\n    s.connect(('192.0.2.1', 53))\nexcept OSError:\n    pass\n"
    )
    result = st.run_traced([sys.executable, "-c", code], user.trace, cwd=user.cwd, env=user.env())
    assert result.returncode == 0
    findings = user.findings()
    assert len(findings) == 1 and "192.0.2.1" in findings[0], findings


@needs_strace
def test_the_check_sees_a_file_created_in_home_and_a_picture(tmp_path):
    user = NewUser(tmp_path)
    code = (
        "import os, pathlib\nh = pathlib.Path(os.environ['HOME'])\n(h / '.cache' / 'moodsic').mkdir(parents=True)\n"
        "(h / '.cache' / 'moodsic' / 'ok.json').write_text('{}')\n(h / 'stray').mkdir()\n"
        "(h / 'stray' / 'frame.png').write_bytes(b'\\x89PNG....')\n"
    )
    result = st.run_traced([sys.executable, "-c", code], user.trace, cwd=user.cwd, env=user.env())
    assert result.returncode == 0
    findings = user.findings()
    stray = user.home / "stray"
    assert f"created in HOME (trace): {stray}" in findings
    assert f"created in HOME (trace): {stray / 'frame.png'}" in findings
    assert f"new in HOME (listing): {stray / 'frame.png'}" in findings
    assert not any("moodsic" in line for line in findings)
    assert user.pictures() == [stray / "frame.png"]


@needs_strace
def test_the_check_sees_a_file_written_outside_home_and_the_programs_folders(tmp_path):
    """A file that exists already (as the passwd home's Mesa cache index would), opened for writing
    without O_CREAT: seen, while writing into the program's folder, its temporary folder and /dev/null
    is not."""
    user = NewUser(tmp_path)
    elsewhere = tmp_path / "elsewhere" / "index"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"old")
    code = (
        "import os, pathlib, sys\n"
        "with open(sys.argv[1], 'r+b') as f:\n    f.write(b'new')\n"
        "(pathlib.Path(os.environ['MOODSIC_HOME']) / 'music').mkdir()\n"
        "(pathlib.Path(os.environ['TMPDIR']) / 'scratch').write_text('x')\n"
        "open(os.devnull, 'w').write('x')\n"
    )
    result = st.run_traced([sys.executable, "-c", code, str(elsewhere)], user.trace, cwd=user.cwd, env=user.env())
    assert result.returncode == 0
    assert user.findings() == [f"written outside HOME and the program's folders (trace): {elsewhere}"]


def test_trace_lines_are_read_as_connects_and_created_names(tmp_path):
    lines = [
        'connect(3, {sa_family=AF_UNIX, sun_path="/run/x"}, 110) = 0',
        'connect(8, {sa_family=AF_INET6, sin6_port=htons(443), sin6_addr=inet_pton(AF_INET6, "::1")}, 28) = -1',
        'openat(AT_FDCWD, "/h/read-only", O_RDONLY|O_CLOEXEC) = 3',
        'openat(AT_FDCWD, "/h/new\\303\\251", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 4',
        'openat(AT_FDCWD, "/h/denied", O_WRONLY|O_CREAT, 0666) = -1 EACCES (Permission denied)',
        'mkdir("rel", 0777) = 0',
        'mkdirat(7, "under-fd", 0777) = 0',
        'renameat2(AT_FDCWD, "/h/a.part", AT_FDCWD, "/h/a", RENAME_NOREPLACE) = 0',
        'symlink("/tmp/pulse-x", "/h/.config/pulse/m-runtime") = 0',
        'openat(AT_FDCWD, "/root/.cache/mesa_shader_cache/index", O_RDWR|O_CLOEXEC) = 5',
        'openat(AT_FDCWD, "/dev/dri/renderD128", O_RDWR|O_CLOEXEC) = 6',
        'openat(AT_FDCWD, "/etc/O_RDWR", O_RDONLY|O_CLOEXEC) = 7',
        "+++ exited with 0 +++",
    ]
    trace = st.parse_trace(lines, tmp_path)
    assert len(trace.connects) == 1 and "AF_INET6" in trace.connects[0]
    assert trace.created == [
        Path("/h/new\u00e9"),
        tmp_path / "rel",
        Path("/h/a"),
        Path("/h/.config/pulse/m-runtime"),
    ]
    assert trace.unresolved == ['mkdirat(7, "under-fd", 0777) = 0']
    mesa = Path("/root/.cache/mesa_shader_cache/index")
    assert trace.written == [*trace.created, mesa, Path("/dev/dri/renderD128")]  # not the read-only opens
    assert st.written_elsewhere(trace.written, Path("/h"), [tmp_path]) == [mesa]  # /dev is the system's


# ---- onnxruntime's telemetry is off wherever onnxruntime can be loaded first

ENTRY_POINTS = {
    "main.py": f"import runpy; runpy.run_path({str(REPO / 'main.py')!r}, run_name='imported')",
    "moodsic": "import moodsic_desktop.cli.main",
    "moodsic models and bench": "import moodsic_desktop.cli.models",
    "frozen runtime hook": f"import runpy; runpy.run_path({str(REPO / 'build' / 'rthook_private.py')!r})",
}


def home_after_loading_onnxruntime(tmp_path: Path, first: str) -> set[Path]:
    """HOME's contents after a new user's process ran ``first`` and then loaded onnxruntime."""
    home = tmp_path / "home"
    home.mkdir()
    env = st.new_user_env(dict(os.environ), home, tmp_path)
    env.update(PYTHONPATH=str(REPO), MOODSIC_HOME=str(tmp_path / "app"))
    code = f"{first}\nimport onnxruntime\n"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return {path.relative_to(home) for path in st.listing(home)}


def test_onnxruntime_loaded_bare_writes_its_telemetry_id(tmp_path):
    """The control for the test below (no strace needed): without the program's precautions onnxruntime
    keeps a device id in HOME."""
    written = home_after_loading_onnxruntime(tmp_path, "")
    if not written:
        pytest.skip("the installed onnxruntime writes no telemetry device id here; the control shows nothing")
    assert Path(".cache/Microsoft/DeveloperTools/.onnxruntime/deviceid") in written


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_entry_point_turns_onnxruntime_telemetry_off_before_it_loads(tmp_path, entry):
    written = home_after_loading_onnxruntime(tmp_path, ENTRY_POINTS[entry])
    assert [p for p in written if p.parts[:2] != (".cache", "moodsic") and p != Path(".cache")] == []


# ---- the program


@needs_strace
def test_analyze_sends_nothing_and_leaves_home_alone(tmp_path):
    user = NewUser(tmp_path)
    video = write_mood_video(user.tmp / "shop.mp4")
    video_created = set(st.listing(user.tmp))
    report = user.cwd / "report.json"
    command = [sys.executable, "-m", "moodsic_desktop", "analyze", str(video), "--out", str(report), "--quiet"]
    result = st.run_traced(command, user.trace, cwd=user.cwd, env=user.env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(report.read_text())["metrics"]["steps"] > 20  # it really read the video
    assert user.findings() == []
    assert [p for p in user.pictures() if p not in video_created] == []


@needs_strace
def test_the_window_sends_nothing_and_leaves_home_alone(tmp_path, virtual_screen):  # noqa: F811
    user = NewUser(tmp_path)
    video = write_mood_video(user.tmp / "shop.mp4", seconds_per_mood=30)
    video_created = set(st.listing(user.tmp))
    pid_file = user.tmp / "app.pid"  # the shell of the test writes it: in the folders the run may write to
    # the shell writes its process id, then becomes main.py (exec keeps the id), so it can be stopped below
    command = ["sh", "-c", f'echo $$ > "{pid_file}"; exec "$0" "$@"', sys.executable, str(REPO / "main.py")]
    command += ["--source", str(video)]
    env = user.env(DISPLAY=virtual_screen, QT_QPA_PLATFORM="xcb")
    log = tmp_path / "app.log"
    with log.open("w") as output:
        app = subprocess.Popen(
            st.strace_command(user.trace, command), cwd=user.cwd, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        covered = 0.0
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and app.poll() is None:
                time.sleep(2)
                image = screenshot(virtual_screen, tmp_path / "screen.ppm")
                covered = 0.0 if image is None else float((image.max(axis=2) > 20).mean())
                if covered > 0.3:
                    time.sleep(8)  # the video plays, the charts draw, a song starts
                    break
            assert app.poll() is None, log.read_text()[-3000:]
        finally:
            if pid_file.exists() and app.poll() is None:
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
            try:
                app.wait(timeout=30)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait()
    (tmp_path / "screen.ppm").unlink(missing_ok=True)  # the test's own screenshot, not the program's
    assert covered > 0.3, f"the window did not show ({covered:.0%} of the screen covered)"
    assert video in {p.resolve() for p in read_opened(user)}, "the window never opened the video"
    assert user.findings() == []
    assert [p for p in user.pictures() if p not in video_created] == []


def read_opened(user: NewUser) -> set[Path]:
    """Files the run opened (any mode), from the trace."""
    opened = set()
    for part in user.trace.parent.glob(user.trace.name + ".*"):
        for line in part.read_text(errors="replace").splitlines():
            if line.startswith(("openat(", "open(")) and " = -1" not in line:
                start = line.find('"') + 1
                opened.add(Path(line[start : line.find('"', start)]))
    return opened


@pytest.mark.parametrize("package", RUNTIME_PACKAGES)
def test_runtime_code_imports_no_network_client(package):
    from tests.test_architecture import PACKAGE, imported_top_levels

    network = {"socket", "urllib", "http", "requests", "httpx", "aiohttp", "ftplib", "smtplib"}
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(imported_top_levels(path) & network)
        for path in (PACKAGE / package).rglob("*.py")
        if str(path.relative_to(PACKAGE)) != DOWNLOAD_CODE
    }
    assert {k: v for k, v in offenders.items() if v} == {}
