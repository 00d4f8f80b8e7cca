"""Sound outputs named as each platform's sound system names them (the platform mocked): on Windows each
output once, under WASAPI, and the saved choice opens that one through sounddevice's own matching."""

from __future__ import annotations

import pytest

from moodsic_desktop.audio.host_apis import device_setting, preferred_outputs
from moodsic_desktop.audio.output import OutputDevice

# What PortAudio lists on a typical Windows PC: the same two outputs under four host APIs (MME cuts names).
WINDOWS = [
    ("Microsoft Sound Mapper - Output", "MME"),
    ("Speakers (Realtek(R) Audio)", "MME"),
    ("LG ULTRAGEAR (NVIDIA High Defin", "MME"),
    ("Primary Sound Driver", "Windows DirectSound"),
    ("Speakers (Realtek(R) Audio)", "Windows DirectSound"),
    ("LG ULTRAGEAR (NVIDIA High Definition Audio)", "Windows DirectSound"),
    ("Speakers (Realtek(R) Audio)", "Windows WASAPI"),
    ("LG ULTRAGEAR (NVIDIA High Definition Audio)", "Windows WASAPI"),
    ("Speakers (Realtek(R) Audio)", "Windows WDM-KS"),
]
MAC = [("MacBook Pro Speakers", "Core Audio"), ("External Headphones", "Core Audio")]
LINUX = [("HDA Intel PCH: ALC3246 Analog (hw:0,0)", "ALSA"), ("pulse", "ALSA"), ("default", "ALSA")]


def outputs(listing) -> list[OutputDevice]:
    return [OutputDevice(k, name, api, 2, 48000.0, k == 0) for k, (name, api) in enumerate(listing)]


def test_windows_lists_each_output_once_under_wasapi_with_its_full_name():
    shown = preferred_outputs(outputs(WINDOWS), "win32")
    assert [(d.name, d.hostapi) for d in shown] == [
        ("Speakers (Realtek(R) Audio)", "Windows WASAPI"),
        ("LG ULTRAGEAR (NVIDIA High Definition Audio)", "Windows WASAPI"),
    ]
    assert device_setting(shown[0], "win32") == "Speakers (Realtek(R) Audio), Windows WASAPI"


def test_macos_lists_core_audio_and_linux_keeps_every_host_api():
    assert [d.hostapi for d in preferred_outputs(outputs(MAC), "darwin")] == ["Core Audio", "Core Audio"]
    assert device_setting(outputs(MAC)[0], "darwin") == "MacBook Pro Speakers, Core Audio"
    assert preferred_outputs(outputs(LINUX), "linux") == outputs(LINUX)
    assert device_setting(outputs(LINUX)[1], "linux") == "pulse"  # as earlier versions saved it


def test_a_portaudio_without_the_main_host_api_lists_the_rest():
    only_mme = outputs(WINDOWS[:3])
    assert preferred_outputs(only_mme, "win32") == only_mme


def test_the_saved_choice_opens_the_wasapi_device_where_the_bare_name_is_ambiguous(monkeypatch):
    sd = pytest.importorskip("sounddevice")
    apis = sorted({api for _, api in WINDOWS})
    devices = [
        {"name": name, "hostapi": apis.index(api), "max_output_channels": 2, "max_input_channels": 0}
        for name, api in WINDOWS
    ]
    monkeypatch.setattr(sd, "query_devices", lambda *args, **kwargs: devices)
    monkeypatch.setattr(sd, "query_hostapis", lambda index: {"name": apis[index]})
    speakers = preferred_outputs(outputs(WINDOWS), "win32")[0]
    with pytest.raises(ValueError, match="Multiple output devices"):
        sd._get_device_id(speakers.name, "output", raise_on_error=True)  # the bare name: four devices
    assert sd._get_device_id(device_setting(speakers, "win32"), "output", raise_on_error=True) == speakers.index
