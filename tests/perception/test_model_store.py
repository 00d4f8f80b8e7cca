"""The models folder: manifest, checksums, metadata, and reasons for every rejected file."""

from __future__ import annotations

import json

import pytest

from moodsic_desktop.perception.model_store import (
    MANIFEST_NAME,
    ManifestError,
    OnnxFileError,
    make_entry,
    read_manifest,
    read_onnx_metadata,
    register_model,
    scan_models,
    sha256_file,
)
from tests.perception.test_onnx_runtime import tiny_model


def emonet_like(path):
    return tiny_model(path, {"moodsic.kind": "emonet", "moodsic.format": "1", "moodsic.licence": "CC BY-NC-ND 4.0"})


def scene_pair(folder, backbone_id="abc", head_backbone_id="abc"):
    backbone = tiny_model(
        folder / "s.backbone.onnx",
        {"moodsic.kind": "scene-backbone", "moodsic.backbone_id": backbone_id, "moodsic.feature_dim": "4"},
    )
    head = tiny_model(
        folder / "s.head.onnx",
        {"moodsic.kind": "scene-head", "moodsic.backbone_id": head_backbone_id, "moodsic.feature_dim": "4"},
    )
    return {"backbone": backbone, "head": head}


def test_metadata_is_read_from_the_wire_format_without_the_graph(tmp_path):
    path = emonet_like(tmp_path / "m.onnx")
    assert read_onnx_metadata(path)["moodsic.kind"] == "emonet"
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(OnnxFileError):
        read_onnx_metadata(truncated)
    html = tmp_path / "page.onnx"
    html.write_text("<html><body>404 Not Found</body></html>")
    with pytest.raises(OnnxFileError):
        read_onnx_metadata(html)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(OnnxFileError, match="empty"):
        read_onnx_metadata(empty)


def test_no_folder_no_manifest_and_unlisted_files_are_notes_not_errors(tmp_path):
    assert "no models folder" in scan_models(tmp_path / "absent").notes[0]
    assert "no model installed" in scan_models(tmp_path).notes[0]
    emonet_like(tmp_path / "stray.onnx")
    scan = scan_models(tmp_path)
    assert scan.models == []
    assert "stray.onnx is not listed in manifest.json" in scan.notes[0]


def test_a_registered_model_is_usable_with_its_licence(tmp_path):
    path = emonet_like(tmp_path / "emonet-8.onnx")
    register_model(make_entry("emonet-8", "emonet", {"model": path}, tmp_path, licence="CC BY-NC-ND 4.0"), tmp_path)
    scan = scan_models(tmp_path)
    (status,) = scan.usable("face")
    assert status.name == "emonet-8" and status.files["model"] == path
    assert status.licence == "CC BY-NC-ND 4.0" and status.commercial_use is False
    assert scan.usable("scene") == [] and scan.notes == []
    assert read_manifest(tmp_path)["models"][0]["files"]["model"]["sha256"] == sha256_file(path)


def test_registering_again_replaces_the_entry(tmp_path):
    path = emonet_like(tmp_path / "emonet-8.onnx")
    for _ in range(2):
        register_model(make_entry("emonet-8", "emonet", {"model": path}, tmp_path), tmp_path)
    assert len(read_manifest(tmp_path)["models"]) == 1


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("delete", "missing: emonet-8.onnx not found"),
        ("flip", "corrupt: emonet-8.onnx does not match its recorded SHA-256"),
        ("truncate", "corrupt: emonet-8.onnx has"),
        ("foreign", "corrupt: emonet-8.onnx is not a readable ONNX model"),
    ],
)
def test_damaged_files_are_rejected_with_the_reason(tmp_path, damage, reason):
    path = emonet_like(tmp_path / "emonet-8.onnx")
    register_model(make_entry("emonet-8", "emonet", {"model": path}, tmp_path), tmp_path)
    data = path.read_bytes()
    if damage == "delete":
        path.unlink()
    elif damage == "flip":
        path.write_bytes(data[:-5] + bytes([data[-5] ^ 0xFF]) + data[-4:])
    elif damage == "truncate":
        path.write_bytes(data[:-10])
    else:  # same size, not ONNX: the recorded checksum is skipped, the wire format catches it
        path.write_bytes(b"\xff" * len(data))
    scan = scan_models(tmp_path, verify_checksums=damage != "foreign")
    (status,) = scan.models
    assert not status.usable
    assert status.problems[0].startswith(reason), status.problems


def test_a_file_of_another_kind_is_mismatched(tmp_path):
    files = scene_pair(tmp_path)
    register_model(make_entry("emonet-8", "emonet", {"model": files["head"]}, tmp_path), tmp_path)
    (status,) = scan_models(tmp_path).models
    assert status.problems == ["mismatched: s.head.onnx is a scene-head model, the model file must be a emonet"]


def test_a_scene_head_trained_for_another_backbone_is_mismatched(tmp_path):
    files = scene_pair(tmp_path, head_backbone_id="other")
    register_model(make_entry("scene", "scene", files, tmp_path), tmp_path)
    (status,) = scan_models(tmp_path).models
    assert status.problems[0].startswith("mismatched: the head was trained on the features of another backbone")
    ok = tmp_path / "ok"
    ok.mkdir()
    register_model(make_entry("scene", "scene", scene_pair(ok), ok), ok)
    assert scan_models(ok).usable("scene")


def test_a_damaged_manifest_uses_no_model_and_is_never_overwritten(tmp_path):
    emonet_like(tmp_path / "emonet-8.onnx")
    (tmp_path / MANIFEST_NAME).write_text('{"schema_version": 1, "models": [')
    scan = scan_models(tmp_path)
    assert scan.models == []
    assert "is damaged" in scan.notes[0]
    with pytest.raises(ManifestError):
        register_model(make_entry("x", "emonet", {"model": tmp_path / "emonet-8.onnx"}, tmp_path), tmp_path)
    assert (tmp_path / MANIFEST_NAME).read_text() == '{"schema_version": 1, "models": ['


def test_bad_entries_and_unknown_kinds_are_reported(tmp_path):
    (tmp_path / MANIFEST_NAME).write_text(
        json.dumps({"schema_version": 1, "models": [{"name": "odd", "kind": "voice"}, "junk", {"name": "x"}]})
    )
    problems = [status.problems[0] for status in scan_models(tmp_path).models]
    assert problems[0].startswith("unsupported: unknown model kind 'voice'")
    assert problems[1] == "corrupt manifest entry (not an object)"
    assert problems[2].startswith("unsupported: unknown model kind '?'")
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({"schema_version": 99, "models": []}))
    assert "schema version 99" in scan_models(tmp_path).notes[0]
