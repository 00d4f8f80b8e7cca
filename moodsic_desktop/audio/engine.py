"""The playback engine: its worker thread, ``AudioEngine``'s public API and the listener protocol.

Two decks, a decoder thread and an audio callback that only mixes: the mixing and the fades are in
``mixer.py``, the outputs in ``output.py``, the commands the worker runs in ``commands.py``, the decoding
ahead of need in ``decode_jobs.py`` and the listener protocol in ``listener.py``.

Threads
-------
* **Callers** (GUI, pipeline worker, CLI): ``play``, ``crossfade_to``, ``queue_next``, ``skip``, ``stop``,
  ``open_output`` and the ``device`` setter only queue a command (``commands.py``) for the worker and return
  at once; ``volume`` and ``crossfade_s`` are plain attribute writes; the read-only properties read
  snapshots. Any thread. ``start``, ``close`` and ``wait_idle`` block: the thread that owns the engine,
  never the listener.
* **Worker** (``moodsic-audio``, a plain ``threading.Thread``): runs the commands, decodes and resamples
  songs into deck buffers ahead of need (a chunk at a time, so a long file never holds it for long), opens,
  watches and recovers the output (``OutputKeeper``), tracks the position and calls the ``EngineListener``.
  The listener only ever runs here, never on the audio thread.
* **Audio** (the PortAudio callback, or the clock thread of ``NullBackend``): ``Mixer.render`` mixes the
  decks; it never waits on anything (see ``mixer.py``).

Units: times in seconds (``crossfade_s``, ``position_s``, …), converted to frames at ``samplerate`` (48 kHz
by default) for the mixer; ``volume`` is a linear amplitude, 0..1.

Without PortAudio, or when no device opens, the engine plays silently on a clock, so the rest of the
program (positions, "song ending" notices) runs on, and ``status`` says why and what to do.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from types import TracebackType
from typing import Any

from moodsic_desktop.audio.commands import (
    ChooseDevice,
    Close,
    EngineCommand,
    OpenOutput,
    Play,
    QueueNext,
    Skip,
    Stop,
    Sync,
    fade_seconds,
)
from moodsic_desktop.audio.decode_jobs import DecodeJob, DecodeJobs
from moodsic_desktop.audio.decoding import DEFAULT_CHUNK_FRAMES, AudioDecodeError
from moodsic_desktop.audio.listener import EngineListener
from moodsic_desktop.audio.mixer import (
    Advance,
    ClearQueued,
    Deck,
    FadeOutAll,
    Mixer,
    MixerEvent,
    QueueDeck,
    StartDeck,
)
from moodsic_desktop.audio.output import AudioBackend, Device, OutputDevice, OutputKeeper, SoundDeviceBackend
from moodsic_desktop.audio.thread_priority import Promotion, describe_threads, promote_worker_thread
from moodsic_desktop.core.settings_schema import CROSSFADE
from moodsic_desktop.core.song import Song

log = logging.getLogger(__name__)

MAX_CROSSFADE_S = CROSSFADE.maximum


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
        self.start_fade_s = fade_seconds("start_fade_s", start_fade_s)
        self.stop_fade_s = fade_seconds("stop_fade_s", stop_fade_s)
        self.decode_margin_s = fade_seconds("decode_margin_s", decode_margin_s)
        self.prebuffer_s = fade_seconds("prebuffer_s", prebuffer_s)
        self.max_failures_in_row = int(max_failures_in_row)
        self._poll_s = float(poll_s)
        self._mixer = Mixer(self.samplerate)
        self._mixer.start_fade_frames = self._frames(self.start_fade_s)
        self._crossfade_s = 0.0
        self.crossfade_s = crossfade_s
        self._device: Device = device
        self._output = OutputKeeper(
            backend=self.backend,
            samplerate=self.samplerate,
            blocksize=self.blocksize,
            render=self._mixer.render,
            callbacks=lambda: self._mixer.callbacks,
            on_status=self._set_status,
            device=device,
            retry_s=float(retry_s),
            stall_s=float(stall_s),
        )
        self._commands: queue.SimpleQueue[EngineCommand] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._pending_commands = 0
        self._busy = False
        self._passes = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._status = "Not started"
        self._worker_priority: Promotion | None = None
        self._sound_ok = False
        self._as_chosen = False
        # worker-thread state
        self._jobs = DecodeJobs(self.samplerate, int(chunk_frames))
        self._next_deck: Deck | None = None
        self._awaiting_start: Deck | None = None
        self._noticed_serial = -1
        self._failures = 0

    # -- properties (any thread) ----------------------------------------------------------------------
    @property
    def crossfade_s(self) -> float:
        """Default crossfade length in seconds (0–20). Any thread; applies to crossfades that start later."""
        return self._crossfade_s

    @crossfade_s.setter
    def crossfade_s(self, seconds: float) -> None:
        self._crossfade_s = CROSSFADE.check(seconds)  # the schema's rule, the one check of this setting
        self._mixer.xfade_frames = self._frames(self._crossfade_s)

    @property
    def retry_s(self) -> float:
        """Seconds of silence before the first retry to open a device when none opened. Any thread."""
        return self._output.retry_s

    @retry_s.setter
    def retry_s(self, seconds: float) -> None:
        self._output.retry_s = float(seconds)

    @property
    def stall_s(self) -> float:
        """Seconds without a render call after which a device counts as failed. Any thread."""
        return self._output.stall_s

    @stall_s.setter
    def stall_s(self, seconds: float) -> None:
        self._output.stall_s = float(seconds)

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
        output latency (``OUTPUT_LATENCY_S``, 0.5 s, by default). Any thread."""
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
    def thread_priorities(self) -> str:
        """How the system runs the sound's threads, in words for Diagnostics (``thread_priority.py``). Any
        thread."""
        return describe_threads(self._output.sink_priority, self._output.client_priorities, self._worker_priority)

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
        self._submit(ChooseDevice(device))

    def list_output_devices(self) -> list[OutputDevice]:
        """The output devices of this engine's back end. Any thread."""
        return self.backend.list_devices()

    # -- commands (any thread; they return at once) ----------------------------------------------------
    def play(self, song: Song, *, fade_in_s: float | None = None) -> None:
        """Start ``song`` now: from silence it fades in over ``fade_in_s`` (default ``start_fade_s``); over
        a playing song it crossfades over ``crossfade_s``. Cancels a queued next song. Any thread."""
        fade = self.start_fade_s if fade_in_s is None else fade_seconds("fade_in_s", fade_in_s)
        self._submit(Play(song, self._frames(self._crossfade_s), self._frames(fade)))

    def crossfade_to(self, song: Song, *, crossfade_s: float | None = None) -> None:
        """Crossfade from the current song to ``song`` as soon as it is decoded, over ``crossfade_s`` seconds
        (default ``self.crossfade_s``; fades in over ``start_fade_s`` from silence). Cancels a queued next
        song. Any thread."""
        xfade = self._crossfade_s if crossfade_s is None else CROSSFADE.check(crossfade_s)
        self._submit(Play(song, self._frames(xfade), self._frames(self.start_fade_s)))

    def queue_next(self, song: Song) -> None:
        """Play ``song`` after the current one, crossfading into it over ``crossfade_s`` as the current one
        ends (right away, with a fade-in, when nothing plays). Replaces a queued song. Any thread."""
        self._submit(QueueNext(song))

    def skip(self) -> None:
        """Crossfade now (over ``crossfade_s``) to the queued next song, or to the one the listener's
        ``next_song`` gives; fade out when there is none. Any thread."""
        self._submit(Skip())

    def stop(self, fade_s: float | None = None) -> None:
        """Fade everything out over ``fade_s`` seconds (default ``stop_fade_s``) and forget the queued song.
        Any thread."""
        fade = self.stop_fade_s if fade_s is None else fade_seconds("fade_s", fade_s)
        self._submit(Stop(self._frames(fade)))

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
        self._submit(OpenOutput())

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until the worker has run every command given so far, finished decoding and made a full
        pass of its checks (position, notices, output). Returns False on ``timeout`` (seconds). For tests,
        the CLI and shutdown; not from the listener."""
        self._refuse_worker_thread("wait_idle")
        if self._thread is None:
            raise RuntimeError("start() the engine first")
        self._submit(Sync())
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
            self._commands.put(Close())
            thread.join(timeout)
            if thread.is_alive():
                log.error("the audio worker thread did not stop within %.1f s", timeout)
        else:
            self._output.close(drain=True)

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

    def _submit(self, command: EngineCommand) -> None:
        if self._closed:
            log.debug("ignoring %s: the engine is closed", type(command).__name__)
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
        self._worker_priority = promote_worker_thread()
        log.info("audio worker thread: %s", self._worker_priority.words)
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
                    if isinstance(command, Close):
                        break
                    try:
                        self._handle(command)
                    except Exception:
                        log.exception("audio command %s failed", type(command).__name__)
                    with self._cond:
                        self._pending_commands -= 1
                    continue
                try:
                    self._output.check()
                    self._check_ending()
                    self._decode_step()
                except Exception:
                    log.exception("audio worker step failed")
                with self._cond:
                    self._busy = bool(self._jobs)
                    self._passes += 1
                    self._cond.notify_all()
        finally:
            self._output.close(drain=True)
            self._jobs.close_all()
            with self._cond:
                self._busy = False
                self._passes += 2
                self._cond.notify_all()

    def _handle(self, command: EngineCommand) -> None:
        """Run one command (worker thread). Raises ``TypeError`` for anything that is not a command."""
        match command:
            case Play(song, xfade_frames, start_fade_frames):
                self._failures = 0
                self._jobs.cancel_unhanded(kinds=("now", "next"))
                self._clear_next()
                self._jobs.add(DecodeJob(song, "now", xfade_frames, start_fade_frames))
            case QueueNext(song):
                self._failures = 0
                self._jobs.cancel_unhanded(kinds=("next",))
                self._clear_next()
                self._jobs.add(DecodeJob(song, "next", 0, self._mixer.start_fade_frames))
            case Skip():
                self._skip()
            case Stop(fade_frames):
                self._jobs.cancel_unhanded(kinds=("now", "next"))
                self._next_deck = None
                self._awaiting_start = None
                self._mixer.inbox.append(FadeOutAll(fade_frames))
            case OpenOutput():
                if not self._output.is_open:
                    self._output.open()
            case ChooseDevice(device):
                self._output.device = device
                if self._output.is_open:
                    self._output.close()
                    self._output.open()
            case Sync():
                pass
            case _:  # Close is handled by the loop in _run
                raise TypeError(f"not an engine command: {command!r}")

    def _skip(self) -> None:
        xfade = self._mixer.xfade_frames
        if self._next_deck is not None:
            self._next_deck = None
            self._mixer.inbox.append(Advance(xfade))
            return
        for job in self._jobs:
            if job.kind == "next" and not job.handed:
                job.kind = "now"
                job.xfade_frames = xfade
                return
        current = self._mixer.current
        song = self._ask_next(current)
        if song is not None:
            self._jobs.cancel_unhanded(kinds=("now",))
            self._jobs.add(DecodeJob(song, "now", xfade, self._mixer.start_fade_frames))
        elif current is not None:
            self._mixer.inbox.append(FadeOutAll(xfade))

    def _clear_next(self) -> None:
        if self._next_deck is not None:
            self._next_deck = None
            self._mixer.inbox.append(ClearQueued())

    def _ask_next(self, current: Deck | None) -> Song | None:
        """The listener's next song after ``current`` (the "song ending" notice)."""
        song = self._notify("next_song", current.song if current else None, self._remaining(current))
        if song is not None and not isinstance(song, Song):
            log.warning("the audio listener's next_song() returned %r, not a Song; ignored", song)
            return None
        return song

    def _remaining(self, deck: Deck | None) -> float:
        if deck is None:
            return 0.0
        end = deck.length if deck.complete else max(deck.filled, deck.length)
        return max(end - deck.pos, 0) / self.samplerate

    def _drain_events(self) -> None:
        """Handle the mixer's events; dropping retired decks here frees their buffers on this thread."""
        outbox = self._mixer.outbox
        while outbox:
            event, deck = outbox.popleft()
            if event == MixerEvent.STARTED and deck is not None:
                if deck is self._awaiting_start:
                    self._awaiting_start = None
                if deck is self._next_deck:
                    self._next_deck = None
                self._failures = 0
                self._notify("song_started", deck.song)
            elif event in (MixerEvent.RETIRED, MixerEvent.ENDED) and deck is not None:
                if deck is self._next_deck:
                    self._next_deck = None
                if deck is self._awaiting_start:
                    self._awaiting_start = None
                self._jobs.forget(deck)
            elif event == MixerEvent.IDLE:
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
            self._jobs.add(DecodeJob(song, "next", 0, self._mixer.start_fade_frames))

    def _decode_step(self) -> None:
        """Decode one chunk of the most urgent song; hand its deck to the mixer once ``prebuffer_s`` seconds
        (or all of it) are decoded."""
        stepped = self._jobs.step()
        if stepped is None:
            return
        job, error = stepped
        if error is not None:
            self._job_failed(job, error)
            return
        deck = job.deck
        assert deck is not None
        if not job.handed and (deck.complete or deck.filled >= self._frames(self.prebuffer_s)):
            self._hand_over(job)

    def _hand_over(self, job: DecodeJob) -> None:
        deck = job.deck
        assert deck is not None
        job.handed = True
        if job.kind == "now":
            self._awaiting_start = deck
            self._mixer.inbox.append(StartDeck(deck, job.xfade_frames, job.start_fade_frames))
        else:
            self._next_deck = deck
            self._mixer.inbox.append(QueueDeck(deck))

    def _job_failed(self, job: DecodeJob, error: AudioDecodeError) -> None:
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
            self._jobs.add(DecodeJob(song, job.kind, job.xfade_frames, job.start_fade_frames))


__all__ = ["MAX_CROSSFADE_S", "AudioEngine"]
