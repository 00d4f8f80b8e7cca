"""The layering rules of DESIGN.md, checked: core knows no Qt or OpenCV, audio knows no Qt, and the running
program (core, perception, ui) never imports PyTorch or transformers: they belong to ``moodsic models``."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "moodsic_desktop"
FORBIDDEN = {
    "core": {"PySide6", "cv2", "mediapipe", "onnxruntime", "sounddevice", "torch"},
    "audio": {"PySide6", "cv2", "mediapipe", "torch"},
    "perception": {"PySide6", "torch", "transformers", "onnx"},
    "session": {"PySide6", "torch", "transformers", "onnx"},
    "ui": {"torch", "transformers", "onnx"},
}
# Modules of the running program; importing them (and building the CLI's parser) must not load these.
MODEL_TOOLING = ("torch", "transformers", "onnx")


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_imports_in_source(package):
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(imported_top_levels(path) & FORBIDDEN[package])
        for path in (PACKAGE / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_core_imports_nothing_forbidden_at_run_time():
    modules = [f"moodsic_desktop.core.{p.stem}" for p in (PACKAGE / "core").glob("*.py") if p.stem != "__init__"]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"print(sorted(n for n in {sorted(FORBIDDEN['core'])!r} if n in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_core_and_session_load_no_qt_at_run_time():
    """The PlaybackSession and everything below it run without Qt (``moodsic analyze``, ``--self-test``)."""
    modules = [
        f"moodsic_desktop.{package}.{p.stem}"
        for package in ("core", "session")
        for p in (PACKAGE / package).glob("*.py")
        if p.stem != "__init__"
    ]
    assert "moodsic_desktop.session.playback" in modules
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(sorted(n for n in sys.modules if n == 'PySide6' or n.startswith('PySide6.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_running_program_never_loads_pytorch_or_transformers():
    modules = [
        f"moodsic_desktop.{package}.{p.stem}"
        for package in ("core", "perception", "ui")
        for p in (PACKAGE / package).glob("*.py")
        if p.stem != "__init__"
    ]
    cli_modules = [f"moodsic_desktop.cli.{p.stem}" for p in (PACKAGE / "cli").glob("*.py")]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in [*modules, "moodsic_desktop.session.assembly", *cli_modules])
        + "import moodsic_desktop.cli.main as cli\ncli.build_parser()\n"
        + f"print(sorted(n for n in {MODEL_TOOLING!r} if n in sys.modules))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip().splitlines()[-1] == "[]"
