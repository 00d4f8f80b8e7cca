"""The day plan: opening hours and the parts of the day, each with a volume and a mood lean (Soundtrack Your
Brand's schedules, Rockbot's dayparting), as pure rules of a local wall-clock time.

Times are minutes since local midnight, 0 ≤ m < 1440 (``minute_of_day`` turns a ``datetime.time`` or
``datetime.datetime`` into one, seconds as a fraction). The caller passes the clock in: nothing here reads
the time itself. A ``Span`` runs from ``start`` (included) to ``end`` (excluded), whole minutes; ``end`` ≤
``start`` wraps past midnight (22:00–02:00). ``end`` 1440 is written "24:00".

Rules, with (v, a) the room's stabilised reading in reference V-A space [-1, 1]:

1. **Opening hours.** Outside ``opening_hours`` the music is silent. ``None``: open all day.
2. **Parts of the day** (``TimeBlock``; they never overlap). Inside a block its ``mood`` (a ``MoodLean``)
   turns the reading into the target the matcher aims for, per dimension::

       v_target = clip(v + valence_shift, valence_low, valence_high)
       a_target = clip(a + arousal_shift, arousal_low, arousal_high)

   so the room's reading still moves the music, but only inside the block's range ("mornings: calm" keeps
   arousal at or under 0). Outside every block, or with the lean "follow the room", the target is the
   reading itself (the same numbers, untouched). The owner's music mode (match, uplift, calm) applies
   after this, in ``core.matcher``.
3. **Volume.** A block's ``volume`` (0..1, linear amplitude: the window shows per cent, like the Volume
   slider) is set when the block begins; ``None`` leaves the owner's volume. Outside blocks the owner's
   volume applies.
4. **Mood when nothing can be read** (no picture): ``mood_when_unread`` gives the middle of the block's
   range, shifted and clipped like a reading: ``clip((low + high) / 2 + shift, low, high)`` per dimension;
   (0, 0) moved by the shifts outside blocks and with "follow the room" (so (0, 0)).

The default plan (``DayPlan()``): open all day, no blocks: the music behaves as without a plan.

Saved as JSON (``to_json``/``from_json``) in the settings file: times as "HH:MM", moods by their name
(``MOOD_LEANS``) or as an object ``{"valence": [low, high], "arousal": [low, high], "shift": [dv, da]}``.
``from_json`` refuses anything else with a ``ValueError`` that says what and where, in plain words.

Frozen values; any thread.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MINUTES_PER_DAY = 24 * 60
MAX_BLOCKS = 24
MAX_NAME_LENGTH = 40


def minute_of_day(clock: datetime.time | datetime.datetime) -> float:
    """Minutes since local midnight of a wall-clock time, with seconds as a fraction: 07:30:30 → 450.5."""
    return clock.hour * 60 + clock.minute + (clock.second + clock.microsecond / 1e6) / 60.0


def parse_hhmm(text: object, *, what: str = "time") -> int:
    """Minutes since midnight of "HH:MM" (00:00 to 24:00); ``ValueError`` saying ``what`` was wrong."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be a time written as HH:MM, got {text!r}")
    hours, colon, minutes = text.strip().partition(":")
    if not (colon and hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and 1 <= len(hours) <= 2):
        raise ValueError(f"{what} must be a time written as HH:MM, got {text!r}")
    total = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or total > MINUTES_PER_DAY:
        raise ValueError(f"{what} {text!r} is not a time of day (00:00 to 24:00)")
    return total


