"""Can the program use an installed model? Open its expert as the program would, then run it once on a
blank frame: a model can load (its files, checksums and declared shapes all fine) and still fail on every
frame, for example when its graph's shapes clash only at run time. The running program finds that out
after ``core.pipeline.FAILURES_BEFORE_FALLBACK`` failed readings and replaces the model by its built-in
reader; ``moodsic models list`` and ``verify`` find it out here, before a session.

A trial run rather than a record of past failures: it needs no state written by the window, it answers
for the model as it is now (a replaced file is tried afresh), and a model that fails on a blank frame
fails on every frame. A model that fails only on some pictures is not caught here; the window's banner
and ``moodsic analyze``'s warning say so when it happens. Any thread; seconds for a large model.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from moodsic_desktop.core.types import FaceBox
from moodsic_desktop.perception.model_store import ModelStatus
from moodsic_desktop.perception.onnx_runtime import OnnxRuntimeError, RuntimeConfig
from moodsic_desktop.perception.registry import create_model_expert

__all__ = ["TRIAL_FRAME_SIZE", "expert_problem", "trial_problem"]

TRIAL_FRAME_SIZE = 256  # pixels, square: a mid-grey frame with one face box over its middle half
MAX_REASON_CHARS = 200  # of a runtime's error message: its first line, cut to this


def trial_problem(expert: Any, role: str) -> str | None:
    """Run ``expert`` (a face or scene expert, ``role`` "face" or "scene") once on a blank frame; why it
    failed (it raised, or gave a non-finite reading) in a few words, or None when it ran."""
    frame = np.full((TRIAL_FRAME_SIZE, TRIAL_FRAME_SIZE, 3), 128, np.uint8)
    quarter = TRIAL_FRAME_SIZE / 4
    try:
        if role == "face":
            estimate = expert.estimate(frame, FaceBox(quarter, quarter, 2 * quarter, 2 * quarter, 1.0), 0.0)
        else:
            estimate = expert.estimate(frame, 0.0)
    except Exception as error:  # whatever the runtime raises: that is the finding
        return _short(str(error)) or type(error).__name__
    finally:
        reset = getattr(expert, "reset", None)
        if reset is not None:
            reset()
    if estimate is not None and not estimate.is_finite():
        return "it gives a reading that is not a number"
    return None


def _short(message: str) -> str:
    """A runtime's error message in one line of at most ``MAX_REASON_CHARS``: onnxruntime's prefix dropped,
    the start (what failed) and the end (why) kept."""
    text = re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", " ".join(message.split()))
    if len(text) <= MAX_REASON_CHARS:
        return text
    head = MAX_REASON_CHARS // 3
    return f"{text[:head]} … {text[-(MAX_REASON_CHARS - head - 3) :]}"


def expert_problem(status: ModelStatus, runtime: RuntimeConfig | None = None) -> str | None:
    """Why the program cannot use the usable-looking model entry ``status``: "cannot be loaded (…)" or
    "loads, but fails when run (…)"; None when its expert opens and reads a blank frame. ``runtime``:
    default the CPU."""
    try:
        expert = create_model_expert(status, runtime or RuntimeConfig(device="cpu"))
    except (OnnxRuntimeError, ValueError, KeyError) as error:
        return f"cannot be loaded ({error})"
    try:
        problem = trial_problem(expert, status.expert)
    finally:
        close = getattr(expert, "close", None)
        if close is not None:
            close()
    return None if problem is None else f"loads, but fails when run ({problem})"
