"""The settings road in the window (ARCHITECTURE.md, "The settings road"): each control says a change as
``changed(name, value)`` in the setting's unit; the window's one slot hands it to the pipeline worker's
``apply``, which sends the engine's part to the engine at once and the session's part to the session, where
it is checked once; Edit → Undo and Reset to defaults travel the same road. The repeat window (issue 19)
has its slider here."""

from __future__ import annotations

import threading

import pytest

from moodsic_desktop.audio import engine_settings
from moodsic_desktop.core.day_plan import MOOD_LEANS, DayPlan, Span, TimeBlock
from moodsic_desktop.core.settings_schema import ALPHA, CROSSFADE, DWELL, REPEAT_WINDOW, TAU, VOLUME
from moodsic_desktop.session import playback
from moodsic_desktop.ui.music_controls import MusicControls
from moodsic_desktop.ui.settings import SettingsStore, UserSettings
from tests.ui.conftest import WAIT_MS


def test_each_control_says_its_change_as_the_settings_name_and_value(qtbot):
    controls = MusicControls()
    qtbot.addWidget(controls)
    said: list[tuple[str, object]] = []
    controls.changed.connect(lambda name, value: said.append((name, value)))
    for setting in (ALPHA, TAU, DWELL, REPEAT_WINDOW, CROSSFADE, VOLUME):
        slider = controls.sliders[setting.name]
        slider.setValue(slider.maximum() - 1)
        assert said[-1] == (setting.name, setting.from_slider(slider.maximum() - 1))
    assert said[0] == ("alpha", 0.99) and said[3] == ("repeat_window_min", REPEAT_WINDOW.slider_maximum - 1)
    controls.mode_combo.setCurrentIndex(controls.mode_combo.findData("calm"))
    assert said[-1] == ("mode", "calm")
    controls.fill_devices([])  # "System default" only, said by no signal
    controls.device_combo.addItem("USB Speakers (ALSA)", "USB Speakers")
    controls.device_combo.setCurrentIndex(1)
    assert said[-1] == ("audio_device", "USB Speakers")
    controls.privacy_check.setChecked(True)
    assert said[-1] == ("privacy", True)


def test_showing_values_says_nothing_and_the_words_tell_the_value_itself(qtbot):
    controls = MusicControls()
    qtbot.addWidget(controls)
    said: list[tuple[str, object]] = []
    controls.changed.connect(lambda name, value: said.append((name, value)))
    controls.show_values({"min_dwell_s": 600.0, "repeat_window_min": 20.0, "mode": "uplift", "privacy": True})
    assert said == []
    assert controls.dwell_slider.value() == controls.dwell_slider.maximum() and controls.dwell_label.text() == "600 s"
    assert controls.repeat_slider.value() == 20 and controls.repeat_label.text() == "at least ~20 min"
    assert controls.mode_combo.currentData() == "uplift" and controls.privacy_check.isChecked()
    controls.show_values({"repeat_window_min": 0.0})
    assert "at once" in controls.repeat_label.text()


def test_the_volume_shows_its_per_cent_like_every_other_slider_its_value(qtbot):
    controls = MusicControls()
    qtbot.addWidget(controls)
    controls.show_values({"volume": 0.8})
    assert controls.volume_label.text() == "80 %" and controls.volume_label.isVisibleTo(controls)
    controls.volume_slider.setValue(35)  # the owner moves it
    assert controls.volume_label.text() == "35 %"


def test_the_repeat_window_has_plain_words_that_say_a_small_library_shortens_it(qtbot):
    controls = MusicControls()
    qtbot.addWidget(controls)
    controls.show_values({"repeat_window_min": 45.0})
    assert controls.repeat_label.text() == "at least ~45 min"
    assert "small library" in controls.repeat_slider.toolTip() and "minutes" in controls.repeat_slider.toolTip()
    assert REPEAT_WINDOW.label == "Songs come back after"


@pytest.fixture
def checks(monkeypatch):
    """Every check on the road's two ends, by target, with the changes it was given."""
    seen: dict[str, list[dict]] = {"session": [], "engine": []}
    lock = threading.Lock()
    for module in (playback, engine_settings):
        real = module.checked

        def counting(changes, target, real=real):
            with lock:
                seen[target].append(dict(changes))
            return real(changes, target)

        monkeypatch.setattr(module, "checked", counting)
    return seen