def format_hhmm(minute: int) -> str:
    """Minutes since midnight written HH:MM (1440 is 24:00)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True)
class Span:
    """From ``start`` (included) to ``end`` (excluded), whole minutes since midnight; ``end`` ≤ ``start``
    wraps past midnight. A span is never empty: ``start`` == ``end`` is refused, "24:00"–"00:00" too."""

    start: int
    end: int

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MINUTES_PER_DAY:
                raise ValueError(f"{name} must be a whole number of minutes from 0 to 1440, got {value!r}")
        if self.start % MINUTES_PER_DAY == self.end % MINUTES_PER_DAY:
            raise ValueError(f"{self.text()} is empty: it must end at another time than it starts")

    def contains(self, minute: float) -> bool:
        """Whether ``minute`` (0 ≤ minute < 1440) falls inside."""
        start, end = self.start % MINUTES_PER_DAY, self.end
        if start < end:
            return start <= minute < end
        return minute >= start or minute < end

    def minutes(self) -> range:
        """The whole minutes inside, from ``start`` on; past midnight they run over 1440 (take them modulo
        ``MINUTES_PER_DAY``)."""
        start = self.start % MINUTES_PER_DAY
        return range(start, start + self.length)

    @property
    def length(self) -> int:
        """Minutes inside (1..1439)."""
        return (self.end - self.start) % MINUTES_PER_DAY or MINUTES_PER_DAY

    def text(self) -> str:
        """The span written as 07:00–11:00."""
        return f"{format_hhmm(self.start)}–{format_hhmm(self.end)}"


def _check_range(name: str, bounds: tuple[float, float]) -> None:
    low, high = bounds
    if not (_finite(low) and _finite(high) and -1.0 <= low <= high <= 1.0):
        raise ValueError(f"the {name} range must be two numbers with −1 ≤ low ≤ high ≤ 1, got {list(bounds)}")


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


@dataclass(frozen=True)
class MoodLean:
    """How a part of the day bends the target: per dimension a range ``(low, high)`` in reference units
    and a ``shift`` added before clipping into it (module docstring, rule 2). ``name`` is the word the
    owner picks ("calm"); ``words`` finish "the day plan …" in the window's and the "why" texts."""

    name: str
    words: str
    valence: tuple[float, float] = (-1.0, 1.0)
    arousal: tuple[float, float] = (-1.0, 1.0)
    valence_shift: float = 0.0
    arousal_shift: float = 0.0

    def __post_init__(self) -> None:
        _check_range("valence", self.valence)
        _check_range("arousal", self.arousal)
        for name, shift in (("valence", self.valence_shift), ("arousal", self.arousal_shift)):
            if not (_finite(shift) and -2.0 <= shift <= 2.0):
                raise ValueError(f"the {name} shift must be a number from −2 to 2, got {shift!r}")

    @property
    def follows_the_room(self) -> bool:
        """True when it changes nothing: full ranges and no shift."""
        full = (-1.0, 1.0)
        no_shift = self.valence_shift == 0.0 and self.arousal_shift == 0.0
        return self.valence == full and self.arousal == full and no_shift

    def aim(self, valence: float, arousal: float) -> tuple[float, float]:
        """The target for the reading (``valence``, ``arousal``), reference units (rule 2)."""
        if self.follows_the_room:
            return valence, arousal
        return (
            _clip(valence + self.valence_shift, *self.valence),
            _clip(arousal + self.arousal_shift, *self.arousal),
        )

    def middle(self) -> tuple[float, float]:
        """The mood when nothing can be read (rule 4), reference units."""
        return (
            _clip(sum(self.valence) / 2 + self.valence_shift, *self.valence),
            _clip(sum(self.arousal) / 2 + self.arousal_shift, *self.arousal),
        )

    def to_json(self) -> str | dict[str, Any]:
        """Its name when it is one of ``MOOD_LEANS``, else its numbers."""
        if MOOD_LEANS.get(self.name) == self:
            return self.name
        return {
            "valence": list(self.valence),
            "arousal": list(self.arousal),
            "shift": [self.valence_shift, self.arousal_shift],
        }


FOLLOW_THE_ROOM = MoodLean("room", "follows the room")
# The owner's words for a part of the day, in the window's order. Arousal ranges keep a calm block on the
# quiet half of the mood plane and a lively one on the busy half; the shifts lean the reading that way too.
MOOD_LEANS: dict[str, MoodLean] = {
    lean.name: lean
    for lean in (
        FOLLOW_THE_ROOM,
        MoodLean("calm", "keeps it calm", arousal=(-1.0, 0.0), arousal_shift=-0.2),
        MoodLean("cosy", "keeps it warm and calm", valence=(0.0, 1.0), arousal=(-1.0, 0.0), arousal_shift=-0.1),
        MoodLean("bright", "keeps it bright", valence=(0.1, 1.0), valence_shift=0.2),
        MoodLean("lively", "keeps it lively", arousal=(0.1, 1.0), arousal_shift=0.2),
        MoodLean("upbeat", "keeps it bright and lively", valence=(0.1, 1.0), arousal=(0.1, 1.0), valence_shift=0.1),
    )
}
CUSTOM_WORDS = "keeps the music in its own range"


