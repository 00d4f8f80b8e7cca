"""Real ``moodsic library add-folder`` processes with worker pools: three first imports at once on an empty
cache and a fourth after them all complete (with librosa's numba cache they crashed and left it corrupt for
good, issue 19; the features now need no compiled cache, issue 22), and a ``kill -9`` of an import leaves no
worker or resource tracker running (issue 20 item 9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.mood_music import write_song

REPO = Path(__file__).resolve().parents[2]
SONGS = 8


@pytest.fixture(scope="module")
def music(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("music")
    for k in range(SONGS):
        write_song(folder / f"song {k}.wav", -0.9 + 0.25 * k, 0.8 - 0.2 * k, seconds=3, seed=k)
    return folder


@pytest.fixture(scope="module")
def empty_cache(tmp_path_factory) -> Path:
    """The program's cache folder, empty at first, shared by this module's imports."""
    return tmp_path_factory.mktemp("cache")


def start_import(music: Path, index: Path, cache: Path) -> subprocess.Popen:
    """``add-folder`` with two workers in a process of its own; its output goes to ``index`` + ``.out`` and
    ``.err`` (files, not pipes: workers that outlive it would hold pipes open, and a read of them would hang)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "MOODSIC_CACHE_DIR": str(cache)}
    command = [sys.executable, "-m", "moodsic_desktop", "library", "add-folder", str(music)]
    with open(f"{index}.out", "w") as out, open(f"{index}.err", "w") as err:
        return subprocess.Popen(
            [*command, "--index", str(index), "--workers", "2", "--quiet"], stdout=out, stderr=err, env=env, cwd=REPO
        )


def output(index: Path) -> tuple[str, str]:
    return Path(f"{index}.out").read_text(), Path(f"{index}.err").read_text()


def test_three_first_imports_at_once_on_an_empty_cache_then_a_fourth_all_complete(music, empty_cache, tmp_path):
    assert not any(empty_cache.iterdir())
    indexes = [tmp_path / f"library-{k}.sqlite" for k in range(4)]
    imports = [start_import(music, index, empty_cache) for index in indexes[:3]]
    codes = [process.wait() for process in imports]
    codes.append(start_import(music, indexes[3], empty_cache).wait())
    for code, index in zip(codes, indexes, strict=True):
        out, err = output(index)
        assert code == 0, err
        assert "Traceback" not in err and "could not be analysed" not in out, (out, err)
        assert f"imported {SONGS} songs" in out and f"{SONGS} files analysed" in out, out
    assert not (empty_cache / "numba").exists()  # nothing compiled, nothing to spoil


def children_of(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="finds the worker processes in Linux /proc")
def test_kill_9_of_an_import_ends_its_workers_and_the_resource_tracker(music, empty_cache, tmp_path):
    process = start_import(music, tmp_path / "library.sqlite", empty_cache)
    children: set[int] = set()
    while process.poll() is None and len(children) < 3:  # the resource tracker and two workers
        children |= children_of(process.pid)
        time.sleep(0.05)
    assert process.poll() is None, "the import ended before its workers could be seen"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 60  # workers end within a second; 60 leaves room for a busy machine
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in children if alive(pid)]
    for pid in left:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert not left, f"still running after the import was killed: {left}"
