"""Fixtures of the core tests; helpers live in project_testkit (importable from these tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from project_testkit import Project  # noqa: E402


@pytest.fixture
def project(tmp_path):
    with Project.create(tmp_path / "proj") as proj:
        yield proj
