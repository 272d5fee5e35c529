"""Best-effort readers for other apps' metadata, mapped to a GenerationRequest ("reuse settings").

ComfyUI (``prompt`` graph), InvokeAI (``invokeai_metadata``, older ``sd-metadata``), Fooocus
(JSON ``parameters`` + ``fooocus_scheme``, or an older JSON ``Comment``); EXIF is ``core.exif``'s. Every
function returns None when the data is not what it expects; none raises on odd input.
"""

from __future__ import annotations

import json
import re
from typing import Any

from t2i_studio.core.a1111 import fields_to_request
from t2i_studio.core.comfyui_graph import read_graph
from t2i_studio.core.requests import GenerationRequest

Found = tuple[GenerationRequest, "int | None", dict[str, Any]]


def seed_of(value: Any) -> int | None:
    """A seed as stored: an int, or digits in a string; anything else (floats, bools) is no seed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip() if isinstance(value, str) else ""
    return int(text) if text.isdigit() else None


def load_json(text: str | None) -> Any:
    if not text or len(text) > 16 * 2**20:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def from_comfyui(prompt_text: str | None, notes: list[str] | None = None) -> Found | None:
    graph = load_json(prompt_text)
    if not isinstance(graph, dict):
        return None
    f = read_graph(graph)
    if f is None:
        return None
    request = fields_to_request(f.prompt, f.negative, steps=f.steps, sampler=f.sampler, schedule=f.schedule,
                                cfg=f.cfg, seed=f.seed, width=f.width, height=f.height, model=f.model,
                                denoise=f.denoise, notes=notes)
    return request, seed_of(f.seed), {"prompt": graph}


def from_invokeai(text: str | None, legacy: str | None = None, notes: list[str] | None = None) -> Found | None:
    data = load_json(text)
    if isinstance(data, dict):
        model = data.get("model")
        model_name = (model.get("name") or model.get("model_name") or model.get("key")) \
            if isinstance(model, dict) else model
        request = fields_to_request(
            data.get("positive_prompt", ""), data.get("negative_prompt", ""), steps=data.get("steps"),
            sampler=data.get("scheduler"), cfg=data.get("cfg_scale"), seed=data.get("seed"),
            width=data.get("width"), height=data.get("height"), model=model_name,
            denoise=data.get("strength"), notes=notes)
        return request, seed_of(data.get("seed")), {"invokeai_metadata": data}
    old = load_json(legacy)
    if isinstance(old, dict) and isinstance(old.get("image"), dict):
        image = old["image"]
        prompt = image.get("prompt")
        if isinstance(prompt, list):
            prompt = " ".join(p.get("prompt", "") for p in prompt if isinstance(p, dict))
        positive, _, negative = str(prompt or "").partition("[")
        request = fields_to_request(
            positive.strip(), negative.rstrip("]").strip(), steps=image.get("steps"),
            sampler=image.get("sampler"), cfg=image.get("cfg_scale"), seed=image.get("seed"),
            width=image.get("width"), height=image.get("height"), model=old.get("model_weights"), notes=notes)
        return request, seed_of(image.get("seed")), {"sd-metadata": old}
    return None


def _pick(data: dict, *names: str) -> Any:
    lower = {str(k).lower().replace(" ", "_"): v for k, v in data.items()}
    for name in names:
        if name in lower:
            return lower[name]
    return None


def from_fooocus(parameters: str | None, comment: str | None = None, notes: list[str] | None = None) -> Found | None:
    for text in (parameters, comment):
        data = load_json(text)
        if not isinstance(data, dict) or _pick(data, "prompt") is None:
            continue
        width = height = None
        resolution = _pick(data, "resolution")
        numbers = re.findall(r"\d+", str(resolution or ""))
        if len(numbers) >= 2:
            width, height = int(numbers[0]), int(numbers[1])
        seed = _pick(data, "seed")
        request = fields_to_request(
            _pick(data, "prompt") or "", _pick(data, "negative_prompt") or "", steps=_pick(data, "steps"),
            sampler=_pick(data, "sampler"), schedule=_pick(data, "scheduler"),
            cfg=_pick(data, "guidance_scale", "cfg_scale"), seed=seed, width=width, height=height,
            model=_pick(data, "base_model", "model"), notes=notes)
        return request, seed_of(seed), {"fooocus": data}
    return None