def test_a_control_change_reaches_its_targets_checked_once_and_undo_goes_the_same_way(open_window, checks, qtbot):
    window = open_window()
    session, engine = window.session, window.engine
    checks["session"].clear(), checks["engine"].clear()  # the settings shown at start went this way too
    window.controls.alpha_slider.setValue(75)
    qtbot.waitUntil(lambda: session.pipeline.stabilizer.alpha == 0.75, timeout=WAIT_MS)
    assert checks == {"session": [{"alpha": 0.75}], "engine": []}
    window.controls.volume_slider.setValue(40)  # the engine's at once, and the session's for the day plan
    assert engine.volume == pytest.approx(0.4) and checks["engine"] == [{"volume": 0.4}]
    qtbot.waitUntil(lambda: session.plan.owner_volume == 0.4, timeout=WAIT_MS)
    assert checks["session"][-1] == {"volume": 0.4}
    window.controls.repeat_slider.setValue(20)  # issue 19's missing control
    qtbot.waitUntil(lambda: session.pipeline.matcher.repeat_window_s == 20 * 60.0, timeout=WAIT_MS)
    assert checks["session"][-1] == {"repeat_window_min": 20.0} and len(checks["session"]) == 3
    assert window.settings.repeat_window_min == 20.0
    qtbot.waitUntil(lambda: SettingsStore().load()[0].repeat_window_min == 20.0, timeout=WAIT_MS)
    window.menus.undo_action.trigger()  # Edit → Undo: the slider, the matcher and the file go back
    assert window.controls.repeat_slider.value() == 45 and window.controls.repeat_label.text() == "at least ~45 min"
    qtbot.waitUntil(lambda: session.pipeline.matcher.repeat_window_s == 45 * 60.0, timeout=WAIT_MS)
    assert checks["session"][-1] == {"repeat_window_min": 45.0} and len(checks["session"]) == 4
    qtbot.waitUntil(lambda: SettingsStore().load()[0].repeat_window_min == 45.0, timeout=WAIT_MS)
    window.menus.undo_action.trigger()  # the volume, on the same road: the engine's part at once
    assert engine.volume == pytest.approx(UserSettings().volume) and checks["engine"][-1] == {"volume": 0.8}


def test_the_diagnostics_and_source_row_controls_go_the_same_road(open_window, checks, qtbot):
    window = open_window()
    checks["session"].clear(), checks["engine"].clear()
    said: list[tuple[str, object]] = []
    window.diagnostics.changed.connect(lambda name, value: said.append((name, value)))
    window.source_bar.changed.connect(lambda name, value: said.append((name, value)))
    window.diagnostics.fusion_combo.setCurrentIndex(window.diagnostics.fusion_combo.findData("scene"))
    qtbot.waitUntil(lambda: window.session.pipeline.settings.fusion_mode == "scene", timeout=WAIT_MS)
    window.source_bar.loop_check.setChecked(False)  # the window's own: kept, saved, not sent on
    assert said == [("fusion", "scene"), ("loop_video", False)]
    assert checks == {"session": [{"fusion": "scene"}], "engine": []}
    assert window.settings.fusion == "scene" and window.settings.loop_video is False
    window.menus.undo_action.trigger()
    assert window.source_bar.loop_check.isChecked() and window.settings.loop_video is True
    assert said[-1] == ("loop_video", False)  # undo shows the value without a second change


def test_the_day_plan_and_reset_to_defaults_go_the_same_road(open_window, checks, qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)
    window = open_window(None, UserSettings(repeat_window_min=90.0, crossfade_s=2.0))
    session = window.session
    assert window.controls.repeat_slider.value() == 90
    plan = DayPlan(Span(7 * 60, 22 * 60), (TimeBlock("Morning", Span(8 * 60, 11 * 60), 0.4, MOOD_LEANS["calm"]),))
    window.open_day_plan_dialog()
    window.day_plan_dialog.accepted_plan.emit(plan)  # OK in Settings → Day plan…
    window.day_plan_dialog.close()
    qtbot.waitUntil(lambda: session.plan.plan == plan, timeout=WAIT_MS)
    assert window.settings.day_plan == plan.to_json() and {"day_plan": plan.to_json()} in checks["session"]
    checks["session"].clear(), checks["engine"].clear()
    window.reset_to_defaults()
    said = window.banners.text("settings-reset")
    assert "Songs come back after" in said and "Crossfade" in said and "Day plan" in said
    assert checks["engine"] == [{"crossfade_s": CROSSFADE.default}]
    qtbot.waitUntil(lambda: session.plan.plan == DayPlan() and bool(checks["session"]), timeout=WAIT_MS)
    assert checks["session"] == [{"repeat_window_min": REPEAT_WINDOW.default, "day_plan": DayPlan().to_json()}]
    assert session.pipeline.matcher.repeat_window_s == REPEAT_WINDOW.default * 60.0
    window.menus.undo_action.trigger()  # the whole reset back, in one step
    qtbot.waitUntil(lambda: session.plan.plan == plan, timeout=WAIT_MS)
    assert window.controls.repeat_slider.value() == 90 and window.engine.crossfade_s == 2.0
