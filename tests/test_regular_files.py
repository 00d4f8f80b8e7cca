"""Only regular files are read or replaced (``moodsic_desktop.regular_files``): a FIFO, a device or a folder is
refused with a message that says what it is, without waiting on it."""

from __future__ import annotations

import os

import pytest

from moodsic_desktop.regular_files import (
    NotARegularFileError,
    check_output_path,
    check_regular_file,
    read_regular_bytes,
)
from tests.special_files import fifo_that_cannot_hang, private_null_device


def test_a_regular_file_is_read_whole(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"song_id,valence\n1,2\n")
    assert read_regular_bytes(path) == b"song_id,valence\n1,2\n"
    check_regular_file(path)
    check_output_path(path)
    check_output_path(tmp_path / "new.json")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    with fifo_that_cannot_hang(tmp_path / "pipe.csv") as fifo:
        with pytest.raises(NotARegularFileError, match=r"pipe\.csv is a named pipe \(FIFO\), not a regular file"):
            read_regular_bytes(fifo)
        with pytest.raises(NotARegularFileError, match="named pipe"):
            check_regular_file(fifo)
        with pytest.raises(NotARegularFileError, match=r"named pipe.*choose another file"):
            check_output_path(fifo)


def test_a_link_to_a_fifo_is_refused_too(tmp_path):
    with fifo_that_cannot_hang(tmp_path / "pipe") as fifo:
        link = tmp_path / "settings.json"
        link.symlink_to(fifo)
        with pytest.raises(NotARegularFileError, match="named pipe"):
            read_regular_bytes(link)


def test_a_device_and_a_folder_are_refused(tmp_path):
    with pytest.raises(NotARegularFileError, match="a device"):
        read_regular_bytes("/dev/null")
    with pytest.raises(NotARegularFileError, match="a device"):
        check_output_path("/dev/null")
    with pytest.raises(NotARegularFileError, match="a folder"):
        read_regular_bytes(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_regular_bytes(tmp_path / "missing")
    assert isinstance(NotARegularFileError(tmp_path, "a device"), OSError)


def test_a_private_device_node_is_never_replaced(tmp_path):
    node = private_null_device(tmp_path / "null")
    if node is None:
        pytest.skip("making a device node needs root")
    with pytest.raises(NotARegularFileError, match="a device"):
        check_output_path(node)
    assert not os.path.isfile(node)
