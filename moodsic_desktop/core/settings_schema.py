"""Every setting of the owner, each declared once: its name, default, what it accepts, who applies it (its
target), the plain words the window shows and the tooltip that gives the exact meaning, and for a number
the mapping to the window's slider.

Everything else derives from here: the saved settings (``ui.settings.UserSettings``: its fields, defaults and
checks), the engine's defaults (``session.assembly.EngineSettings``, ``core.stabilizer``, ``core.matcher``,
``evaluation.ablations``, ``audio.engine``), the checks of ``moodsic analyze``'s options, the window's
controls, undo and "Reset to defaults". A test checks that they agree (tests/core/test_settings_schema.py).

The road of a change (``ARCHITECTURE.md``, "The settings road"): a control emits ``changed(name, value)``
(the value in the setting's unit, its slider position turned by ``from_slider``); the window's one slot keeps
it and hands it to the pipeline worker's ``apply(changes)``, which passes each setting to its ``targets``:
the engine (``audio.engine.AudioEngine.apply``, at once) and the session
(``session.playback.PlaybackSession.apply``, between frames). Those check the values once, with
:func:`checked`; what the window alone uses (``"window"``) goes no further.

``minimum``..``maximum`` is what a number accepts, from the settings file, the command line and the road
alike. The window's slider moves in steps of ``slider_step`` and may stop short of ``maximum``
(``slider_maximum``): a slider over the whole accepted range would be too coarse where the useful values
are. The day plan (``DAY_PLAN``) is one structured setting: its rules and checks are in ``core.day_plan``.
Pure Python: no Qt. Any thread (everything here is frozen).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from moodsic_desktop.core.choices import FixedChoice
from moodsic_desktop.core.day_plan import DayPlan
from moodsic_desktop.core.fusion import FUSION_MODES

Target = Literal["session", "engine", "window"]
"""Who applies a setting: ``"session"`` the ``PlaybackSession`` (the pipeline worker's thread), ``"engine"``
the ``AudioEngine`` (any thread), ``"window"`` the window itself (the picture, the source)."""


class Setting(Protocol):
    """What every setting declares. ``default`` and the values the road and the settings file carry are
    plain JSON values; ``check`` turns one into what the target uses (a ``DayPlan`` for the day plan),
    or raises ``ValueError`` in plain words. ``undoable``: a change of it is one step of Edit → Undo and
    "Reset to defaults" puts it back (not so the last source, which the owner does not tune)."""

    @property
    def name(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def tooltip(self) -> str: ...
    @property
    def targets(self) -> tuple[Target, ...]: ...
    @property
    def default(self) -> Any: ...
    @property
    def undoable(self) -> bool: ...
    def check(self, value: object) -> Any: ...
    def problem(self, value: object) -> str | None: ...


class _Checks:
    """``problem`` from ``check``, shared by the kinds of setting below."""

    def check(self, value: object) -> Any:
        raise NotImplementedError

    def problem(self, value: object) -> str | None:
        """Why ``value`` cannot be used, or None when it can."""
        try:
            self.check(value)
        except (ValueError, TypeError, RecursionError) as error:
            return str(error) or type(error).__name__
        return None


@dataclass(frozen=True)
class NumberSetting(_Checks):
    """One tunable number. ``exclusive_minimum``: ``minimum`` itself is refused (α 0 would never move)."""

    name: str
    default: float
    minimum: float
    maximum: float
    unit: str  # what the number counts, in words
    label: str  # the window's plain words for it
    tooltip: str  # the exact meaning, with the unit
    exclusive_minimum: bool = False
    slider_step: float = 1.0  # the value of one step of the window's slider
    slider_maximum: float | None = None  # where the slider stops, when short of ``maximum``
    targets: tuple[Target, ...] = ("session",)
    undoable: bool = True

    def __post_init__(self) -> None:
        if not self.contains(self.default):
            raise ValueError(f"{self.name}: the default {self.default} is outside {self.range_text()}")

    def contains(self, value: float) -> bool:
        """Whether ``value`` is a finite number in the accepted range."""
        if not math.isfinite(value) or value > self.maximum:
            return False
        return value > self.minimum if self.exclusive_minimum else value >= self.minimum

    def check(self, value: object) -> float:
        """``value`` as a float when it is a number (not a bool) in the accepted range; ``ValueError`` else."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{self.name} must be a number in {self.range_text()}, got {value!r}")
        try:
            number = float(value)
        except OverflowError:
            raise ValueError(f"{self.name} must be in {self.range_text()}, got a number too large") from None
        if not self.contains(number):
            raise ValueError(f"{self.name} must be in {self.range_text()}, got {number:g}")
        return number

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
        """The value at slider ``position``, rounded to the step's decimals (position 29 of α is 0.29, not
        0.29000000000000004: the settings file stays readable)."""
        return round(position * self.slider_step, 9)


@dataclass(frozen=True)
class ChoiceSetting(_Checks):
    """One of a few fixed words (``choices``); ``words`` are the window's plain words for each, in order."""

    name: str
    default: str
    choices: tuple[str, ...]
    words: tuple[str, ...]
    label: str
    tooltip: str
    targets: tuple[Target, ...] = ("session",)
    undoable: bool = True

    def check(self, value: object) -> str:
        return FixedChoice(self.name, self.choices)(value)


