"""JSON that every reader accepts. Python's ``json`` writes a non-finite number as ``NaN``, ``Infinity`` or
``-Infinity``, which are not JSON: strict readers (browsers, ``jq``, most languages' parsers) reject the
whole file. Here a non-finite number, where a value is legitimately missing (an undefined correlation, a
metric with nothing to measure), becomes ``null``; anything else that would still be non-finite is an
error (``allow_nan=False``). numpy scalars and arrays are written as plain numbers and lists.

Pure functions; safe on any thread.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np


def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float (Python or numpy) inside it replaced by ``None``; dicts,
    lists, tuples and numpy arrays are walked, numpy scalars become Python numbers."""
    if isinstance(value, bool | str | None):  # bool before the number check: True is an int
        return value
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return finite_or_none(value.tolist())
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(item) for item in value]
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` of ``finite_or_none(value)`` with ``allow_nan=False`` (other keywords pass through)."""
    return json.dumps(finite_or_none(value), allow_nan=False, **kwargs)
