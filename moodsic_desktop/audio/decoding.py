"""Decode audio files to float32 stereo at a target sample rate.

soundfile (libsndfile: WAV, FLAC, Ogg Vorbis, MP3, …) reads the file; soxr (libsoxr, ``HQ`` quality)
resamples it. Output is always ``(frames, 2)`` float32: a mono file is copied to both channels, a file with
more than two channels keeps its first two. Every problem (missing, unreadable, corrupt, truncated, empty)
becomes ``AudioDecodeError`` with a message that names the file.

``StreamDecoder`` works in chunks (``chunk_frames`` input frames at a time, about 1.5 s at 44.1 kHz), so a
long file never holds its thread for long; ``decode`` reads a whole file. Nothing here keeps global state:
any thread may call any function, one thread per ``StreamDecoder`` object. The one exception is the
C-level stderr: while an MP3 is opened or read, file descriptor 2 is pointed away for milliseconds to
drop mpg123's notes (``_QuietNativeStderr``); what other threads write then is passed on afterwards.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import soundfile as sf
import soxr

from moodsic_desktop.closing import ClosesOnExit

DEFAULT_CHUNK_FRAMES = 65536
"""Input frames read per chunk (about 1.5 s at 44.1 kHz)."""

TRUNCATION_TOLERANCE_S = 0.1
"""A file may decode up to this many seconds (or 1 %, whichever is more) short of its header before it
counts as truncated (MP3 frame counts are not always exact)."""

# libsndfile's log says "data : 264600 (should be 132278)" when a WAV/AIFF header claims more audio than the
# file holds; writers that stream (pipes) leave 0 or a huge placeholder there, which is not truncation.
_DATA_SIZE_MISMATCH = re.compile(r"^\s*data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
_PLACEHOLDER_SIZE = 0x7FFF0000
_OGG_ENDED_EARLY = "File ended unexpectedly"


class AudioDecodeError(ValueError):
    """A file cannot be played: missing, unreadable, corrupt, truncated or empty. ``path`` names the file,
    ``reason`` says why (without the path)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot decode {self.path}: {reason}")


@dataclass(frozen=True)
class AudioInfo:
    """Facts from a file's header: ``samplerate`` in Hz, ``frames`` in samples per channel."""

    path: Path
    samplerate: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration_s(self) -> float:
        """Length in seconds, from the header."""
        return self.frames / self.samplerate if self.samplerate else 0.0


def to_stereo(block: np.ndarray) -> np.ndarray:
    """``(frames, channels)`` → C-contiguous float32 ``(frames, 2)``: mono is copied to both channels,
    channels after the first two are dropped. A 1-D array counts as mono."""
    block = np.asarray(block, dtype=np.float32)
    if block.ndim == 1:
        block = block[:, np.newaxis]
    if block.ndim != 2 or block.shape[1] < 1:
        raise ValueError(f"expected (frames, channels) audio, got shape {block.shape}")
    if block.shape[1] == 1:
        return np.repeat(block, 2, axis=1)
    return np.ascontiguousarray(block[:, :2])


# libsndfile's MP3 decoder (mpg123) prints notes on damaged or padded files straight to the C stderr
# ("Note: Illegal Audio-MPEG-Header …", "Warning: Xing stream size off …", "[src/libmpg123/…] error: …");
# it has no switch to turn that off that libsndfile exposes. The reason reaches the user in AudioDecodeError.
_MPG123_CHATTER = re.compile(rb"^(Note: |Warning: |\[[^\]]*libmpg123)")


