"""An image's settings as rows a person reads: what made it (request), what it came from (lineage)
and how it ran (fingerprint), from the JSON stored in the image (``Entry.params``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from t2i_studio.core.requests import request_from_dict

Row = tuple[str, str]

# (label, part of the request, key): the order a reader looks for them
_GENERATE = (("Template", "", "template"),  # the dynamic prompt the image's prompt was drawn from
             ("Mode", "", "mode"), ("Model", "model", "id"), ("Revision", "model", "revision"),
             ("Size", "", "size"), ("Steps", "sampling", "steps"), ("Guidance (CFG)", "sampling", "guidance"),
             ("Scheduler", "sampling", "scheduler"), ("Batch size", "sampling", "batch_size"),
             ("Variation seed", "sampling", "variation_seed"), ("Variation strength", "sampling", "variation_strength"),
             ("Init image", "images", "init_image"), ("Init strength", "images", "strength"),
             ("Engine", "", "engine"), ("Device", "run", "device"), ("Precision", "run", "dtype"))
_STYLIZE = (("Content", "", "content"), ("Style strength", "", "style_strength"),
            ("Content fidelity", "", "content_fidelity"), ("Smoothness", "", "smoothness"),
            ("Style scale", "", "style_scale"), ("Preserve colours", "", "preserve_colors"), ("Size", "", "size"),
            ("Quality", "", "quality"), ("Iterations", "", "iterations"), ("VGG weights", "", "vgg_weights"))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def request_rows(request: dict[str, Any], seed: Any) -> list[Row]:
    stylize = request.get("kind") == "stylize"
    stored = request.get("seed") if stylize else (request.get("sampling") or {}).get("seed")
    rows: list[Row] = [("Seed", _text(seed if seed is not None else stored))]
    if stylize:
        return rows + _style_rows(request)
    for label, part, key in _GENERATE:
        if key == "size":
            value = f"{request.get('width')}×{request.get('height')}" if request.get("width") else None
        else:
            value = (request.get(part) or {}).get(key) if part else request.get(key)
        if key == "strength" and not (request.get("images") or {}).get("init_image"):
            continue  # an init strength without an init image means nothing
        if value not in (None, "", 0.0) or key in ("steps", "guidance"):
            rows.append((label, _text(value)))
    for adapter in (request.get("model") or {}).get("adapters") or []:
        kind = {"lora": "LoRA"}.get(str(adapter.get("kind")), str(adapter.get("kind")))
        rows.append((kind, f"{adapter.get('source')} × {_text(adapter.get('weight'))}"))
    images = request.get("images") or {}
    for k, control in enumerate(images.get("controls") or []):
        rows.append((f"ControlNet {k + 1}", f"{Path(str(control.get('model'))).name} · {control.get('preprocessor')} "
                     f"of {Path(str(control.get('image'))).name} × {_text(control.get('weight'))}, steps "
                     f"{_text(control.get('start'))}–{_text(control.get('end'))}"))
    for k, reference in enumerate(images.get("references") or []):
        rows.append((f"IP-Adapter {k + 1}", f"{Path(str(reference.get('model'))).name} · {reference.get('mode')} "
                     f"of {Path(str(reference.get('image'))).name} × {_text(reference.get('scale'))}"))
    return rows


def _style_rows(request: dict[str, Any]) -> list[Row]:
    rows = [(label, _text(request[key])) for label, _part, key in _STYLIZE if request.get(key) not in (None, "")]
    weights = request.get("style_weights") or []
    for k, style in enumerate(request.get("styles") or []):
        weight = f" × {_text(weights[k])}" if k < len(weights) else ""
        rows.append((f"Style {k + 1}", f"{Path(str(style)).name}{weight}"))
    return rows


def details(params: dict[str, Any]) -> list[Row]:
    """Rows for an entry's params (ours, or an imported image's: what its metadata said)."""
    rows: list[Row] = []
    try:  # any schema: an old image's flat request reads as today's parts
        request = request_from_dict(params["request"]).to_dict()
    except (KeyError, TypeError, ValueError):
        request = None
    if request is not None:
        rows += request_rows(request, params.get("seed"))
    lineage = params.get("lineage") or {}
    if lineage.get("source_image"):
        rows.append(("Made from", Path(str(lineage["source_image"])).name))
    fingerprint = params.get("fingerprint") or {}
    model = fingerprint.get("model") if isinstance(fingerprint.get("model"), dict) else {}
    if model.get("hash"):
        rows.append(("Model hash", str(model["hash"])))
    for label, key in (("Ran on", "device"), ("Ran in", "dtype"), ("Pipeline", "pipeline"), ("App version", "app")):
        if fingerprint.get(key):
            rows.append((label, str(fingerprint[key])))
    if params.get("source") and params.get("kind") == "import":
        rows.append(("Imported from", str(params["source"])))
    if params.get("created"):
        rows.append(("Created", str(params["created"]).replace("T", " ")))
    return rows
