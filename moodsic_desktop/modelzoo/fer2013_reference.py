"""A float64 numpy implementation of the mini-Xception's Keras layers: the reference the converted ONNX
graph is checked against (its parity probe, see :mod:`moodsic_desktop.perception.model_check`).

It is written apart from the graph builder (:mod:`moodsic_desktop.modelzoo.fer2013_graph`); the two share
only the arithmetic of TensorFlow's padding (:func:`keras_pads`), which the tests check against PyTorch and
numpy written by hand. Slow and exact; any thread; nothing here keeps state.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from moodsic_desktop.modelzoo.fer2013_layout import OUTPUT_NAME
from moodsic_desktop.modelzoo.keras_h5 import KerasModel, SourceError

__all__ = ["keras_forward", "keras_pads", "same_pads"]


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding of one axis: (before, after), the odd pixel at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def keras_pads(
    padding: str, size: Sequence[int], kernel: Sequence[int], strides: Sequence[int]
) -> list[tuple[int, int]]:
    """The padding of a Keras window layer (``"valid"`` or ``"same"``) on an input of ``size`` (height,
    width) pixels: [(top, bottom), (left, right)]."""
    if padding == "valid":
        return [(0, 0), (0, 0)]
    if padding == "same":
        return [same_pads(size[axis], int(kernel[axis]), int(strides[axis])) for axis in (0, 1)]
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
            pads = keras_pads(config["padding"], source.shape[1:3], kernel, strides)
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
            pads = keras_pads(config["padding"], inputs[0].shape[1:3], pool, strides)
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
