"""What changed between two versions of the music library, in plain words for the window's banner.

The window's library tools (*Add music folder…*, *Music library…*) write to the library index while the
program runs; ``PlaybackSession.reload_library`` then plays from the index as it is now, and tells the owner
what that changed with :func:`describe_change`. Pure functions: any thread.
"""

from __future__ import annotations

from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.session.assembly import BUILTIN_ORIGIN


def _songs(count: int) -> str:
    return f"{count} song" if count == 1 else f"{count} songs"


def describe_change(
    old: MusicLibrary, new: MusicLibrary, banned_before: frozenset[str], banned_after: frozenset[str]
) -> str | None:
    """One sentence saying how ``new`` differs from ``old`` (songs added, taken out, put elsewhere on the
    mood plane, set to never play or allowed again; ``banned_before`` / ``banned_after`` the songs that
    never play, by id), or None when nothing that matters for the music changed."""
    old_songs = {song.song_id: song for song in old.songs}
    new_songs = {song.song_id: song for song in new.songs}
    if old.origin == BUILTIN_ORIGIN and new.origin != BUILTIN_ORIGIN:
        return (
            f"Your own music plays now: {_songs(len(new_songs))} from the music library, from the end of the "
            "piece playing now."
        )
    if new.origin == BUILTIN_ORIGIN and old.origin != BUILTIN_ORIGIN:
        return "The music library has no song left that can play: the built-in station plays instead."
    added = new_songs.keys() - old_songs.keys()
    taken_out = old_songs.keys() - new_songs.keys()
    moved = [
        song_id
        for song_id in new_songs.keys() & old_songs.keys()
        if (new_songs[song_id].valence, new_songs[song_id].arousal)
        != (old_songs[song_id].valence, old_songs[song_id].arousal)
    ]
    never = (banned_after - banned_before) & new_songs.keys()
    again = (banned_before - banned_after) & new_songs.keys()
    parts = [
        f"{_songs(len(added))} added" if added else "",
        f"{_songs(len(taken_out))} taken out" if taken_out else "",
        f"{_songs(len(moved))} put elsewhere on the mood plane" if moved else "",
        f"{_songs(len(never))} set to never play" if never else "",
        f"{_songs(len(again))} allowed to play again" if again else "",
    ]
    parts = [part for part in parts if part]
    if not parts:
        return None
    if parts == [parts[0]] and added:
        now = "it can play now" if len(added) == 1 else "they can play now"
    else:
        now = "this counts from now on"
    return f"The music library changed: {', '.join(parts)}; {now}."
