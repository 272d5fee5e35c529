"""From image files to index rows: what ``rebuild``, ``check --repair`` and imports share.

Everything an index row holds comes from the file itself (our JSON, or foreign metadata) and its
place in the folder (``trash/`` means deleted); the id comes from the ``NNNNNN-`` file name when
there is one, so ids survive a rebuild.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from t2i_studio.core.atomic import is_temp_name
from t2i_studio.core.metadata import SCHEMA_VERSION, ImageMetadata, description_for, read_metadata
from t2i_studio.core.requests import LANCZOS, GenerationRequest, StyleRequest, UpscaleRequest

ID_NAME = re.compile(r"^(\d{6,})-")
KINDS = ("generate", "stylize", "import")
STYLE_MODEL = "vgg19"


def now_local() -> str:
    return datetime.now().isoformat(timespec="seconds")


def local_time(value: Any, fallback: str) -> str:
    """An ISO 8601 local time without offset (the index sorts these as text)."""
    try:
        parsed = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return fallback
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone().replace(tzinfo=None)
    return parsed.isoformat(timespec="seconds")


def id_from_name(name: str) -> int | None:
    match = ID_NAME.match(name)
    return int(match.group(1)) if match else None


def request_fields(request: Any, data: dict[str, Any]) -> dict[str, str]:
    """The prompt, negative prompt and model shown and searched in the gallery."""
    request = getattr(request, "base", request)  # an X/Y/Z plot's grid (core.xyz): its base request's
    if isinstance(request, GenerationRequest):
        return {"prompt": request.prompt, "negative": request.negative_prompt, "model": request.model.id}
    if isinstance(request, StyleRequest):
        return {"prompt": description_for(data), "negative": "", "model": STYLE_MODEL}
    if isinstance(request, UpscaleRequest):
        upscale = request.upscale
        return {"prompt": f"Upscale of {Path(request.source).name}", "negative": "",
                "model": Path(upscale.upscaler).stem if upscale.upscaler != LANCZOS else LANCZOS}
    return {"prompt": "", "negative": "", "model": ""}


def foreign_params(meta: ImageMetadata) -> dict[str, Any]:
    """Our JSON shape for an image from elsewhere: its request (if any) plus its raw metadata.

    Only what the file itself says, so a rebuild gives the same params."""
    return {
        "schema": SCHEMA_VERSION, "kind": "import", "source": meta.source,
        "request": meta.request.to_dict() if meta.request is not None else None,
        "seed": meta.seed, "lineage": {}, "fingerprint": {},
        "parameters": meta.parameters, "foreign": meta.data if meta.source != "none" else {},
    }


def row_for_file(path: Path, rel: str, entry_id: int, *, deleted: bool = False) -> dict[str, Any] | None:
    """The index row of one image file, or None when the file is not an image we can use."""
    meta = read_metadata(path)
    if not meta.format or meta.width is None:
        return None
    try:
        mtime = datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds")
    except OSError:
        mtime = now_local()
    if meta.source == "t2i_studio" and meta.request is not None:
        params = meta.data
        # a grid's stored request is its plot's base (core.xyz): the kind says it is a grid
        kind = params.get("kind") if params.get("kind") in ("generate", "stylize", "grid") else meta.request.kind
        created = local_time(params.get("created"), mtime)
    else:
        params = foreign_params(meta)
        kind, created = "import", mtime
    return {
        "id": entry_id, "path": rel, "created": created, "kind": kind, "width": meta.width,
        "height": meta.height, "seed": meta.seed, "params": params, "deleted": int(deleted),
        "pending": 0, **request_fields(meta.request, params),
    }


def walk_images(root: Path) -> Iterator[Path]:
    """Every candidate file under ``root`` (hidden and temp files skipped), in a stable order."""
    if not root.is_dir():
        return
    for base, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or is_temp_name(name):
                continue
            yield Path(base) / name
