"""The day plan saved through the settings: it round-trips, the default plan is "open all day, no parts", and
a damaged plan in settings.json gives a plain message and the default plan while the file as it was is kept
and the other settings survive."""

from __future__ import annotations

import json

import pytest

from moodsic_desktop.core.day_plan import MOOD_LEANS, DayPlan, Span, TimeBlock
from moodsic_desktop.core.settings_schema import DAY_PLAN
from moodsic_desktop.ui.settings import SettingsStore, UserSettings

CAFE = DayPlan(
    Span(7 * 60, 22 * 60),
    (TimeBlock("Morning", Span(8 * 60, 11 * 60), 0.4, MOOD_LEANS["calm"]),),
)


def test_the_default_plan_is_open_all_day_with_no_parts():
    settings = UserSettings()
    assert settings.day_plan == {"opening_hours": None, "blocks": []} == DAY_PLAN.default
    assert settings.plan == DayPlan() and settings.plan.is_default
    assert UserSettings().day_plan is not UserSettings().day_plan  # no shared mutable default


def test_a_plan_round_trips_through_the_file(tmp_path):
    store = SettingsStore(tmp_path)
    store.save(UserSettings(volume=0.6, day_plan=CAFE.to_json()))
    data = json.loads((tmp_path / "settings.json").read_text(encoding="utf-8"))
    assert data["day_plan"]["blocks"][0] == {
        "name": "Morning",
        "start": "08:00",
        "end": "11:00",
        "volume": 0.4,
        "mood": "calm",
    }
    loaded, problem = SettingsStore(tmp_path).load()
    assert problem is None and loaded.plan == CAFE and loaded.volume == 0.6


@pytest.mark.parametrize(
    ("plan", "reason"),
    [
        ({"opening_hours": {"opens": "25:00", "closes": "22:00"}, "blocks": []}, "'25:00' is not a time of day"),
        (
            {
                "blocks": [
                    {"name": "A", "start": "10:00", "end": "12:00"},
                    {"name": "B", "start": "11:00", "end": "13:00"},
                ]
            },
            "overlap",
        ),
        ("all day", "must be an object"),
        (None, "must be an object"),
    ],
)
def test_a_damaged_plan_gives_a_message_and_the_default_plan_and_keeps_the_file(tmp_path, plan, reason):
    path = tmp_path / "settings.json"
    original = json.dumps({"schema_version": 1, "alpha": 0.5, "day_plan": plan})
    path.write_text(original, encoding="utf-8")
    settings, problem = SettingsStore(tmp_path).load()
    assert settings.plan == DayPlan() and settings.alpha == 0.5  # the rest survives
    assert problem is not None and "The day plan could not be used" in problem and reason in problem
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("settings.json.broken-")]
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == original
    rewritten = json.loads(path.read_text(encoding="utf-8"))
    assert rewritten["day_plan"] == DAY_PLAN.default and rewritten["alpha"] == 0.5
    assert SettingsStore(tmp_path).load() == (settings, None)  # cleaned once: no message next time


def test_a_plan_written_by_hand_in_another_valid_form_is_kept_as_it_is(tmp_path):
    by_hand = {"opening_hours": {"opens": "7:00", "closes": "22:00"}, "blocks": []}
    (tmp_path / "settings.json").write_text(json.dumps({"day_plan": by_hand}), encoding="utf-8")
    settings, problem = SettingsStore(tmp_path).load()
    assert problem is None and settings.day_plan == by_hand and settings.plan.opening_hours == Span(420, 1320)
