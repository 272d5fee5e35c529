"""Fixtures of the packaging tests: the repository root and one sdist + wheel built per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What the build backend reads; everything else in a working tree (venvs, caches) stays out.
_BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "t2i_studio")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def dists(tmp_path_factory) -> dict[str, Path]:
    """``python -m build`` of a copy of the source: the sdist, then the wheel built from that sdist
    (so a file missing from the sdist is missing from the wheel too). Build requirements come from
    the index pinned by constraints.txt (PIP_CONSTRAINT reaches build's isolated environment)."""
    src = tmp_path_factory.mktemp("src")
    for name in _BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif path.is_file():
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "PIP_CONSTRAINT": str(ROOT / "constraints.txt")}
    result = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(src)],
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}