@dataclass(frozen=True)
class SwitchSetting(_Checks):
    """On or off (a JSON ``true``/``false``)."""

    name: str
    default: bool
    label: str
    tooltip: str
    targets: tuple[Target, ...] = ("window",)
    undoable: bool = True

    def check(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"{self.name} must be true or false, got {value!r}")
        return value


@dataclass(frozen=True)
class TextSetting(_Checks):
    """A text, or none (JSON ``null``): a device's name, a source."""

    name: str
    label: str
    tooltip: str
    targets: tuple[Target, ...] = ("window",)
    undoable: bool = True
    default: str | None = None

    def check(self, value: object) -> str | None:
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{self.name} must be a text or null, got {value!r}")
        return value


@dataclass(frozen=True)
class DayPlanSetting(_Checks):
    """The day plan (``core.day_plan.DayPlan``), carried and saved as its JSON object; ``check`` gives the
    plan itself (a ``DayPlan`` is taken as it is)."""

    name: str
    label: str
    tooltip: str
    targets: tuple[Target, ...] = ("session",)
    undoable: bool = True

    @property
    def default(self) -> dict[str, Any]:
        """The default plan's JSON: open all day, no parts of the day (the music as without a plan)."""
        return DayPlan().to_json()

    def check(self, value: object) -> DayPlan:
        """The plan saved as ``value``; ``ValueError`` in plain words when it cannot be used."""
        return value if isinstance(value, DayPlan) else DayPlan.from_json(value)

    def parse(self, value: object) -> DayPlan:
        """The same as :meth:`check` (the name the day-plan code reads best with)."""
        return self.check(value)


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
    name="min_dwell_s",
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
    targets=("engine",),
)
REPEAT_WINDOW = NumberSetting(
    name="repeat_window_min",
    default=45.0,
    minimum=0.0,
    maximum=240.0,
    unit="minutes",
    label="Songs come back after",
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
    targets=("engine", "session"),  # the engine plays it; the session's day plan comes back to it
)

MODE = ChoiceSetting(
    name="mode",
    default="match",
    choices=("match", "uplift", "calm"),  # core.matcher.MATCH_MODES (a test checks they agree)
    words=("Match the mood", "Lift the mood", "Calm the room"),
    label="The music should",
    tooltip="Match the mood: songs close to the room's mood. Lift the mood: songs a little more pleasant "
    "than the room. Calm the room: songs a little calmer (lower energy) than the room.",
)
FUSION = ChoiceSetting(
    name="fusion",
    default="inverse_variance",
    choices=FUSION_MODES,
    words=("Inverse variance", "Fixed 0.6 / 0.4", "Scene only", "Face only"),
    label="How face and room readings are combined",
    tooltip="How the face and scene readings are combined. Inverse variance: each weighted by 1 / its variance "
    "(the surer reading counts more); Fixed: 0.6 face, 0.4 scene; or one reader alone.",
)
AUDIO_DEVICE = TextSetting(
    name="audio_device",
    label="Sound output",
    tooltip="Where the music plays: the system's default output or a chosen device",
    targets=("engine",),
)
LAST_SOURCE = TextSetting(
    name="last_source",
    label="The last source",
    tooltip="The camera or video read last: read again at the next start.",
    undoable=False,
)
LOOP_VIDEO = SwitchSetting(
    name="loop_video",
    default=True,
    label="Loop the video",
    tooltip="Start a video file again from the beginning when it ends",
)
PRIVACY = SwitchSetting(
    name="privacy",
    default=False,
    label="Hide the camera picture",
    tooltip="Show no camera picture on screen; the mood is still read from the camera.",
)
DAY_PLAN = DayPlanSetting(
    name="day_plan",
    label="Day plan",
    tooltip="Opening hours (no music outside them) and parts of the day, each with its own volume and mood.",
)

# In the window's order.
NUMBER_SETTINGS: tuple[NumberSetting, ...] = (ALPHA, TAU, DWELL, CROSSFADE, VOLUME, REPEAT_WINDOW)
SETTINGS: tuple[Setting, ...] = (
    ALPHA, TAU, DWELL, REPEAT_WINDOW, CROSSFADE, MODE, VOLUME, AUDIO_DEVICE, PRIVACY, LOOP_VIDEO, FUSION,
    DAY_PLAN, LAST_SOURCE,
)  # fmt: skip
BY_NAME: Mapping[str, Setting] = {setting.name: setting for setting in SETTINGS}


def aimed_at(changes: Mapping[str, Any], target: Target) -> dict[str, Any]:
    """The part of ``changes`` (values by setting name) that ``target`` applies; ``KeyError`` for a name that
    is no setting."""
    return {name: value for name, value in changes.items() if target in BY_NAME[name].targets}


def checked(changes: Mapping[str, Any], target: Target) -> dict[str, Any]:
    """``changes`` checked once, for ``target``, each value as the target uses it (``Setting.check``): the
    one check on the settings road. ``ValueError`` naming the setting, before anything is applied, for a
    name that is no setting of ``target`` or a value it cannot take."""
    values: dict[str, Any] = {}
    for name, value in changes.items():
        setting = BY_NAME.get(name)
        if setting is None or target not in setting.targets:
            raise ValueError(f"{name!r} is not a setting of the {target}")
        try:
            values[name] = setting.check(value)
        except (TypeError, RecursionError) as error:
            raise ValueError(f"{name}: {error or type(error).__name__}") from None
    return values
