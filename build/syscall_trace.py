"""Running a program under ``strace`` and reading what it did at the operating-system level: the network
connections it tried and the files, folders and links it created. Python's audit hooks see only what
Python code does; native libraries (onnxruntime, Qt, MediaPipe, PortAudio) are seen only here.

Used by ``build/build_app.py`` (the frozen app's privacy step) and ``tests/test_privacy.py`` (the program
from source). Standard library only, so that both can load it as a plain file. Linux only (strace).
"""

from __future__ import annotations

import codecs
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

# Every system call that connects a socket or creates a name in the file system.
TRACED_CALLS = "connect,open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,link,linkat,symlink,symlinkat"
_LINE = re.compile(r"^(?P<call>\w+)\((?P<args>.*)\)\s+=\s+(?P<ret>-?\d+|\?)")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_CREATING_LAST_NAME = {"rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat"}


def strace_command(trace_prefix: Path, command: list[str]) -> list[str]:
    """``command`` under strace: every thread and child followed, each into ``<trace_prefix>.<tid>``
    (one file per thread, so no call is split across lines), long strings kept whole."""
    strace = shutil.which("strace")
    if strace is None:
        raise FileNotFoundError("strace is not installed")
    return [strace, "-f", "-ff", "-qq", "-s", "4096", "-e", f"trace={TRACED_CALLS}", "-o", str(trace_prefix), *command]


# Where any program writes as it runs, whoever runs it: devices (/dev/null, /dev/shm, /dev/dri, /dev/snd)
# and the process's own entries in /proc. Anything else a run writes must be in the folders it was given.
SYSTEM_RUNTIME = (Path("/dev"), Path("/proc"))
_WRITE_FLAG = re.compile(r"\bO_(WRONLY|RDWR|CREAT|TRUNC)\b")


@dataclass
class Trace:
    """What a traced run did. ``connects``: every connect() to an IPv4/IPv6 address (whether or not it
    succeeded), as strace printed it; ``created``: absolute paths of files, folders and links it created
    or opened with O_CREAT (successful calls only); ``written``: those and every file opened for writing
    (O_WRONLY, O_RDWR, O_TRUNC; ``creat``), wherever it is; ``unresolved``: such names relative to a
    directory descriptor, which a listing of the folders must cover instead."""

    connects: list[str] = field(default_factory=list)
    created: list[Path] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


def _unescape(text: str) -> str:
    return codecs.escape_decode(text.encode("utf-8"))[0].decode("utf-8", "surrogateescape")


def _touched_name(call: str, args: str, cwd: Path) -> tuple[Path, bool] | None:
    """The name a successful call created or opened for writing, as an absolute path, and whether it was
    created; None when it did neither. Raises ``LookupError`` for a name relative to a directory
    descriptor (its folder is unknown here)."""
    strings = list(_STRING.finditer(args))
    if not strings:
        return None
    chosen = strings[-1] if call in _CREATING_LAST_NAME else strings[0]  # a rename's or link's new name
    flags = args[chosen.end() :]
    created = call not in {"open", "openat"} or "O_CREAT" in flags
    if call in {"open", "openat"} and not _WRITE_FLAG.search(flags):
        return None
    path = Path(_unescape(chosen[1]))
    if path.is_absolute():
        return path, created
    dirfd = args[: chosen.start()].rstrip(", ").rsplit(",", 1)[-1].strip()
    if call.endswith(("at", "at2")) and dirfd != "AT_FDCWD":
        raise LookupError(dirfd)
    return cwd / path, created


def parse_trace(lines: list[str], cwd: Path) -> Trace:
    """Read strace's lines (one thread's calls per line, as ``strace_command`` writes them); relative
    names are taken relative to ``cwd``, the traced program's working folder."""
    trace = Trace()
    for line in lines:
        match = _LINE.match(line.strip())
        if match is None:
            continue
        call, args, ret = match["call"], match["args"], match["ret"]
        if call == "connect":
            if "sa_family=AF_INET" in args:  # AF_INET and AF_INET6
                trace.connects.append(line.strip())
        elif ret != "?" and int(ret) >= 0:
            try:
                touched = _touched_name(call, args, cwd)
            except LookupError:
                trace.unresolved.append(line.strip())
                continue
            if touched is not None:
                trace.written.append(touched[0])
                if touched[1]:
                    trace.created.append(touched[0])
    return trace


