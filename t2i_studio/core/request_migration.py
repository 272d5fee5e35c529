"""Stored requests of older schemas, brought to today's nested shape before they are read.

Schema 1 (the first release) stored one flat object per request: every field at the top, the
mode implied by whether ``init_image`` was set. Images saved then, and the settings file's last
requests, keep reading and reusing through ``upgrade``.
"""

from __future__ import annotations

from typing import Any

_RUN = ("device", "dtype", "cpu_offload", "vae_tiling", "attention_slicing", "allow_unsafe_checkpoint",
        "preview_every")  # the last: the first release's panel state kept it beside the request
_SAMPLING = ("steps", "guidance", "scheduler", "seed", "batch_size", "batch_count", "variation_seed",
             "variation_strength")


def is_flat(kind: str, data: dict[str, Any]) -> bool:
    """A schema-1 request: its model a plain string (generate) or no run options (stylize)."""
    if kind == "generate":
        return "sampling" not in data and not isinstance(data.get("model"), dict)
    return "run" not in data and any(key in data for key in ("device", "dtype"))


def upgrade(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` in today's shape (unchanged when it already is)."""
    if not is_flat(kind, data):
        return data
    flat = dict(data)
    run = {key: flat.pop(key) for key in _RUN if key in flat}
    if kind == "stylize":
        return {**flat, "run": run}
    out: dict[str, Any] = {
        key: flat[key] for key in ("kind", "prompt", "negative_prompt", "width", "height") if key in flat
    }
    out["model"] = {"id": flat.get("model") or "", "revision": flat.get("model_revision"),
                    "config": flat.get("model_config")}
    out["sampling"] = {key: flat[key] for key in _SAMPLING if key in flat}
    init = flat.get("init_image")
    out["images"] = {"init_image": init, **({"strength": flat["strength"]} if "strength" in flat else {})}
    out["mode"] = "img2img" if init else "txt2img"
    out["run"] = run
    return out
