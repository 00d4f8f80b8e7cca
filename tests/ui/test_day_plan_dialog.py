"""Settings → Day plan…: the dialog shows and edits the plan in plain words over a 24-hour strip, refuses a
plan that cannot be used with a reason and a greyed-out OK, and the window applies and saves what OK gives;
the timeline shades the part of the day's range and the banner says what the plan does."""

from __future__ import annotations

import datetime

import numpy as np
from PySide6.QtCore import QTime
from PySide6.QtWidgets import QComboBox, QDialogButtonBox, QSpinBox, QTimeEdit

from moodsic_desktop.core.day_plan import MOOD_LEANS, DayPlan, MoodLean, PlanState, Span, TimeBlock
from moodsic_desktop.ui.day_plan_dialog import OWN_RANGE_LABEL, YOUR_VOLUME, DayPlanDialog
from moodsic_desktop.ui.settings import SettingsStore, UserSettings
from moodsic_desktop.ui.timeline_chart import MoodTimelineChart
from tests.ui.test_charts import step

CAFE = DayPlan(
    Span(7 * 60, 22 * 60),
    (
        TimeBlock("Morning", Span(8 * 60, 11 * 60), 0.4, MOOD_LEANS["calm"]),
        TimeBlock("Lunch", Span(12 * 60, 14 * 60), None, MOOD_LEANS["lively"]),
    ),
)
NOW = datetime.datetime(2026, 12, 7, 9, 30)


def make_dialog(qtbot, plan: DayPlan = CAFE) -> DayPlanDialog:
    dialog = DayPlanDialog(plan, now=NOW)
    qtbot.addWidget(dialog)
    return dialog


def cell(dialog: DayPlanDialog, row: int, column: int):
    return dialog.table.cellWidget(row, column)


