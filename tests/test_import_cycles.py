"""No module of ``t2i_studio.core`` imports another in a circle, counting imports under
``if TYPE_CHECKING:`` and inside functions too (grimp sees both): checked on the real package, and
on a copy with a circle added, so the check is known to catch one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = "t2i_studio.core"


def _first_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A circle ``[a, b, ..., a]`` in the graph ``edges`` (module -> modules it imports), or None."""
    finished: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return path[path.index(module):] + [module]
        if module in finished:
            return None
        path.append(module)
        for imported in sorted(edges[module]):
            cycle = visit(imported)
            if cycle:
                return cycle
        path.pop()
        finished.add(module)
        return None

    for module in sorted(edges):
        cycle = visit(module)
        if cycle:
            return cycle
    return None


def core_cycle() -> str | None:
    """The first import circle among the core modules, one import per line (where it is), or None."""
    graph = grimp.build_graph("t2i_studio", cache_dir=None)  # TYPE_CHECKING imports included
    core = {m for m in graph.modules if m == CORE or m.startswith(CORE + ".")}
    cycle = _first_cycle({m: graph.find_modules_directly_imported_by(m) & core for m in core})
    if cycle is None:
        return None
    lines = []
    for importer, imported in zip(cycle, cycle[1:]):
        detail = graph.get_import_details(importer=importer, imported=imported)[0]
        lines.append(f"{importer} -> {imported}  (line {detail['line_number']}: {detail['line_contents']})")
    return "\n".join(lines)


def test_core_has_no_import_cycles():
    cycle = core_cycle()
    assert cycle is None, f"t2i_studio.core imports in a circle:\n{cycle}"


@pytest.mark.parametrize("added", [
    "\nif TYPE_CHECKING:\n    from t2i_studio.core.project import Project\n",
    "\ndef _late():\n    from t2i_studio.core import project\n",
])
def test_an_added_cycle_is_found_and_named(tmp_path, added):
    shutil.copytree(ROOT / "t2i_studio", tmp_path / "t2i_studio",
                    ignore=shutil.ignore_patterns("__pycache__", "resources"))
    atomic_py = tmp_path / "t2i_studio" / "core" / "atomic.py"  # the project imports it
    atomic_py.write_text(atomic_py.read_text() + "\nfrom typing import TYPE_CHECKING\n" + added)
    script = (f"import json, runpy; print(json.dumps(runpy.run_path({str(Path(__file__))!r})"
              "['core_cycle']()))")
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)}, timeout=120)
    assert result.returncode == 0, result.stderr
    cycle = json.loads(result.stdout)
    assert cycle is not None
    assert "t2i_studio.core.atomic -> t2i_studio.core.project" in cycle and "from t2i_studio.core" in cycle