def read_trace(trace_prefix: Path, cwd: Path) -> Trace:
    """Every ``<trace_prefix>.<tid>`` file of one traced run, read together."""
    lines: list[str] = []
    for part in sorted(trace_prefix.parent.glob(trace_prefix.name + ".*")):
        lines.extend(part.read_text(encoding="utf-8", errors="replace").splitlines())
    return parse_trace(lines, cwd)


def listing(folder: Path) -> set[Path]:
    """Every file, folder and link under ``folder`` (links not followed)."""
    return {path for path in folder.rglob("*")} if folder.exists() else set()


def strays(paths: set[Path] | list[Path], home: Path, allowed: list[Path]) -> list[Path]:
    """The paths under ``home`` that are not inside (or a parent folder of) one of ``allowed``."""
    found = []
    for path in paths:
        if not path.is_relative_to(home) or path == home:
            continue
        if any(path.is_relative_to(a) or a.is_relative_to(path) for a in allowed):
            continue
        found.append(path)
    return sorted(set(found))


def written_elsewhere(paths: list[Path], home: Path, places: list[Path]) -> list[Path]:
    """The paths outside ``home`` (which :func:`strays` covers) that are in none of ``places`` nor of
    :data:`SYSTEM_RUNTIME`."""
    allowed = [*places, *SYSTEM_RUNTIME]
    return sorted({p for p in paths if not p.is_relative_to(home) and not any(p.is_relative_to(a) for a in allowed)})


def run_traced(command: list[str], trace_prefix: Path, **popen) -> subprocess.CompletedProcess:
    """Run ``command`` under strace to the end (``subprocess.run`` keywords pass through)."""
    return subprocess.run(strace_command(trace_prefix, command), check=False, **popen)


# Variables that would move a library's files out of HOME or silence it: a new user has none of them. CI:
# onnxruntime keeps its telemetry off on a machine that says it is CI (as CI services set it), which would
# hide from the privacy check exactly what it must catch.
NEW_USER_UNSET = (
    "CI",
    "ORT_DISABLE_TELEMETRY",
    "MPLCONFIGDIR",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "MOODSIC_CONFIG_DIR",
    "MOODSIC_CACHE_DIR",
    "MESA_SHADER_CACHE_DIR",
    "MESA_GLSL_CACHE_DIR",
    "MESA_SHADER_CACHE_DISABLE",
    "__GL_SHADER_DISK_CACHE_PATH",
)


def new_user_env(base: dict[str, str], home: Path, runtime_dir: Path) -> dict[str, str]:
    """``base`` as a new user's would be: an empty ``home``, none of ``NEW_USER_UNSET``, and a private
    ``XDG_RUNTIME_DIR`` as every desktop login session has (without one PulseAudio's client library links
    ``~/.config/pulse/<machine>-runtime`` to /tmp). No bytecode written, so Python's own caches do not
    show up as files the program created."""
    env = {key: value for key, value in base.items() if key not in NEW_USER_UNSET}
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime_dir), PYTHONDONTWRITEBYTECODE="1")
    return env


def own_folders(home: Path) -> list[Path]:
    """The program's own folders in a Linux HOME (``moodsic_desktop.paths``): its settings
    (``config_dir``, also the earlier ``~/.config/Moodsic/Moodsic``), its data (a frozen build's
    ``app_dir``) and its cache (``cache_dir``)."""
    return [home / ".config" / "Moodsic", home / ".local" / "share" / "Moodsic", home / ".cache" / "moodsic"]


def findings(
    trace: Trace, home: Path, allowed: list[Path], home_before: set[Path], places: list[Path] | None = None
) -> list[str]:
    """What a run did that it must not: every connect() to a network address, everything created in
    ``home`` outside ``allowed`` (seen in the trace, or new in a listing of ``home`` taken after the run
    against ``home_before``) and, when ``places`` (the folders outside ``home`` it was given: the
    program's folder, its temporary and runtime folders, its working folder) is given, every file written
    outside ``home``, ``places`` and the system's runtime folders (a library falling back on the passwd
    home, or on /tmp). An empty list: nothing."""
    problems = [f"connect() to a network address: {line}" for line in trace.connects]
    problems += [f"created in HOME (trace): {path}" for path in strays(trace.created, home, allowed)]
    problems += [f"new in HOME (listing): {path}" for path in strays(listing(home) - home_before, home, allowed)]
    if places is not None:
        outside = written_elsewhere(trace.written, home, places)
        problems += [f"written outside HOME and the program's folders (trace): {path}" for path in outside]
    return problems