def _lean_from_json(value: object, where: str) -> MoodLean:
    if isinstance(value, str):
        if value not in MOOD_LEANS:
            raise ValueError(f"{where}: the mood {value!r} is not one of {', '.join(MOOD_LEANS)}")
        return MOOD_LEANS[value]
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: the mood must be one of {', '.join(MOOD_LEANS)} or a range, got {value!r}")
    unknown = set(value) - {"valence", "arousal", "shift"}
    if unknown:
        raise ValueError(f"{where}: the mood has unknown fields {sorted(unknown)}")

    def pair(key: str, default: tuple[float, float]) -> tuple[float, float]:
        raw = value.get(key, list(default))
        if not (isinstance(raw, Sequence) and not isinstance(raw, str) and len(raw) == 2):
            raise ValueError(f"{where}: the mood's {key} must be two numbers, got {raw!r}")
        if not all(_finite(x) for x in raw):
            raise ValueError(f"{where}: the mood's {key} must be two finite numbers, got {raw!r}")
        return float(raw[0]), float(raw[1])

    shift = pair("shift", (0.0, 0.0))
    try:
        lean = MoodLean("custom", CUSTOM_WORDS, pair("valence", (-1.0, 1.0)), pair("arousal", (-1.0, 1.0)), *shift)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    named = [known for known in MOOD_LEANS.values() if _same_numbers(known, lean)]
    return named[0] if named else lean


def _same_numbers(a: MoodLean, b: MoodLean) -> bool:
    return (a.valence, a.arousal, a.valence_shift, a.arousal_shift) == (
        b.valence,
        b.arousal,
        b.valence_shift,
        b.arousal_shift,
    )


@dataclass(frozen=True)
class TimeBlock:
    """A part of the day: its ``name`` (plain words, 1 to 40 characters), when (``span``), its ``volume``
    (0..1 linear amplitude, or ``None`` to leave the owner's) and its ``mood``."""

    name: str
    span: Span
    volume: float | None = None
    mood: MoodLean = FOLLOW_THE_ROOM

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip() or len(self.name) > MAX_NAME_LENGTH:
            raise ValueError(f"a part of the day needs a name of 1 to {MAX_NAME_LENGTH} characters, got {self.name!r}")
        if self.volume is not None and not (_finite(self.volume) and 0.0 <= self.volume <= 1.0):
            raise ValueError(f"“{self.name}”: the volume must be from 0 to 100 %, got {self.volume!r}")

    def describe(self) -> str:
        """One line in plain words: "Morning, 07:00–11:00: calm, volume 40 %"."""
        volume = "your volume" if self.volume is None else f"volume {round(self.volume * 100)} %"
        mood = "follow the room" if self.mood.follows_the_room else self.mood.name
        return f"{self.name}, {self.span.text()}: {mood}, {volume}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "start": format_hhmm(self.span.start),
            "end": format_hhmm(self.span.end),
            "volume": self.volume,
            "mood": self.mood.to_json(),
        }


@dataclass(frozen=True)
class PlanState:
    """What the plan says at one minute: ``open`` or not, the ``block`` in force (None outside blocks),
    and, while closed, ``opens_at`` (minutes since midnight of the next opening)."""

    open: bool
    block: TimeBlock | None
    opens_at: int | None = None

    @property
    def volume(self) -> float | None:
        """The block's volume (0..1), or None: the owner's."""
        return self.block.volume if self.block is not None else None

    @property
    def leans(self) -> bool:
        """Whether the block bends the target (its mood is not "follow the room")."""
        return self.block is not None and not self.block.mood.follows_the_room

    def words(self) -> str:
        """The plan now, for the window: "Closed until 08:00", "Morning: the day plan keeps it calm, 40 %",
        "" when the plan says nothing (open, no block)."""
        if not self.open:
            until = f" until {format_hhmm(self.opens_at)}" if self.opens_at is not None else ""
            return f"Closed{until}: the music is off"
        if self.block is None:
            return ""
        volume = "" if self.block.volume is None else f", volume {round(self.block.volume * 100)} %"
        return f"{self.block.name}: the day plan {self.block.mood.words}{volume}"


