"""Decks and the mixer: the real-time part, which the audio callback runs.

Rules for the audio thread
--------------------------
``Mixer.render`` runs on the audio thread (the PortAudio callback, or the clock thread of ``NullSink``). It
never waits: no I/O, no locks, no large allocation. New decks and orders arrive from the engine's worker
thread as ``MixerMessage``\\ s in ``Mixer.inbox``, a ``collections.deque`` it pops without blocking; what
happened goes back as ``(MixerEvent, deck)`` pairs through ``Mixer.outbox``, so a deck the mixer drops is
freed on the worker thread, never here. It mixes pre-filled buffers with in-place numpy operations on
preallocated scratch arrays, in segments of at most ``MAX_SEGMENT`` frames so that numpy never releases the
GIL in the middle of a block: taking it back could cost a whole switch interval (5 ms) while another
thread is busy in Python.

Units: positions and lengths are frames at the output rate (``Mixer.samplerate``, 48 kHz by default);
gains are linear amplitude, 0..1; phases are radians.

Fades
-----
Every deck has a phase θ ∈ [0, π/2] and plays at gain sin θ. An equal-power crossfade of length T moves
the incoming deck's phase from 0 to π/2 and the outgoing deck's phase from π/2 to 0 linearly in time::

    g_in(t) = sin(π/2 · t/T),   g_out(t) = cos(π/2 · t/T),   g_in² + g_out² = 1

so two uncorrelated songs keep a constant total power through the crossfade. An automatic crossfade starts
``xfade_frames`` before the outgoing song ends (or right away, shorter, when the next song came late), so
the outgoing song reaches silence exactly at its last sample: no gap between songs. Start and stop use the
same sine ramps; the master ``volume`` (linear amplitude 0..1) glides over 30 ms to avoid clicks.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from moodsic_desktop.core.song import Song

HALF_PI = math.pi / 2
_FADE_SLOTS = 4
"""How many decks can fade out at once; a further one cuts the quietest."""
MAX_SEGMENT = 240
"""Frames mixed per numpy call. numpy releases the GIL for loops over more than 500 elements; on the audio
thread that is harmful: getting the GIL back can take a whole switch interval (5 ms) when another thread
is busy in Python. 240 stereo frames = 480 elements keep the GIL for the whole render."""
_VOLUME_GLIDE_S = 0.03
"""Seconds a change of the master volume takes from 0 to 1 (a glide, to avoid clicks)."""


class Deck:
    """One song's decoded audio. The worker appends to ``buf`` and then raises ``filled``; once the file is
    done it sets ``length`` and then ``complete``. The mixer owns ``pos``, ``theta`` and ``dtheta``.
    A grown buffer replaces ``buf`` before ``filled`` rises; the old one stays in ``old_bufs`` so the audio
    thread never frees it.

    ``buf``: float32 ``(frames, 2)`` at the output rate; ``capacity``, ``filled``, ``length`` and ``pos`` in
    frames; ``theta`` (radians, gain sin θ) and ``dtheta`` (radians per frame) are the fade phase."""

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


# --------------------------------------------------------------------------------------------------------
# Messages (worker → audio thread) and events (audio → worker thread)


@dataclass(frozen=True, slots=True)
class StartDeck:
    """Make ``deck`` current now: crossfade from the current deck over ``xfade_frames`` frames, or fade in
    from silence over ``start_fade_frames`` frames."""

    deck: Deck
    xfade_frames: int
    start_fade_frames: int


@dataclass(frozen=True, slots=True)
class QueueDeck:
    """Play ``deck`` after the current one (crossfading ``Mixer.xfade_frames`` before its end); replaces a
    queued deck."""

    deck: Deck


@dataclass(frozen=True, slots=True)
class ClearQueued:
    """Drop the queued deck."""


@dataclass(frozen=True, slots=True)
class Advance:
    """Start the queued deck now, crossfading over ``xfade_frames`` frames (a skip)."""

    xfade_frames: int


@dataclass(frozen=True, slots=True)
class FadeOutAll:
    """Fade every deck out within ``frames`` frames (0: cut) and drop the queued one."""

    frames: int


MixerMessage = StartDeck | QueueDeck | ClearQueued | Advance | FadeOutAll


class MixerEvent(IntEnum):
    """What ``Mixer.outbox`` reports, paired with the deck concerned (``None`` for ``IDLE``)."""

    STARTED = 0
    """The deck became current (its fade-in or crossfade began)."""
    RETIRED = 1
    """The deck was dropped (faded out, cut, or replaced while queued): the worker may free it."""
    ENDED = 2
    """The current deck played to its last frame."""
    IDLE = 3
    """Nothing is audible any more."""


# --------------------------------------------------------------------------------------------------------
# The mixer (audio thread)


class Mixer:
    """The callback-side state: the current deck, the queued one and those fading out.

    ``render`` runs on the audio thread only. The worker thread only appends ``MixerMessage``\\ s to
    ``inbox``, pops ``(MixerEvent, deck)`` pairs from ``outbox`` and writes the plain attributes ``volume``
    (linear amplitude 0..1), ``xfade_frames`` (the automatic crossfade, frames) and ``start_fade_frames``
    (fade-in from silence, frames). The counters ``underflows``, ``callbacks``, ``starved`` (blocks that
    reached the end of what was decoded of a deck still decoding) and ``frames_out`` may be read by any
    thread. ``samplerate`` in Hz; ``max_segment``: frames per numpy call (see ``MAX_SEGMENT``)."""

    def __init__(self, samplerate: int, max_segment: int = MAX_SEGMENT) -> None:
        self.samplerate = samplerate
        self.inbox: deque[MixerMessage] = deque()
        self.outbox: deque[tuple[MixerEvent, Deck | None]] = deque()
        self.current: Deck | None = None
        self.pending: Deck | None = None
        self.fading: list[Deck | None] = [None] * _FADE_SLOTS
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
        self.outbox.append((MixerEvent.ENDED, cur))
        return 0

    def _mix_decks(self, block: np.ndarray, seg: int) -> None:
        fading = self.fading
        for i in range(_FADE_SLOTS):
            deck = fading[i]
            if deck is not None and self._mix(deck, block, seg):
                fading[i] = None
                self.outbox.append((MixerEvent.RETIRED, deck))
        if self.current is not None:
            self._mix(self.current, block, seg)

    def _note_silence(self) -> None:
        """Post ``MixerEvent.IDLE`` when the last audible deck has gone."""
        audible = self.current is not None
        if not audible:
            for deck in self.fading:
                if deck is not None:
                    audible = True
                    break
        if self._audible and not audible:
            self.outbox.append((MixerEvent.IDLE, None))
        self._audible = audible

    def _mix(self, deck: Deck, block: np.ndarray, seg: int) -> bool:
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

    def _handle(self, msg: MixerMessage) -> None:
        match msg:
            case StartDeck(deck, xfade_frames, start_fade_frames):
                self._begin(deck, xfade_frames, start_fade_frames)
            case QueueDeck(deck):
                self._drop_pending()
                self.pending = deck
            case ClearQueued():
                self._drop_pending()
            case Advance(xfade_frames):
                queued = self.pending  # not ``deck``: the cases above bind that name as a plain _Deck
                if queued is not None:
                    self.pending = None
                    self._begin(queued, xfade_frames, self.start_fade_frames)
            case FadeOutAll(frames):
                self._fade_out_all(frames)

    def _fade_out_all(self, frames: int) -> None:
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
                self.outbox.append((MixerEvent.RETIRED, deck))
            elif deck.theta + deck.dtheta * frames > 0.0:  # fading slower than asked: speed it up
                deck.dtheta = -deck.theta / frames

    def _drop_pending(self) -> None:
        if self.pending is not None:
            self.outbox.append((MixerEvent.RETIRED, self.pending))
            self.pending = None

    def _begin(self, deck: Deck, xfade_frames: int, start_fade_frames: int) -> None:
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
        self.outbox.append((MixerEvent.STARTED, deck))

    def _fade_out(self, deck: Deck, frames: int) -> None:
        if frames <= 0 or deck.theta <= 0.0:
            self.outbox.append((MixerEvent.RETIRED, deck))
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
            self.outbox.append((MixerEvent.RETIRED, slots[quietest]))
            free = quietest
        slots[free] = deck


# --------------------------------------------------------------------------------------------------------


__all__ = [
    "HALF_PI",
    "MAX_SEGMENT",
    "Advance",
    "ClearQueued",
    "FadeOutAll",
    "Mixer",
    "MixerEvent",
    "MixerMessage",
    "QueueDeck",
    "StartDeck",
]