class _QuietNativeStderr:
    """While any thread is inside ``quiet()``, file descriptor 2 points at a private temporary file; what
    is written there is passed on to the real stderr, less mpg123's chatter: whole lines each time a thread
    leaves (where ``os.pread`` exists), the rest when the last one leaves and fd 2 is restored. So a log
    line or a progress bar from another thread in that window arrives a little late but is not lost. Where
    fd 2 cannot be duplicated (a windowed build without a console), nothing is redirected. Thread-safe:
    one lock guards the count, the switch and the file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._saved: int | None = None  # the real stderr while fd 2 is redirected
        self._sink: IO[bytes] | None = None
        self._passed = 0  # bytes of the sink already passed on

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        self._enter()
        try:
            yield
        finally:
            self._leave()

    def _enter(self) -> None:
        with self._lock:
            self._depth += 1
            if self._depth > 1:
                return
            try:
                with contextlib.suppress(AttributeError, ValueError, OSError):
                    sys.stderr.flush()  # what Python buffered goes out before the switch
                if self._sink is None:
                    self._sink = tempfile.TemporaryFile()  # noqa: SIM115 (kept open for the process's life)
                saved = os.dup(2)
                os.dup2(self._sink.fileno(), 2)
                self._saved = saved
            except OSError:
                self._saved = None

    def _leave(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._saved is None or self._sink is None:
                return
            sink = self._sink.fileno()
            if self._depth > 0:  # others still decode: pass on the whole lines written so far
                if hasattr(os, "pread"):  # reads without moving the offset fd 2 writes at
                    written = os.pread(sink, 1 << 20, self._passed)
                    whole = written[: written.rfind(b"\n") + 1]
                    self._passed += len(whole)
                    _pass_on(whole, self._saved)
                return
            saved, self._saved = self._saved, None
            os.dup2(saved, 2)
            os.close(saved)
            os.lseek(sink, self._passed, os.SEEK_SET)
            rest = b"".join(iter(lambda: os.read(sink, 1 << 16), b""))
            os.ftruncate(sink, 0)
            os.lseek(sink, 0, os.SEEK_SET)
            self._passed = 0
            _pass_on(rest, 2)


def _pass_on(captured: bytes, fd: int) -> None:
    """Write ``captured`` to ``fd`` without mpg123's lines."""
    kept = b"".join(line for line in captured.splitlines(keepends=True) if not _MPG123_CHATTER.match(line))
    if kept:
        with contextlib.suppress(OSError):
            os.write(fd, kept)


_native_stderr = _QuietNativeStderr()


def _open(path: Path) -> sf.SoundFile:
    try:
        exists = path.exists()
    except OSError as error:  # a name too long for the file system …
        raise AudioDecodeError(path, f"not a usable file name ({error.strerror or error})") from None
    if not exists:
        raise AudioDecodeError(path, "file not found")
    if not path.is_file():
        raise AudioDecodeError(path, "not a regular file")
    try:
        with _native_stderr.quiet():
            return sf.SoundFile(str(path))
    except (sf.SoundFileError, RuntimeError, OSError, ValueError, TypeError) as error:
        raise AudioDecodeError(path, f"unreadable or unsupported audio ({_short(error, path)})") from error


# What libsndfile says when its MP3 reader gives up on a regular file that is not audio.
_LIBSNDFILE_PIPE = "File does not exist or is not a regular file (possibly a pipe?)."


def _short(error: BaseException, path: Path) -> str:
    """libsndfile's message without the repeated "Error opening '<path>':" prefix, in plain words where
    libsndfile's own would mislead (``path`` is a regular file by then)."""
    text = str(error).replace(f"Error opening {str(path)!r}: ", "").strip()
    if text == _LIBSNDFILE_PIPE:
        return "not MP3, WAV, FLAC or Ogg Vorbis audio"
    return text or type(error).__name__


def _info(path: Path, handle: sf.SoundFile) -> AudioInfo:
    info = AudioInfo(
        path, int(handle.samplerate), int(handle.channels), int(handle.frames), str(handle.format), str(handle.subtype)
    )
    if info.samplerate <= 0 or info.channels <= 0:
        raise AudioDecodeError(path, f"invalid header ({info.samplerate} Hz, {info.channels} channels)")
    if info.frames <= 0:
        raise AudioDecodeError(path, "no audio in the file (empty or truncated)")
    _check_log(path, handle)
    return info


def _check_log(path: Path, handle: sf.SoundFile) -> None:
    """Truncation that libsndfile repairs silently but notes in its log (WAV/AIFF data size, Ogg end)."""
    try:
        log_text = handle.extra_info
    except (sf.SoundFileError, RuntimeError, AttributeError):
        return
    for claimed, actual in _DATA_SIZE_MISMATCH.findall(log_text):
        claimed_bytes, actual_bytes = int(claimed), int(actual)
        if 0 < claimed_bytes < _PLACEHOLDER_SIZE and actual_bytes < claimed_bytes:
            raise AudioDecodeError(
                path, f"truncated: the header announces {claimed_bytes} bytes of audio, the file holds {actual_bytes}"
            )
    if _OGG_ENDED_EARLY in log_text:
        raise AudioDecodeError(path, "truncated: the Ogg stream ends without its end-of-stream mark")


def probe(path: str | Path) -> AudioInfo:
    """Read a file's header and check it (also for truncation noted in the header). Raises
    ``AudioDecodeError``. Does not decode the audio: ``check_file`` does. Any thread."""
    path = Path(path)
    with _open(path) as handle:
        return _info(path, handle)


