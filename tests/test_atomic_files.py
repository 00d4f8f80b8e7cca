"""Files written whole (``moodsic_desktop.atomic_files``): a write that fails part way leaves the old file and
no temporary file; the permissions of the file replaced are kept, a new file gets the usual ones; a missing
folder, a FIFO or a device is refused with a message naming the target, and nothing is made."""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

import pytest

from moodsic_desktop import atomic_files
from moodsic_desktop.atomic_files import put_in_place, replacing, write_bytes, write_text
from moodsic_desktop.regular_files import NotARegularFileError
from tests.special_files import fifo_that_cannot_hang, private_null_device

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and special files")


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_new_file_is_written_whole_with_the_usual_permissions(tmp_path):
    path = tmp_path / "report.json"
    assert write_text(path, "{\n}\n") == path
    assert path.read_text(encoding="utf-8") == "{\n}\n"
    assert write_bytes(tmp_path / "model.onnx", b"\x00\x01") == tmp_path / "model.onnx"
    assert (tmp_path / "model.onnx").read_bytes() == b"\x00\x01"
    assert names(tmp_path) == ["model.onnx", "report.json"]  # no temporary file left
    if os.name == "posix":  # as open() would make it (mkstemp's 0600 would hide a report from its reader)
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~current_umask()


def test_text_is_written_in_the_encoding_asked_for(tmp_path):
    path = tmp_path / "café.txt"
    write_text(path, "café ☕")
    assert path.read_bytes().decode("utf-8") == "café ☕".replace("\n", os.linesep)
    write_text(path, "café", encoding="latin-1")
    assert path.read_bytes() == b"caf\xe9"


@posix_only
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604])
def test_the_replaced_file_keeps_its_permissions(tmp_path, mode):
    path = tmp_path / "settings.json"
    path.write_text("old")
    path.chmod(mode)
    write_text(path, "new")
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_a_write_that_fails_part_way_leaves_the_old_file(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text('{"old": true}')
    with pytest.raises(OSError, match="No space left"), replacing(path) as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".manifest.json.")
        with open(temporary, "w") as half:
            half.write('{"new": ')  # half of the new content reaches the disk …
        raise OSError(errno.ENOSPC, "No space left on device")  # … and the disk is full
    assert path.read_text() == '{"old": true}'
    assert names(tmp_path) == ["manifest.json"]


def test_any_exception_in_the_block_leaves_the_old_file(tmp_path):
    path = tmp_path / "cache.flac"
    path.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), replacing(path) as temporary:
        temporary.write_bytes(b"ne")
        raise KeyboardInterrupt
    assert path.read_bytes() == b"old" and names(tmp_path) == ["cache.flac"]


def test_a_failed_rename_leaves_the_old_file_and_names_the_target(tmp_path, monkeypatch):
    path = tmp_path / "report.json"
    path.write_text("old")

    def refuse(source, target):
        raise PermissionError(errno.EACCES, "Permission denied", str(source))

    monkeypatch.setattr(atomic_files.os, "replace", refuse)
    with pytest.raises(PermissionError) as caught:
        write_text(path, "new")
    assert caught.value.filename == str(path)  # not the hidden temporary name
    assert path.read_text() == "old" and names(tmp_path) == ["report.json"]


def test_a_missing_folder_is_refused_and_not_made(tmp_path):
    path = tmp_path / "no such folder" / "report.json"
    with pytest.raises(FileNotFoundError, match=r"the folder .*no such folder does not exist") as caught:
        write_text(path, "x")
    assert caught.value.filename == str(path)
    assert names(tmp_path) == []


@posix_only
def test_a_fifo_is_refused_and_left_as_it_is(tmp_path):
    with fifo_that_cannot_hang(tmp_path / "pipe.json") as fifo:
        with pytest.raises(NotARegularFileError, match="a named pipe"):
            write_text(fifo, "x")
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
        assert names(tmp_path) == ["pipe.json"]


@posix_only
def test_a_device_is_never_replaced(tmp_path):
    device = private_null_device(tmp_path / "null")
    if device is None:
        pytest.skip("making a device node needs root")
    with pytest.raises(NotARegularFileError, match="a device"):
        write_bytes(device, b"x")
    assert stat.S_ISCHR(os.stat(device).st_mode)


def test_a_finished_file_is_put_in_place_with_the_old_permissions(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"old")
    if os.name == "posix":
        path.chmod(0o640)
    finished = tmp_path / "model.bin.part"
    finished.write_bytes(b"new")
    assert put_in_place(finished, path) == path
    assert path.read_bytes() == b"new" and names(tmp_path) == ["model.bin"]
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_missing_finished_file_leaves_the_target(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"old")
    with pytest.raises(FileNotFoundError) as caught:
        put_in_place(tmp_path / "gone.part", path)
    assert caught.value.filename == str(path) and path.read_bytes() == b"old"


def test_the_new_content_reaches_the_disk_before_it_takes_the_name(tmp_path, monkeypatch):
    """fsync comes before the rename: after a power cut the name never points at an empty file."""
    order = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(atomic_files.os, "fsync", lambda fd: (order.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(atomic_files.os, "replace", lambda a, b: (order.append("replace"), real_replace(a, b))[1])
    write_text(tmp_path / "settings.json", "{}")
    assert order[:2] == ["fsync", "replace"]


def test_readers_see_the_old_or_the_new_file_never_a_mix(tmp_path):
    """Two writers and a reader at once: every read is one writer's whole content."""
    path = tmp_path / "manifest.json"
    contents = [("a" * 200_000).encode(), ("b" * 300_000).encode()]
    write_bytes(path, contents[0])
    seen: set[bytes] = set()
    stop = threading.Event()

    def writer(data: bytes) -> None:
        for _ in range(30):
            write_bytes(path, data)

    def reader() -> None:
        while not stop.is_set():
            seen.add(path.read_bytes())

    threads = [threading.Thread(target=writer, args=(data,)) for data in contents]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    watcher.join()
    assert seen <= set(contents) and seen
    assert names(tmp_path) == ["manifest.json"]
