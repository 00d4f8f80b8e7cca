"""The window's list of sound outputs on Windows (the platform mocked): each output once, as WASAPI names it."""

from __future__ import annotations

from types import SimpleNamespace

from moodsic_desktop.audio import host_apis
from moodsic_desktop.ui.music_controls import MusicControls
from tests.audio.test_host_apis import WINDOWS, outputs


def test_the_output_list_shows_each_windows_output_once(qtbot, monkeypatch):
    monkeypatch.setattr(host_apis, "sys", SimpleNamespace(platform="win32"))
    controls = MusicControls()
    qtbot.addWidget(controls)
    controls.fill_devices(outputs(WINDOWS))
    combo = controls.device_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "System default",
        "Speakers (Realtek(R) Audio) (Windows WASAPI)",
        "LG ULTRAGEAR (NVIDIA High Definition Audio) (Windows WASAPI)",
    ]
    assert combo.itemData(1) == "Speakers (Realtek(R) Audio), Windows WASAPI"
