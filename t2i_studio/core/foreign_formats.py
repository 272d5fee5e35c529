"""Readers for the less common tools found in users' folders, mapped to a GenerationRequest.

- NovelAI: PNG ``Software: NovelAI`` with a JSON ``Comment`` (``prompt``, ``uc``, ``scale``,
  ``sampler`` "k_euler_ancestral", ``noise_schedule``); the same chunks as one JSON object when
  hidden in the pixels (``core.stealth``).
- SwarmUI: JSON with ``sui_image_params`` in PNG ``parameters`` or JPEG/WebP EXIF UserComment.
- Draw Things: XMP whose CreatorTool is Draw Things, with a JSON ``exif:UserComment`` (``c``,
  ``uc``, ``scale``, ``size`` "512x768").
- InvokeAI before 2.3: a ``Dream`` text, ``"prompt [negative]" -s 50 -S 42 -W 512 -H 512 -C 7.5
  -A k_lms``.
Each returns None when the data is not what it expects; none raises on odd input.
"""

from __future__ import annotations

import re
from typing import Any

from t2i_studio.core.a1111 import fields_to_request
from t2i_studio.core.foreign_metadata import Found, load_json, seed_of

_SIZE = re.compile(r"^\s*(\d+)\s*[x×]\s*(\d+)\s*$")
_DREAM = re.compile(r'^\s*"((?:[^"\\]|\\.)*)"\s*(.*)$', re.S)
_DREAM_FLAG = re.compile(r"(?:^|\s)-([A-Za-z])\s+(\S+)")


def _schedule(name: Any) -> str | None:
    return None if name in (None, "native") else str(name)


def from_novelai(texts: dict[str, str], notes: list[str] | None = None) -> Found | None:
    data = load_json(texts.get("Comment"))
    if not isinstance(data, dict) or not isinstance(data.get("prompt", texts.get("Description")), str):
        return None
    request = fields_to_request(
        data.get("prompt", texts.get("Description", "")), data.get("uc", ""), steps=data.get("steps"),
        sampler=data.get("sampler"), schedule=_schedule(data.get("noise_schedule")), cfg=data.get("scale"),
        seed=data.get("seed"), width=data.get("width"), height=data.get("height"),
        model=texts.get("Source", "NovelAI"), denoise=data.get("strength"), notes=notes)
    return request, seed_of(data.get("seed")), {"novelai": data, "source": texts.get("Source")}


def from_swarmui(text: str | None, notes: list[str] | None = None) -> Found | None:
    data = load_json(text)
    params = data.get("sui_image_params") if isinstance(data, dict) else None
    if not isinstance(params, dict):
        return None
    request = fields_to_request(
        params.get("prompt", ""), params.get("negativeprompt", ""), steps=params.get("steps"),
        sampler=params.get("sampler"), schedule=params.get("scheduler"), cfg=params.get("cfgscale"),
        seed=params.get("seed"), width=params.get("width"), height=params.get("height"),
        model=params.get("model"), denoise=params.get("initimagecreativity"), notes=notes)
    return request, seed_of(params.get("seed")), {"swarmui": data}


def from_draw_things(text: str | None, notes: list[str] | None = None) -> Found | None:
    data = load_json(text)
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        return None
    size = _SIZE.match(str(data.get("size", "")))
    request = fields_to_request(
        data["c"], data.get("uc", ""), steps=data.get("steps"), sampler=data.get("sampler"),
        cfg=data.get("scale"), seed=data.get("seed"), width=size and int(size.group(1)),
        height=size and int(size.group(2)), model=data.get("model"), denoise=data.get("strength"), notes=notes)
    return request, seed_of(data.get("seed")), {"draw_things": data}


def from_dream(text: str | None, notes: list[str] | None = None) -> Found | None:
    match = _DREAM.match(text or "")
    if not match:
        return None
    flags = dict(_DREAM_FLAG.findall(match.group(2)))
    positive, _, negative = match.group(1).replace('\\"', '"').partition("[")
    request = fields_to_request(
        positive.strip(), negative.rstrip().removesuffix("]").strip(), steps=flags.get("s"),
        sampler=flags.get("A"), cfg=flags.get("C"), seed=flags.get("S"), width=flags.get("W"),
        height=flags.get("H"), denoise=flags.get("f"), notes=notes)
    return request, seed_of(flags.get("S")), {"dream": text}
