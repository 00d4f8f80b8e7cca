"""The settings road's end in the session (``PlaybackSession.apply``): every setting the schema aims at the
session reaches its home through the one ``apply``, checked once against the schema, and a batch with one
value it cannot take changes nothing. The engine's end: tests/audio/test_engine_settings.py; the window's
part: tests/ui/test_settings_road.py."""

from __future__ import annotations

from typing import Any

import pytest

from moodsic_desktop.core.day_plan import DayPlan
from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.settings_schema import (
    SETTINGS,
    ChoiceSetting,
    DayPlanSetting,
    NumberSetting,
    Setting,
    SwitchSetting,
    TextSetting,
)
from moodsic_desktop.session import playback
from moodsic_desktop.session.playback import PlaybackSession
from tests.session.test_day_plan_session import CAFE
from tests.session.test_playback import FakeAudio, make_session, make_songs

SESSION_SETTINGS = [s for s in SETTINGS if "session" in s.targets]

HOMES = {  # where each setting aimed at the session is in force, read in the setting's unit
    "alpha": lambda session: session.pipeline.stabilizer.alpha,
    "tau": lambda session: session.pipeline.stabilizer.tau,
    "min_dwell_s": lambda session: session.pipeline.matcher.min_dwell_s,
    "repeat_window_min": lambda session: session.pipeline.matcher.repeat_window_s / 60.0,
    "mode": lambda session: session.pipeline.matcher.mode,
    "fusion": lambda session: session.pipeline.settings.fusion_mode,
    "volume": lambda session: session.plan.owner_volume,
    "day_plan": lambda session: session.plan.plan.to_json(),
}


def another_value(setting: Setting, now: Any = None) -> Any:
    """A value ``setting`` accepts that is neither its default nor ``now`` (as the road carries it)."""
    if isinstance(setting, NumberSetting):
        low, high = setting.slider_range()
        candidates = [setting.from_slider(p) for p in (high, (low + high) // 2 + 1, low)]
        return next(value for value in candidates if value not in (setting.default, now))
    if isinstance(setting, ChoiceSetting):
        return next(choice for choice in setting.choices if choice not in (setting.default, now))
    if isinstance(setting, DayPlanSetting):
        return CAFE.to_json()
    if isinstance(setting, SwitchSetting):
        return not setting.default
    assert isinstance(setting, TextSetting)
    return "something"


def session() -> PlaybackSession:
    return make_session(MusicLibrary(songs=make_songs(None), origin="test", stations=None), FakeAudio())


def test_every_setting_aimed_at_the_session_has_a_home_here():
    assert {s.name for s in SESSION_SETTINGS} == set(HOMES)


@pytest.mark.parametrize("setting", SESSION_SETTINGS, ids=lambda s: s.name)
def test_each_session_setting_reaches_its_home_through_apply(setting: Setting):
    running = session()
    value = another_value(setting, HOMES[setting.name](running))
    assert HOMES[setting.name](running) != value
    running.apply({setting.name: value})
    assert HOMES[setting.name](running) == pytest.approx(value) if isinstance(value, float) else value


def test_all_of_them_at_once_and_each_checked_once(monkeypatch):
    calls: list[dict] = []

    def counting(changes, target):
        calls.append(dict(changes))
        return real(changes, target)

    real = playback.checked
    monkeypatch.setattr(playback, "checked", counting)
    running = session()
    values = {s.name: another_value(s, HOMES[s.name](running)) for s in SESSION_SETTINGS}
    running.apply(values)
    assert calls == [values]  # one check of the whole batch, by the schema
    for name, value in values.items():
        assert HOMES[name](running) == pytest.approx(value) if isinstance(value, float) else value
    assert isinstance(running.plan.plan, DayPlan)  # the day plan's JSON became the plan itself


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"alpha": 0.5, "tau": 5.0}, "tau must be in [0, 2]"),
        ({"min_dwell_s": 10.0, "mode": "party"}, "unknown mode 'party'; expected one of match, uplift, calm"),
        ({"alpha": 0.5, "repeat_window_min": float("nan")}, "repeat_window_min must be in"),
        ({"alpha": 0.5, "fusion": 3}, "unknown fusion 3; expected one of"),
        ({"alpha": 0.5, "day_plan": {"open": "soon"}}, "the day plan has unknown fields"),
        ({"alpha": 0.5, "crossfade_s": 3.0}, "'crossfade_s' is not a setting of the session"),
        ({"alpha": 0.5, "loudness": 3.0}, "'loudness' is not a setting of the session"),
    ],
)
def test_a_batch_with_a_value_the_session_cannot_take_changes_nothing(changes, words):
    running = session()
    before = {name: home(running) for name, home in HOMES.items()}
    with pytest.raises(ValueError) as raised:
        running.apply(changes)
    assert words in str(raised.value)
    assert {name: home(running) for name, home in HOMES.items()} == before
