"""Choosing experts from models/: model experts when valid files are present; when they are absent, corrupt or
mismatched, the face model in the box (FER-2013) for faces and the built-in scene statistics, with the reason;
the built-in face geometry only when the model in the box cannot be used either — never a crash."""

from __future__ import annotations

import pytest

from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.perception.model_store import MANIFEST_NAME, make_entry, register_model
from moodsic_desktop.session.assembly import BUNDLED_FACE_MODEL, EngineSettings, build_pipeline, select_experts
from tests import model_files

pytest.importorskip("torch", reason="exporting the test models needs the models extra")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A models folder with EmoNet and a tiny scene model, both registered."""
    folder = tmp_path_factory.mktemp("models")
    face = model_files.install({"model": model_files.emonet_onnx(tmp_path_factory)}, folder)
    scene = model_files.install(model_files.tiny_scene_files(tmp_path_factory), folder)
    register_model(make_entry("emonet-8", "emonet", face, folder, licence="CC BY-NC-ND 4.0"), folder)
    register_model(make_entry("scene-tiny", "scene", scene, folder, licence="test"), folder)
    return folder


def test_without_models_the_model_in_the_box_reads_faces_and_the_scene_is_built_in(tmp_path):
    selection = select_experts(EngineSettings(), tmp_path)
    assert selection.face.model == BUNDLED_FACE_MODEL and not selection.face.expert.is_fallback
    assert selection.face.reason.startswith("face: fer2013-mini-xception (ONNX) on CPU — licence MIT")
    assert "non-commercial" not in selection.face.reason
    assert selection.face.terms is not None and selection.face.terms.commercial_use
    assert not selection.for_window().non_commercial and not selection.for_window().model_not_used
    assert selection.scene.expert.is_fallback
    assert selection.scene.reason.startswith("scene: scene-statistics (built-in) (no scene model installed")


def test_when_the_model_in_the_box_is_broken_the_geometry_reads_faces(tmp_path, monkeypatch):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    monkeypatch.setattr("moodsic_desktop.perception.fer_expert.bundled_model_path", lambda: broken)
    selection = select_experts(EngineSettings(), tmp_path)
    assert selection.face.expert.is_fallback and not selection.face.is_model
    assert selection.face.reason == "face: face-geometry (built-in) (no usable model)"
    assert selection.face.problems[0].startswith(f"{BUNDLED_FACE_MODEL} (in the box, {broken}): cannot be loaded")


def test_emonet_is_preferred_to_the_model_in_the_box_and_the_box_can_be_named(models):
    assert select_experts(EngineSettings(), models).face.model == "emonet-8"
    named = select_experts(EngineSettings(face_expert="fer2013"), models)
    assert named.face.model == BUNDLED_FACE_MODEL and named.face.terms.licence == "MIT"


def test_valid_models_are_chosen_with_device_and_licence(models):
    selection = select_experts(EngineSettings(), models)
    assert selection.face.model == "emonet-8" and selection.scene.model == "scene-tiny"
    assert not selection.face.expert.is_fallback and not selection.scene.expert.is_fallback
    assert selection.face.reason.startswith("face: emonet-8 (ONNX) on CPU — licence CC BY-NC-ND 4.0")
    assert "non-commercial use only" in selection.face.reason
    assert selection.face.terms is not None and not selection.face.terms.commercial_use
    assert selection.for_window().non_commercial
    assert selection.lines()[:2] == [selection.face.reason, selection.scene.reason]
    data = selection.to_dict()
    assert data["face"]["model"] == "emonet-8" and data["scene"]["device"] == "CPU"


def test_settings_can_name_a_builtin_a_kind_or_a_model(models):
    builtin = select_experts(EngineSettings(face_expert="face-geometry", scene_expert="scene-statistics"), models)
    assert builtin.face.expert.name == "face-geometry (built-in)"
    assert builtin.face.expert.is_fallback and "chosen in the settings" in builtin.face.reason
    by_kind = select_experts(EngineSettings(face_expert="emonet", scene_expert="scene-tiny"), models)
    assert by_kind.face.model == "emonet-8" and by_kind.scene.model == "scene-tiny"
    unknown = select_experts(EngineSettings(face_expert="emonet-5"), models)
    assert unknown.face.expert.is_fallback
    assert "no face model called 'emonet-5'" in unknown.face.reason


def test_uncertainty_and_samples_settings_reach_the_experts(models):
    selection = select_experts(EngineSettings(face_uncertainty="tta", scene_samples=7), models)
    assert selection.face.expert.uncertainty == "tta"
    assert selection.scene.expert.samples == 7


def test_a_corrupt_model_falls_back_with_the_reason(models, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    copy = model_files.install({"model": models / "emonet-8.onnx"}, folder)
    register_model(make_entry("emonet-8", "emonet", copy, folder), folder)
    data = bytearray(copy["model"].read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy["model"].write_bytes(bytes(data))
    selection = select_experts(EngineSettings(), folder)
    assert selection.face.model == BUNDLED_FACE_MODEL  # the model in the box takes over
    assert selection.face.problems == ("emonet-8: corrupt: emonet-8.onnx does not match its recorded SHA-256 "
                                       "(damaged or replaced)",)  # fmt: skip
    assert "face model not used: emonet-8: corrupt" in selection.lines()[2]
    assert selection.for_window().model_not_used


def test_a_file_that_passes_the_scan_but_onnxruntime_refuses_is_reported(models, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    copy = model_files.install({"model": models / "emonet-8.onnx"}, folder)
    copy["model"].write_bytes(copy["model"].read_bytes().replace(b"Conv", b"Cxnv"))  # an operator nobody has
    register_model(make_entry("emonet-8", "emonet", copy, folder), folder)  # the checksum of the damaged file
    selection = select_experts(EngineSettings(), folder)
    assert selection.face.model == BUNDLED_FACE_MODEL  # the model in the box takes over
    assert selection.face.problems[0].startswith("emonet-8: cannot be loaded (onnxruntime cannot load")


def test_a_mismatched_model_falls_back(models, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    copy = model_files.install({"model": models / "scene-tiny.head.onnx"}, folder)
    register_model(make_entry("emonet-8", "emonet", copy, folder), folder)
    selection = select_experts(EngineSettings(), folder)
    assert selection.face.model == BUNDLED_FACE_MODEL  # the model in the box takes over
    assert "mismatched: scene-tiny.head.onnx is a scene-head model" in selection.face.problems[0]


def test_a_damaged_manifest_is_a_note(tmp_path):
    (tmp_path / MANIFEST_NAME).write_text("{")
    selection = select_experts(EngineSettings(), tmp_path)
    assert selection.face.model == BUNDLED_FACE_MODEL  # the model in the box takes over
    assert "is damaged" in selection.notes[0]
    assert selection.manifest_unreadable and selection.for_window().model_not_used


def test_build_pipeline_uses_the_selection(models):
    from moodsic_desktop.audio.builtin.catalogue import builtin_songs
    from moodsic_desktop.core.stations import fit_station_model

    selection = select_experts(EngineSettings(), models)
    songs = builtin_songs()
    library = MusicLibrary(
        songs=songs,
        origin="test",
        stations=fit_station_model(songs),
        banned=frozenset({"builtin-02"}),
        recent=("builtin-03",),
    )
    pipeline = build_pipeline(library, EngineSettings(), experts=selection)
    assert pipeline.face_expert is selection.face.expert
    assert pipeline.scene_expert is selection.scene.expert
    assert pipeline.matcher.is_banned("builtin-02")  # the index's bans and history reach the matcher
    assert [song_id for _, song_id in pipeline.matcher.plays] == ["builtin-03"]
    pipeline.close()
