"""The owner's settings that the audio engine applies (``core.settings_schema``, target ``"engine"``): the
crossfade (seconds), the volume (0..1) and the sound output (a saved device name, or None for the system
default). The end of the settings road on the engine's side (``ARCHITECTURE.md``, "The settings road").

Kept beside ``engine.py`` rather than in it: one idea (a setting's name → the engine's attribute), and the
engine module stays within the size the project keeps its modules to.
"""

from __future__ import annotations

from collections.abc import Mapping

from moodsic_desktop.audio.engine import AudioEngine
from moodsic_desktop.core.settings_schema import checked

ATTRIBUTES = {"crossfade_s": "crossfade_s", "volume": "volume", "audio_device": "device"}
"""Each engine setting's attribute of ``AudioEngine`` (a test checks it covers every setting aimed at it)."""


def apply_to_engine(engine: AudioEngine, changes: Mapping[str, object]) -> None:
    """Set ``changes`` (values by setting name, each aimed at the engine) on ``engine``, checked once
    (``checked``: ``ValueError`` before anything changes). Any thread: the engine's setters return at once
    (the sound output is reopened on the engine's own worker thread)."""
    for name, value in checked(changes, "engine").items():
        setattr(engine, ATTRIBUTES[name], value)
