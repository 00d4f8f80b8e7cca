"""What the music does, and why a song plays, in the owner's words, from the matcher's decisions.

A ``Decision``'s ``reason`` is written for engineers ("dwell: 4 s of 30 s played", "mood moved: 0.23
closer than the last song (hysteresis 0.15)"); the window and ``moodsic analyze`` say it in plain words,
from the decision's facts, never from the reason's text. Each kind of reason (``Decision.cause``) has one
entry in ``REASON_WORDS``: what the mood line says the music is doing while that reason holds, and what the
now-playing "Why" says when a song was chosen for it. A new kind of reason is one new entry; a reason
without an entry reads as the music mode's words. The "Why" then says what the other facts add: a song
whose mood was estimated from its audio (``Song.mood.source``), the variety rule's choice
(``Decision.variety``) and the day plan (``Decision.day_plan``). The engineering text stays in
Diagnostics and tooltips.

Pure functions (no Qt); times in seconds. Any thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from moodsic_desktop.core.matcher import Decision, Variety

MUSIC_WORDS = {
    "match": "the music is matching the mood",
    "uplift": "the music is lifting it",
    "calm": "the music is calming it",
}


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
    "banned by the user": ReasonWords("{mode}", "you said never to play the last song; this one fits the mood best"),
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
# What the variety rule (the matcher's rule 3) adds to the "Why" of a song it chose; the usual nearest song: nothing.
VARIETY_WORDS: dict[Variety, str] = {
    "past_station": "a little past the mood, for variety: the songs closest to it played lately",
    "least_recent": "every song close to the mood played lately; this one longest ago",
}
ESTIMATED_WORDS = "its mood was guessed from its sound"  # a song without a rated mood (Song.mood.source)


def music_words(mode: str) -> str:
    """What the music does about the mood in a music mode ("match", "uplift", "calm")."""
    return MUSIC_WORDS.get(mode, f"the music is in mode {mode!r}")


def doing_words(cause: str | None, mode: str, dwell_left_s: float | None = None) -> str:
    """What the music is doing, for the last decision's ``cause`` (``Decision.cause``; None: no decision
    yet), the music ``mode`` and the seconds the song is held for yet (``dwell_left_s``; None when unknown)."""
    said = REASON_WORDS.get(cause) if cause else None
    if said is None:
        return music_words(mode)
    if "{dwell_left}" in said.doing:
        if dwell_left_s is None or not math.isfinite(dwell_left_s) or dwell_left_s < 0.5:
            return music_words(mode)  # held no more: free to follow the mood
        return said.doing.format(mode=music_words(mode), dwell_left=f"{dwell_left_s:.0f} s")
    return said.doing.format(mode=music_words(mode))


def why_words(decision: Decision) -> str:
    """Why ``decision``'s song plays, in plain words: its cause's words (with its station's name), then
    what its other facts add. A decision of no known cause shows its reason as it is."""
    said = REASON_WORDS.get(decision.cause)
    if said is None:
        return decision.reason[:1].upper() + decision.reason[1:]
    words = said.why.format(station=f" among {decision.station}" if decision.station else "")
    if decision.song.mood.source == "estimated":
        words += f"; {ESTIMATED_WORDS}"
    if decision.variety in VARIETY_WORDS:
        words += f"; {VARIETY_WORDS[decision.variety]}"
    if decision.day_plan:
        words += f"; the day plan {decision.day_plan}"
    return words[:1].upper() + words[1:]
