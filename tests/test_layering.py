"""DESIGN.md's import rules, checked by import-linter on the real package and on a broken copy."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = str(Path(sys.executable).with_name("lint-imports"))


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LINT, "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)}, timeout=120)


def test_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_forbidden_import_breaks_a_contract(tmp_path):
    shutil.copytree(ROOT / "t2i_studio", tmp_path / "t2i_studio",
                    ignore=shutil.ignore_patterns("__pycache__", "resources"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    requests_py = tmp_path / "t2i_studio" / "core" / "requests.py"
    requests_py.write_text(requests_py.read_text() + "\nimport PySide6.QtCore  # forbidden\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "core imports neither Qt nor torch" in result.stdout
    assert "BROKEN" in result.stdout.upper()
