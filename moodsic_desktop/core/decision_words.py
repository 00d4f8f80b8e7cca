"""What the music does, and why a song plays, in the owner's words, from the matcher's decisions.

A ``Decision``'s ``reason`` is written for engineers ("dwell: 4 s of 30 s played", "mood moved: 0.23
closer than the last song (hysteresis 0.15)"); the window and ``moodsic analyze`` say it in plain words.
Each kind of reason is named by how its text begins (the words before its first colon) and has one entry
in ``REASON_WORDS``: what the mood line says the music is doing while that reason holds, and what the
now-playing "Why" says when a song was chosen for it. A new kind of reason is one new entry; a reason
without an entry reads as the music mode's words. The engineering text stays in Diagnostics and tooltips.

Pure functions of plain values (no Qt); times in seconds. Any thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MUSIC_WORDS = {
    "match": "the music is matching the mood",
    "uplift": "the music is lifting it",
    "calm": "the music is calming it",
}
ESTIMATED_MARK = "its mood was estimated from the audio"  # the matcher's note on a song without a rated mood


@dataclass(frozen=True)
class ReasonWords:
    """The words of one kind of reason. ``doing``: the mood line's "what the music does" (``{mode}``: the
    music mode's words; ``{dwell_left}``: the seconds the song is held for yet, as "21 s"); ``why``: why a
    song chosen for this reason plays (``{station}``: " among <station>" or nothing)."""

    doing: str
    why: str


QUEUED = "next song lined up"  # not the matcher's: the window's, while the song playing ends and the next waits

REASON_WORDS: dict[str, ReasonWords] = {
    QUEUED: ReasonWords("this song plays to its end, the next one is lined up", "it comes when this one ends"),
    "first pick": ReasonWords("{mode}", "the closest song to the room's mood{station}"),
    "dwell": ReasonWords("holding this song for {dwell_left} more", "it has not played its least time yet"),
    "mood moved": ReasonWords("{mode}", "the room's mood changed, and this song fits it better{station}"),
    "still the best fit": ReasonWords("{mode}", "it still fits the room's mood best"),
    "song ended": ReasonWords("{mode}", "the last song ended; this one fits the mood best{station}"),
    "skipped by the user": ReasonWords("{mode}", "you skipped the last song; this one fits the mood best"),
    "the library changed": ReasonWords("{mode}", "your music library changed; this song fits the mood best"),
    "the library is lost": ReasonWords(
        "the built-in music plays until your library is back",
        "your music library cannot be found; the built-in music plays meanwhile",
    ),
    "the library is back": ReasonWords("{mode}", "your music library is back; this song fits the mood best"),
    # chosen without a picture (session.playback: mood_without_picture) and at the day plan's opening time
    "no picture: for the last mood read": ReasonWords(
        "the music plays on without a picture", "there is no picture now; it fits the last mood read{station}"
    ),
    "no picture: for the day plan's mood": ReasonWords(
        "the music plays on without a picture", "there is no picture now; it fits the day plan's mood{station}"
    ),
    "no picture: for a calm mood": ReasonWords(
        "the music plays on without a picture", "there is no picture now; it fits a calm, relaxed mood{station}"
    ),
    "opening time": ReasonWords("{mode}", "the café opened; it fits the day plan's mood{station}"),
}
# Notes a reason may carry after its kind, said after the kind's words: the matcher's variety (rule 3) and the
# day plan bending the target ("; the day plan keeps it calm (Morning)", said as it is).
VARIETY_WORDS = {
    "for variety": "a little past the mood, for variety: the songs closest to it played lately",
    "the one played longest ago": "every song close to the mood played lately; this one longest ago",
}
DAY_PLAN_MARK = "; the day plan "


def music_words(mode: str) -> str:
    """What the music does about the mood in a music mode ("match", "uplift", "calm")."""
    return MUSIC_WORDS.get(mode, f"the music is in mode {mode!r}")


def reason_kind(reason: str) -> str | None:
    """The ``REASON_WORDS`` key ``reason`` begins with (the longest, when several do); None for none."""
    known = [kind for kind in REASON_WORDS if reason.startswith(kind)]
    return max(known, key=len) if known else None


def doing_words(reason: str | None, mode: str, dwell_left_s: float | None = None) -> str:
    """What the music is doing, for the last decision's ``reason`` (None: no decision yet), the music
    ``mode`` and the seconds the song is held for yet (``dwell_left_s``; None when unknown)."""
    kind = reason_kind(reason) if reason else None
    if kind is None:
        return music_words(mode)
    words = REASON_WORDS[kind].doing
    if "{dwell_left}" in words:
        if dwell_left_s is None or not math.isfinite(dwell_left_s) or dwell_left_s < 0.5:
            return music_words(mode)  # held no more: free to follow the mood
        return words.format(mode=music_words(mode), dwell_left=f"{dwell_left_s:.0f} s")
    return words.format(mode=music_words(mode))


def why_words(reason: str, station: str | None = None) -> str:
    """Why a song plays, in plain words, for the ``reason`` it was chosen for (``station``: its station's
    name, or None). A reason of no known kind is shown as it is."""
    kind = reason_kind(reason)
    if kind is None:
        return reason[:1].upper() + reason[1:]
    words = REASON_WORDS[kind].why.format(station=f" among {station}" if station else "")
    if ESTIMATED_MARK in reason:
        words += "; its mood was guessed from its sound"
    words += "".join(f"; {said}" for mark, said in VARIETY_WORDS.items() if mark in reason)
    if DAY_PLAN_MARK in reason:
        words += DAY_PLAN_MARK + reason.split(DAY_PLAN_MARK, 1)[1]
    return words[:1].upper() + words[1:]
