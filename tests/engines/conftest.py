"""Engines kept warm across a test module, closed (their models freed) when it ends."""

from __future__ import annotations

import pytest

from t2i_studio.engines.text2image import Text2ImageEngine


@pytest.fixture(scope="module")
def engines():
    """Engines by a name the module chooses (a family, a model), built on first use."""
    made: dict[str, Text2ImageEngine] = {}
    yield made
    for engine in made.values():
        engine.close()
