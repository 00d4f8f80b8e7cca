"""``moodsic dayplan``: show, set the opening hours, add and remove parts of the day, reset; the same file and
rules as the window; refusals in one plain line that change nothing; a damaged settings file set aside."""

from __future__ import annotations

import json

from moodsic_desktop.core.day_plan import MOOD_LEANS, DayPlan, Span, TimeBlock
from moodsic_desktop.ui.settings import SettingsStore
from tests.cli.cli_helpers import one_error_line, run


def saved_plan(folder) -> DayPlan:
    return SettingsStore(folder).load()[0].plan


def test_building_a_plan_step_by_step(capsys, tmp_path):
    folder = str(tmp_path)
    code, out, _ = run(capsys, "dayplan", "show", "--settings-dir", folder)
    assert code == 0 and out.startswith("Opening hours: open all day")
    assert run(capsys, "dayplan", "hours", "07:00-22:00", "--settings-dir", folder)[0] == 0
    code, out, _ = run(
        capsys, "dayplan", "add", "Morning", "08:00-11:00", "--mood", "calm", "--volume", "40", "--settings-dir", folder
    )
    assert code == 0 and "  Morning, 08:00–11:00: calm, volume 40 %" in out
    assert run(capsys, "dayplan", "add", "Lunch", "12:00-14:00", "--mood", "lively", "--settings-dir", folder)[0] == 0
    assert saved_plan(tmp_path) == DayPlan(
        Span(420, 1320),
        (
            TimeBlock("Morning", Span(480, 660), 0.4, MOOD_LEANS["calm"]),
            TimeBlock("Lunch", Span(720, 840), None, MOOD_LEANS["lively"]),
        ),
    )
    # the same name replaces the part; remove takes one away
    assert run(capsys, "dayplan", "add", "Lunch", "12:30-14:30", "--settings-dir", folder)[0] == 0
    assert saved_plan(tmp_path).blocks[1] == TimeBlock("Lunch", Span(750, 870))
    assert run(capsys, "dayplan", "remove", "Morning", "--settings-dir", folder)[0] == 0
    code, out, _ = run(capsys, "dayplan", "show", "--json", "--settings-dir", folder)
    assert json.loads(out) == saved_plan(tmp_path).to_json() and len(json.loads(out)["blocks"]) == 1
    assert run(capsys, "dayplan", "hours", "all-day", "--settings-dir", folder)[0] == 0
    assert saved_plan(tmp_path).opening_hours is None
    assert run(capsys, "dayplan", "reset", "--settings-dir", folder)[0] == 0
    assert saved_plan(tmp_path) == DayPlan()


def test_refusals_say_why_in_one_line_and_change_nothing(capsys, tmp_path):
    folder = str(tmp_path)
    run(capsys, "dayplan", "add", "Morning", "08:00-11:00", "--settings-dir", folder)
    before = (tmp_path / "settings.json").read_bytes()
    for args, words in (
        (("add", "Brunch", "10:00-12:00"), "“Morning” (08:00–11:00) and “Brunch” (10:00–12:00) overlap"),
        (("add", "Brunch", "11:00"), "must be written FROM-TO"),
        (("add", "Brunch", "11:00-11:00"), "empty"),
        (("add", "Brunch", "11:00-12:00", "--volume", "120"), "from 0 to 100"),
        (("hours", "8-22"), "HH:MM"),
        (("remove", "Tea"), "no part named “Tea” (its parts: “Morning”)"),
    ):
        code, _, err = run(capsys, "dayplan", *args, "--settings-dir", folder)
        assert code == 1 and words in one_error_line(err), (args, err)
        assert (tmp_path / "settings.json").read_bytes() == before


def test_a_damaged_plan_in_the_file_is_said_and_set_aside(capsys, tmp_path):
    original = json.dumps({"schema_version": 1, "volume": 0.5, "day_plan": {"blocks": "lunch"}})
    (tmp_path / "settings.json").write_text(original, encoding="utf-8")
    code, out, err = run(capsys, "dayplan", "show", "--settings-dir", str(tmp_path))
    assert code == 0 and out.startswith("Opening hours: open all day")
    assert "The day plan could not be used (the parts of the day must be a list" in one_error_line(err)
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("settings.json.broken-")]
    assert [p.read_text(encoding="utf-8") for p in kept] == [original]
    assert SettingsStore(tmp_path).load()[0].volume == 0.5


def test_a_whole_plan_from_a_json_file_and_a_bad_one_refused(capsys, tmp_path):
    folder = tmp_path / "settings"
    plan = DayPlan(Span(420, 1320), (TimeBlock("Morning", Span(480, 660), 0.4, MOOD_LEANS["calm"]),))
    good = tmp_path / "plan.json"
    good.write_text(json.dumps(plan.to_json()), encoding="utf-8")
    assert run(capsys, "dayplan", "set", str(good), "--settings-dir", str(folder))[0] == 0
    assert saved_plan(folder) == plan
    bad = tmp_path / "bad.json"
    for text, words in (("{nope", "could not read a day plan"), ('{"blocks": 3}', "must be a list")):
        bad.write_text(text, encoding="utf-8")
        code, _, err = run(capsys, "dayplan", "set", str(bad), "--settings-dir", str(folder))
        assert code == 1 and words in one_error_line(err)
        assert bad.read_text(encoding="utf-8") == text and saved_plan(folder) == plan
    code, _, err = run(capsys, "dayplan", "set", str(tmp_path / "missing.json"), "--settings-dir", str(folder))
    assert code == 1 and "could not read" in one_error_line(err)


def test_the_parser_loads_no_qt():
    import subprocess
    import sys

    code = (
        "import sys; from moodsic_desktop.cli.main import build_parser; build_parser(); print('PySide6' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
