"""``Programme``: the one owner of what plays, the library songs are chosen from and its matcher.

It holds the user's library (its latest version), the library that plays while that one is lost (the
fallback: by default the built-in station, made when first needed, as it may take seconds), the user
library's matcher parked meanwhile (with this session's history and bans, handed back with the settings of
now when the files return), a new version after a reload (the matcher's successor, taking the new version's
bans), and the songs that failed to play this session. ``LibraryGuard`` only tells when the library is lost
or back; the programme decides what plays then. The pipeline's matcher is the programme's: nothing else
replaces it (the session's settings commands change the one playing).

Each switch returns a ``Switch``: the sentence for the owner, and whether a song of the new matcher must
start now (the library lost, or back) or after the song playing (it left the library in a reload). The
session chooses that song for the mood (it knows the mood read and the day plan) and plays it.

Not thread-safe: the session's owner thread makes every call. Times are seconds on the session's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.pipeline import Pipeline
from moodsic_desktop.core.song import Song
from moodsic_desktop.session.assembly import BUILTIN_ORIGIN, builtin_library
from moodsic_desktop.session.library_guard import LibraryGuard
from moodsic_desktop.session.library_reload import describe_change

Start = Literal["now", "after_current"]
"""When a switch needs a song of the new matcher: ``"now"`` (crossfade to it) or ``"after_current"`` (queued
after the song playing)."""


@dataclass(frozen=True)
class Switch:
    """What a change of the programme asks of the session: tell ``message`` (plain words, for the banner);
    start a song (``start``, None: the song playing plays on) chosen for ``cause`` (``Decision.cause``: the
    library lost, back or changed), its reason opening with ``cause`` and then ``detail`` when there is one."""

    message: str
    cause: str
    start: Start | None
    detail: str = ""


class Programme:
    """What plays (see the module docstring). ``pipeline`` is the session's (its matcher plays the user's
    ``library``); ``fallback`` makes the library that plays while the user's is lost (called once, when
    first needed); ``check_every_s`` is how often a lost library is looked for (``LibraryGuard``)."""

    def __init__(
        self,
        pipeline: Pipeline,
        library: MusicLibrary,
        fallback: Callable[[], MusicLibrary] = builtin_library,
        check_every_s: float = 10.0,
    ) -> None:
        self._pipeline = pipeline
        self.library = library
        self.guard = LibraryGuard(library, check_every_s=check_every_s)
        self._make_fallback = fallback
        self._fallback: MusicLibrary | None = None
        self._parked: Matcher | None = None  # the user library's matcher while the fallback plays
        self._unplayable: set[str] = set()  # banned this session only: they failed to play

    # -- what plays now -----------------------------------------------------------------------------------
    @property
    def matcher(self) -> Matcher:
        """The matcher choosing the songs now (the pipeline's)."""
        return self._pipeline.matcher

    @property
    def library_matcher(self) -> Matcher:
        """The user library's matcher: the one playing, or the one parked while the fallback plays."""
        return self._parked if self.lost and self._parked is not None else self.matcher

    @property
    def lost(self) -> bool:
        """Whether the user's library is lost (the fallback plays)."""
        return self.guard.lost

    @property
    def fallback(self) -> MusicLibrary:
        """The library that plays while the user's is lost (made on first use)."""
        if self._fallback is None:
            self._fallback = self._make_fallback()
        return self._fallback

    @property
    def playing(self) -> MusicLibrary:
        """The library songs are chosen from now."""
        return self.fallback if self.lost else self.library

    @property
    def given_up(self) -> bool:
        """The fallback fails as well: nothing is left to try until the next command."""
        return self.guard.given_up

    @property
    def follows_index(self) -> bool:
        """Whether the user's library is the library index's (or the built-in station that plays while the
        index has no playable song): the library tools' changes are then for it; not for a DEAM folder."""
        return self.library.index_path is not None or self.library.origin == BUILTIN_ORIGIN

    def owns(self, song: Song) -> bool:
        """Whether ``song`` is one of the user's library (not the fallback's)."""
        return self.guard.owns(song)

    # -- the engine's notices -----------------------------------------------------------------------------
    def song_started(self, song: Song, now: float) -> None:
        """The engine started ``song`` at ``now``: its dwell counts from then; the run of failures is over."""
        self.guard.song_started()
        self.matcher.started(song.song_id, now)

    def song_failed(self, song: Song, now: float) -> Switch | None:
        """``song`` could not be played: it is never chosen again in this session. When that makes the user's
        library count as lost, the fallback plays from now (the library's matcher parked): the switch."""
        matcher = self.matcher
        if matcher.has_song(song.song_id):
            matcher.ban(song.song_id)
            self._unplayable.add(song.song_id)
        loss = self.guard.song_failed(song, now)
        if loss is None:
            return None
        fallback = self.fallback
        self._parked = matcher
        self._install(matcher.sibling(fallback.songs, fallback.stations))
        return Switch(loss.words(fallback.origin), "the library is lost", "now", detail=f"the {fallback.origin}")

    # -- switches ------------------------------------------------------------------------------------------
    def look_for_library(self, now: float) -> Switch | None:
        """While the user's library is lost: once its files are back (looked at every ``check_every_s``), its
        parked matcher plays again, with the settings of now, the songs whose files came back allowed again."""
        if not self.guard.lost or not self.guard.check_back(now):
            return None
        parked, self._parked = self._parked, None
        assert parked is not None, "the library's matcher is parked while the fallback plays"
        for song_id in self.guard.files_back():
            parked.unban(song_id)
            self._unplayable.discard(song_id)
        parked.adopt_settings(self.matcher.settings())
        self._install(parked)
        back = f"The music library is back: playing from the {self.library.origin} again."
        return Switch(back, "the library is back", "now")

    def reload(self, library: MusicLibrary) -> Switch | None:
        """``library``, a new version of the user's library, plays from now on (``PlaybackSession.reload_library``
        says how); while the library is lost it waits, parked, for its files. None when nothing that matters
        for the music changed (then nothing is replaced)."""
        old = self.library_matcher
        banned_before = frozenset(
            s.song_id for s in self.library.songs if old.has_song(s.song_id) and old.is_banned(s.song_id)
        )
        banned_before -= self._unplayable
        message = describe_change(self.library, library, banned_before, library.banned)
        if message is None:
            return None
        matcher = old.successor(library.songs, library.stations)
        for song_id in library.banned | self._unplayable:
            if matcher.has_song(song_id):
                matcher.ban(song_id)
        self.library = library
        self.guard.replace_library(library)
        if self.lost:
            self._parked = matcher
            return Switch(message, "the library changed", None)
        self._pipeline.matcher = matcher
        left = old.current is not None and matcher.current is None  # it plays to its end, then the library
        return Switch(message, "the library changed", "after_current" if left else None)

    def _install(self, matcher: Matcher) -> None:
        """``matcher`` chooses the songs from now, afresh (its current song forgotten)."""
        matcher.release_current()
        self._pipeline.matcher = matcher
