"""The audio engine's commands: what a caller's thread asks the engine's worker thread to do.

``AudioEngine``'s command methods (``play``, ``queue_next``, ``skip``, ``stop``, the ``device`` setter, …)
build one of these frozen dataclasses on the calling thread and put it on the worker's queue; the worker
dispatches on its type (``AudioEngine._handle``, a ``match``). A command is immutable once made, so the two
threads share nothing mutable through it. Fade lengths are converted to frames at the engine's output rate
(48 kHz by default) on the calling thread, with the ``crossfade_s`` that held when the command was given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from moodsic_desktop.audio.output import Device
from moodsic_desktop.core.song import Song


def fade_seconds(name: str, seconds: float) -> float:
    """``seconds`` (a fade or margin the caller gave ``name``) as a float; ``ValueError`` unless it is
    finite and at least 0. The calling thread. (The crossfade, an owner's setting, is checked by its
    schema declaration, ``core.settings_schema.CROSSFADE``.)"""
    seconds = float(seconds)
    if not math.isfinite(seconds) or seconds < 0.0:
        raise ValueError(f"{name} must be >= 0 seconds, got {seconds}")
    return seconds


@dataclass(frozen=True, slots=True)
class Play:
    """Start ``song`` as soon as it is decoded: crossfade from the current song over ``xfade_frames`` frames,
    or fade in from silence over ``start_fade_frames`` frames. Cancels a queued next song."""

    song: Song
    xfade_frames: int
    start_fade_frames: int


@dataclass(frozen=True, slots=True)
class QueueNext:
    """Play ``song`` after the current one (right away, fading in, when nothing plays); replaces a queued
    song."""

    song: Song


@dataclass(frozen=True, slots=True)
class Skip:
    """Crossfade now to the queued song, or to the listener's next song; fade out when there is none."""


@dataclass(frozen=True, slots=True)
class Stop:
    """Fade everything out over ``fade_frames`` frames and forget the queued song."""

    fade_frames: int


@dataclass(frozen=True, slots=True)
class OpenOutput:
    """Open the output, unless one is open."""


@dataclass(frozen=True, slots=True)
class ChooseDevice:
    """Use ``device`` from now on; reopen the output on it if one is open."""

    device: Device


@dataclass(frozen=True, slots=True)
class Sync:
    """Do nothing: ``wait_idle`` gives it so that the worker wakes up and runs a full pass."""


@dataclass(frozen=True, slots=True)
class Close:
    """End the worker thread (closing the output). Only ``AudioEngine.close`` gives it."""


EngineCommand = Play | QueueNext | Skip | Stop | OpenOutput | ChooseDevice | Sync | Close
"""Every command the engine's worker thread handles."""

__all__ = [
    "ChooseDevice",
    "Close",
    "EngineCommand",
    "OpenOutput",
    "Play",
    "QueueNext",
    "Skip",
    "Stop",
    "Sync",
]
