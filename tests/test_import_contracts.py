"""The shape of the package, checked: the layers and forbidden imports of ``[tool.importlinter]`` in
pyproject.toml (``lint-imports``), no import of the program's own modules hidden inside a function, no module
over ``MAX_LINES`` lines, and no private name used outside its module or exported from it.

An import inside a function hides a dependency from the module's header and from import-linter's reader
of the intent; it is kept only for a real cycle or a heavy, optional dependency, each named in ``ALLOWED``
with its reason. Third-party imports inside functions (Qt, OpenCV, onnxruntime for optional paths) are not
this test's business.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "moodsic_desktop"

# (importing module or package, imported module — "name.*" for a package's modules —, reason): the only
# own-module imports allowed inside a function.
ALLOWED: set[tuple[str, str, str]] = {
    (
        "moodsic_desktop.cli.models",
        "moodsic_desktop.modelzoo.*",
        "PyTorch (the `models` extra): only `moodsic models export | train-scene` load it",
    ),
    (
        "moodsic_desktop.cli.models",
        "moodsic_desktop.evaluation.bench",
        "PyTorch (the `models` extra): only `moodsic bench` loads it",
    ),
    (
        "moodsic_desktop.cli.dayplan",
        "moodsic_desktop.ui.settings",
        "it imports Qt (for the settings folder): only `moodsic dayplan` loads it, the other commands never do",
    ),
    (
        "moodsic_desktop.ui.app",
        "moodsic_desktop.ui.settings",
        "it imports Qt, and main.py --self-test (which imports this module) must run without loading Qt",
    ),
    (
        "moodsic_desktop.ui.app",
        "moodsic_desktop.ui.main_window",
        "start-up: the splash screen shows before the window's heavy modules load",
    ),
    (
        "moodsic_desktop.ui.app",
        "moodsic_desktop.ui.engine_bridge",
        "start-up: it loads Qt (which --self-test never loads); after the splash screen",
    ),
    (
        "moodsic_desktop.ui.app",
        "moodsic_desktop.audio.engine",
        "start-up: the splash screen shows before the audio engine loads",
    ),
    (
        "moodsic_desktop.ui.models_dialog",
        "moodsic_desktop.perception.model_download",
        "privacy: the running program loads no download code until Install is pressed "
        "(tests/ui/test_models_dialog.py::test_the_running_program_does_not_load_the_download_code)",
    ),
}
MAX_LINES = 600  # a module over this holds more than one idea


def _matches(importer: str, imported: str, entry: tuple[str, str, str]) -> bool:
    allowed_importer, allowed_module, _ = entry
    module_ok = (
        imported.startswith(allowed_module[:-1]) if allowed_module.endswith(".*") else imported == allowed_module
    )
    return module_ok and (importer == allowed_importer or importer.startswith(allowed_importer + "."))


def _allowed(importer: str, imported: str) -> bool:
    return any(_matches(importer, imported, entry) for entry in ALLOWED)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module an ``ImportFrom`` names (relative imports resolved against ``module``)."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_inside_functions() -> list[tuple[str, str, int]]:
    """(importing module, imported own module, line) for every own-module import inside a function."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        seen: set[int] = set()
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if id(node) in seen:
                    continue
                seen.add(id(node))
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    target = _resolve(node, module, path.name == "__init__.py")
                    # `from moodsic_desktop import paths` imports a module, `from moodsic_desktop.x import f` a name
                    names = [
                        f"{target}.{alias.name}" if _is_module(f"{target}.{alias.name}") else target
                        for alias in node.names
                    ]
                else:
                    continue
                found += [
                    (module, name, node.lineno)
                    for name in names
                    if name == "moodsic_desktop" or name.startswith("moodsic_desktop.")
                ]
    return found


def test_no_own_module_is_imported_inside_a_function():
    offenders = sorted(
        f"{importer}:{line} imports {imported}"
        for importer, imported, line in imports_inside_functions()
        if not _allowed(importer, imported)
    )
    assert offenders == [], "move these imports to the top of the module (or name a real reason in ALLOWED)"


def test_the_allow_list_names_only_imports_that_exist():
    found = imports_inside_functions()
    stale = sorted(
        f"{entry[0]} -> {entry[1]}"
        for entry in ALLOWED
        if not any(_matches(importer, imported, entry) for importer, imported, _ in found)
    )
    assert stale == [], "these ALLOWED entries no longer happen: remove them"


def test_every_module_is_small():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these by idea (at most {MAX_LINES} lines each)"


def test_no_private_name_is_imported_from_another_module():
    """A leading underscore means "this module's business": another module that needs the name needs it public."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("moodsic_desktop")):
                offenders += [
                    f"{path.relative_to(ROOT)}:{node.lineno} {alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.endswith("__")
                ]
    assert offenders == []


def test_no_module_exports_a_private_name():
    """``__all__`` is what a module offers; a private name there (or another module's name imported under a
    private alias and listed) is a re-export behind an underscore: the importer should use the owner."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                offenders += [
                    f"{path.relative_to(ROOT)}:{node.lineno} {item.value}"
                    for item in ast.walk(node.value)
                    if isinstance(item, ast.Constant) and str(item.value).startswith("_")
                ]
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("moodsic_desktop")):
                offenders += [
                    f"{path.relative_to(ROOT)}:{node.lineno} {alias.name} as {alias.asname}"
                    for alias in node.names
                    if (alias.asname or "").startswith("_")
                ]
    assert offenders == []


def test_import_contracts_are_kept():
    """``lint-imports`` (the console script beside this interpreter) passes on this checkout's package."""
    # This checkout's package first on the path, whichever environment (an editable install elsewhere) runs.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
