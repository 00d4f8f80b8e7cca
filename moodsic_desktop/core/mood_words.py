"""The mood in plain words for the café owner: how the room feels, how sure the program is, whom it reads,
and what the music does about it (``core.decision_words``).

Pure functions of plain numbers (no Qt, no numpy), so the window and the tests share one wording. Valence
and arousal are in reference units [-1, 1] (the stabilised output); standard deviations are in the same
units and compared with tau, the stabiliser's "hold while the standard deviation exceeds it". Any thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from moodsic_desktop.core.decision_words import doing_words

NEUTRAL_RADIUS = 0.15  # closer than this to the centre of the mood plane reads as neutral
STRONG_RADIUS = 0.45  # this far from the centre or more reads as a strong mood
AXIS_SHARE = 0.35  # a point whose smaller coordinate is under this share of its larger lies on an axis

# (valence sign, arousal sign) -> (mild words, strong words)
QUADRANT_WORDS = {
    (1, 1): ("Warm and upbeat", "Cheerful and lively"),
    (1, -1): ("Relaxed", "Calm and content"),
    (-1, 1): ("Restless", "Tense"),
    (-1, -1): ("Subdued", "Low and quiet"),
}
# the axis a point lies on -> (mild words, strong words)
AXIS_WORDS = {
    "pleasant": ("Pleasant", "Happy"),
    "unpleasant": ("A little uneasy", "Unhappy"),
    "busy": ("Busy", "Busy and animated"),
    "still": ("Quiet", "Quiet and still"),
}
NO_ONE_WORDS = "no one in view — reading the room's light and colour"
WAITING_WORDS = "Waiting for a picture"


def feeling_words(valence: float, arousal: float) -> str:
    """How the room feels, from where (valence, arousal) lies on the mood plane: its quadrant (or axis)
    and its distance from the centre. Not finite: "Not read yet"."""
    if not (math.isfinite(valence) and math.isfinite(arousal)):
        return "Not read yet"
    radius = math.hypot(valence, arousal)
    if radius < NEUTRAL_RADIUS:
        return "Neutral and steady"
    strength = 1 if radius >= STRONG_RADIUS else 0
    small, large = sorted((abs(valence), abs(arousal)))
    if small < AXIS_SHARE * large:  # close to one axis: name that axis alone
        if abs(valence) >= abs(arousal):
            axis = "pleasant" if valence > 0 else "unpleasant"
        else:
            axis = "busy" if arousal > 0 else "still"
        return AXIS_WORDS[axis][strength]
    quadrant = (1 if valence >= 0 else -1, 1 if arousal >= 0 else -1)
    return QUADRANT_WORDS[quadrant][strength]


def certainty_words(std_valence: float, std_arousal: float, tau: float) -> str:
    """How sure the reading is: its larger standard deviation against tau (the same units). Within half of
    tau: "sure"; within tau: "fairly sure"; beyond tau (or not finite) the stabiliser holds the music."""
    std = max(std_valence, std_arousal)
    if not math.isfinite(std) or std > tau:
        return "unsure — holding the music"
    return "sure" if std <= 0.5 * tau else "fairly sure"


def people_words(faces_read: int) -> str:
    """Whom the reading comes from: the number of faces read, or the room itself when there is none."""
    if faces_read <= 0:
        return NO_ONE_WORDS
    return "reading 1 person" if faces_read == 1 else f"reading {faces_read} people"


@dataclass(frozen=True)
class MoodLine:
    """The words the window shows: ``headline`` (how the room feels) over ``detail`` (how sure, whom it
    reads, what the music does)."""

    headline: str
    detail: str


def mood_line(
    stabilized: tuple[float, float] | None,
    fused_std: tuple[float, float] | None,
    tau: float,
    faces_read: int,
    mode: str,
    room_words: str = "",
    cause: str | None = None,
    dwell_left_s: float | None = None,
) -> MoodLine:
    """The mood line for one moment. ``stabilized``: the stabilised (valence, arousal), None before the
    first reading; ``fused_std``: the fused reading's standard deviations (valence, arousal), None when
    nothing was read this step; ``tau`` the certainty needed; ``faces_read`` the faces in the reading;
    ``room_words`` how lively the room is (:func:`room_energy_words`; empty: not said); ``cause`` the last
    decision's kind of reason (``Decision.cause``) and ``dwell_left_s`` the seconds its song is held for yet
    (what the music does: ``core.decision_words``; None: the music mode's words)."""
    if stabilized is None:
        return MoodLine(WAITING_WORDS, "Start a camera or a video to read the room.")
    headline = feeling_words(*stabilized)
    sure = certainty_words(*fused_std, tau) if fused_std is not None else "unsure — holding the music"
    parts = (sure[0].upper() + sure[1:], people_words(faces_read), room_words, doing_words(cause, mode, dwell_left_s))
    detail = " · ".join(part for part in parts if part)
    return MoodLine(headline, detail)


LIVELY = 0.25  # the room's energy (arousal in [-1, 1]) above this reads "a lively room"
QUIET = -0.25  # below this "a quiet room"; between the two "a calm room"


def room_energy_words(arousal: float) -> str:
    """How lively the room is, from the room's energy (``perception/room_energy.py``: people in view and how
    much they move) as arousal in [-1, 1]. Not finite: an empty string (nothing to say)."""
    if not math.isfinite(arousal):
        return ""
    if arousal > LIVELY:
        return "a lively room"
    return "a quiet room" if arousal < QUIET else "a calm room"
