"""ONNX export shared by the models: the exporter call, metadata inside the file, the parity probe.

Every exported file gets ``moodsic.format`` and the caller's metadata (keys prefixed ``moodsic.``; values
that are not strings stored as JSON), and a parity probe (``moodsic.parity``, see
:mod:`moodsic_desktop.perception.model_check`): PyTorch's outputs for a reproducible input, checked
against onnxruntime right after the export and again by ``moodsic models verify``.

Main thread of the ``moodsic models`` commands (torch export is not re-entrant).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch

from moodsic_desktop.perception.model_check import PARITY_KEY, PARITY_TOLERANCE, ParityResult, check_parity, probe_feeds
from moodsic_desktop.perception.model_store import FORMAT_VERSION, META_PREFIX
from moodsic_desktop.perception.onnx_runtime import RuntimeConfig, create_session

__all__ = ["OPSET", "ParityError", "export_with_probe", "write_metadata"]

OPSET = 17


class ParityError(RuntimeError):
    """The exported ONNX file does not compute what the PyTorch module computes."""


def write_metadata(path: str | os.PathLike[str], metadata: Mapping[str, Any]) -> None:
    """Store ``metadata`` in the ONNX file (keys get the ``moodsic.`` prefix; non-strings become JSON)."""
    model = onnx.load(str(path))
    values = {"format": FORMAT_VERSION, **metadata}
    existing = {p.key: p for p in model.metadata_props}
    for key, value in values.items():
        full = key if key.startswith(META_PREFIX) else META_PREFIX + key
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        if full in existing:
            existing[full].value = text
        else:
            prop = model.metadata_props.add()
            prop.key, prop.value = full, text
    onnx.save(model, str(path))


def export_with_probe(
    module: torch.nn.Module,
    path: str | os.PathLike[str],
    *,
    probe_inputs: Mapping[str, Mapping[str, Any]],
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_axes: Mapping[str, Mapping[int, str]],
    metadata: Mapping[str, Any],
    tolerance: float = PARITY_TOLERANCE,
) -> ParityResult:
    """Export ``module`` (eval mode, float32) to ``path``, write ``metadata`` and the parity probe, and check
    parity with onnxruntime on the CPU. ``probe_inputs`` describes the inputs in the order of
    ``input_names`` (see ``model_check.probe_feeds``); they are also the example inputs of the trace.

    Raises :class:`ParityError` (the file is removed) when an output's relative error exceeds ``tolerance``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    module = module.eval()
    feeds = probe_feeds(probe_inputs)
    args = tuple(torch.from_numpy(feeds[name]) for name in input_names)
    with torch.no_grad():
        reference = module(*args)
    reference = reference if isinstance(reference, tuple | list) else (reference,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation and tracer notes
        torch.onnx.export(
            module,
            args,
            str(path),
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_axes={k: dict(v) for k, v in dynamic_axes.items()},
            opset_version=OPSET,
            dynamo=False,
            do_constant_folding=True,
        )
    outputs = {
        name: np.asarray(value.detach().numpy(), dtype=np.float64)
        for name, value in zip(output_names, reference, strict=True)
    }
    probe = {
        "inputs": {k: dict(v) for k, v in probe_inputs.items()},
        "outputs": {k: v.tolist() for k, v in outputs.items()},
        "tolerance": tolerance,
    }
    write_metadata(path, {**metadata, PARITY_KEY: probe})
    result = check_parity(create_session(path, RuntimeConfig(device="cpu")))
    if not result.ok:
        path.unlink(missing_ok=True)
        raise ParityError(f"{path.name}: {result.describe()}")
    return result
