"""Reports are strict JSON: no NaN or Infinity tokens, a missing value is null."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pytest

from moodsic_desktop.core import strict_json

PACKAGE = Path(__file__).resolve().parents[2] / "moodsic_desktop"
# every file that writes a report the user asked for: analyze and the session export (core/report.py),
# eval (evaluation/datasets.py), library --report and bench --json (cli/_common.py, write_json_report), and
# every other command module, so that none writes JSON past it
REPORT_WRITERS = (
    "core/report.py",
    "evaluation/datasets.py",
    *sorted(p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "cli").glob("*.py")),
)


def strict_loads(text: str):
    """A reader as strict as the JSON standard: NaN, Infinity and -Infinity are errors."""

    def refuse(token: str):
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_become_null_and_the_rest_stays():
    value = {
        "nan": float("nan"),
        "inf": [float("inf"), -math.inf, np.float32("nan"), np.float64(1.5)],
        "nested": {"t": (1, np.int64(2), True, None, "NaN")},
        "array": np.array([0.5, np.nan]),
        "flag": np.bool_(True),
    }
    text = strict_json.dumps(value)
    assert strict_loads(text) == {
        "nan": None,
        "inf": [None, None, None, 1.5],
        "nested": {"t": [1, 2, True, None, "NaN"]},
        "array": [0.5, None],
        "flag": True,
    }


def test_keywords_pass_through():
    assert strict_json.dumps({"b": 1, "a": "é"}, sort_keys=True, ensure_ascii=False) == '{"a": "é", "b": 1}'


def test_a_session_report_is_written_as_strict_json(monkeypatch):
    from moodsic_desktop.core.report import SessionReport

    report = SessionReport({"source": "test"})
    real = report.to_dict
    monkeypatch.setattr(report, "to_dict", lambda: {**real(), "metrics": {"jitter_reduction": float("nan")}})
    assert strict_loads(report.to_json())["metrics"] == {"jitter_reduction": None}


@pytest.mark.parametrize("name", REPORT_WRITERS)
def test_report_writers_write_only_strict_json(name):
    """Every json.dump(s) call in a report writer goes through strict_json (or forbids NaN itself)."""
    tree = ast.parse((PACKAGE / name).read_text(encoding="utf-8"))
    loose = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"dump", "dumps"}
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "json"
        and not any(k.arg == "allow_nan" and getattr(k.value, "value", True) is False for k in node.keywords)
    ]
    assert loose == [], f"{name}: json.dumps without allow_nan=False at lines {loose}"
