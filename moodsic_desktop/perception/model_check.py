"""Parity probes: a model file carries the outputs PyTorch computed for a reproducible input, so that any
machine can check the ONNX file against them with onnxruntime alone (``moodsic models verify``).

The probe is stored as JSON in the metadata key ``moodsic.parity``::

    {"inputs": {"image": {"kind": "uniform", "seed": 0, "shape": [2, 3, 256, 256]}},
     "outputs": {"valence": [...], "arousal": [...], "expression": [[...], [...]]},
     "tolerance": 0.0001}

Input kinds: ``uniform`` (float32 in [0, 1)), ``normal`` (float32 standard normal) and ``dropout_mask``
(float32, each element 0 with probability ``p``, else 1 / (1 - p)), each drawn from
``numpy.random.default_rng(seed)``. The error of an output is its relative error
``max |onnx - reference| / max |reference|``.

Pure numpy plus an onnxruntime session; any thread.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from moodsic_desktop.perception.model_store import META_PREFIX
from moodsic_desktop.perception.onnx_runtime import OnnxModel

__all__ = ["PARITY_KEY", "PARITY_TOLERANCE", "ParityResult", "check_parity", "probe_feeds", "relative_error"]

PARITY_KEY = META_PREFIX + "parity"
PARITY_TOLERANCE = 1e-4


def probe_feeds(inputs: Mapping[str, Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """The probe's input arrays from their descriptions (see the module docstring)."""
    feeds = {}
    for name, spec in inputs.items():
        rng = np.random.default_rng(int(spec.get("seed", 0)))
        shape = tuple(int(s) for s in spec["shape"])
        kind = spec.get("kind", "uniform")
        if kind == "uniform":
            array = rng.random(shape, dtype=np.float32)
        elif kind == "normal":
            array = rng.standard_normal(shape, dtype=np.float32)
        elif kind == "dropout_mask":
            p = float(spec["p"])
            array = (rng.random(shape) >= p).astype(np.float32) / np.float32(1.0 - p)
        else:
            raise ValueError(f"unknown probe input kind {kind!r}")
        feeds[name] = array
    return feeds


def relative_error(actual: np.ndarray, reference: np.ndarray) -> float:
    """``max |actual - reference| / max |reference|`` (denominator at least 1e-6)."""
    actual = np.asarray(actual, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if actual.shape != reference.shape:
        return float("inf")
    scale = max(float(np.abs(reference).max(initial=0.0)), 1e-6)
    return float(np.abs(actual - reference).max(initial=0.0)) / scale


@dataclass
class ParityResult:
    """Relative error per output and whether all are within the tolerance; ``problem`` when no check ran."""

    errors: dict[str, float] = field(default_factory=dict)
    tolerance: float = PARITY_TOLERANCE
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and all(e <= self.tolerance for e in self.errors.values())

    def describe(self) -> str:
        if self.problem:
            return self.problem
        worst = max(self.errors.values(), default=0.0)
        verdict = "ok" if self.ok else "FAILED"
        return f"parity {verdict}: largest relative error {worst:.2e} (tolerance {self.tolerance:.0e})"


def check_parity(model: OnnxModel) -> ParityResult:
    """Run the model on its stored probe and compare with the stored reference outputs."""
    text = model.metadata.get(PARITY_KEY)
    if not text:
        return ParityResult(problem="no parity probe stored in the file")
    try:
        probe = json.loads(text)
        feeds = probe_feeds(probe["inputs"])
        references = {name: np.asarray(values, dtype=np.float64) for name, values in probe["outputs"].items()}
        tolerance = float(probe.get("tolerance", PARITY_TOLERANCE))
    except (ValueError, KeyError, TypeError) as error:
        return ParityResult(problem=f"the stored parity probe is damaged ({error})")
    try:
        outputs = model.run(feeds, list(references))
    except Exception as error:  # onnxruntime's own exception types
        return ParityResult(problem=f"the model cannot run its parity probe ({str(error).splitlines()[0]})")
    errors = {name: relative_error(out, references[name]) for name, out in zip(references, outputs, strict=True)}
    return ParityResult(errors=errors, tolerance=tolerance)
