"""The playback engine: two decks, a decoder thread, and an audio callback that only mixes.

Threads
-------
* **Callers** (GUI, capture worker, CLI): ``play``, ``crossfade_to``, ``queue_next``, ``skip``, ``stop`` and
  the ``device`` setter only queue a command for the worker and return at once; ``volume`` and
  ``crossfade_s`` are plain attribute writes; the read-only properties read snapshots. Any thread.
  ``start``, ``close`` and ``wait_idle`` block: the thread that owns the engine, never the listener.
* **Worker** (``moodsic-audio``, a plain ``threading.Thread``): runs the commands, decodes and resamples
  songs into deck buffers ahead of need (a chunk at a time, so a long file never holds it for long), opens,
  watches and recovers the output, tracks the position and calls the ``EngineListener``. The listener only
  ever runs here, never on the audio thread.
* **Audio** (the PortAudio callback, or the clock thread of ``NullBackend``): ``_Mixer.render`` takes new
  decks from a ``collections.deque`` with non-blocking pops, mixes pre-filled buffers into the output block
  with in-place numpy operations on preallocated scratch arrays, and counts underflows. No I/O, no locks, no
  large allocation; a deck it drops goes back to the worker through another deque, so its memory is never
  freed on the audio thread. It mixes in segments of at most ``MAX_SEGMENT`` frames so that numpy never
  releases the GIL in the middle of a block: taking it back could cost a whole switch interval (5 ms)
  while another thread is busy in Python.

Fades
-----
Every deck has a phase θ ∈ [0, π/2] and plays at gain sin θ. An equal-power crossfade of length T moves
the incoming deck's phase from 0 to π/2 and the outgoing deck's phase from π/2 to 0 linearly in time::

    g_in(t) = sin(π/2 · t/T),   g_out(t) = cos(π/2 · t/T),   g_in² + g_out² = 1

so two uncorrelated songs keep a constant total power through the crossfade. An automatic crossfade starts
``crossfade_s`` before the outgoing song ends (or right away, shorter, when the next song came late), so
the outgoing song reaches silence exactly at its last sample: no gap between songs. Start and stop use the
same sine ramps; the master ``volume`` (linear amplitude 0..1) glides over 30 ms to avoid clicks.

Outputs
-------
The engine talks to an ``AudioBackend`` (``SoundDeviceBackend``: PortAudio through sounddevice;
``NullBackend``: no device, paced by a clock or pulled by hand in tests), after Quod Libet's
``player/_base.py`` and ``player/nullbe.py``. Without PortAudio, or when no device opens, the engine plays
silently on a clock, so the rest of the program (positions, "song ending" notices) runs on, and ``status``
says why and what to do.
"""

from __future__ import annotations

import functools
import logging
import math
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import Any

import numpy as np

from moodsic_desktop.audio.decoding import DEFAULT_CHUNK_FRAMES, AudioDecodeError, StreamDecoder
from moodsic_desktop.core.library import Song
from moodsic_desktop.core.settings_schema import CROSSFADE

log = logging.getLogger(__name__)

HALF_PI = math.pi / 2
MAX_CROSSFADE_S = CROSSFADE.maximum
PORTAUDIO_MISSING = (
    "No sound: the PortAudio library is not installed. Install libportaudio2 "
    "(Debian/Ubuntu: sudo apt install libportaudio2) and restart Moodsic."
)
SOUNDDEVICE_MISSING = (
    "No sound: the Python package sounddevice is not installed "
    "(pip install sounddevice) — restart Moodsic after installing it."
)

RenderFn = Callable[[np.ndarray, bool], None]
"""``render(out, underflow)``: fill ``out`` (float32 ``(frames, 2)``) in place; ``underflow`` says the
output ran dry before this block. Called on the audio thread only."""

Device = int | str | None
"""An output device: its PortAudio index, a substring of its name, or ``None`` for the system default."""


# --------------------------------------------------------------------------------------------------------
# Output back ends


class OutputError(RuntimeError):
    """An output could not be opened or started."""


@dataclass(frozen=True)
class OutputDevice:
    """One output device as PortAudio lists it. ``default_samplerate`` in Hz."""

    index: int
    name: str
    hostapi: str
    channels: int
    default_samplerate: float
    is_default: bool


class AudioSink(ABC):
    """An open output that calls ``render`` on its own (audio) thread until closed."""

    name: str = "output"
    silent: bool = False
    """True for outputs that play nothing (``NullSink``)."""
    watchdog: bool = True
    """Whether the engine should treat a render function that stops being called as a failure."""
    render_errors: int = 0
    last_render_error: BaseException | None = None

    @abstractmethod
    def start(self) -> None:
        """Begin calling ``render``. Raises ``OutputError``. Worker thread."""

    @abstractmethod
    def failure(self) -> str | None:
        """Why the output stopped working (device gone, stream error), or ``None`` while it works."""

    @abstractmethod
    def close(self, *, drain: bool = False) -> None:
        """Stop calling ``render`` and release the device; when it returns, ``render`` is not running.
        ``drain``: let the device first play what it has buffered (at most its latency) — only for a
        healthy output, since a stuck one may never drain. Never raises. Worker thread."""


class AudioBackend(ABC):
    """Opens ``AudioSink``\\ s. Methods are called by the engine's worker thread, except ``list_devices``
    and ``unavailable_reason`` (any thread)."""

    name: str = "backend"

    def unavailable_reason(self) -> str | None:
        """Why this back end can never play (library missing), or ``None``."""
        return None

    def list_devices(self) -> list[OutputDevice]:
        """Output devices this back end can open."""
        return []

    def refresh(self) -> None:  # noqa: B027 - an optional hook: most back ends have nothing to re-scan
        """Re-scan the devices (called only while none of this back end's sinks is open)."""

    @abstractmethod
    def open(self, device: Device, samplerate: int, blocksize: int, render: RenderFn) -> AudioSink:
        """An output for ``device`` at ``samplerate`` Hz with blocks of ``blocksize`` frames, not yet
        started. Raises ``OutputError``."""


