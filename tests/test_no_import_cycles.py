"""Issue 24: no two modules of the program import each other, type-only imports included (grimp, which
import-linter uses, reads every import statement, those under ``if TYPE_CHECKING`` too)."""

import grimp


def test_no_two_modules_import_each_other():
    graph = grimp.build_graph("moodsic_desktop", cache_dir=None)
    imports = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    pairs = sorted({tuple(sorted((a, b))) for a, targets in imports.items() for b in targets if a in imports[b]})
    assert pairs == []
