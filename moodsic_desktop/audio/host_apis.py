"""Sound outputs as each platform's own sound system names them, each listed once.

PortAudio lists an output once per host API. On Windows the same speakers appear under MME (names cut to
31 characters), Windows DirectSound, Windows WASAPI and Windows WDM-KS; on macOS there is Core Audio; on
Linux ALSA (and JACK or PulseAudio where PortAudio was built with them). The owner sees each output once,
named as the platform's main sound system names it: WASAPI on Windows, Core Audio on macOS; on Linux
every host API stays (its devices have different names there).

The setting that remembers the chosen output is the name *with* its host API on Windows and macOS
(``"Speakers (Realtek(R) Audio), Windows WASAPI"``): sounddevice picks the device whose "name, host API"
is exactly that, where the bare name would match the same speakers under several host APIs. On Linux it
stays the bare name, as earlier versions saved it. Pure functions; any thread.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from moodsic_desktop.audio.output import OutputDevice

PREFERRED_HOST_API = {"win32": "Windows WASAPI", "darwin": "Core Audio"}
"""PortAudio's name of each platform's main sound system (``sys.platform`` → host API)."""


def preferred_outputs(devices: Iterable[OutputDevice], platform: str | None = None) -> list[OutputDevice]:
    """The outputs of ``platform``'s (default ``sys.platform``) main host API, in PortAudio's order; all of
    them where the platform has none listed (a PortAudio built without it lists the rest rather than
    nothing)."""
    devices = list(devices)
    wanted = PREFERRED_HOST_API.get(platform or sys.platform)
    chosen = [device for device in devices if device.hostapi == wanted]
    return chosen or devices


def device_setting(device: OutputDevice, platform: str | None = None) -> str:
    """What is saved for the chosen output and later handed to sounddevice to open it, on ``platform``
    (default ``sys.platform``; see the module's notes)."""
    return f"{device.name}, {device.hostapi}" if (platform or sys.platform) in PREFERRED_HOST_API else device.name