@functools.cache
def _sounddevice() -> tuple[ModuleType | None, str | None]:
    """``(sounddevice module, None)``, or ``(None, why not)`` when PortAudio or the package is missing.
    Imported on first use: importing sounddevice initialises PortAudio, which reads ``~/.asoundrc``."""
    try:
        import sounddevice
    except OSError as error:  # sounddevice raises OSError when libportaudio cannot be loaded
        log.warning("PortAudio is not available (%s)", error)
        return None, PORTAUDIO_MISSING
    except ImportError:
        return None, SOUNDDEVICE_MISSING
    return sounddevice, None


def portaudio_problem() -> str | None:
    """A message saying what to install when PortAudio (or sounddevice) is missing, else ``None``."""
    return _sounddevice()[1]


def list_output_devices() -> list[OutputDevice]:
    """The output devices PortAudio sees (empty when PortAudio is missing). Any thread."""
    return SoundDeviceBackend().list_devices()


class _SoundDeviceSink(AudioSink):
    def __init__(
        self, sd: ModuleType, device: Device, samplerate: int, blocksize: int, latency: float | str, render: RenderFn
    ) -> None:
        self._sd = sd
        self._render = render
        self._failure: str | None = None
        self._closing = False
        self._started = False
        try:
            self._stream = sd.OutputStream(
                samplerate=samplerate,
                blocksize=blocksize,
                device=device,
                channels=2,
                dtype="float32",
                latency=latency,
                callback=self._callback,
                finished_callback=self._finished,
            )
        except (sd.PortAudioError, ValueError, TypeError) as error:
            raise OutputError(str(error) or type(error).__name__) from error
        try:
            info = sd.query_devices(self._stream.device)
            hostapi = sd.query_hostapis(info["hostapi"])["name"]
            self.name = f"{info['name']} ({hostapi})"
        except Exception:  # the name is cosmetic
            self.name = f"device {self._stream.device}"

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # Audio thread. Exceptions must not escape (PortAudio would stop the stream); the worker logs them.
        try:
            self._render(outdata, bool(status.output_underflow))
        except Exception as error:
            outdata.fill(0.0)
            self.render_errors += 1
            self.last_render_error = error

    def _finished(self) -> None:
        if not self._closing:
            self._failure = "the audio stream stopped unexpectedly"

    def start(self) -> None:
        try:
            self._stream.start()
        except self._sd.PortAudioError as error:
            raise OutputError(str(error)) from error
        self._started = True

    def failure(self) -> str | None:
        if self._failure is None and self._started and not self._closing and not self._stream.active:
            self._failure = "the audio stream is no longer active"
        return self._failure

    def close(self, *, drain: bool = False) -> None:
        drain = drain and self._started and self._failure is None and self._stream.active
        self._closing = True
        try:
            if drain:  # Pa_StopStream plays out what is buffered; Pa_CloseStream alone would discard it
                self._stream.stop(ignore_errors=True)
            self._stream.close(ignore_errors=True)
        except Exception as error:  # a vanished device may fail in any way
            log.debug("closing %s: %s", self.name, error)


class SoundDeviceBackend(AudioBackend):
    """PortAudio through sounddevice. ``latency`` in seconds (or "low"/"high"); a larger buffer resists
    stalls of the Python process better, at the cost of slower reaction to volume and skips."""

    name = "sounddevice"

    def __init__(self, latency: float | str = 0.2) -> None:
        self.latency = latency

    def unavailable_reason(self) -> str | None:
        return _sounddevice()[1]

    def list_devices(self) -> list[OutputDevice]:
        sd = _sounddevice()[0]
        if sd is None:
            return []
        try:
            devices = sd.query_devices()
            hostapis = sd.query_hostapis()
        except Exception as error:  # PortAudio may be re-initialising
            log.warning("cannot list audio devices: %s", error)
            return []
        try:
            default = int(sd.query_devices(kind="output")["index"])
        except Exception:  # no default output
            default = -1
        return [
            OutputDevice(
                index=int(d["index"]),
                name=str(d["name"]),
                hostapi=str(hostapis[d["hostapi"]]["name"]),
                channels=int(d["max_output_channels"]),
                default_samplerate=float(d["default_samplerate"]),
                is_default=int(d["index"]) == default,
            )
            for d in devices
            if d["max_output_channels"] > 0
        ]

    def refresh(self) -> None:
        sd = _sounddevice()[0]
        if sd is None:
            return
        try:  # PortAudio only sees devices plugged in after a re-initialisation
            sd._terminate()
            sd._initialize()
        except Exception as error:
            log.warning("cannot re-scan audio devices: %s", error)

    def open(self, device: Device, samplerate: int, blocksize: int, render: RenderFn) -> AudioSink:
        sd, problem = _sounddevice()
        if sd is None:
            raise OutputError(problem or "PortAudio is not available")
        return _SoundDeviceSink(sd, device, samplerate, blocksize, self.latency, render)


class NullSink(AudioSink):
    """No device. ``mode="clock"``: a thread renders a block every ``blocksize / samplerate`` seconds
    (a block more than ``late_s`` late is counted as an underflow). ``mode="manual"``: nothing runs until
    the owner calls ``pull`` (tests); the calling thread is then the audio thread."""

    def __init__(
        self, mode: str, samplerate: int, blocksize: int, render: RenderFn, name: str, late_s: float = 0.1
    ) -> None:
        if mode not in ("clock", "manual"):
            raise ValueError(f"mode must be 'clock' or 'manual', got {mode!r}")
        self.mode = mode
        self.name = name
        self.silent = True
        self.watchdog = mode == "clock"
        self._samplerate = samplerate
        self._blocksize = blocksize
        self._render = render
        self._late_s = late_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._block = np.zeros((blocksize, 2), dtype=np.float32)
        self.closed = False

    def start(self) -> None:
        if self.mode == "clock" and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="moodsic-null-output", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        period = self._blocksize / self._samplerate
        deadline = time.monotonic()
        while not self._stop.is_set():
            late = time.monotonic() - deadline > self._late_s
            if late:
                deadline = time.monotonic()
            try:
                self._render(self._block, late)
            except Exception as error:  # same contract as the PortAudio callback
                self.render_errors += 1
                self.last_render_error = error
            deadline += period
            self._stop.wait(max(0.0, deadline - time.monotonic()))

    def pull(self, frames: int, out: np.ndarray | None = None) -> np.ndarray:
        """Manual mode: render ``frames`` frames now on the calling thread and return them (float32
        ``(frames, 2)``, written into ``out`` when given)."""
        if self.mode != "manual":
            raise RuntimeError("pull() is for mode='manual'")
        if self.closed:
            raise RuntimeError("this output is closed")
        if out is None:
            out = np.zeros((frames, 2), dtype=np.float32)
        self._render(out[:frames], False)
        return out[:frames]

    def failure(self) -> str | None:
        return None

    def close(self, *, drain: bool = False) -> None:
        self.closed = True
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)


