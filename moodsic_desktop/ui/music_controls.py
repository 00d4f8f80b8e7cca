"""The owner's controls ("Music controls"): a slider for each number of ``core/settings_schema.py`` the owner
tunes here (how quickly the mood settles, how much change it ignores, the least time per song, the time
before a song comes back, the crossfade, the volume), the music mode, skip and ban, the sound output and the
privacy switch. GUI thread.

Every control says a change the same way: ``changed(name, value)``, the setting's schema name and its value
in the setting's unit (a slider position turned into it by the schema's ``from_slider``); the window's one
slot passes it on (``ARCHITECTURE.md``, "The settings road"). ``show_values`` sets the controls to values without a
signal. Skip, ban and the device list's filling are the window's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QWidget,
)

from moodsic_desktop.audio.host_apis import device_setting, preferred_outputs
from moodsic_desktop.audio.output import OutputDevice
from moodsic_desktop.core.settings_schema import (
    ALPHA,
    AUDIO_DEVICE,
    CROSSFADE,
    DWELL,
    MODE,
    PRIVACY,
    REPEAT_WINDOW,
    TAU,
    VOLUME,
    NumberSetting,
)

MODE_LABELS = dict(zip(MODE.choices, MODE.words, strict=True))
VALUE_LABEL_WIDTH = 150  # the value beside a slider (pixels): fixed, so that the column never changes width
FORM_ROW_SPACING = 3  # pixels between rows: the whole left column fits 1366 x 768 without scrolling


def alpha_time_constant_s(alpha: float) -> float:
    """The EMA's time constant in seconds for a weight ``alpha`` per second: -1 / ln(1 - alpha)."""
    return math.inf if alpha <= 0 else 0.0 if alpha >= 1 else -1.0 / math.log1p(-alpha)


def repeat_window_words(minutes: float) -> str:
    """The time before a song comes back, in the owner's words (the tooltip says a small library shortens it)."""
    return "at once (only the last few wait)" if minutes <= 0 else f"at least ~{minutes:g} min"


VALUE_WORDS: dict[str, Callable[[float], str]] = {  # the words beside each slider, from its value
    ALPHA.name: lambda alpha: f"settles in ~{alpha_time_constant_s(alpha):.1f} s",
    TAU.name: lambda tau: f"holds beyond ± {tau:.2f}",
    DWELL.name: lambda seconds: f"{seconds:g} s",
    REPEAT_WINDOW.name: repeat_window_words,
    CROSSFADE.name: lambda seconds: f"{seconds:g} s",
    VOLUME.name: lambda share: f"{share * 100:.0f} %",
}
SLIDERS = (ALPHA, TAU, DWELL, REPEAT_WINDOW, CROSSFADE, VOLUME)  # in the panel's order (the volume below the mode)
SETTING_OF = {setting.name: setting for setting in SLIDERS}


def _slider(setting: NumberSetting) -> QSlider:
    """A slider over ``setting``'s range in its steps, with its tooltip (core/settings_schema.py)."""
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(*setting.slider_range())
    slider.setToolTip(setting.tooltip)
    return slider