def read_in_place(handle: sf.SoundFile, frames: int) -> np.ndarray:
    """Up to ``frames`` frames from the file's position, float32 ``(n, channels)``, the decoder left where it
    stopped. ``SoundFile.read`` seeks back to its own position after every read (``SoundFile._cdata_io``),
    and libsndfile's MP3 decoder (1.2) starts afresh at a seek without the bit reservoir of the frames
    before it: tens of milliseconds of silence at every chunk. So the frames are read through libsndfile's
    ``sf_readf_float`` on soundfile's own handle; ``SoundFile.read`` only if soundfile ever stops exposing it.
    Raises ``RuntimeError`` (``soundfile.LibsndfileError``) on a decoding error."""
    lib, ffi = getattr(sf, "_snd", None), getattr(sf, "_ffi", None)
    raw = getattr(handle, "_file", None)
    quiet = _native_stderr.quiet() if handle.format in ("MP3", "MPEG") else contextlib.nullcontext()
    if lib is None or ffi is None or raw is None:
        with quiet:
            return handle.read(frames, dtype="float32", always_2d=True)
    out = np.empty((frames, handle.channels), np.float32)
    with quiet:
        got = lib.sf_readf_float(raw, ffi.from_buffer("float[]", out), frames)
    code = lib.sf_error(raw)
    if code:
        raise sf.LibsndfileError(code, "decoding failed: ")
    return out[:got]


