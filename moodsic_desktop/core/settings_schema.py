"""The owner's tunable numbers, each described once: default, accepted range, unit, the plain words the window
shows and the tooltip that gives the exact meaning.

Everything else derives from here: the defaults and the validation of the saved settings
(``ui.settings.UserSettings``), the engine's defaults (``session.assembly.EngineSettings``, ``core.stabilizer``,
``core.matcher``, ``evaluation.ablations``, ``audio.engine``), the checks of ``moodsic analyze``'s options and
the window's sliders. A test checks that they agree (tests/core/test_settings_schema.py).

``minimum``..``maximum`` is what the settings file and the command line accept. The window's slider moves in
steps of ``slider_step`` and may stop short of ``maximum`` (``slider_maximum``): a slider over the whole
accepted range would be too coarse where the useful values are. The day plan (``DAY_PLAN``) is one structured
setting: its rules and checks are in ``core.day_plan``. Pure Python: no Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from moodsic_desktop.core.day_plan import DayPlan


@dataclass(frozen=True)
class NumberSetting:
    """One tunable number. ``exclusive_minimum``: ``minimum`` itself is refused (α 0 would never move)."""

    name: str  # the field of ui.settings.UserSettings
    default: float
    minimum: float
    maximum: float
    unit: str  # what the number counts, in words
    label: str  # the window's plain words for it
    tooltip: str  # the exact meaning, with the unit
    exclusive_minimum: bool = False
    slider_step: float = 1.0  # the value of one step of the window's slider
    slider_maximum: float | None = None  # where the slider stops, when short of ``maximum``

    def __post_init__(self) -> None:
        if not self.contains(self.default):
            raise ValueError(f"{self.name}: the default {self.default} is outside {self.range_text()}")

    def contains(self, value: float) -> bool:
        """Whether ``value`` is a finite number in the accepted range."""
        if not math.isfinite(value) or value > self.maximum:
            return False
        return value > self.minimum if self.exclusive_minimum else value >= self.minimum

    def range_text(self) -> str:
        """The accepted range in interval notation: ``(0, 1]``, ``[0, 600]``."""
        return f"{'(' if self.exclusive_minimum else '['}{self.minimum:g}, {self.maximum:g}]"

    def slider_range(self) -> tuple[int, int]:
        """The window's slider range in steps: the first step inside the range to the last up to where the
        slider stops."""
        low = math.ceil(round(self.minimum / self.slider_step, 9))
        if self.exclusive_minimum and low * self.slider_step <= self.minimum:
            low += 1
        top = self.maximum if self.slider_maximum is None else self.slider_maximum
        return low, math.floor(round(top / self.slider_step, 9))

    def to_slider(self, value: float) -> int:
        """The slider position nearest to ``value``."""
        return round(value / self.slider_step)

    def from_slider(self, position: int) -> float:
        """The value at slider ``position``."""
        return position * self.slider_step


ALPHA = NumberSetting(
    name="alpha",
    default=0.3,
    minimum=0.0,
    exclusive_minimum=True,
    maximum=1.0,
    unit="weight of a reading one second after the last (per second)",
    label="How fast the music reacts",
    tooltip="α, the weight a new reading gets one second after the last one (per second, "
    "0.01 to 1). The music follows a change of mood with a time constant of −1 / ln(1 − α) seconds: "
    "α 0.30 settles in about 2.8 s. Right: reacts faster; left: steadier.",
    slider_step=0.01,
)
TAU = NumberSetting(
    name="tau",
    default=0.4,
    minimum=0.0,
    maximum=2.0,
    unit="standard deviation in reference units (valence and arousal run from −1 to +1)",
    label="Only react when sure",
    tooltip="τ, in reference units (valence and arousal run from −1 to +1): while the reading's "
    "standard deviation is larger than τ the mood is held and the music stays. Left: react only when "
    "very sure; right: react to rougher readings too.",
    slider_step=0.01,
    slider_maximum=1.0,
)
DWELL = NumberSetting(
    name="dwell_s",
    default=25.0,
    minimum=0.0,
    maximum=600.0,
    unit="seconds",
    label="Shortest time per song",
    tooltip="The least time, in seconds, a song plays before the mood may change it (skipping is always allowed).",
    slider_maximum=180.0,
)
CROSSFADE = NumberSetting(
    name="crossfade_s",
    default=6.0,
    minimum=0.0,
    maximum=20.0,
    unit="seconds",
    label="Crossfade",
    tooltip="Seconds over which one song fades out while the next fades in (0: cut).",
)
REPEAT_WINDOW = NumberSetting(
    name="repeat_window_min",
    default=45.0,
    minimum=0.0,
    maximum=240.0,
    unit="minutes",
    label="Time before a song comes back",
    tooltip="A song does not play again within this many minutes while another song near the mood has not "
    "played in them (0: only the last few songs are kept back). A small library gets a shorter time by "
    "itself: its number of songs times their usual length.",
    slider_maximum=120.0,
)
VOLUME = NumberSetting(
    name="volume",
    default=0.8,
    minimum=0.0,
    maximum=1.0,
    unit="share of full scale (the window shows per cent)",
    label="Volume",
    tooltip="The music's volume, 0 to 100 % of full scale.",
    slider_step=0.01,
)

# In the window's order.
NUMBER_SETTINGS: tuple[NumberSetting, ...] = (ALPHA, TAU, DWELL, CROSSFADE, VOLUME, REPEAT_WINDOW)


@dataclass(frozen=True)
class DayPlanSetting:
    """The day plan (``core.day_plan.DayPlan``), saved in the settings file as its JSON object. ``target``
    names who applies it: the session (``session.playback.PlaybackSession.set_day_plan``)."""

    name: str
    label: str
    tooltip: str
    target: str = "session"

    @property
    def default(self) -> dict[str, Any]:
        """The default plan's JSON: open all day, no parts of the day (the music as without a plan)."""
        return DayPlan().to_json()

    def parse(self, value: object) -> DayPlan:
        """The plan saved as ``value``; ``ValueError`` in plain words when it cannot be used."""
        return DayPlan.from_json(value)

    def problem(self, value: object) -> str | None:
        """Why ``value`` cannot be used as a saved plan, or None when it can."""
        try:
            self.parse(value)
        except (ValueError, TypeError, RecursionError) as error:
            return str(error) or type(error).__name__
        return None


DAY_PLAN = DayPlanSetting(
    name="day_plan",
    label="Day plan",
    tooltip="Opening hours (no music outside them) and parts of the day, each with its own volume and mood.",
)
