"""The owner's controls ("Music controls"): the sliders built from ``core/settings_schema.py`` (how quickly
the mood settles, how much change it ignores, the least time per song, the crossfade, the volume), the
music mode, skip and ban, the sound output and the privacy switch. GUI thread.

The panel shows values and words, and turns slider positions (the schema's steps: α and τ in hundredths,
dwell and crossfade in seconds, volume in percent) into values in their units, which its signals carry;
the window connects them to what they change (the pipeline worker, the audio engine, the saved settings).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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
from moodsic_desktop.core.matcher import MATCH_MODES
from moodsic_desktop.core.settings_schema import ALPHA, CROSSFADE, DWELL, TAU, VOLUME, NumberSetting

MODE_LABELS = {"match": "Match the mood", "uplift": "Lift the mood", "calm": "Calm the room"}
VALUE_LABEL_WIDTH = 150  # the value beside a slider (pixels): fixed, so that the column never changes width


def alpha_time_constant_s(alpha: float) -> float:
    """The EMA's time constant in seconds for a weight ``alpha`` per second: -1 / ln(1 - alpha)."""
    return math.inf if alpha <= 0 else 0.0 if alpha >= 1 else -1.0 / math.log1p(-alpha)


def _slider(setting: NumberSetting) -> QSlider:
    """A slider over ``setting``'s range in its steps, with its tooltip (core/settings_schema.py)."""
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(*setting.slider_range())
    slider.setToolTip(setting.tooltip)
    return slider


class MusicControls(QGroupBox):
    """The owner's controls, in plain words; each tooltip gives the exact meaning and unit. GUI thread.

    Signals, in the settings' units: ``alpha_changed(float)`` (the EMA's weight per second),
    ``tau_changed(float)`` (V-A units), ``dwell_changed(float)`` and ``crossfade_changed(float)`` (seconds),
    ``volume_changed(float)`` (0..1), ``mode_changed(str)`` (a ``MATCH_MODES`` name). The buttons, the
    device list and the privacy switch are connected by the window itself."""

    alpha_changed = Signal(float)
    tau_changed = Signal(float)
    dwell_changed = Signal(float)
    crossfade_changed = Signal(float)
    volume_changed = Signal(float)
    mode_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Music controls", parent)
        form = QFormLayout(self)
        self.alpha_slider = _slider(ALPHA)
        self.alpha_label = QLabel()
        self.tau_slider = _slider(TAU)
        self.tau_label = QLabel()
        self.dwell_slider = _slider(DWELL)
        self.dwell_label = QLabel()
        self.crossfade_slider = _slider(CROSSFADE)
        self.crossfade_label = QLabel()
        self.volume_slider = _slider(VOLUME)
        for setting, slider, label in (
            (ALPHA, self.alpha_slider, self.alpha_label),
            (TAU, self.tau_slider, self.tau_label),
            (DWELL, self.dwell_slider, self.dwell_label),
            (CROSSFADE, self.crossfade_slider, self.crossfade_label),
        ):
            row = QHBoxLayout()
            row.addWidget(slider, 1)
            label.setFixedWidth(VALUE_LABEL_WIDTH)
            row.addWidget(label)
            form.addRow(setting.label, row)
            label.setToolTip(setting.tooltip)
            field_label = form.labelForField(row)
            if field_label is not None:
                field_label.setToolTip(setting.tooltip)
        self.mode_combo = QComboBox()
        for mode in MATCH_MODES:
            self.mode_combo.addItem(MODE_LABELS[mode], mode)
        self.mode_combo.setToolTip(
            "Match the mood: songs close to the room's mood. Lift the mood: songs a little more pleasant "
            "than the room. Calm the room: songs a little calmer (lower energy) than the room."
        )
        form.addRow("The music should", self.mode_combo)
        form.addRow(VOLUME.label, self.volume_slider)
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
        self.device_combo.setToolTip("Where the music plays: the system's default output or a chosen device")
        form.addRow("Sound output", self.device_combo)
        self.privacy_check = QCheckBox("Hide the camera picture (privacy)")
        self.privacy_check.setToolTip("Show no camera picture on screen; the mood is still read from the camera.")
        form.addRow(self.privacy_check)
        self.alpha_slider.valueChanged.connect(self._alpha_moved)
        self.tau_slider.valueChanged.connect(self._tau_moved)
        self.dwell_slider.valueChanged.connect(self._dwell_moved)
        self.crossfade_slider.valueChanged.connect(self._crossfade_moved)
        self.volume_slider.valueChanged.connect(self._volume_moved)
        self.mode_combo.currentIndexChanged.connect(self._mode_picked)

    def show_values(
        self, alpha: float, tau: float, dwell_s: float, crossfade_s: float, volume: float, mode: str
    ) -> None:
        """Set the controls to these values, then emit every value once, even those the controls showed."""
        self.alpha_slider.setValue(round(alpha * 100))
        self.tau_slider.setValue(round(tau * 100))
        self.dwell_slider.setValue(round(dwell_s))
        self.crossfade_slider.setValue(round(crossfade_s))
        self.volume_slider.setValue(round(volume * 100))
        self.mode_combo.setCurrentIndex(max(self.mode_combo.findData(mode), 0))
        self._alpha_moved(self.alpha_slider.value())
        self._tau_moved(self.tau_slider.value())
        self._dwell_moved(self.dwell_slider.value())
        self._crossfade_moved(self.crossfade_slider.value())
        self._volume_moved(self.volume_slider.value())
        self.mode_changed.emit(mode)

    def _alpha_moved(self, value: int) -> None:
        alpha = value / 100
        self.alpha_label.setText(f"settles in ~{alpha_time_constant_s(alpha):.1f} s")
        self.alpha_changed.emit(alpha)

    def _tau_moved(self, value: int) -> None:
        tau = value / 100
        self.tau_label.setText(f"holds beyond ± {tau:.2f}")
        self.tau_changed.emit(tau)

    def _dwell_moved(self, value: int) -> None:
        self.dwell_label.setText(f"{value} s")
        self.dwell_changed.emit(float(value))

    def _crossfade_moved(self, value: int) -> None:
        self.crossfade_label.setText(f"{value} s")
        self.crossfade_changed.emit(float(value))

    def _volume_moved(self, value: int) -> None:
        self.volume_changed.emit(value / 100)

    def _mode_picked(self) -> None:
        self.mode_changed.emit(str(self.mode_combo.currentData()))

    def fill_devices(self, devices: Sequence[OutputDevice]) -> None:
        """ "System default" (data None) and ``devices``, each once as the platform's main sound system names it
        (data: the saved setting; see ``audio/host_apis.py``), without a change signal."""
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        self.device_combo.addItem("System default", None)
        for device in preferred_outputs(devices):
            self.device_combo.addItem(f"{device.name} ({device.hostapi})", device_setting(device))
        self.device_combo.blockSignals(False)
