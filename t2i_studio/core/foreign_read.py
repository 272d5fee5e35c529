"""Which tool made an image that is not ours, and what it says: the one place that decides.

Tried in order, each on the texts it is known to write (``RawInfo.texts``: PNG text chunks, and
for JPEG/WebP ComfyUI's EXIF texts), the EXIF UserComment and the XMP packet: NovelAI, Fooocus,
SwarmUI, InvokeAI (current, ``sd-metadata``, ``Dream``), Draw Things, A1111/Forge ``parameters``,
ComfyUI, and last the pixels' hidden "stealth" data. A photo's JPEG comment, ImageDescription or
UserComment is read as A1111 text only when it has A1111's parameter line: an ordinary photo is
never taken for a generation with default settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from t2i_studio.core import exif
from t2i_studio.core import foreign_formats as formats
from t2i_studio.core import foreign_metadata as foreign
from t2i_studio.core.a1111 import known_fields, parameters_to_request, parse_parameters
from t2i_studio.core.image_io import RawInfo
from t2i_studio.core.requests import GenerationRequest
from t2i_studio.core.stealth import read_stealth

PARAMETERS_KEY = "parameters"
_STEALTH_FORMATS = ("PNG", "WEBP")
# A parameter line names at least two of these before text from a photo's fields counts as one.
_EVIDENCE = ("steps", "sampler", "cfg", "seed", "size", "model")


@dataclass
class Foreign:
    source: str  # "a1111" | "comfyui" | "invokeai" | "fooocus" | "novelai" | "swarmui" | "drawthings"
    request: GenerationRequest
    seed: int | None
    parameters: str | None  # the A1111 text, when that is what it was
    data: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _made_by(source: str, found: foreign.Found, notes: list[str]) -> Foreign:
    request, seed, data = found
    return Foreign(source, request, seed, None, data, notes)


def _is_a1111(text: str | None, strict: bool) -> bool:
    if not text or text.lstrip().startswith("{"):
        return False
    if not strict:
        return True
    return sum(1 for key in known_fields(parse_parameters(text)["params"]) if key in _EVIDENCE) >= 2


def _from_texts(texts: dict[str, str], comment: str | None, xmp: dict[str, str],
                notes: list[str]) -> Foreign | None:
    params = texts.get(PARAMETERS_KEY)
    if texts.get("Software") == "NovelAI" or '"uc"' in texts.get("Comment", "")[:100_000]:
        if found := formats.from_novelai(texts, notes):
            return _made_by("novelai", found, notes)
    if "fooocus_scheme" in texts or (params and params.lstrip().startswith("{")) or "Comment" in texts:
        if found := foreign.from_fooocus(params, texts.get("Comment"), notes):
            return _made_by("fooocus", found, notes)
    for text in (params, comment):
        if text and "sui_image_params" in text and (found := formats.from_swarmui(text, notes)):
            return _made_by("swarmui", found, notes)
    if "invokeai_metadata" in texts or "sd-metadata" in texts:
        if found := foreign.from_invokeai(texts.get("invokeai_metadata"), texts.get("sd-metadata"),
                                          notes):
            return _made_by("invokeai", found, notes)
    if "Dream" in texts and (found := formats.from_dream(texts["Dream"], notes)):
        return _made_by("invokeai", found, notes)
    drawn = "Draw Things" in xmp.get("creator_tool", "")
    if drawn and (found := formats.from_draw_things(xmp.get("parameters"), notes)):
        return _made_by("drawthings", found, notes)
    text = params if _is_a1111(params, strict=False) else next(
        (t for t in (comment, texts.get("comment"), texts.get("ImageDescription"), xmp.get("parameters"))
         if _is_a1111(t, strict=True)), None)
    if text:
        request, seed, parsed = parameters_to_request(text, notes)
        if parsed["params"] or "prompt" not in texts:
            return Foreign("a1111", request, seed, text, {PARAMETERS_KEY: text, **parsed}, notes)
    if "prompt" in texts and (found := foreign.from_comfyui(texts["prompt"], notes)):
        if "workflow" in texts:
            found[2]["workflow_present"] = True
        return _made_by("comfyui", found, notes)
    return None


def read_foreign(path: Path, raw: RawInfo, xmp: dict[str, str]) -> Foreign | None:
    """Another tool's generation settings in this image, or None."""
    notes: list[str] = []
    comment = exif.user_comment(raw.exif) or exif.description(raw.exif)
    found = _from_texts(raw.texts, comment, xmp, notes)
    if found is None and raw.format in _STEALTH_FORMATS:
        hidden = read_stealth(path)
        chunks = foreign.load_json(hidden)
        if isinstance(chunks, dict):  # NovelAI: its text chunks as one object
            found = _from_texts({k: str(v) for k, v in chunks.items()}, None, {}, notes)
        elif hidden:
            found = _from_texts({PARAMETERS_KEY: hidden}, None, {}, notes)
        if found is not None:
            found.notes.insert(0, "read from data hidden in the pixels (stealth metadata)")
    return found
