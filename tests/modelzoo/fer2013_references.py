"""Independent references for the FER-2013 converter tests (``test_fer2013*.py``): they read the HDF5 with
their own h5py code and compute the mini-Xception with PyTorch (the whole network) or numpy written out by
hand (single layers), never with the converter's modules. Imported by the tests after their
``importorskip`` of h5py, onnx and torch."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import onnx
import onnxruntime as ort
import torch
from skimage import data


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


def shifted_windows(x: np.ndarray, top: int, left: int, bottom: int, right: int, fill: float = 0.0):
    """For a C x H x W array padded by the given amounts, yield (dy, dx, shifted view) for a 3x3 window."""
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right)), constant_values=fill)
    height, width = padded.shape[1] - 2, padded.shape[2] - 2
    for dy in range(3):
        for dx in range(3):
            yield dy, dx, padded[:, dy : dy + height, dx : dx + width]
