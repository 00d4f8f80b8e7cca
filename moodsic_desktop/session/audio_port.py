"""What a ``PlaybackSession`` needs from the audio engine: the ``AudioPort`` protocol, and a silent port.

The session never imports Qt or the engine's module: the window hands it its ``AudioEngine`` (which has
these members), ``moodsic analyze`` and ``--self-test`` hand it a ``SilentAudioPort``, and tests hand it a
fake that records the calls. Times are seconds.

Threads: the session calls the port on its owner thread (the pipeline worker's); an implementation must
accept calls from that thread (``AudioEngine``'s public methods are thread-safe).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from moodsic_desktop.core.song import Song


@runtime_checkable
class AudioPort(Protocol):
    """The audio engine as the session sees it."""

    @property
    def remaining_s(self) -> float | None:
        """Seconds left of the song playing, or None when nothing plays or its length is unknown."""
        ...

    @property
    def notice_s(self) -> float:
        """How many seconds before a song's end the engine asks for the next one."""
        ...

    def crossfade_to(self, song: Song) -> None:
        """Crossfade from the song playing to ``song`` now (from silence: fade it in)."""
        ...

    def queue_next(self, song: Song) -> None:
        """Play ``song`` when the song playing ends."""
        ...

    @property
    def volume(self) -> float:
        """The master volume, linear amplitude 0..1."""
        ...

    @volume.setter
    def volume(self, value: float) -> None: ...

    def stop(self, fade_s: float | None = None) -> None:
        """Fade everything out over ``fade_s`` seconds (default: the engine's) and forget the queued song."""
        ...


class SilentAudioPort:
    """An audio port that plays nothing: for runs without sound (``moodsic analyze``, the self-test's
    perception stage). ``remaining_s`` is always None. Any thread."""

    notice_s = 0.0
    volume = 1.0

    @property
    def remaining_s(self) -> float | None:
        return None

    def crossfade_to(self, song: Song) -> None:
        pass

    def queue_next(self, song: Song) -> None:
        pass

    def stop(self, fade_s: float | None = None) -> None:
        pass
