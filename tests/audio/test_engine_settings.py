"""The settings road's end in the audio engine (``audio/engine_settings.py``): every setting the schema aims
at the engine reaches it through ``apply_to_engine``, checked once against the schema; a batch with a value
it cannot take changes nothing."""

from __future__ import annotations

import pytest

from moodsic_desktop.audio import engine_settings
from moodsic_desktop.audio.engine_settings import ATTRIBUTES, apply_to_engine
from moodsic_desktop.core.settings_schema import SETTINGS
from tests.audio.engine_rig import make_rigs


@pytest.fixture
def rig():
    yield from make_rigs()


def test_every_setting_aimed_at_the_engine_has_an_attribute():
    assert set(ATTRIBUTES) == {s.name for s in SETTINGS if "engine" in s.targets}


def test_the_engine_settings_reach_the_engine_checked_once(rig, monkeypatch):
    engine = rig().engine
    calls = []
    real = engine_settings.checked
    monkeypatch.setattr(
        engine_settings, "checked", lambda changes, target: calls.append(target) or real(changes, target)
    )
    apply_to_engine(engine, {"crossfade_s": 12.0, "volume": 0.25, "audio_device": "USB Speakers"})
    assert calls == ["engine"]
    assert (engine.crossfade_s, engine.volume, engine.device) == (12.0, 0.25, "USB Speakers")


@pytest.mark.parametrize(
    "changes",
    [
        {"volume": 0.5, "crossfade_s": 21.0},  # past the schema's 20 s
        {"volume": 0.5, "audio_device": 3},
        {"volume": 0.5, "alpha": 0.5},  # the session's, not the engine's
    ],
)
def test_a_batch_the_engine_cannot_take_changes_nothing(rig, changes):
    engine = rig().engine
    before = (engine.crossfade_s, engine.volume, engine.device)
    with pytest.raises(ValueError):
        apply_to_engine(engine, changes)
    assert (engine.crossfade_s, engine.volume, engine.device) == before
