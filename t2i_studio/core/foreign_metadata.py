"""Best-effort readers for other apps' metadata, mapped to a GenerationRequest ("reuse settings").

ComfyUI (``prompt`` graph), InvokeAI (``invokeai_metadata``, older ``sd-metadata``), Fooocus
(JSON ``parameters`` + ``fooocus_scheme``, or an older JSON ``Comment``), and EXIF UserComment as
written by AUTOMATIC1111/Forge into JPEG and WebP. Every function returns None when the data is not
what it expects; none raises on odd input.
"""

from __future__ import annotations

import json
import re
from typing import Any

from PIL import Image

from t2i_studio.core.a1111 import fields_to_request
from t2i_studio.core.requests import GenerationRequest

Found = tuple[GenerationRequest, "int | None", dict[str, Any]]
_SAMPLER_NODES = ("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced")
_MAX_HOPS = 12


def load_json(text: str | None) -> Any:
    if not text or len(text) > 16 * 2**20:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _link(value: Any) -> str | None:
    """ComfyUI links are ``[node_id, output_index]``."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int)):
        return str(value[0])
    return None


def _follow_text(graph: dict, value: Any, hops: int = 0) -> str:
    """The text a prompt input resolves to, through encoders, concat and primitive nodes."""
    if isinstance(value, str):
        return value
    node_id = _link(value)
    if node_id is None or hops > _MAX_HOPS or not isinstance(graph.get(node_id), dict):
        return ""
    inputs = graph[node_id].get("inputs") or {}
    if not isinstance(inputs, dict):
        return ""
    for key in ("text", "text_g", "string", "value", "prompt", "text_l", "conditioning", "conditioning_to",
                "positive"):
        if key in inputs:
            text = _follow_text(graph, inputs[key], hops + 1)
            if text:
                return text
    return ""


def _follow_input(graph: dict, value: Any, keys: tuple[str, ...], through: tuple[str, ...],
                  hops: int = 0) -> Any:
    """Walk links until a node with one of ``keys`` as a literal input is found."""
    node_id = _link(value)
    if node_id is None or hops > _MAX_HOPS or not isinstance(graph.get(node_id), dict):
        return value if not isinstance(value, list) else None
    inputs = graph[node_id].get("inputs") or {}
    if not isinstance(inputs, dict):
        return None
    for key in keys:
        if key in inputs and not isinstance(inputs[key], list):
            return inputs[key]
    for key in through:
        if key in inputs:
            found = _follow_input(graph, inputs[key], keys, through, hops + 1)
            if found is not None:
                return found
    return None


def from_comfyui(prompt_text: str | None) -> Found | None:
    graph = load_json(prompt_text)
    if not isinstance(graph, dict):
        return None
    samplers = [n for n in graph.values() if isinstance(n, dict) and n.get("class_type") in _SAMPLER_NODES]
    if not samplers:
        samplers = [n for n in graph.values() if isinstance(n, dict)
                    and "sampler" in str(n.get("class_type", "")).lower()]
    if not samplers:
        return None
    inputs = samplers[0].get("inputs") or {}
    if not isinstance(inputs, dict):
        return None
    seed = _follow_input(graph, inputs.get("seed", inputs.get("noise_seed")), ("seed", "noise_seed", "value"),
                         ("noise",))
    model = _follow_input(graph, inputs.get("model"), ("ckpt_name", "unet_name", "model_name"),
                          ("model",))
    width = _follow_input(graph, inputs.get("latent_image"), ("width",), ("samples", "pixels", "image"))
    height = _follow_input(graph, inputs.get("latent_image"), ("height",), ("samples", "pixels", "image"))
    request = fields_to_request(
        _follow_text(graph, inputs.get("positive")), _follow_text(graph, inputs.get("negative")),
        steps=_follow_input(graph, inputs.get("steps"), ("steps", "value"), ()),
        sampler=_follow_input(graph, inputs.get("sampler_name"), ("sampler_name", "value"), ()),
        schedule=_follow_input(graph, inputs.get("scheduler"), ("scheduler", "value"), ()),
        cfg=_follow_input(graph, inputs.get("cfg"), ("cfg", "value"), ()), seed=seed, width=width,
        height=height, model=model, denoise=inputs.get("denoise"))
    seed_int = seed if isinstance(seed, int) else None
    return request, seed_int, {"prompt": graph}


def from_invokeai(text: str | None, legacy: str | None = None) -> Found | None:
    data = load_json(text)
    if isinstance(data, dict):
        model = data.get("model")
        model_name = (model.get("name") or model.get("model_name") or model.get("key")) \
            if isinstance(model, dict) else model
        request = fields_to_request(
            data.get("positive_prompt", ""), data.get("negative_prompt", ""), steps=data.get("steps"),
            sampler=data.get("scheduler"), cfg=data.get("cfg_scale"), seed=data.get("seed"),
            width=data.get("width"), height=data.get("height"), model=model_name,
            denoise=data.get("strength"))
        seed = data.get("seed") if isinstance(data.get("seed"), int) else None
        return request, seed, {"invokeai_metadata": data}
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
            width=image.get("width"), height=image.get("height"), model=old.get("model_weights"))
        seed = image.get("seed") if isinstance(image.get("seed"), int) else None
        return request, seed, {"sd-metadata": old}
    return None


def _pick(data: dict, *names: str) -> Any:
    lower = {str(k).lower().replace(" ", "_"): v for k, v in data.items()}
    for name in names:
        if name in lower:
            return lower[name]
    return None


def from_fooocus(parameters: str | None, comment: str | None = None) -> Found | None:
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
            model=_pick(data, "base_model", "model"))
        try:
            seed_int = int(seed) if seed is not None else None
        except (TypeError, ValueError):
            seed_int = None
        return request, seed_int, {"fooocus": data}
    return None


def _decode_user_comment(raw: Any, big_endian: bool) -> str | None:
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, bytes) or len(raw) < 8:
        return None
    prefix, body = raw[:8], raw[8:]
    if prefix.startswith(b"UNICODE"):
        if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return body.decode("utf-16", "replace")
        even = sum(1 for b in body[0::2] if b == 0)
        odd = sum(1 for b in body[1::2] if b == 0)
        codec = "utf-16-be" if even > odd or (even == odd and big_endian) else "utf-16-le"
        return body.decode(codec, "replace")
    if prefix.startswith(b"ASCII") or prefix == b"\0" * 8:
        return body.rstrip(b"\0").decode("utf-8", "replace")
    return raw.decode("utf-8", "replace").strip("\0") or None


def exif_user_comment(exif: bytes | None) -> str | None:
    """The EXIF UserComment text (A1111/Forge put ``parameters`` there in JPEG and WebP)."""
    if not exif or len(exif) > 16 * 2**20:
        return None
    try:
        parsed = Image.Exif()
        parsed.load(exif)
        raw = parsed.get_ifd(0x8769).get(0x9286)
        text = _decode_user_comment(raw, exif[:2] == b"MM")
        if not text:
            description = parsed.get(0x010E)
            text = description if isinstance(description, str) else None
        return text.strip("\0") if text else None
    except Exception:  # noqa: BLE001 - broken EXIF is "no comment", never an error
        return None