class StreamDecoder(ClosesOnExit):
    """Decodes one file in chunks to float32 ``(frames, 2)`` at ``samplerate`` Hz.

    ``read()`` returns the next resampled chunk (possibly empty) until the file is done, then ``None``.
    ``expected_frames`` is the output length the header announces (samples at ``samplerate``). Raises
    ``AudioDecodeError`` from the constructor or from ``read`` (a corrupt frame, or a file that ends more
    than ``TRUNCATION_TOLERANCE_S`` / 1 % before its header says). Use from one thread at a time.
    """

    def __init__(
        self, path: str | Path, samplerate: int, *, chunk_frames: int = DEFAULT_CHUNK_FRAMES, quality: str = "HQ"
    ) -> None:
        if samplerate <= 0:
            raise ValueError(f"samplerate must be positive, got {samplerate}")
        if chunk_frames <= 0:
            raise ValueError(f"chunk_frames must be positive, got {chunk_frames}")
        self.path = Path(path)
        self.samplerate = int(samplerate)
        self._chunk_frames = int(chunk_frames)
        self._file: sf.SoundFile | None = _open(self.path)
        try:
            self.info = _info(self.path, self._file)
        except AudioDecodeError:
            self.close()
            raise
        ratio = self.samplerate / self.info.samplerate
        self.expected_frames = round(self.info.frames * ratio)
        self._resampler = (
            None
            if self.info.samplerate == self.samplerate
            else soxr.ResampleStream(self.info.samplerate, self.samplerate, 2, dtype="float32", quality=quality)
        )
        self.frames_in = 0
        self.frames_out = 0
        self.done = False

    def read(self) -> np.ndarray | None:
        """The next chunk, float32 ``(frames, 2)`` at the target rate; ``None`` once the file is done."""
        if self.done or self._file is None:
            return None
        try:
            block = read_in_place(self._file, self._chunk_frames)
        except (sf.SoundFileError, RuntimeError, OSError, ValueError) as error:
            seconds = self.frames_in / self.info.samplerate
            self.close()
            raise AudioDecodeError(
                self.path, f"corrupt audio after {seconds:.1f} s ({_short(error, self.path)})"
            ) from error
        self.frames_in += len(block)
        last = len(block) < self._chunk_frames
        if last:
            self._check_complete()
        if len(block) and not np.isfinite(block).all():
            self.close()
            raise AudioDecodeError(self.path, "corrupt audio (samples that are not finite numbers)")
        stereo = to_stereo(block)
        if self._resampler is not None:
            stereo = self._resampler.resample_chunk(stereo, last=last)
        if last:
            self.done = True
            self.close()
        self.frames_out += len(stereo)
        return stereo

    def _check_complete(self) -> None:
        expected = self.info.frames
        tolerance = max(int(TRUNCATION_TOLERANCE_S * self.info.samplerate), expected // 100)
        if self.frames_in + tolerance < expected:
            got_s = self.frames_in / self.info.samplerate
            self.close()
            raise AudioDecodeError(self.path, f"truncated: {got_s:.1f} s of {self.info.duration_s:.1f} s decoded")
        if self.frames_in == 0:
            self.close()
            raise AudioDecodeError(self.path, "no audio in the file (empty or truncated)")

    def close(self) -> None:
        """Release the file (also done when the file is finished or fails)."""
        handle, self._file = self._file, None
        if handle is not None:
            with contextlib.suppress(sf.SoundFileError, RuntimeError, OSError):
                handle.close()


def decode(path: str | Path, samplerate: int, *, chunk_frames: int = DEFAULT_CHUNK_FRAMES) -> np.ndarray:
    """The whole file as C-contiguous float32 ``(frames, 2)`` at ``samplerate`` Hz. Raises
    ``AudioDecodeError``. Any thread (it blocks for the whole decode)."""
    with StreamDecoder(path, samplerate, chunk_frames=chunk_frames) as decoder:
        out = np.empty((max(decoder.expected_frames, 1), 2), dtype=np.float32)
        filled = 0
        while (chunk := decoder.read()) is not None:
            end = filled + len(chunk)
            if end > len(out):
                grown = np.empty((max(end, len(out) * 3 // 2), 2), dtype=np.float32)
                grown[:filled] = out[:filled]
                out = grown
            out[filled:end] = chunk
            filled = end
    return out[:filled]


def check_file(path: str | Path, *, chunk_frames: int = 1 << 18) -> AudioInfo:
    """Decode the whole file at its own rate (no resampling) and return its header facts; raises
    ``AudioDecodeError`` for anything that would not play. For ``moodsic library check``. Any thread."""
    with StreamDecoder(path, probe(path).samplerate, chunk_frames=chunk_frames) as decoder:
        while decoder.read() is not None:
            pass
        return decoder.info


def decode_excerpts(
    path: str | Path, samplerate: int, excerpt_s: float, positions: tuple[float, ...], *, quality: str = "HQ"
) -> tuple[AudioInfo, list[np.ndarray]]:
    """Mono excerpts of a file for analysis: the header facts and one C-contiguous float32 1-D array at
    ``samplerate`` Hz per window of ``excerpt_s`` seconds centred at each of ``positions`` (shares of the
    file's length, 0..1; a window is moved inside the file where it would stick out). A file no longer
    than ``excerpt_s · len(positions)`` is returned whole, as one excerpt, so the cost is bounded by the
    windows, never by the file's length. Channels are averaged, then resampled with soxr at ``quality``
    ("HQ"; "MQ" is enough for analysis and about twice as fast). Raises ``AudioDecodeError`` (missing,
    unreadable, corrupt or truncated). Any thread (it blocks while it reads)."""
    if samplerate <= 0 or excerpt_s <= 0:
        raise ValueError(f"samplerate and excerpt_s must be positive, got {samplerate}, {excerpt_s}")
    path = Path(path)
    with _open(path) as handle:
        info = _info(path, handle)
        window = round(excerpt_s * info.samplerate)
        if info.frames <= window * max(len(positions), 1):
            starts, window = [0], info.frames
        else:
            starts = [min(max(round(p * info.frames) - window // 2, 0), info.frames - window) for p in positions]
        tolerance = max(int(TRUNCATION_TOLERANCE_S * info.samplerate), window // 100)
        excerpts = []
        for start in starts:
            try:
                handle.seek(start)
                block = read_in_place(handle, window)
            except (sf.SoundFileError, RuntimeError, OSError, ValueError) as error:
                raise AudioDecodeError(
                    path, f"corrupt audio near {start / info.samplerate:.1f} s ({_short(error, path)})"
                ) from error
            if len(block) + tolerance < window:
                got_s = (start + len(block)) / info.samplerate
                raise AudioDecodeError(path, f"truncated: the audio ends at {got_s:.1f} s of {info.duration_s:.1f} s")
            if not np.isfinite(block).all():
                raise AudioDecodeError(path, "corrupt audio (samples that are not finite numbers)")
            mono = block.mean(axis=1, dtype=np.float32)
            if info.samplerate != samplerate:
                mono = soxr.resample(mono, info.samplerate, samplerate, quality=quality)
            excerpts.append(np.ascontiguousarray(mono, dtype=np.float32))
    return info, excerpts


__all__ = [
    "DEFAULT_CHUNK_FRAMES",
    "AudioDecodeError",
    "AudioInfo",
    "StreamDecoder",
    "check_file",
    "decode",
    "decode_excerpts",
    "probe",
    "to_stereo",
]
