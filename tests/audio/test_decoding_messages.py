"""What decoding says on stderr and in its errors: plain reasons, and none of mpg123's native notes."""

from __future__ import annotations

import os
import threading

import pytest

from moodsic_desktop.audio import decoding
from moodsic_desktop.audio.decoding import AudioDecodeError
from tests.library_files import require_mp3, write_audio

CHATTER = ("Note:", "Warning:", "libmpg123", "resync")


def test_a_regular_file_that_is_not_audio_gets_a_plain_reason(tmp_path):
    for name in ("notes.mp3", "notes.wav", "notes.flac", "notes.ogg"):
        path = tmp_path / name
        path.write_text("a shopping list, not a song\n" * 20)
        with pytest.raises(AudioDecodeError) as caught:
            decoding.probe(path)
        assert str(path) in str(caught.value)
        assert "pipe" not in caught.value.reason and "not a regular file" not in caught.value.reason
        assert "audio" in caught.value.reason


@pytest.fixture
def damaged_mp3s(tmp_path):
    """A real MP3 (libsndfile's encoder), one with a run of zero bytes inside and one cut in half."""
    require_mp3()
    good = write_audio(tmp_path / "good.mp3", seconds=2.0)
    data = good.read_bytes()
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(data[:2000] + bytes(3000) + data[2000:])
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) // 2])
    return good, junk, cut


def test_damaged_mp3s_print_no_native_notes(damaged_mp3s, capfd):
    good, junk, cut = damaged_mp3s
    for path in (junk, cut):
        with pytest.raises(AudioDecodeError) as caught:
            decoding.check_file(path)
        assert str(path) in str(caught.value)
        with pytest.raises(AudioDecodeError):
            decoding.decode(path, 48000)
    assert len(decoding.decode(good, 44100)) > 80000
    out, err = capfd.readouterr()
    assert not [word for word in CHATTER if word in err + out], err


def test_other_writes_to_stderr_in_the_quiet_window_are_kept(capfd):
    """Only mpg123's lines are dropped: anything else written to fd 2 meanwhile, from this thread or
    another, comes out after the window."""
    inside = threading.Event()
    written = threading.Event()

    def other_thread() -> None:
        inside.wait(5)
        os.write(2, b"another thread's log line\n")
        written.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with decoding._native_stderr.quiet():
        os.write(2, b"Note: Illegal Audio-MPEG-Header 0x00000000 at offset 15.\n")
        os.write(2, b"[src/libmpg123/parse.c:wetwork():1349] error: Giving up resync\n")
        os.write(2, b"a line that must stay\n")
        inside.set()
        assert written.wait(5)
        with decoding._native_stderr.quiet():  # nested (another decoder thread) is fine
            os.write(2, b"Warning: Xing stream size off by more than 1%\n")
    thread.join()
    _, err = capfd.readouterr()
    assert err.splitlines() == ["a line that must stay", "another thread's log line"]
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


def test_lines_written_while_another_decoder_is_busy_come_out_at_once(capfd):
    """While one decoder thread is still inside the quiet window, what another thread wrote comes out
    as soon as that other thread leaves, not only at the end."""
    if not hasattr(os, "pread"):
        pytest.skip("without os.pread captured lines are passed on when the last decoder leaves")
    with decoding._native_stderr.quiet():  # a long decode on another thread
        with decoding._native_stderr.quiet():
            os.write(2, b"Note: Trying to resync...\nprogress 1/2\n")
        assert capfd.readouterr().err == "progress 1/2\n"
        os.write(2, b"progress 2/2\npartial")
    assert capfd.readouterr().err == "progress 2/2\npartial"