def ok_button(dialog: DayPlanDialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def test_the_dialog_shows_the_plan_in_plain_words(qtbot):
    dialog = make_dialog(qtbot)
    assert not dialog.all_day_check.isChecked() and dialog.opens_edit.time() == QTime(7, 0)
    assert dialog.table.rowCount() == 2 and dialog.table.item(0, 0).text() == "Morning"
    mood, volume = cell(dialog, 0, 3), cell(dialog, 0, 4)
    assert isinstance(mood, QComboBox) and mood.currentText() == "Calm"
    assert isinstance(volume, QSpinBox) and volume.text() == "40 %"
    assert cell(dialog, 1, 4).text() == YOUR_VOLUME
    assert dialog.plan() == CAFE and ok_button(dialog).isEnabled() and dialog.problem_label.text() == ""
    assert dialog.strip.plan == CAFE


def test_editing_changes_the_plan_and_ok_hands_it_over(qtbot):
    dialog = make_dialog(qtbot)
    cell(dialog, 1, 3).setCurrentIndex(cell(dialog, 1, 3).findText("Bright"))
    cell(dialog, 1, 4).setValue(65)
    dialog.add_part()
    assert dialog.table.rowCount() == 3
    dialog.table.item(2, 0).setText("Afternoon")
    cell(dialog, 2, 1).setTime(QTime(15, 0))
    cell(dialog, 2, 2).setTime(QTime(18, 0))
    dialog.all_day_check.setChecked(True)
    assert not dialog.opens_edit.isEnabled()
    expected = DayPlan(
        None,
        (
            CAFE.blocks[0],
            TimeBlock("Lunch", Span(12 * 60, 14 * 60), 0.65, MOOD_LEANS["bright"]),
            TimeBlock("Afternoon", Span(15 * 60, 18 * 60)),
        ),
    )
    assert dialog.plan() == expected and dialog.strip.plan == expected
    with qtbot.waitSignal(dialog.accepted_plan) as signal:
        ok_button(dialog).click()
    assert signal.args == [expected]


def test_a_plan_that_cannot_be_used_says_why_and_ok_is_greyed_out(qtbot):
    dialog = make_dialog(qtbot)
    end = cell(dialog, 0, 2)
    assert isinstance(end, QTimeEdit)
    end.setTime(QTime(12, 30))  # the morning now runs into lunch
    assert dialog.plan() is None and not ok_button(dialog).isEnabled()
    assert "“Morning” (08:00–12:30) and “Lunch” (12:00–14:00) overlap" in dialog.problem_label.text()
    with qtbot.assertNotEmitted(dialog.accepted_plan):
        dialog._accept()
    end.setTime(QTime(11, 0))
    dialog.table.item(1, 0).setText("  ")
    assert dialog.plan() is None and "needs a name" in dialog.problem_label.text()
    dialog.table.item(1, 0).setText("Lunch")
    dialog.closes_edit.setTime(QTime(7, 0))
    assert dialog.plan() is None and "close at another time than it opens" in dialog.problem_label.text()
    dialog.clear_plan()
    assert dialog.plan() == DayPlan() and ok_button(dialog).isEnabled() and dialog.problem_label.text() == ""


def test_an_own_range_from_the_file_is_kept(qtbot):
    own = MoodLean("custom", "keeps the music in its own range", valence=(0.2, 0.8))
    plan = DayPlan(None, (TimeBlock("Tea", Span(15 * 60, 17 * 60), None, own),))
    dialog = make_dialog(qtbot, plan)
    assert cell(dialog, 0, 3).currentText() == OWN_RANGE_LABEL and dialog.plan() == plan


def test_the_strip_draws_the_closed_hours_and_the_parts(qtbot):
    dialog = make_dialog(qtbot)
    dialog.resize(720, 480)
    dialog.show()
    qtbot.waitExposed(dialog)
    image = dialog.strip.grab().toImage()
    assert image.width() == dialog.strip.width()

    def colour_at(minute: int) -> str:
        return image.pixelColor(int(dialog.strip.x_of(minute)), 14).name()

    assert colour_at(3 * 60) == "#2b2f36"  # closed at night
    assert colour_at(16 * 60) == "#dfe5ec"  # open, no part
    assert colour_at(9 * 60 + 20) != colour_at(16 * 60)  # the morning's box (calm blue)


def test_each_mood_shows_whole_and_a_short_part_is_not_named_by_its_middle(qtbot):
    """At 1366 x 768: the Mood column is as wide as its longest choice (it showed "Fo" of "Follow the
    room"); a one-hour part is too short for its name, which is left out, not clipped to "w p"; the hour
    marks are all "HH:00" where there is room."""
    plan = DayPlan(None, (TimeBlock("New part", Span(8 * 60, 9 * 60), None, MOOD_LEANS["room"]),))
    dialog = make_dialog(qtbot, plan)
    dialog.resize(650, 420)
    dialog.show()
    qtbot.waitExposed(dialog)
    mood = cell(dialog, 0, 3)
    assert dialog.table.columnWidth(3) >= mood.sizeHint().width()
    assert mood.sizeHint().width() >= mood.fontMetrics().horizontalAdvance("Bright and lively")
    strip = dialog.strip
    hour_width = strip.x_of(9 * 60) - strip.x_of(8 * 60)
    assert strip.fitted_name("New part", hour_width - 4) == ""
    assert strip.fitted_name("New part", 400) == "New part"
    cut = strip.fitted_name("Morning coffee rush", strip.fontMetrics().horizontalAdvance("Morning"))
    assert cut.endswith("…") and "Morning".startswith(cut[:-1])
    assert [text for _, text in strip.hour_labels()] == [f"{hour:02d}:00" for hour in range(0, 25, 3)]
    strip.resize(300, strip.height())  # a narrow strip names every sixth hour only
    assert [text for _, text in strip.hour_labels()] == ["00:00", "", "06:00", "", "12:00", "", "18:00", "", "24:00"]


def test_the_window_applies_and_saves_the_plan(open_window, qtbot):
    window = open_window()
    window.open_day_plan_dialog()
    dialog = window.day_plan_dialog
    dialog.clear_plan()
    dialog.all_day_check.setChecked(False)
    dialog.opens_edit.setTime(QTime(0, 0))
    dialog.closes_edit.setTime(QTime(0, 1))  # closed for all but one minute a day: closed now, almost surely
    plan = dialog.plan()
    ok_button(dialog).click()
    qtbot.waitUntil(lambda: window.settings.day_plan == plan.to_json(), timeout=5000)
    qtbot.waitUntil(lambda: SettingsStore().load()[0].plan == plan, timeout=5000)
    qtbot.waitUntil(lambda: window.session.plan.plan == plan, timeout=5000)
    if not plan.is_open(datetime.datetime.now().hour * 60 + datetime.datetime.now().minute):
        qtbot.waitUntil(lambda: (window.banners.text("day-plan") or "").startswith("Closed until 00:00"), timeout=5000)


def test_the_timeline_shades_the_range_of_a_part_of_the_day(qtbot):
    chart = MoodTimelineChart(redraw_interval_ms=0)
    qtbot.addWidget(chart)
    chart.show()
    qtbot.waitExposed(chart)
    chart.add_step(step(-1.0, stable=(0.1, 0.2)))
    chart.flush()
    legend = chart.plan_series[0].chart().legend()
    assert not any(m.isVisible() for m in legend.markers(chart.plan_series[0]))  # no plan: not in the legend
    chart.clear()
    morning = PlanState(open=True, block=CAFE.blocks[0])
    for t in range(10):
        chart.add_step(step(float(t), stable=(0.1, 0.2)), morning if t < 6 else PlanState(open=True, block=None))
    chart.flush()
    arousal = chart.plan_series[1]
    upper = np.array([(p.x(), p.y()) for p in arousal.upperSeries().points()])
    lower = np.array([(p.x(), p.y()) for p in arousal.lowerSeries().points()])
    assert upper[:, 0].min() == -9.0 and upper[:, 0].max() == -3.0  # steps 0..5, until step 6
    assert upper[:, 1].max() == 0.0 and lower[:, 1].min() == -1.0  # calm: arousal from -1 to 0
    valence = chart.plan_series[0]
    assert max(p.y() for p in valence.upperSeries().points()) == 1.0
    assert all(m.isVisible() for m in legend.markers(chart.plan_series[0]))


def test_settings_give_the_window_its_plan(open_window):
    store_plan = UserSettings(day_plan=CAFE.to_json())
    window = open_window(settings=store_plan)
    assert window.settings.plan == CAFE and window.session.plan.plan == CAFE
