"""``t2i-studio info IMAGE [--json]``: how an image was made (ours exactly, other apps best effort)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from t2i_studio.cli.common import print_json
from t2i_studio.core.lora_library import find_again, missing_message
from t2i_studio.core.metadata import ImageMetadata, read_metadata
from t2i_studio.core.project_errors import ImageReadError
from t2i_studio.core.requests import GenerationRequest


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("info", help="show the generation settings stored in an image")
    parser.add_argument("image", help="PNG, JPEG or WebP file (ours, AUTOMATIC1111/Forge, ComfyUI, "
                                      "InvokeAI, Fooocus, NovelAI, SwarmUI, Draw Things)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def to_json(path: Path, meta: ImageMetadata) -> dict[str, Any]:
    return {
        "file": str(path), "format": meta.format, "width": meta.width, "height": meta.height,
        "source": meta.source, "seed": meta.seed,
        "request": meta.request.to_dict() if meta.request is not None else None,
        "parameters": meta.parameters, "digital_source_type": meta.source_type,
        "data": meta.data, "reason": meta.reason, "notes": meta.notes,
    }


def run(args: argparse.Namespace) -> int:
    path = Path(args.image)
    if path.is_dir():
        raise ImageReadError(f"{path} is a folder, not an image file.", "Give one image file.")
    if not path.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    meta = read_metadata(path)
    if isinstance(meta.request, GenerationRequest):  # its LoRAs and VAE: here, elsewhere, or missing
        found = find_again(meta.request, meta.parameters)
        meta.notes += found.notes + ([missing_message(found.missing)] if found.missing else [])
    if args.json:
        print_json(to_json(path, meta))
    if not meta.format:  # empty, random or unreadable bytes: a wrong argument, not "no settings"
        raise ImageReadError(f"{path}: {meta.reason}.",
                             "Give a PNG, JPEG, WebP or TIFF file.")
    if args.json:
        return 0
    size = f"{meta.width}x{meta.height}" if meta.width else "unknown size"
    print(f"{path}  ({meta.format or 'unknown format'}, {size})")
    if meta.request is None:
        print(f"No generation settings: {meta.reason}")
        return 0
    print(f"Made by  {_SOURCES.get(meta.source, meta.source)}")
    request = _flat(meta.request.to_dict())
    for key in ("prompt", "negative_prompt", "mode", "content", "styles", "model", "vae", "scheduler",
                "steps", "guidance", "width", "height", "size", "style_strength", "init_image", "strength"):
        if request.get(key) not in (None, "", []):
            print(f"  {key:16} {request[key]}")
    print(f"  {'seed':16} {meta.seed if meta.seed is not None else request.get('seed')}")
    fingerprint = meta.data.get("fingerprint") if meta.source == "t2i_studio" else None
    if fingerprint:
        print(f"  {'device / dtype':16} {fingerprint.get('device')} / {fingerprint.get('dtype')}")
    for note in meta.notes:  # what could not be read or reused as it was
        print(f"  note: {note}")
    return 0


def _flat(request: dict[str, Any]) -> dict[str, Any]:
    """The request's parts merged into one level for reading (the model by its id)."""
    flat: dict[str, Any] = {}
    for key, value in request.items():
        if isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    flat["model"] = (request.get("model") or {}).get("id") if isinstance(request.get("model"), dict) else None
    return flat


_SOURCES = {"t2i_studio": "T2I Studio", "a1111": "AUTOMATIC1111 / Forge (parameters)", "comfyui": "ComfyUI",
            "invokeai": "InvokeAI", "fooocus": "Fooocus", "novelai": "NovelAI", "swarmui": "SwarmUI",
            "drawthings": "Draw Things"}
