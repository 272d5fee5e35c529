"""Tests name a request's settings by field, wherever the field lives among the request's parts.

``gen_request(prompt, steps=2, model="m", init_image=...)`` builds a GenerationRequest with each
keyword put into the part that owns it (``model`` is the model's id; an init image means img2img);
``with_(request, seed=3)`` is ``replace`` through the parts the same way.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from t2i_studio.core.requests import GenerationRequest, ImageInputs, ModelRef, RunOptions, Sampling

_PARTS = {"model": ModelRef, "sampling": Sampling, "images": ImageInputs, "run": RunOptions}
_TOP = {f.name for f in dataclasses.fields(GenerationRequest)}


def _owner(name: str) -> str | None:
    if name in _TOP:
        return None
    for part, cls in _PARTS.items():
        if name in {f.name for f in dataclasses.fields(cls)}:
            return part
    raise TypeError(f"No request part has a field {name!r}")


def with_(request: GenerationRequest, **fields: Any) -> GenerationRequest:
    top: dict[str, Any] = {}
    parts: dict[str, dict[str, Any]] = {}
    for name, value in fields.items():
        if name == "model" and isinstance(value, str):
            parts.setdefault("model", {})["id"] = value
        elif (part := _owner(name)) is None:
            top[name] = value
        else:
            parts.setdefault(part, {})[name] = value
    if "init_image" in fields and "mode" not in fields:
        top["mode"] = "img2img" if fields["init_image"] else "txt2img"
    for part, changes in parts.items():
        top[part] = dataclasses.replace(getattr(request, part), **changes)
    return dataclasses.replace(request, **top)


def gen_request(prompt: str = "a cat", **fields: Any) -> GenerationRequest:
    return with_(GenerationRequest(prompt=prompt), **fields)
