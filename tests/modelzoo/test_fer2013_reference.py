"""The float64 Keras reference of the FER-2013 converter (``modelzoo/fer2013_reference.py``), which makes
the parity probe of the converted file, against an independent PyTorch implementation and against
TensorFlow's 'same' padding written out again."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("h5py", reason="the converter needs h5py (the models extra)")
torch = pytest.importorskip("torch", reason="the reference implementation needs PyTorch (the models extra)")

from moodsic_desktop.modelzoo.fer2013 import read_source  # noqa: E402
from moodsic_desktop.modelzoo.fer2013_reference import keras_forward, keras_pads, same_pads  # noqa: E402
from tests.modelzoo.fer2013_references import TorchMiniXception, test_inputs, tf_same  # noqa: E402


def test_the_keras_reference_agrees_with_pytorch(synthetic):
    """keras_forward (which makes the parity probe) is itself right: PyTorch gives the same numbers."""
    images = test_inputs()
    model = read_source(synthetic, require_release=False)
    keras = keras_forward(model, images)["expression"]
    with torch.no_grad():
        reference = TorchMiniXception(synthetic).eval()(torch.from_numpy(images)).double().numpy()
    assert np.abs(keras - reference).max() <= 1e-5


def test_same_padding_is_tensorflows():
    """The padding the reference and the graph builder share: TensorFlow's 'same' puts the odd pixel at the end."""
    for size in range(1, 70):
        for kernel in (1, 3):
            for stride in (1, 2):
                assert same_pads(size, kernel, stride) == tf_same(size, kernel, stride)
    assert keras_pads("same", (60, 15), (3, 3), (2, 2)) == [(0, 1), (1, 1)]
    assert keras_pads("valid", (64, 64), (3, 3), (1, 1)) == [(0, 0), (0, 0)]
