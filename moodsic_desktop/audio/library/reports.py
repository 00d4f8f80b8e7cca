"""What the library index hands back: its error, the reports of imports, checks and learning, the songs
with what the index knows about them, and the play history's entries. Plain data: any thread."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from moodsic_desktop.audio.library.mood_estimation import LearnedMoodModel
from moodsic_desktop.core.song import Song

ProgressFn = Callable[[int, int], None]
"""``progress(done, total)``, called on the calling thread after each song or file."""


class LibraryIndexError(Exception):
    """The index file cannot be used (missing, damaged, not a Moodsic index, or from a newer version).
    The message names the file and says that it was left as it is."""


class SongProblem(NamedTuple):
    """A song (or CSV row) that cannot play or was not imported: ``where`` is its audio path, or the CSV
    file and line; ``reason`` says why."""

    song_id: str
    where: str
    reason: str


@dataclass(frozen=True)
class IndexedSong:
    """A song with what the index knows about it. ``song.path`` is ``None`` when it is not playable;
    ``path`` is always the file the song should play from. ``sample_rate`` in Hz."""

    song: Song
    path: Path | None
    origin: str
    playable: bool
    problem: str
    sample_rate: int | None
    channels: int | None
    banned: bool


@dataclass
class ImportReport:
    """What an import did. ``new`` / ``updated`` / ``unchanged`` count the songs written (or found equal);
    ``not_playable`` lists every imported song kept out of playback with its reason; ``skipped`` lists the
    rows that were not imported at all (bad values, missing files named in a CSV …) with their reason;
    ``unlisted`` the audio files in the folder that the CSV does not name. ``stations`` is the number of
    stations of the stored model after the import (None: too few songs), ``refitted`` whether the import
    changed it. ``seconds`` is wall-clock time. An import without a V-A table (``add_folder_estimated``)
    also counts the songs whose mood was ``estimated`` from their audio (by ``method``: "default" or
    "learned"), the files ``analysed`` now and those whose features came ``from_cache``, and the songs
    that kept their rated point (``kept_rated``); files whose mood cannot be measured are in ``skipped``."""

    source: str
    origin: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    playable: int = 0
    not_playable: list[SongProblem] = field(default_factory=list)
    skipped: list[SongProblem] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    stations: int | None = None
    refitted: bool = False
    seconds: float = 0.0
    estimated: int = 0
    analysed: int = 0
    from_cache: int = 0
    kept_rated: int = 0
    method: str = ""

    @property
    def imported(self) -> int:
        """Songs now in the index from this source (new, updated or unchanged)."""
        return self.new + self.updated + self.unchanged

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the counts and every listed song or row."""
        data = asdict(self)
        data["imported"] = self.imported
        for key in ("not_playable", "skipped"):
            data[key] = [problem._asdict() for problem in getattr(self, key)]
        return data


@dataclass
class CheckReport:
    """What ``check`` found: ``checked`` files decoded, ``ok`` of them play; ``broken`` lists every song that
    does not play now, ``newly_broken`` and ``restored`` the ids whose state changed. ``stations`` and
    ``refitted`` as in ``ImportReport``."""

    checked: int = 0
    ok: int = 0
    broken: list[SongProblem] = field(default_factory=list)
    newly_broken: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    stations: int | None = None
    refitted: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["broken"] = [problem._asdict() for problem in self.broken]
        return data


@dataclass
class LearnReport:
    """What ``learn_moods`` did: ``labelled`` rated songs with audio, ``used`` of them analysed and fitted
    (``failed`` lists the others with the reason), ``analysed`` / ``from_cache`` as in ``ImportReport``,
    ``reestimated`` the estimated songs given the new model's point; ``model`` the fitted model (its
    ``cv`` and ``cv_default`` hold the cross-validated metrics)."""

    model: LearnedMoodModel
    labelled: int = 0
    used: int = 0
    failed: list[SongProblem] = field(default_factory=list)
    analysed: int = 0
    from_cache: int = 0
    reestimated: int = 0
    stations: int | None = None
    refitted: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "model"}
        data["failed"] = [problem._asdict() for problem in self.failed]
        data["model"] = self.model.to_dict()
        return data


class Play(NamedTuple):
    """One entry of the play history: ``when`` in seconds since the epoch (UTC)."""

    when: float
    song_id: str
