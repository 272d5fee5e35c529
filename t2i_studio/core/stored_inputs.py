"""A reused request's guide pictures (ControlNet controls, IP-Adapter references) taken from the
project's stored copies.

Saving a result copies each such picture into the project (``lineage["controls_stored"]``,
``lineage["references_stored"]``, ``core.saving``), so reusing its settings gives the very pixels
it was made with, even after the original file was moved, changed or deleted (a sketch pad's
picture is redrawn at once).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from t2i_studio.core.requests import GenerationRequest


def _stored(parts: tuple[Any, ...], stored: list[Any], folder: Path) -> tuple[Any, ...]:
    out = []
    for k, part in enumerate(parts):
        copy = stored[k] if k < len(stored) and isinstance(stored[k], str) else ""
        out.append(part.replace(image=str(folder / copy)) if copy and (folder / copy).is_file() else part)
    return tuple(out)


def with_stored_inputs(request: GenerationRequest, lineage: dict[str, Any], folder: Path) -> GenerationRequest:
    """``request`` whose control and reference pictures are the project's copies in ``folder`` where
    one is there (the original stays named when its copy is missing)."""
    images = request.images
    return request.replace(images=images.replace(
        controls=_stored(images.controls, lineage.get("controls_stored") or [], folder),
        references=_stored(images.references, lineage.get("references_stored") or [], folder)))
