"""Audio outputs: where the mixed sound goes, and keeping one open.

The engine talks to an ``AudioBackend`` (``SoundDeviceBackend``: PortAudio through sounddevice;
``NullBackend``: no device, paced by a clock or pulled by hand in tests), after Quod Libet's
``player/_base.py`` and ``player/nullbe.py``. A back end opens ``AudioSink``\\ s; a sink calls the mixer's
``render`` on its own audio thread (the PortAudio callback, or the clock thread of ``NullSink``) with blocks
of float32 ``(frames, 2)`` samples at the engine's rate (48 kHz by default), gain scale: linear amplitude,
full scale ±1.0.

``OutputKeeper`` is the engine worker's side: it opens the chosen device, else the default one, else a
silent clock (so positions and "song ending" notices go on without sound), watches the open output and
reopens it after a failure, and words the status the user sees. Without PortAudio the status says what to
install.

Importing this module does not import sounddevice (which initialises PortAudio and reads ``~/.asoundrc``):
that happens on first use.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from moodsic_desktop.audio.thread_priority import Promotion, promote_audio_thread, promote_sound_client_threads

log = logging.getLogger(__name__)

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


OUTPUT_LATENCY_S = 0.5
"""Seconds of sound the device is asked to hold ahead of what is heard. The PortAudio callback runs Python
and needs the GIL; when another thread holds it (a C call that keeps it: a model load, Qt laying out the
window, a library import's analysis) or the process waits for a core on a loaded machine, the callback is
late, and a buffer shorter than the delay plays silence (through PulseAudio, a silence that lasts until its
buffer refills: far longer than the delay). ``benchmarks/bench_steady_sound.py`` measured GIL waits of
100-140 ms while the window starts and up to 70 ms for its heavy actions, 200-900 ms under busy cores, disk
or memory stress; with 0.2 s, busy cores gave 3 underflows and a 1.76 s silence in 30 s of music, with 0.5 s
none. The cost: a skip, a stop or a volume change is heard 0.3 s later than before (about 0.5 s after the
click; crossfades themselves last seconds)."""


class AudioSink(ABC):
    """An open output that calls ``render`` on its own (audio) thread until closed. ``render_errors`` counts
    exceptions ``render`` raised (the block is then silence); ``last_render_error`` is the latest. The worker
    thread reads them; only the audio thread writes them."""

    name: str = "output"
    silent: bool = False
    """True for outputs that play nothing (``NullSink``)."""
    watchdog: bool = True
    """Whether the engine should treat a render function that stops being called as a failure."""
    render_errors: int = 0
    last_render_error: BaseException | None = None
    priority: Promotion | None = None
    """What the audio thread got from ``promote_audio_thread`` on its first block (``None`` before, and for
    outputs that play nothing). Written once by the audio thread; read by the worker."""

    @abstractmethod
    def start(self) -> None:
        """Begin calling ``render``. Raises ``OutputError``. Worker thread."""

    @abstractmethod
    def failure(self) -> str | None:
        """Why the output stopped working (device gone, stream error), or ``None`` while it works. Worker
        thread."""

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
        if self.priority is None:  # the first block: run before ordinary threads from now on (never raises)
            self.priority = promote_audio_thread()
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
    """PortAudio through sounddevice. ``latency`` in seconds (or "low"/"high"), default ``OUTPUT_LATENCY_S``;
    a larger buffer resists stalls of the Python process better, at the cost of slower reaction to volume
    and skips."""

    name = "sounddevice"

    def __init__(self, latency: float | str = OUTPUT_LATENCY_S) -> None:
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
        """Manual mode: render ``frames`` frames now on the calling thread, which acts as the audio thread
        (one thread at a time), and return them (float32 ``(frames, 2)``, written into ``out`` when given)."""
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
        """Manual mode: render ``frames`` frames from the open output (see ``NullSink.pull``); the calling
        thread acts as the audio thread."""
        if self.sink is None:
            raise RuntimeError("no output is open: call AudioEngine.start() and wait_idle() first")
        return self.sink.pull(frames, out)


# --------------------------------------------------------------------------------------------------------
# Keeping an output open (the engine's worker thread)


def _describe(device: Device) -> str:
    return "the default device" if device is None else f"device {device!r}"


StatusFn = Callable[[str, bool, bool], None]
"""``on_status(status, sound_ok, as_chosen)``: a new status sentence for the user; ``sound_ok``: a real
device plays; ``as_chosen``: it is the chosen one and it opened without a failure."""


class OutputKeeper:
    """Keeps one output open: the chosen ``device``, else the default one, else a silent clock; watches it
    and reopens it after a failure. Every method and attribute: the engine's worker thread only.

    ``samplerate`` (Hz) and ``blocksize`` (frames) are what each sink is opened with; ``render`` is the
    mixer's render function and ``callbacks()`` how many times it has been called (the watchdog's pulse).
    When nothing opens, the keeper plays silently and retries after ``retry_s`` seconds, then twice as long
    each time (up to once a minute); a device whose render calls stop for ``stall_s`` seconds counts as
    failed. Each new status goes to ``on_status``."""

    def __init__(
        self,
        backend: AudioBackend,
        *,
        samplerate: int,
        blocksize: int,
        render: RenderFn,
        callbacks: Callable[[], int],
        on_status: StatusFn,
        device: Device = None,
        retry_s: float = 5.0,
        stall_s: float = 5.0,
    ) -> None:
        self.backend = backend
        self.samplerate = samplerate
        self.blocksize = blocksize
        self.device: Device = device
        self.retry_s = retry_s
        self.stall_s = stall_s
        self._render = render
        self._callbacks = callbacks
        self._on_status = on_status
        self._sink: AudioSink | None = None
        self._sink_silent = False
        self._next_retry = math.inf
        self._retry_delay = retry_s
        self._seen_callbacks = 0
        self._seen_callbacks_at = 0.0
        self._render_errors_logged = 0
        self._priority_logged = False
        self.client_priorities: list[Promotion] = []
        """What the sound library's client threads got when the output opened (``thread_priority.py``)."""

    @property
    def is_open(self) -> bool:
        """Whether an output (a device or the silent clock) is open."""
        return self._sink is not None

    def open(self, problem: str | None = None) -> None:
        """Open the chosen device, else the default one, else a silent clock; report the status.
        ``problem``: why the output is being reopened, to lead the status with."""
        reason = self.backend.unavailable_reason()
        tried: list[str] = []
        if reason is None:
            candidates: list[Device] = [self.device] if self.device is None else [self.device, None]
            for device in candidates:
                opened: AudioSink | None = None
                try:
                    opened = self.backend.open(device, self.samplerate, self.blocksize, self._render)
                    opened.start()
                except Exception as error:  # PortAudio fails in many ways
                    tried.append(f"{_describe(device)}: {error}")
                    if opened is not None:
                        opened.close()
                    continue
                self._use(opened, silent=False)
                self._retry_delay = self.retry_s
                prefix = f"{problem}. " if problem else ""
                fell_back = f" ({'; '.join(tried)}; using the default device)" if tried else ""
                if opened.silent:
                    self._on_status(f"{prefix}Playing silently: {opened.name}{fell_back}", False, False)
                else:
                    status = f"{prefix}Playing through {opened.name} at {self.samplerate} Hz{fell_back}"
                    self._on_status(status, True, not (problem or tried))
                return
        sink = NullSink("clock", self.samplerate, self.blocksize, self._render, name="no output (silent)")
        sink.start()
        self._use(sink, silent=True)
        if reason is not None:
            self._on_status(reason, False, False)
            self._next_retry = math.inf
        else:
            # retry after retry_s, then less and less often (up to every minute): each try re-scans devices
            self._next_retry = time.monotonic() + self._retry_delay
            self._retry_delay = min(max(self._retry_delay, self.retry_s) * 2, max(self.retry_s, 60.0))
            detail = "; ".join(tried) or "no device"
            prefix = f"{problem}. " if problem else ""
            self._on_status(
                f"{prefix}No sound: no audio output works ({detail}). Playing silently; Moodsic keeps trying "
                f"to open it (first after {self.retry_s:g} s).",
                False,
                False,
            )

    def close(self, *, drain: bool = False) -> None:
        """Close the open output, if any (``drain``: see ``AudioSink.close``)."""
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.close(drain=drain)

    def check(self) -> None:
        """Log new render errors; retry a real device when silent and the retry is due; reopen a failed or
        stalled output. Called on every pass of the worker loop."""
        sink = self._sink
        if sink is None:
            return
        if sink.priority is not None and not self._priority_logged:
            self._priority_logged = True
            log.info("sound thread of %s: %s", sink.name, sink.priority.words)
        if sink.render_errors > self._render_errors_logged:
            self._render_errors_logged = sink.render_errors
            log.error("audio render failed (%d times so far): %r", sink.render_errors, sink.last_render_error)
        now = time.monotonic()
        if self._sink_silent:
            if now >= self._next_retry:
                self.close()
                self.backend.refresh()
                self.open()
            return
        failure = sink.failure()
        if failure is None and sink.watchdog:
            callbacks = self._callbacks()
            if callbacks != self._seen_callbacks:
                self._seen_callbacks, self._seen_callbacks_at = callbacks, now
            elif now - self._seen_callbacks_at > self.stall_s:
                failure = f"the audio device stopped asking for sound for {self.stall_s:g} s"
        if failure is not None:
            log.warning("audio output %s failed: %s; reopening", sink.name, failure)
            self.close()
            self.backend.refresh()
            self.open(problem=f"Output {sink.name} failed ({failure})")

    def _use(self, sink: AudioSink, silent: bool) -> None:
        self._sink = sink
        self._sink_silent = silent
        self._seen_callbacks = self._callbacks()
        self._seen_callbacks_at = time.monotonic()
        self._render_errors_logged = 0
        self._priority_logged = False
        self.client_priorities = promote_sound_client_threads() if not silent else []
        for promotion in self.client_priorities:
            log.info("sound client thread of %s: %s", sink.name, promotion.words)

    @property
    def sink_priority(self) -> Promotion | None:
        """What the open output's audio thread got (``None``: nothing open, silent, or no block yet)."""
        sink = self._sink
        return sink.priority if sink is not None else None


__all__ = [
    "OUTPUT_LATENCY_S",
    "PORTAUDIO_MISSING",
    "SOUNDDEVICE_MISSING",
    "AudioBackend",
    "AudioSink",
    "Device",
    "NullBackend",
    "NullSink",
    "OutputDevice",
    "OutputError",
    "OutputKeeper",
    "RenderFn",
    "SoundDeviceBackend",
    "list_output_devices",
    "portaudio_problem",
]