@dataclass(frozen=True)
class DayPlan:
    """Opening hours (``None``: open all day) and the parts of the day (module docstring). Blocks are kept
    in order of their start; two that share a minute are refused, naming both."""

    opening_hours: Span | None = None
    blocks: tuple[TimeBlock, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.blocks) > MAX_BLOCKS:
            raise ValueError(f"a day plan has at most {MAX_BLOCKS} parts of the day, got {len(self.blocks)}")
        ordered = tuple(sorted(self.blocks, key=lambda b: b.span.start % MINUTES_PER_DAY))
        object.__setattr__(self, "blocks", ordered)
        taken: dict[int, TimeBlock] = {}
        for block in ordered:
            for minute in block.span.minutes():
                other = taken.setdefault(minute % MINUTES_PER_DAY, block)
                if other is not block:
                    raise ValueError(
                        f"“{other.name}” ({other.span.text()}) and “{block.name}” ({block.span.text()}) overlap"
                    )

    @property
    def is_default(self) -> bool:
        """Open all day with no parts: the music behaves as without a plan."""
        return self.opening_hours is None and not self.blocks

    def is_open(self, minute: float) -> bool:
        """Whether the music plays at ``minute`` (rule 1)."""
        return self.opening_hours is None or self.opening_hours.contains(minute)

    def block_at(self, minute: float) -> TimeBlock | None:
        """The part of the day at ``minute``, or None."""
        for block in self.blocks:
            if block.span.contains(minute):
                return block
        return None

    def state_at(self, minute: float) -> PlanState:
        """What the plan says at ``minute`` (0 ≤ minute < 1440)."""
        if not self.is_open(minute):
            opens = self.opening_hours.start % MINUTES_PER_DAY if self.opening_hours is not None else None
            return PlanState(open=False, block=None, opens_at=opens)
        return PlanState(open=True, block=self.block_at(minute))

    def target(self, valence: float, arousal: float, minute: float) -> tuple[float, float]:
        """The target the matcher aims for at ``minute`` for the room's reading (rule 2); the reading itself,
        untouched, outside blocks."""
        block = self.block_at(minute)
        return (valence, arousal) if block is None else block.mood.aim(valence, arousal)

    def mood_when_unread(self, minute: float) -> tuple[float, float]:
        """The mood to play for at ``minute`` when nothing can be read (rule 4), reference units."""
        block = self.block_at(minute)
        return (0.0, 0.0) if block is None else block.mood.middle()

    def describe(self) -> list[str]:
        """The plan in plain lines (for ``moodsic dayplan show``)."""
        hours = "open all day" if self.opening_hours is None else f"open {self.opening_hours.text()}"
        lines = [f"Opening hours: {hours}"]
        if not self.blocks:
            lines.append("Parts of the day: none (the music follows the room all day, at your volume)")
        lines += [f"  {block.describe()}" for block in self.blocks]
        return lines

    def to_json(self) -> dict[str, Any]:
        """The plan as the settings file holds it."""
        hours = self.opening_hours
        return {
            "opening_hours": None
            if hours is None
            else {"opens": format_hhmm(hours.start), "closes": format_hhmm(hours.end)},
            "blocks": [block.to_json() for block in self.blocks],
        }

    @classmethod
    def from_json(cls, data: object) -> DayPlan:
        """The plan ``to_json`` wrote; ``ValueError`` in plain words for anything else (unknown fields too)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"the day plan must be an object, got {type(data).__name__}")
        unknown = set(data) - {"opening_hours", "blocks"}
        if unknown:
            raise ValueError(f"the day plan has unknown fields {sorted(unknown)}")
        hours = data.get("opening_hours")
        span = None
        if hours is not None:
            if not isinstance(hours, Mapping) or set(hours) != {"opens", "closes"}:
                raise ValueError(
                    f"opening hours must be {{'opens': 'HH:MM', 'closes': 'HH:MM'}} or null, got {hours!r}"
                )
            opens = parse_hhmm(hours["opens"], what="the opening time")
            closes = parse_hhmm(hours["closes"], what="the closing time")
            try:
                span = Span(opens, closes)
            except ValueError:
                raise ValueError(f"opening hours {format_hhmm(opens)}–{format_hhmm(closes)} are empty") from None
        blocks = data.get("blocks", [])
        if not isinstance(blocks, list):
            raise ValueError(f"the parts of the day must be a list, got {type(blocks).__name__}")
        return cls(span, tuple(_block_from_json(raw, n) for n, raw in enumerate(blocks, start=1)))


def _block_from_json(raw: object, number: int) -> TimeBlock:
    where = f"part {number} of the day"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be an object, got {raw!r}")
    unknown = set(raw) - {"name", "start", "end", "volume", "mood"}
    missing = {"name", "start", "end"} - set(raw)
    if unknown or missing:
        problem = f"unknown fields {sorted(unknown)}" if unknown else f"no {', '.join(sorted(missing))}"
        raise ValueError(f"{where} has {problem}")
    name = raw["name"]
    if isinstance(name, str) and name.strip():
        where = f"“{name}”"
    start = parse_hhmm(raw["start"], what=f"{where}: the start")
    end = parse_hhmm(raw["end"], what=f"{where}: the end")
    volume = raw.get("volume")
    if volume is not None and not _finite(volume):
        raise ValueError(f"{where}: the volume must be a number from 0 to 1 or null, got {volume!r}")
    try:
        return TimeBlock(
            name,
            Span(start, end),
            None if volume is None else float(volume),
            _lean_from_json(raw.get("mood", "room"), where),
        )
    except ValueError as error:
        message = str(error)
        raise ValueError(message if message.startswith(where) else f"{where}: {message}") from None
