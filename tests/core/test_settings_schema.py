"""One schema of the owner's tunable numbers (core/settings_schema.py): it is consistent, and every place that
has a default or a range of them agrees with it: the saved settings, the engine, the stabiliser, the matcher,
the ablations, the audio engine and the ``moodsic analyze`` options. The window's sliders: tests/ui/test_settings.py.
"""

from __future__ import annotations

import dataclasses
import inspect
import math

import pytest

from moodsic_desktop.audio import engine as audio_engine
from moodsic_desktop.cli.main import build_parser
from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.settings_schema import (
    ALPHA,
    CROSSFADE,
    DWELL,
    FUSION,
    MODE,
    NUMBER_SETTINGS,
    REPEAT_WINDOW,
    TAU,
    VOLUME,
    NumberSetting,
)
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.evaluation.ablations import replay
from moodsic_desktop.session.assembly import EngineSettings
from moodsic_desktop.ui.settings import UserSettings

IDS = [s.name for s in NUMBER_SETTINGS]


def default_of(function, parameter: str):
    return inspect.signature(function).parameters[parameter].default


@pytest.mark.parametrize("setting", NUMBER_SETTINGS, ids=IDS)
def test_each_setting_is_described_in_full_and_its_default_is_in_range(setting: NumberSetting):
    assert setting.minimum < setting.maximum
    assert setting.contains(setting.default)
    assert setting.unit.strip() and setting.label.strip() and setting.tooltip.strip()
    assert setting.name in {f.name for f in dataclasses.fields(UserSettings)}


@pytest.mark.parametrize("setting", NUMBER_SETTINGS, ids=IDS)
def test_the_slider_stays_in_range_and_reaches_the_default(setting: NumberSetting):
    low, high = setting.slider_range()
    assert low < high
    assert setting.contains(setting.from_slider(low)) and setting.contains(setting.from_slider(high))
    assert not setting.contains(setting.from_slider(low - 1))  # the slider starts at the first value in range
    assert low <= setting.to_slider(setting.default) <= high
    assert math.isclose(setting.from_slider(setting.to_slider(setting.default)), setting.default)


def test_range_edges():
    assert not ALPHA.contains(0.0) and ALPHA.contains(1e-9) and ALPHA.contains(1.0) and not ALPHA.contains(1.01)
    assert TAU.contains(0.0) and TAU.contains(TAU.maximum) and not TAU.contains(-1e-9)
    assert not any(s.contains(x) for s in NUMBER_SETTINGS for x in (math.nan, math.inf, -math.inf))
    assert ALPHA.range_text() == "(0, 1]" and DWELL.range_text() == "[0, 600]"
    assert ALPHA.slider_range() == (1, 100) and TAU.slider_range() == (0, 100)
    assert DWELL.slider_range() == (0, 180) and CROSSFADE.slider_range() == (0, 20)
    assert VOLUME.slider_range() == (0, 100)


def test_a_default_outside_its_range_is_refused():
    with pytest.raises(ValueError, match="outside"):
        NumberSetting("x", default=2.0, minimum=0.0, maximum=1.0, unit="u", label="l", tooltip="t")


def test_user_settings_take_their_defaults_and_ranges_from_the_schema():
    defaults = UserSettings()
    for setting in NUMBER_SETTINGS:
        assert getattr(defaults, setting.name) == setting.default
        at_the_edges = UserSettings(**{setting.name: float(setting.maximum)}).validated()
        assert getattr(at_the_edges, setting.name) == setting.maximum
        beyond = UserSettings(**{setting.name: setting.maximum + 1.0}).validated()
        assert getattr(beyond, setting.name) == setting.default
        below = UserSettings(**{setting.name: setting.minimum - 1.0}).validated()
        assert getattr(below, setting.name) == setting.default