class NullBackend(AudioBackend):
    """No device (tests, machines without sound): see ``NullSink`` for the two modes. ``sink`` is the most
    recently opened output, for tests to ``pull`` from."""

    name = "null"

    def __init__(self, mode: str = "clock") -> None:
        if mode not in ("clock", "manual"):
            raise ValueError(f"mode must be 'clock' or 'manual', got {mode!r}")
        self.mode = mode
        self.sink: NullSink | None = None

    def open(self, device: Device, samplerate: int, blocksize: int, render: RenderFn) -> AudioSink:
        self.sink = NullSink(self.mode, samplerate, blocksize, render, name=f"null output ({self.mode})")
        return self.sink

    def pull(self, frames: int, out: np.ndarray | None = None) -> np.ndarray:
        """Manual mode: render ``frames`` frames from the open output (see ``NullSink.pull``)."""
        if self.sink is None:
            raise RuntimeError("no output is open: call AudioEngine.start() and wait_idle() first")
        return self.sink.pull(frames, out)


# --------------------------------------------------------------------------------------------------------
# Decks and the mixer (audio thread)


class _Deck:
    """One song's decoded audio. The worker appends to ``buf`` and then raises ``filled``; once the file is
    done it sets ``length`` and then ``complete``. The mixer owns ``pos``, ``theta`` and ``dtheta``.
    A grown buffer replaces ``buf`` before ``filled`` rises; the old one stays in ``old_bufs`` so the audio
    thread never frees it."""

    __slots__ = ("buf", "complete", "dtheta", "filled", "length", "old_bufs", "pos", "serial", "song", "theta")

    def __init__(self, serial: int, song: Song, capacity: int) -> None:
        self.serial = serial
        self.song = song
        self.buf = np.zeros((max(capacity, 1), 2), dtype=np.float32)
        self.filled = 0
        self.length = 0
        self.complete = False
        self.pos = 0
        self.theta = 0.0
        self.dtheta = 0.0
        self.old_bufs: list[np.ndarray] = []

    def append(self, chunk: np.ndarray) -> None:
        """Worker thread: add decoded frames."""
        end = self.filled + len(chunk)
        if end > len(self.buf):
            grown = np.zeros((max(end, len(self.buf) * 3 // 2), 2), dtype=np.float32)
            grown[: self.filled] = self.buf[: self.filled]
            self.old_bufs.append(self.buf)
            self.buf = grown
        self.buf[self.filled : end] = chunk
        self.filled = end

    def finish(self) -> None:
        """Worker thread: no more frames will come."""
        self.length = self.filled
        self.complete = True


# mixer inbox messages (worker → audio) and outbox events (audio → worker)
MSG_START, MSG_NEXT, MSG_CLEAR_NEXT, MSG_ADVANCE, MSG_STOP = range(5)
EV_STARTED, EV_RETIRED, EV_ENDED, EV_IDLE = range(4)
_FADE_SLOTS = 4
MAX_SEGMENT = 240
"""Frames mixed per numpy call. numpy releases the GIL for loops over more than 500 elements; on the audio
thread that is harmful: getting the GIL back can take a whole switch interval (5 ms) when another thread
is busy in Python. 240 stereo frames = 480 elements keep the GIL for the whole render."""
_VOLUME_GLIDE_S = 0.03


class _Mixer:
    """Callback-side state. ``render`` runs on the audio thread; the worker only appends to ``inbox``,
    pops ``outbox`` and writes the plain attributes ``volume``, ``xfade_frames``, ``start_fade_frames``."""

    def __init__(self, samplerate: int, max_segment: int = MAX_SEGMENT) -> None:
        self.samplerate = samplerate
        self.inbox: deque[tuple[Any, ...]] = deque()
        self.outbox: deque[tuple[int, _Deck | None]] = deque()
        self.current: _Deck | None = None
        self.pending: _Deck | None = None
        self.fading: list[_Deck | None] = [None] * _FADE_SLOTS
        self.volume = 1.0
        self.xfade_frames = 0
        self.start_fade_frames = 0
        self.underflows = 0
        self.callbacks = 0
        self.starved = 0
        self.frames_out = 0
        self._audible = False
        self._vol_now = 1.0
        self._vol_step = 1.0 / max(1.0, _VOLUME_GLIDE_S * samplerate)
        self._max = max_segment
        # Contiguous float32 (frames, 2) scratch: mixed dtypes or a broadcast (frames, 1) gain column make
        # numpy allocate casting/iteration buffers, which must not happen on the audio thread.
        self._idx = np.repeat(np.arange(max_segment, dtype=np.float32)[:, np.newaxis], 2, axis=1)
        self._gain = np.empty((max_segment, 2), dtype=np.float32)
        self._tmp = np.empty((max_segment, 2), dtype=np.float32)

    # -- audio thread ---------------------------------------------------------------------------------
    def render(self, out: np.ndarray, underflow: bool) -> None:
        """Fill ``out`` (float32 ``(frames, 2)``) from the decks. Audio thread only."""
        self.callbacks += 1
        if underflow:
            self.underflows += 1
        inbox = self.inbox
        while inbox:
            self._handle(inbox.popleft())
        n = out.shape[0]
        done = 0
        while done < n:
            seg = self._next_segment(min(n - done, self._max))
            if seg == 0:  # a deck started or ended: look again
                continue
            block = out[done : done + seg]
            block.fill(0.0)
            self._mix_decks(block, seg)
            self._apply_volume(block, seg)
            np.minimum(block, 1.0, out=block)
            np.maximum(block, -1.0, out=block)
            done += seg
        self.frames_out += n
        self._note_silence()

    def _next_segment(self, seg: int) -> int:
        """Start a transition that is due and return 0, or return how many of the next ``seg`` frames can
        be mixed before the next one (sample-exact: a crossfade starts ``xfade_frames`` before the end)."""
        cur = self.current
        pend = self.pending
        if cur is None:
            if pend is None:
                return seg
            self.pending = None
            self._begin(pend, 0, self.start_fade_frames)
            return 0
        if not cur.complete:
            return seg
        remaining = cur.length - cur.pos
        if pend is not None:
            until = remaining - self.xfade_frames
            if until > 0:
                return min(seg, until)
            self.pending = None
            self._begin(pend, self.xfade_frames, 0)
            return 0
        if remaining > 0:
            return min(seg, remaining)
        self.current = None
        self.outbox.append((EV_ENDED, cur))
        return 0

    def _mix_decks(self, block: np.ndarray, seg: int) -> None:
        fading = self.fading
        for i in range(_FADE_SLOTS):
            deck = fading[i]
            if deck is not None and self._mix(deck, block, seg):
                fading[i] = None
                self.outbox.append((EV_RETIRED, deck))
        if self.current is not None:
            self._mix(self.current, block, seg)

    def _note_silence(self) -> None:
        """Post EV_IDLE when the last audible deck has gone."""
        audible = self.current is not None
        if not audible:
            for deck in self.fading:
                if deck is not None:
                    audible = True
                    break
        if self._audible and not audible:
            self.outbox.append((EV_IDLE, None))
        self._audible = audible

    def _mix(self, deck: _Deck, block: np.ndarray, seg: int) -> bool:
        """Add ``deck``'s next ``seg`` frames at its gain into ``block``; True once the deck is finished
        (faded out, or at its end)."""
        pos = deck.pos
        end = deck.length if deck.complete else deck.filled
        buf = deck.buf  # read after filled: a grown buffer is swapped in before filled rises
        m = min(end - pos, seg)
        if m <= 0:
            if deck.complete:
                return True
            self.starved += 1
            return False
        src = buf[pos : pos + m]
        dst = block[:m]
        theta = deck.theta
        dtheta = deck.dtheta
        if dtheta == 0.0:
            if theta >= HALF_PI:
                np.add(dst, src, out=dst)
            elif theta > 0.0:
                tmp = self._tmp[:m]
                np.multiply(src, math.sin(theta), out=tmp)
                np.add(dst, tmp, out=dst)
        else:
            gain = self._gain[:m]  # phase θ(i) = θ + dθ·i, then gain sin θ(i), in place
            np.multiply(self._idx[:m], dtheta, out=gain)
            np.add(gain, theta, out=gain)
            np.maximum(gain, 0.0, out=gain)
            np.minimum(gain, HALF_PI, out=gain)
            np.sin(gain, out=gain)
            tmp = self._tmp[:m]
            np.multiply(src, gain, out=tmp)
            np.add(dst, tmp, out=dst)
            theta += dtheta * m
            if theta >= HALF_PI:
                theta = HALF_PI
                deck.dtheta = 0.0
            elif theta <= 0.0:
                theta = 0.0
            deck.theta = theta
        deck.pos = pos + m
        if dtheta < 0.0 and theta <= 0.0:
            return True
        return deck.complete and deck.pos >= deck.length

    def _apply_volume(self, block: np.ndarray, seg: int) -> None:
        target = self.volume
        now = self._vol_now
        if now == target:
            if now != 1.0:
                np.multiply(block, now, out=block)
            return
        ramp = self._gain[:seg]
        np.multiply(self._idx[:seg], self._vol_step, out=ramp)
        if target > now:
            np.add(ramp, now, out=ramp)
            np.minimum(ramp, target, out=ramp)
        else:
            np.subtract(now, ramp, out=ramp)
            np.maximum(ramp, target, out=ramp)
        np.multiply(block, ramp, out=block)
        step = self._vol_step * seg
        self._vol_now = min(now + step, target) if target > now else max(now - step, target)

    def _handle(self, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == MSG_START:
            self._begin(msg[1], msg[2], msg[3])
        elif kind == MSG_NEXT:
            self._drop_pending()
            self.pending = msg[1]
        elif kind == MSG_CLEAR_NEXT:
            self._drop_pending()
        elif kind == MSG_ADVANCE:
            deck = self.pending
            if deck is not None:
                self.pending = None
                self._begin(deck, msg[1], self.start_fade_frames)
        elif kind == MSG_STOP:
            frames = msg[1]
            self._drop_pending()
            cur = self.current
            if cur is not None:
                self.current = None
                self._fade_out(cur, frames)
            for i in range(_FADE_SLOTS):
                deck = self.fading[i]
                if deck is None:
                    continue
                if frames <= 0:
                    self.fading[i] = None
                    self.outbox.append((EV_RETIRED, deck))
                elif deck.theta + deck.dtheta * frames > 0.0:  # fading slower than asked: speed it up
                    deck.dtheta = -deck.theta / frames

    def _drop_pending(self) -> None:
        if self.pending is not None:
            self.outbox.append((EV_RETIRED, self.pending))
            self.pending = None

    def _begin(self, deck: _Deck, xfade_frames: int, start_fade_frames: int) -> None:
        """Make ``deck`` current: crossfade from the current deck over ``xfade_frames`` (shortened to what
        is left of it), or fade in over ``start_fade_frames`` from silence."""
        cur = self.current
        if cur is not None:
            frames = xfade_frames
            if cur.complete and cur.length - cur.pos < frames:
                frames = max(cur.length - cur.pos, 0)
            self._fade_out(cur, frames)
        else:
            frames = start_fade_frames
        if frames <= 0:
            deck.theta, deck.dtheta = HALF_PI, 0.0
        else:
            deck.theta, deck.dtheta = 0.0, HALF_PI / frames
        self.current = deck
        self._audible = True
        self.outbox.append((EV_STARTED, deck))

    def _fade_out(self, deck: _Deck, frames: int) -> None:
        if frames <= 0 or deck.theta <= 0.0:
            self.outbox.append((EV_RETIRED, deck))
            return
        deck.dtheta = -deck.theta / frames
        slots = self.fading
        free = -1
        quietest = 0
        for i in range(_FADE_SLOTS):
            other = slots[i]
            if other is None:
                free = i
                break
            if other.theta < slots[quietest].theta:  # type: ignore[union-attr]
                quietest = i
        if free < 0:  # more overlapping fades than slots: cut the quietest
            self.outbox.append((EV_RETIRED, slots[quietest]))
            free = quietest
        slots[free] = deck


# --------------------------------------------------------------------------------------------------------
# The engine (worker thread and public API)


class EngineListener:
    """Notices from the engine. Called on the engine's worker thread ("moodsic-audio"), never on the audio
    thread; keep each call short (decoding waits meanwhile). A listener may call the engine's command
    methods (``play``, ``queue_next``, …) but not ``close``, ``start`` or ``wait_idle``. A GUI forwards these
    to its own thread (e.g. through Qt signals). Override what you need."""

    def next_song(self, after: Song | None, remaining_s: float) -> Song | None:
        """The "song ending" notice: ``after`` ends in ``remaining_s`` seconds (asked once per song, when
        ``remaining_s`` ≤ ``crossfade_s`` + ``decode_margin_s``), or the song chosen before could not be
        decoded (``after`` is what plays then, ``None`` when nothing does). Return the song to crossfade
        into, or ``None`` (then call ``queue_next``/``crossfade_to`` later, or let the song end)."""
        return None

    def song_started(self, song: Song) -> None:
        """``song`` became the current song (its fade-in or crossfade began)."""

    def song_failed(self, song: Song, reason: str) -> None:
        """``song`` could not be decoded and was skipped; ``reason`` says why."""

    def playback_stopped(self) -> None:
        """Nothing is audible any more (after ``stop`` or after the last song ended)."""

    def status_changed(self, status: str) -> None:
        """The output status changed (see ``AudioEngine.status``)."""


@dataclass
class _Job:
    song: Song
    kind: str  # "now": start when ready (MSG_START); "next": queue after the current song (MSG_NEXT)
    xfade_frames: int
    start_fade_frames: int
    decoder: StreamDecoder | None = None
    deck: _Deck | None = None
    handed: bool = False


def _check_fade(name: str, seconds: float, upper: float | None = None) -> float:
    seconds = float(seconds)
    if not math.isfinite(seconds) or seconds < 0.0 or (upper is not None and seconds > upper):
        limit = f"0..{upper:g}" if upper is not None else ">= 0"
        raise ValueError(f"{name} must be {limit} seconds, got {seconds}")
    return seconds


def _describe(device: Device) -> str:
    return "the default device" if device is None else f"device {device!r}"


class AudioEngine:
    """Two decks, equal-power crossfades, a decoder thread and an audio callback that only mixes.

    ``samplerate`` (Hz) is the output rate every song is resampled to; ``blocksize`` (frames) the callback's
    block. ``crossfade_s`` (0–20 s) is the default crossfade; ``start_fade_s``/``stop_fade_s`` the fade from
    and to silence. The listener is asked for the next song ``crossfade_s + decode_margin_s`` seconds before
    the current one ends. A song starts once ``prebuffer_s`` seconds of it are decoded; the rest is decoded
    while it plays. After an output failure the engine reopens on the default device; when nothing opens it
    plays silently and retries after ``retry_s`` seconds, then less often (up to once a minute). A device
    that stops calling back for ``stall_s`` seconds counts as failed. ``backend=None`` uses PortAudio
    (sounddevice), or a silent clock when PortAudio is missing.

    See the module docstring for which thread may call what. Call ``start()`` before anything plays and
    ``close()`` at the end (or use it as a context manager).
    """

    def __init__(
        self,
        *,
        backend: AudioBackend | None = None,
        listener: EngineListener | None = None,
        samplerate: int = 48000,
        blocksize: int = 1024,
        device: Device = None,
        crossfade_s: float = CROSSFADE.default,
        start_fade_s: float = 0.5,
        stop_fade_s: float = 1.0,
        decode_margin_s: float = 5.0,
        prebuffer_s: float = 2.0,
        retry_s: float = 5.0,
        stall_s: float = 5.0,
        poll_s: float = 0.02,
        chunk_frames: int = DEFAULT_CHUNK_FRAMES,
        max_failures_in_row: int = 5,
    ) -> None:
        if samplerate <= 0 or blocksize <= 0:
            raise ValueError("samplerate and blocksize must be positive")
        self.samplerate = int(samplerate)
        self.blocksize = int(blocksize)
        self.backend = backend if backend is not None else SoundDeviceBackend()
        self.listener = listener if listener is not None else EngineListener()
        self.start_fade_s = _check_fade("start_fade_s", start_fade_s)
        self.stop_fade_s = _check_fade("stop_fade_s", stop_fade_s)
        self.decode_margin_s = _check_fade("decode_margin_s", decode_margin_s)
        self.prebuffer_s = _check_fade("prebuffer_s", prebuffer_s)
        self.retry_s = float(retry_s)
        self.stall_s = float(stall_s)
        self.max_failures_in_row = int(max_failures_in_row)
        self._poll_s = float(poll_s)
        self._chunk_frames = int(chunk_frames)
        self._mixer = _Mixer(self.samplerate)
        self._mixer.start_fade_frames = self._frames(self.start_fade_s)
        self._crossfade_s = 0.0
        self.crossfade_s = crossfade_s
        self._device: Device = device
        self._commands: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._pending_commands = 0
        self._busy = False
        self._passes = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._status = "Not started"
        self._sound_ok = False
        self._as_chosen = False
        # worker-thread state
        self._jobs: list[_Job] = []
        self._serial = 0
        self._sink: AudioSink | None = None
        self._sink_silent = False
        self._next_retry = math.inf
        self._retry_delay = self.retry_s
        self._seen_callbacks = 0
        self._seen_callbacks_at = 0.0
        self._render_errors_logged = 0
        self._next_deck: _Deck | None = None
        self._awaiting_start: _Deck | None = None
        self._noticed_serial = -1
        self._failures = 0

    # -- properties (any thread) ----------------------------------------------------------------------
    @property
    def crossfade_s(self) -> float:
        """Default crossfade length in seconds (0–20). Any thread; applies to crossfades that start later."""
        return self._crossfade_s

    @crossfade_s.setter
    def crossfade_s(self, seconds: float) -> None:
        self._crossfade_s = _check_fade("crossfade_s", seconds, MAX_CROSSFADE_S)
        self._mixer.xfade_frames = self._frames(self._crossfade_s)

    @property
    def volume(self) -> float:
        """Master volume, linear amplitude 0..1 (glides over 30 ms). Any thread."""
        return self._mixer.volume

    @volume.setter
    def volume(self, value: float) -> None:
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"volume must be a number in 0..1, got {value}")
        self._mixer.volume = min(1.0, max(0.0, value))

    @property
    def current_song(self) -> Song | None:
        """The song playing now (during a crossfade: the incoming one), ``None`` in silence. Any thread."""
        deck = self._mixer.current
        return deck.song if deck is not None else None

    @property
    def position_s(self) -> float:
        """Seconds of the current song rendered so far (0.0 in silence); the listener hears it later by the
        output latency (0.2 s by default). Any thread."""
        deck = self._mixer.current
        return deck.pos / self.samplerate if deck is not None else 0.0

    @property
    def duration_s(self) -> float | None:
        """Length in seconds of the current song once fully decoded, else ``None``. Any thread."""
        deck = self._mixer.current
        if deck is None or not deck.complete:
            return None
        return deck.length / self.samplerate

    @property
    def remaining_s(self) -> float | None:
        """Seconds until the current song ends (``None`` while unknown or in silence). Any thread."""
        deck = self._mixer.current
        if deck is None or not deck.complete:
            return None
        return max(deck.length - deck.pos, 0) / self.samplerate

    @property
    def notice_s(self) -> float:
        """How many seconds before a song's end the listener is asked for the next song. Any thread."""
        return self._crossfade_s + self.decode_margin_s

    @property
    def underflow_count(self) -> int:
        """Output underflows reported by the audio callback's status flags since start. Any thread."""
        return self._mixer.underflows

    @property
    def starved_blocks(self) -> int:
        """Times the mixer reached the end of what was decoded of a song that was still decoding. Any
        thread."""
        return self._mixer.starved

    @property
    def frames_rendered(self) -> int:
        """Frames the audio callback has produced since start. Any thread."""
        return self._mixer.frames_out

    @property
    def status(self) -> str:
        """A sentence for the user about the output (which device plays, or why there is no sound and what
        to do). Any thread."""
        return self._status

    @property
    def sound_ok(self) -> bool:
        """True while a real output device plays. Any thread."""
        return self._sound_ok

    @property
    def sound_as_chosen(self) -> bool:
        """True while the chosen device plays and it opened without a failure: False after another device
        took over (``status`` says what failed). Any thread."""
        return self._as_chosen

    @property
    def device(self) -> Device:
        """The chosen output device: an index or a name from ``list_output_devices()``, or ``None`` for the
        system default. Setting it (any thread) reopens the output on the worker thread."""
        return self._device

    @device.setter
    def device(self, device: Device) -> None:
        self._device = device
        self._submit(("device", device))

    def list_output_devices(self) -> list[OutputDevice]:
        """The output devices of this engine's back end. Any thread."""
        return self.backend.list_devices()

    # -- commands (any thread; they return at once) ----------------------------------------------------
    def play(self, song: Song, *, fade_in_s: float | None = None) -> None:
        """Start ``song`` now: from silence it fades in over ``fade_in_s`` (default ``start_fade_s``); over
        a playing song it crossfades over ``crossfade_s``. Cancels a queued next song. Any thread."""
        fade = self.start_fade_s if fade_in_s is None else _check_fade("fade_in_s", fade_in_s)
        self._submit(("play", song, self._frames(self._crossfade_s), self._frames(fade)))

    def crossfade_to(self, song: Song, *, crossfade_s: float | None = None) -> None:
        """Crossfade from the current song to ``song`` as soon as it is decoded, over ``crossfade_s`` seconds
        (default ``self.crossfade_s``; fades in over ``start_fade_s`` from silence). Cancels a queued next
        song. Any thread."""
        xfade = self._crossfade_s if crossfade_s is None else _check_fade("crossfade_s", crossfade_s, MAX_CROSSFADE_S)
        self._submit(("play", song, self._frames(xfade), self._frames(self.start_fade_s)))

    def queue_next(self, song: Song) -> None:
        """Play ``song`` after the current one, crossfading into it over ``crossfade_s`` as the current one
        ends (right away, with a fade-in, when nothing plays). Replaces a queued song. Any thread."""
        self._submit(("next", song))

    def skip(self) -> None:
        """Crossfade now (over ``crossfade_s``) to the queued next song, or to the one the listener's
        ``next_song`` gives; fade out when there is none. Any thread."""
        self._submit(("skip",))

    def stop(self, fade_s: float | None = None) -> None:
        """Fade everything out over ``fade_s`` seconds (default ``stop_fade_s``) and forget the queued song.
        Any thread."""
        fade = self.stop_fade_s if fade_s is None else _check_fade("fade_s", fade_s)
        self._submit(("stop", self._frames(fade)))

    # -- lifecycle (owner thread) -----------------------------------------------------------------------
    def start(self, *, open_output: bool = True) -> None:
        """Start the worker thread and, unless ``open_output`` is False, open the output. Commands given
        before run then. Owner thread; returns before the output is open (see ``status``)."""
        if self._closed:
            raise RuntimeError("this AudioEngine is closed")
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="moodsic-audio", daemon=True)
            self._thread.start()
        if open_output:
            self.open_output()

    def open_output(self) -> None:
        """Open the output (if not open yet) on the worker thread. Any thread."""
        self._submit(("open",))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until the worker has run every command given so far, finished decoding and made a full
        pass of its checks (position, notices, output). Returns False on ``timeout`` (seconds). For tests,
        the CLI and shutdown; not from the listener."""
        self._refuse_worker_thread("wait_idle")
        if self._thread is None:
            raise RuntimeError("start() the engine first")
        self._submit(("sync",))
        with self._cond:
            target = self._passes + 2
            thread = self._thread
            return self._cond.wait_for(
                lambda: (
                    not thread.is_alive() or (self._passes >= target and self._pending_commands == 0 and not self._busy)
                ),
                timeout,
            )

    def close(self, timeout: float = 5.0) -> None:
        """Close the output (the device plays out what it has buffered, at most its latency; call ``stop``
        first and wait for ``playback_stopped`` to fade out instead), end the worker thread (waiting at most
        ``timeout`` seconds) and free the decks. Owner thread; not from the listener. Safe to call twice."""
        self._refuse_worker_thread("close")
        if self._closed:
            return
        self._closed = True
        thread = self._thread
        if thread is not None:
            self._commands.put(("close",))
            thread.join(timeout)
            if thread.is_alive():
                log.error("the audio worker thread did not stop within %.1f s", timeout)
        else:
            self._close_sink(drain=True)

    def __enter__(self) -> AudioEngine:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- helpers ------------------------------------------------------------------------------------------
    def _frames(self, seconds: float) -> int:
        return round(seconds * self.samplerate)

    def _refuse_worker_thread(self, name: str) -> None:
        if self._thread is not None and threading.current_thread() is self._thread:
            raise RuntimeError(f"AudioEngine.{name}() cannot be called from the listener (worker thread)")

    def _submit(self, command: tuple[Any, ...]) -> None:
        if self._closed:
            log.debug("ignoring %s: the engine is closed", command[0])
            return
        with self._cond:
            self._pending_commands += 1
        self._commands.put(command)

    def _set_status(self, status: str, sound_ok: bool, as_chosen: bool = False) -> None:
        self._sound_ok = sound_ok
        self._as_chosen = sound_ok and as_chosen
        if status != self._status:
            self._status = status
            log.info("audio: %s", status)
            self._notify("status_changed", status)

    def _notify(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self.listener, method)(*args)
        except Exception:  # a listener bug must not stop the music
            log.exception("audio listener %s() failed", method)
            return None

    # -- worker thread --------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                self._drain_events()
                try:  # while decoding, only look for commands between chunks; else wait for one a while
                    command = (
                        self._commands.get(timeout=self._poll_s) if not self._jobs else self._commands.get_nowait()
                    )
                except queue.Empty:
                    command = None
                if command is not None:
                    if command[0] == "close":
                        break
                    try:
                        self._handle(command)
                    except Exception:
                        log.exception("audio command %s failed", command[0])
                    with self._cond:
                        self._pending_commands -= 1
                    continue
                try:
                    self._check_output()
                    self._check_ending()
                    self._decode_step()
                except Exception:
                    log.exception("audio worker step failed")
                with self._cond:
                    self._busy = bool(self._jobs)
                    self._passes += 1
                    self._cond.notify_all()
        finally:
            self._close_sink(drain=True)
            for job in self._jobs:
                if job.decoder is not None:
                    job.decoder.close()
            self._jobs.clear()
            with self._cond:
                self._busy = False
                self._passes += 2
                self._cond.notify_all()

    def _handle(self, command: tuple[Any, ...]) -> None:
        kind = command[0]
        if kind == "play":
            _, song, xfade, start_fade = command
            self._failures = 0
            self._cancel_unhanded(kinds=("now", "next"))
            self._clear_next()
            self._add_job(_Job(song, "now", xfade, start_fade))
        elif kind == "next":
            self._failures = 0
            self._cancel_unhanded(kinds=("next",))
            self._clear_next()
            self._add_job(_Job(command[1], "next", 0, self._mixer.start_fade_frames))
        elif kind == "skip":
            self._skip()
        elif kind == "stop":
            self._cancel_unhanded(kinds=("now", "next"))
            self._next_deck = None
            self._awaiting_start = None
            self._mixer.inbox.append((MSG_STOP, command[1]))
        elif kind == "open":
            if self._sink is None:
                self._open_output()
        elif kind == "device":
            if self._sink is not None:
                self._close_sink()
                self._open_output()
        elif kind == "sync":
            pass

    def _skip(self) -> None:
        xfade = self._mixer.xfade_frames
        if self._next_deck is not None:
            self._next_deck = None
            self._mixer.inbox.append((MSG_ADVANCE, xfade))
            return
        for job in self._jobs:
            if job.kind == "next" and not job.handed:
                job.kind = "now"
                job.xfade_frames = xfade
                return
        current = self._mixer.current
        song = self._ask_next(current)
        if song is not None:
            self._cancel_unhanded(kinds=("now",))
            self._add_job(_Job(song, "now", xfade, self._mixer.start_fade_frames))
        elif current is not None:
            self._mixer.inbox.append((MSG_STOP, xfade))

    def _clear_next(self) -> None:
        if self._next_deck is not None:
            self._next_deck = None
            self._mixer.inbox.append((MSG_CLEAR_NEXT,))

    def _add_job(self, job: _Job) -> None:
        self._jobs.append(job)

    def _cancel_unhanded(self, kinds: tuple[str, ...]) -> None:
        keep = []
        for job in self._jobs:
            if not job.handed and job.kind in kinds:
                if job.decoder is not None:
                    job.decoder.close()
            else:
                keep.append(job)
        self._jobs = keep

    def _ask_next(self, current: _Deck | None) -> Song | None:
        """The listener's next song after ``current`` (the "song ending" notice)."""
        song = self._notify("next_song", current.song if current else None, self._remaining(current))
        if song is not None and not isinstance(song, Song):
            log.warning("the audio listener's next_song() returned %r, not a Song; ignored", song)
            return None
        return song

    def _remaining(self, deck: _Deck | None) -> float:
        if deck is None:
            return 0.0
        end = deck.length if deck.complete else max(deck.filled, deck.length)
        return max(end - deck.pos, 0) / self.samplerate

    def _drain_events(self) -> None:
        """Handle the mixer's events; dropping retired decks here frees their buffers on this thread."""
        outbox = self._mixer.outbox
        while outbox:
            event, deck = outbox.popleft()
            if event == EV_STARTED and deck is not None:
                if deck is self._awaiting_start:
                    self._awaiting_start = None
                if deck is self._next_deck:
                    self._next_deck = None
                self._failures = 0
                self._notify("song_started", deck.song)
            elif event in (EV_RETIRED, EV_ENDED) and deck is not None:
                if deck is self._next_deck:
                    self._next_deck = None
                if deck is self._awaiting_start:
                    self._awaiting_start = None
                for job in self._jobs:
                    if job.deck is deck:
                        if job.decoder is not None:
                            job.decoder.close()
                        self._jobs.remove(job)
                        break
            elif event == EV_IDLE:
                self._notify("playback_stopped")

    def _check_ending(self) -> None:
        """The "song ending" notice: ask the listener for the next song early enough to decode it."""
        current = self._mixer.current
        if (
            current is None
            or not current.complete
            or current.serial == self._noticed_serial
            or self._next_deck is not None
            or self._awaiting_start is not None
            or any(not job.handed for job in self._jobs)
        ):
            return
        remaining = self._remaining(current)
        if remaining > self.notice_s:
            return
        self._noticed_serial = current.serial
        song = self._ask_next(current)
        if song is not None:
            self._add_job(_Job(song, "next", 0, self._mixer.start_fade_frames))

    def _decode_step(self) -> None:
        """Decode one chunk of the most urgent job: decks already playing, then "now", then "next"."""
        if not self._jobs:
            return
        job = min(self._jobs, key=lambda j: (not j.handed, j.kind != "now"))
        try:
            if job.decoder is None:
                if job.song.path is None:
                    raise AudioDecodeError(f"song {job.song.song_id}", "the song has no audio file")
                job.decoder = StreamDecoder(job.song.path, self.samplerate, chunk_frames=self._chunk_frames)
                self._serial += 1
                job.deck = _Deck(self._serial, job.song, job.decoder.expected_frames + self.samplerate // 10)
            chunk = job.decoder.read()
        except AudioDecodeError as error:
            self._job_failed(job, error)
            return
        deck = job.deck
        assert deck is not None
        if chunk is not None and len(chunk):
            deck.append(chunk)
        if chunk is None or job.decoder.done:
            deck.finish()
        if not job.handed and (deck.complete or deck.filled >= self._frames(self.prebuffer_s)):
            self._hand_over(job)
        if deck.complete:
            self._jobs.remove(job)

    def _hand_over(self, job: _Job) -> None:
        deck = job.deck
        assert deck is not None
        job.handed = True
        if job.kind == "now":
            self._awaiting_start = deck
            self._mixer.inbox.append((MSG_START, deck, job.xfade_frames, job.start_fade_frames))
        else:
            self._next_deck = deck
            self._mixer.inbox.append((MSG_NEXT, deck))

    def _job_failed(self, job: _Job, error: AudioDecodeError) -> None:
        self._jobs.remove(job)
        deck = job.deck
        if job.handed and deck is not None:  # already playing: keep what decoded
            log.warning("%s; playing the %.1f s that decoded", error, deck.filled / self.samplerate)
            deck.finish()
            return
        log.warning("skipping %s: %s", job.song.display_name, error)
        self._notify("song_failed", job.song, str(error))
        self._failures += 1
        if self._failures >= self.max_failures_in_row:
            log.error("%d songs in a row could not be decoded; waiting for the next command", self._failures)
            return
        song = self._ask_next(self._mixer.current)
        if song is not None:
            self._add_job(_Job(song, job.kind, job.xfade_frames, job.start_fade_frames))

    # -- output management (worker thread) ------------------------------------------------------------
    def _open_output(self, problem: str | None = None) -> None:
        """Open the chosen device, else the default one, else a silent clock; set the status."""
        reason = self.backend.unavailable_reason()
        tried: list[str] = []
        if reason is None:
            candidates: list[Device] = [self._device] if self._device is None else [self._device, None]
            for device in candidates:
                opened: AudioSink | None = None
                try:
                    opened = self.backend.open(device, self.samplerate, self.blocksize, self._mixer.render)
                    opened.start()
                except Exception as error:  # PortAudio fails in many ways
                    tried.append(f"{_describe(device)}: {error}")
                    if opened is not None:
                        opened.close()
                    continue
                self._use_sink(opened, silent=False)
                self._retry_delay = self.retry_s
                prefix = f"{problem}. " if problem else ""
                fell_back = f" ({'; '.join(tried)}; using the default device)" if tried else ""
                if opened.silent:
                    self._set_status(f"{prefix}Playing silently: {opened.name}{fell_back}", False)
                else:
                    status = f"{prefix}Playing through {opened.name} at {self.samplerate} Hz{fell_back}"
                    self._set_status(status, True, as_chosen=not (problem or tried))
                return
        sink = NullSink("clock", self.samplerate, self.blocksize, self._mixer.render, name="no output (silent)")
        sink.start()
        self._use_sink(sink, silent=True)
        if reason is not None:
            self._set_status(reason, False)
            self._next_retry = math.inf
        else:
            # retry after retry_s, then less and less often (up to every minute): each try re-scans devices
            self._next_retry = time.monotonic() + self._retry_delay
            self._retry_delay = min(max(self._retry_delay, self.retry_s) * 2, max(self.retry_s, 60.0))
            detail = "; ".join(tried) or "no device"
            prefix = f"{problem}. " if problem else ""
            self._set_status(
                f"{prefix}No sound: no audio output works ({detail}). Playing silently; Moodsic keeps trying "
                f"to open it (first after {self.retry_s:g} s).",
                False,
            )

    def _use_sink(self, sink: AudioSink, silent: bool) -> None:
        self._sink = sink
        self._sink_silent = silent
        self._seen_callbacks = self._mixer.callbacks
        self._seen_callbacks_at = time.monotonic()
        self._render_errors_logged = 0

    def _close_sink(self, *, drain: bool = False) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.close(drain=drain)

    def _check_output(self) -> None:
        sink = self._sink
        if sink is None:
            return
        if sink.render_errors > self._render_errors_logged:
            self._render_errors_logged = sink.render_errors
            log.error("audio render failed (%d times so far): %r", sink.render_errors, sink.last_render_error)
        now = time.monotonic()
        if self._sink_silent:
            if now >= self._next_retry:
                self._close_sink()
                self.backend.refresh()
                self._open_output()
            return
        failure = sink.failure()
        if failure is None and sink.watchdog:
            callbacks = self._mixer.callbacks
            if callbacks != self._seen_callbacks:
                self._seen_callbacks, self._seen_callbacks_at = callbacks, now
            elif now - self._seen_callbacks_at > self.stall_s:
                failure = f"the audio device stopped asking for sound for {self.stall_s:g} s"
        if failure is not None:
            log.warning("audio output %s failed: %s; reopening", sink.name, failure)
            self._close_sink()
            self.backend.refresh()
            self._open_output(problem=f"Output {sink.name} failed ({failure})")


__all__ = [
    "MAX_CROSSFADE_S",
    "PORTAUDIO_MISSING",
    "AudioBackend",
    "AudioEngine",
    "AudioSink",
    "Device",
    "EngineListener",
    "NullBackend",
    "NullSink",
    "OutputDevice",
    "OutputError",
    "SoundDeviceBackend",
    "list_output_devices",
    "portaudio_problem",
]
