"""A song and its mood: one ``SongMood`` value (the point, both variances, where it comes from) travels
from the import (a V-A table, DEAM's ratings, the estimate from the audio, the owner's placement) through
the library index to the matcher, which ranks by it, and the window, which words it.

All V-A in reference space [-1, 1]; variances in reference units². Plain data: any thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from moodsic_desktop.core.choices import FixedChoice

MoodSource = Literal["rated", "estimated", "placed"]
"""Where a song's mood point comes from (``SongMood.source``); the strings are stored in the library index."""
MOOD_SOURCES: tuple[MoodSource, ...] = get_args(MoodSource)


validate_mood_source = FixedChoice("mood source", MOOD_SOURCES)
"""``source`` as a :data:`MoodSource`; ``ValueError`` when it is not one (a library index, a report)."""


@dataclass(frozen=True)
class SongMood:
    """Where a song lies on the mood plane and how sure that is.

    ``valence``, ``arousal``: the point, reference space [-1, 1]. ``source``: "rated" (listeners'
    ratings, a V-A table), "estimated" (measured from the audio) or "placed" (put there by the owner).
    ``valence_var``, ``arousal_var``: the expected squared error of each coordinate (reference units²),
    0 for a rated or placed point, which counts as exact. Raises ``ValueError`` for an unknown source or
    a variance that is negative or not finite."""

    valence: float
    arousal: float
    source: MoodSource = "rated"
    valence_var: float = 0.0
    arousal_var: float = 0.0

    def __post_init__(self) -> None:
        validate_mood_source(self.source)
        for name in ("valence_var", "arousal_var"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"a song's {name} must be a finite number ≥ 0, not {value!r}")

    @property
    def variance(self) -> float:
        """The expected squared distance between the point and the song's true mood (reference units²):
        ``valence_var + arousal_var``. The matcher ranks by ``sqrt(d² + variance)``."""
        return self.valence_var + self.arousal_var

    @property
    def spread(self) -> float:
        """The typical error of one coordinate (reference units): ``sqrt(variance / 2)``, the root mean
        square of the two axes' standard deviations; the "±" the window and the reasons show."""
        return math.sqrt(self.variance / 2.0)


@dataclass
class Song:
    """One playable song. ``mood`` is its mood (``SongMood``; ``valence`` and ``arousal`` read its point);
    ``path`` is its audio file (``None`` when the audio is not available); ``duration_s`` in seconds when
    known."""

    song_id: str
    mood: SongMood
    title: str = ""
    artist: str = ""
    genre: str = ""
    path: Path | None = None
    duration_s: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.mood, SongMood):  # the old Song(song_id, valence, arousal, …) call
            raise TypeError(f"song {self.song_id!r}: its mood is a SongMood, not {self.mood!r}")

    @property
    def valence(self) -> float:
        """The valence of the mood point (reference space [-1, 1])."""
        return self.mood.valence

    @property
    def arousal(self) -> float:
        """The arousal of the mood point (reference space [-1, 1])."""
        return self.mood.arousal

    @property
    def display_name(self) -> str:
        """ "Title — Artist", or the id when the song has no title."""
        title = self.title or f"Song {self.song_id}"
        return f"{title} — {self.artist}" if self.artist else title


__all__ = ["MOOD_SOURCES", "MoodSource", "Song", "SongMood", "validate_mood_source"]
