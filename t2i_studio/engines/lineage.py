"""What a generation came from, for its Result: the init picture (with its SHA-256), the mask file,
the control and reference pictures. ``core.saving`` keeps copies of them in the project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from t2i_studio.core.requests import ALPHA_MASK, GenerationRequest
from t2i_studio.engines.checkpoints import file_sha256


def input_lineage(request: GenerationRequest) -> dict[str, Any]:
    images, lineage = request.images, {}
    if images.init_image:
        lineage = {"source_image": images.init_image, "source_sha256": file_sha256(Path(images.init_image))}
        if images.mask and images.mask != ALPHA_MASK:
            lineage["mask_image"] = images.mask
    if images.controls:
        lineage["control_images"] = [c.image for c in images.controls]
    if images.references:
        lineage["reference_images"] = [r.image for r in images.references]
    return lineage
