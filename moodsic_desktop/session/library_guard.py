"""Keeping the music going when the library's audio files go away, and coming back when they return.

A shop PC's library often sits on a USB drive or a network share: it can vanish mid-session. The guard
looks at every song that failed to play. When its file is missing and so are at least half of a sample of
the library's other files, the library counts as *lost* (a drive unplugged, a folder moved or renamed), and
the programme (``session.programme``) switches to the fallback library (the built-in station).
When ``FAILURES_IN_ROW`` songs in a row fail for any reason, the library counts as lost too, so a library
of unplayable files never loops through failure after failure. While lost, ``check_back`` looks at the
sample again every ``check_every_s`` seconds; once the files are back (and the loss was about missing
files) the library plays again. The guard only tells: what plays then is the programme's. Nothing is written:
the library index, its history and bans stay as they were; songs skipped only because their file was missing
are handed back by ``files_back``.

Not thread-safe: one owner thread (the ``PlaybackSession``'s) calls it. File checks are ``os.stat`` calls on at
most ``SAMPLE_SIZE`` paths, made only after a failure or once per ``check_every_s`` while lost.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.song import Song

log = logging.getLogger(__name__)

SAMPLE_SIZE = 40  # library files looked at to tell "a file is gone" from "the library is gone"
FAILURES_IN_ROW = 5  # songs failing one after another that make the library count as lost


def _gone_folder(path: Path) -> Path:
    """The outermost missing folder on the way to ``path`` (the drive or folder that went), else its
    folder."""
    gone = path.parent
    for folder in path.parents:
        try:
            if folder.exists():
                break
        except OSError:
            pass
        gone = folder
    return gone


@dataclass(frozen=True)
class LibraryLoss:
    """Why the library counts as lost: its files are gone (``gone``: the drive or folder that went), or
    ``failures`` songs in a row could not be played (the last: ``last_song``, its name)."""

    gone: Path | None
    failures: int
    last_song: str

    def words(self, instead: str) -> str:
        """The loss in the owner's words; ``instead`` names what plays meanwhile ("built-in station")."""
        if self.gone is not None:
            return (
                f"The music library's files cannot be found: {self.gone} is gone (a drive "
                f"unplugged, a folder moved or renamed?). The {instead} plays until they are "
                "back; your library, its history and bans are kept."
            )
        return (
            f"{self.failures} songs in a row could not be played (the last: {self.last_song}). "
            f"The {instead} plays instead; `moodsic library check` lists the songs that do "
            "not play."
        )


class LibraryGuard:
    """Tells when the user's library (``library``, then each version given to ``replace_library``) is lost
    or back; times are seconds on any monotonic clock."""

    def __init__(self, library: MusicLibrary, check_every_s: float = 10.0) -> None:
        self.check_every_s = check_every_s
        self._watch(library)
        self.lost = False
        self._lost_to_missing_files = False
        self._failures_in_row = 0
        self._missing_ids: set[str] = set()
        self._next_check = math.inf

    def _watch(self, library: MusicLibrary) -> None:
        self.library = library
        paths = [song.path for song in library.songs if song.path is not None]
        step = max(len(paths) / SAMPLE_SIZE, 1.0)
        self._sample: list[Path] = [paths[int(i * step)] for i in range(min(SAMPLE_SIZE, len(paths)))]
        self._library_ids = {song.song_id for song in library.songs}

    def replace_library(self, library: MusicLibrary) -> None:
        """A new version of the user's library (reloaded from the index) takes the old one's place. While
        lost, its files are looked at on the next ``check_back``: the new version may be there."""
        self._watch(library)
        self._missing_ids.intersection_update(self._library_ids)
        if self.lost:
            self._next_check = -math.inf

    @property
    def given_up(self) -> bool:
        """Songs go on failing while the library is lost (the fallback fails as well): nothing is left to try
        until the next command (a skip, a new mood)."""
        return self.lost and self._failures_in_row >= FAILURES_IN_ROW

    def owns(self, song: Song) -> bool:
        """Whether ``song`` is one of the user's library (not another library's)."""
        return song.song_id in self._library_ids

    def song_started(self) -> None:
        """A song started playing: the run of failures is over."""
        self._failures_in_row = 0

    def song_failed(self, song: Song, now: float) -> LibraryLoss | None:
        """``song`` could not be played. Returns why, when this makes the library count as lost (the caller
        plays something else), else None (skip just this song)."""
        self._failures_in_row += 1
        if self.lost:
            return None
        missing = song.path if song.path is not None and not song.path.exists() else None
        if missing is not None:
            self._missing_ids.add(song.song_id)
        if missing is not None and self._sample_mostly_missing():
            failures = self._failures_in_row
            self._lose(now, missing_files=True)
            return LibraryLoss(_gone_folder(missing), failures, song.display_name)
        if self._failures_in_row >= FAILURES_IN_ROW:
            failures = self._failures_in_row
            self._lose(now, missing_files=False)
            return LibraryLoss(None, failures, song.display_name)
        return None

    def check_back(self, now: float) -> bool:
        """While lost to missing files, look again (at most every ``check_every_s``): True once they are
        back, and the guard is back on the user's library."""
        if not self.lost or now < self._next_check:
            return False
        self._next_check = now + self.check_every_s
        if not self._lost_to_missing_files or self._sample_mostly_missing():
            return False
        log.info("the music library's files are back")
        self.lost = False
        self._failures_in_row = 0
        return True

    def files_back(self) -> list[str]:
        """The songs skipped this session only because their file was missing, whose file is there again
        (forgotten here: the caller may offer them again)."""
        back = [
            song.song_id
            for song in self.library.songs
            if song.song_id in self._missing_ids and song.path is not None and song.path.exists()
        ]
        self._missing_ids.difference_update(back)
        return back

    def _lose(self, now: float, *, missing_files: bool) -> None:
        log.warning("the music library is lost (%s)", "files missing" if missing_files else "songs fail in a row")
        self.lost = True
        self._lost_to_missing_files = missing_files
        self._failures_in_row = 0
        self._next_check = now + self.check_every_s

    def _sample_mostly_missing(self) -> bool:
        """At least half the sampled library files are missing (an unreadable folder counts as missing)."""
        if not self._sample:
            return True
        missing = 0
        for path in self._sample:
            try:
                present = path.exists()
            except OSError:  # e.g. a network share that went away mid-check
                present = False
            missing += not present
        return missing * 2 >= len(self._sample)