def test_the_engine_takes_its_defaults_from_the_schema():
    engine = EngineSettings()
    assert (engine.alpha, engine.tau, engine.min_dwell_s) == (ALPHA.default, TAU.default, DWELL.default)
    stabilizer = Stabilizer()
    assert (stabilizer.alpha, stabilizer.tau) == (ALPHA.default, TAU.default)
    assert default_of(Matcher, "min_dwell_s") == DWELL.default
    assert (default_of(replay, "alpha"), default_of(replay, "tau")) == (ALPHA.default, TAU.default)
    assert default_of(audio_engine.AudioEngine, "crossfade_s") == CROSSFADE.default
    assert CROSSFADE.maximum == audio_engine.MAX_CROSSFADE_S


def test_the_analyze_options_take_their_defaults_and_ranges_from_the_schema(capsys):
    parser = build_parser()
    args = parser.parse_args(["analyze", "--demo"])
    assert (args.alpha, args.tau, args.min_dwell_s) == (ALPHA.default, TAU.default, DWELL.default)
    assert (args.repeat_window_min, args.mode, args.fusion) == (REPEAT_WINDOW.default, MODE.default, FUSION.default)
    options = (("--alpha", ALPHA), ("--tau", TAU), ("--min-dwell", DWELL), ("--dwell", DWELL))
    for option, setting in (*options, ("--repeat-window", REPEAT_WINDOW)):
        edge = parser.parse_args(["analyze", "--demo", option, str(setting.maximum)])
        assert getattr(edge, setting.name) == setting.maximum  # one name: the setting's
        with pytest.raises(SystemExit):
            parser.parse_args(["analyze", "--demo", option, str(setting.maximum + 1)])
        err = capsys.readouterr().err
        assert option in err and f": must be in {setting.range_text()}" in err


# ---- every setting, not only the numbers: one declaration, one name, one check (issue 24 item 1)


def test_the_saved_settings_are_the_schemas_settings_one_name_each():
    from moodsic_desktop.core.settings_schema import BY_NAME, SETTINGS

    assert {s.name for s in SETTINGS} == set(UserSettings.__dataclass_fields__) and len(SETTINGS) == len(BY_NAME)
    defaults = UserSettings()
    for setting in SETTINGS:
        assert getattr(defaults, setting.name) == setting.default, setting.name
        assert setting.problem(setting.default) is None and setting.label.strip() and setting.tooltip.strip()
        assert setting.targets and set(setting.targets) <= {"session", "engine", "window"}


def test_the_choices_are_the_engines_modes():
    from moodsic_desktop.core.fusion import FUSION_MODES
    from moodsic_desktop.core.matcher import MATCH_MODES
    from moodsic_desktop.core.pipeline import PipelineSettings

    assert MODE.choices == MATCH_MODES and MODE.default == EngineSettings().mode
    assert FUSION.choices == FUSION_MODES and FUSION.default == PipelineSettings().fusion_mode
    assert len(MODE.words) == len(MODE.choices) and len(FUSION.words) == len(FUSION.choices)


def test_one_check_per_setting_with_plain_words():
    from moodsic_desktop.core.settings_schema import DAY_PLAN, PRIVACY, checked

    assert DWELL.check(30) == 30.0 and isinstance(DWELL.check(30), float)
    for bad in (True, "30", None, math.nan, 601.0, 10**400):
        with pytest.raises(ValueError, match="min_dwell_s must be"):
            DWELL.check(bad)
    with pytest.raises(ValueError, match="privacy must be true or false"):
        PRIVACY.check(1)
    assert checked({"alpha": 1, "mode": "calm"}, "session") == {"alpha": 1.0, "mode": "calm"}
    with pytest.raises(ValueError, match="'crossfade_s' is not a setting of the session"):
        checked({"crossfade_s": 3.0}, "session")
    with pytest.raises(ValueError, match="the day plan must be an object"):
        checked({"day_plan": []}, "session")
    assert DAY_PLAN.problem({"blocks": "x"}) is not None


def test_a_slider_position_gives_a_readable_value():
    """Position 29 of α is 0.29, not 0.29000000000000004: the settings file keeps the owner's numbers."""
    for setting in NUMBER_SETTINGS:
        low, high = setting.slider_range()
        for position in range(low, high + 1):
            value = setting.from_slider(position)
            assert value == float(f"{value:.2f}") and setting.to_slider(value) == position