class MusicControls(QGroupBox):
    """The owner's controls, in plain words; each tooltip gives the exact meaning and unit. GUI thread.

    ``changed(name, value)``: the owner changed the setting ``name`` (``core.settings_schema``) to ``value``
    (its unit: α per second, τ in V-A units, seconds, minutes, volume 0..1, a mode's name, a saved device
    name or None, the privacy switch's bool). The skip and ban buttons are connected by the window itself."""

    changed = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Music controls", parent)
        form = QFormLayout(self)
        form.setVerticalSpacing(FORM_ROW_SPACING)
        self.sliders = {setting.name: _slider(setting) for setting in SLIDERS}
        self.value_labels = {name: QLabel() for name in VALUE_WORDS}
        self.alpha_slider, self.tau_slider = self.sliders[ALPHA.name], self.sliders[TAU.name]
        self.dwell_slider, self.repeat_slider = self.sliders[DWELL.name], self.sliders[REPEAT_WINDOW.name]
        self.crossfade_slider, self.volume_slider = self.sliders[CROSSFADE.name], self.sliders[VOLUME.name]
        self.alpha_label, self.tau_label = self.value_labels[ALPHA.name], self.value_labels[TAU.name]
        self.dwell_label, self.repeat_label = self.value_labels[DWELL.name], self.value_labels[REPEAT_WINDOW.name]
        self.crossfade_label = self.value_labels[CROSSFADE.name]
        self.volume_label = self.value_labels[VOLUME.name]
        for setting in SLIDERS[:-1]:
            self._add_slider_row(form, setting)
        self.mode_combo = QComboBox()
        for mode, words in MODE_LABELS.items():
            self.mode_combo.addItem(words, mode)
        self.mode_combo.setToolTip(MODE.tooltip)
        form.addRow(MODE.label, self.mode_combo)
        self._add_slider_row(form, VOLUME)  # its per cent beside it, like every other slider's value
        buttons = QHBoxLayout()
        self.skip_button = QPushButton("Skip song")
        self.skip_button.setToolTip("Play another song that fits the mood now")
        self.ban_button = QPushButton("Never play this song")
        self.ban_button.setToolTip("Skip this song and never choose it again (kept in the library's index)")
        buttons.addWidget(self.skip_button)
        buttons.addWidget(self.ban_button)
        form.addRow(buttons)
        self.device_combo = QComboBox()
        self.device_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device_combo.setMinimumContentsLength(12)
        self.device_combo.setToolTip(AUDIO_DEVICE.tooltip)
        form.addRow(AUDIO_DEVICE.label, self.device_combo)
        self.privacy_check = QCheckBox("Hide the camera picture (privacy)")
        self.privacy_check.setToolTip(PRIVACY.tooltip)
        form.addRow(self.privacy_check)
        for setting in SLIDERS:
            self.sliders[setting.name].valueChanged.connect(lambda position, s=setting: self._slider_moved(s, position))
        self.mode_combo.currentIndexChanged.connect(lambda: self.changed.emit(MODE.name, self.mode_combo.currentData()))
        self.device_combo.currentIndexChanged.connect(
            lambda: self.changed.emit(AUDIO_DEVICE.name, self.device_combo.currentData())
        )
        self.privacy_check.toggled.connect(lambda hidden: self.changed.emit(PRIVACY.name, hidden))

    def show_values(self, values: Mapping[str, Any]) -> None:
        """Set the controls of the settings in ``values`` (by name; others are left out) to them, without a
        ``changed`` signal. The words beside a slider say the value itself, also one past the slider's end
        (a dwell of 600 s from the command line)."""
        for name, value in values.items():
            widget = self._widget(name)
            if widget is None:
                continue
            widget.blockSignals(True)
            if isinstance(widget, QSlider):
                widget.setValue(SETTING_OF[name].to_slider(value))
                self._say(name, value)
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(widget.findData(value), 0))
            else:
                widget.setChecked(value)
            widget.blockSignals(False)

    def _widget(self, name: str) -> QSlider | QComboBox | QCheckBox | None:
        others: dict[str, QComboBox | QCheckBox] = {
            MODE.name: self.mode_combo,
            AUDIO_DEVICE.name: self.device_combo,
            PRIVACY.name: self.privacy_check,
        }
        return self.sliders[name] if name in self.sliders else others.get(name)

    def _add_slider_row(self, form: QFormLayout, setting: NumberSetting) -> None:
        row = QHBoxLayout()
        row.addWidget(self.sliders[setting.name], 1)
        label = self.value_labels[setting.name]
        label.setFixedWidth(VALUE_LABEL_WIDTH)
        row.addWidget(label)
        form.addRow(setting.label, row)
        label.setToolTip(setting.tooltip)
        field_label = form.labelForField(row)
        if field_label is not None:
            field_label.setToolTip(setting.tooltip)

    def _say(self, name: str, value: float) -> None:
        if name in VALUE_WORDS:
            self.value_labels[name].setText(VALUE_WORDS[name](value))

    def _slider_moved(self, setting: NumberSetting, position: int) -> None:
        value = setting.from_slider(position)
        self._say(setting.name, value)
        self.changed.emit(setting.name, value)

    def fill_devices(self, devices: Sequence[OutputDevice]) -> None:
        """ "System default" (data None) and ``devices``, each once as the platform's main sound system names it
        (data: the saved setting; see ``audio/host_apis.py``), without a change signal."""
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        self.device_combo.addItem("System default", None)
        for device in preferred_outputs(devices):
            self.device_combo.addItem(f"{device.name} ({device.hostapi})", device_setting(device))
        self.device_combo.blockSignals(False)
