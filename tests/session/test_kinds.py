"""The modes and kinds that settings files, the command line and the library index carry as plain strings:
each is a Literal with a ``validate_*`` helper, and the edges (``EngineSettings``, the index) check them."""

from __future__ import annotations

import pytest

from moodsic_desktop.audio.library.importers import RatedImporter
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.reports import LibraryIndexError
from moodsic_desktop.core.matcher import MATCH_MODES
from moodsic_desktop.core.song import MOOD_SOURCES, validate_mood_source
from moodsic_desktop.perception.emonet_expert import UNCERTAINTY_MODES, validate_face_uncertainty
from moodsic_desktop.perception.onnx_runtime import DEVICE_CHOICES, RuntimeConfig, validate_onnx_device
from moodsic_desktop.session.assembly import EngineSettings


@pytest.mark.parametrize(
    ("validate", "choices"),
    [
        (validate_mood_source, MOOD_SOURCES),
        (validate_face_uncertainty, UNCERTAINTY_MODES),
        (validate_onnx_device, DEVICE_CHOICES),
    ],
)
def test_each_validator_takes_its_choices_and_names_them_when_refusing(validate, choices):
    assert [validate(choice) for choice in choices] == list(choices)
    with pytest.raises(ValueError, match=choices[-1]):
        validate("nonsense")


def test_the_stored_strings_stay_what_settings_and_reports_hold():
    assert MOOD_SOURCES == ("rated", "estimated", "placed")
    assert UNCERTAINTY_MODES == ("window", "tta")
    assert DEVICE_CHOICES == ("auto", "cpu", "cuda", "directml", "coreml")
    assert MATCH_MODES == ("match", "uplift", "calm")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mode", "louder", "unknown mode 'louder'"),
        ("onnx_device", "tpu", "unknown ONNX device 'tpu'"),
        ("face_uncertainty", "dropout", "unknown uncertainty mode 'dropout'"),
    ],
)
def test_engine_settings_refuse_an_unknown_mode_or_kind(field, value, message):
    with pytest.raises(ValueError, match=message):
        EngineSettings(**{field: value})


def test_engine_settings_take_every_known_value():
    for mode in MATCH_MODES:
        assert EngineSettings(mode=mode).mode == mode
    for device in DEVICE_CHOICES:
        assert EngineSettings(onnx_device=device).onnx_device == device
    for uncertainty in UNCERTAINTY_MODES:
        assert EngineSettings(face_uncertainty=uncertainty).face_uncertainty == uncertainty


def test_the_environment_device_is_checked(monkeypatch):
    monkeypatch.setenv("MOODSIC_ONNX_DEVICE", "CUDA")
    assert RuntimeConfig.from_environment().device == "cuda"
    monkeypatch.setenv("MOODSIC_ONNX_DEVICE", "quantum")
    with pytest.raises(ValueError, match="unknown ONNX device 'quantum'"):
        RuntimeConfig.from_environment()


def test_an_unknown_mood_source_in_the_index_is_reported_as_damage(tmp_path, deam_fixture):
    path = tmp_path / "library.sqlite"
    with LibraryIndex(path) as index:
        RatedImporter(index).import_deam(deam_fixture)
        index._conn.execute("PRAGMA ignore_check_constraints = ON")  # written around the schema's CHECK
        index._conn.execute("UPDATE songs SET mood_source = 'guessed' WHERE rowid = 1")
        with pytest.raises(LibraryIndexError, match=r"damaged: song .*unknown mood source 'guessed'"):
            index.entries()
