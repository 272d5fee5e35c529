"""Image metadata: what every saved PNG carries, and reading it back from ours and other apps'.

Written on each PNG (see DESIGN.md, "Metadata"):
- ``parameters``: the AUTOMATIC1111 text (``core.a1111``), tEXt, or iTXt (UTF-8) when not ASCII;
- ``t2i_studio``: our JSON (schema, full request, seed, lineage, fingerprint), compressed iTXt;
- XMP (iTXt ``XML:com.adobe.xmp``) with IPTC DigitalSourceType ``trainedAlgorithmicMedia``;
- an sRGB ICC profile.

``read_metadata`` never raises: unknown, foreign-but-unparseable or hostile files give
``source="none"`` with a ``reason``.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import PngImagePlugin

from t2i_studio import APP_NAME, __version__
from t2i_studio.core import foreign_metadata as foreign
from t2i_studio.core.a1111 import build_parameters
from t2i_studio.core.foreign_read import read_foreign
from t2i_studio.core.image_io import RawInfo, read_raw
from t2i_studio.core.requests import GenerationRequest, StyleRequest, request_from_dict
from t2i_studio.core.xmp import TRAINED_ALGORITHMIC_MEDIA, XMP_KEY, build_xmp, parse_xmp

log = logging.getLogger(__name__)
SCHEMA_VERSION = 2  # 2: nested requests (core.requests); 1 still reads (core.request_migration)
JSON_KEY = "t2i_studio"
PARAMETERS_KEY = "parameters"


@dataclass
class ImageMetadata:
    source: str  # "t2i_studio", "none", or another tool's (core.foreign_read.Foreign.source)
    request: GenerationRequest | StyleRequest | None
    seed: int | None
    parameters: str | None  # the A1111 text, when present
    data: dict  # our full JSON when source == "t2i_studio", else the raw foreign fields
    reason: str  # why nothing was found, when request is None
    format: str = ""  # "PNG", "JPEG", "WEBP", ... from the file's first bytes
    width: int | None = None
    height: int | None = None
    source_type: str | None = None  # IPTC DigitalSourceType from the XMP, when present
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- writing

def image_data(request: GenerationRequest | StyleRequest, seed: int | None, *, index: int = 0,
               fingerprint: dict[str, Any] | None = None, lineage: dict[str, Any] | None = None,
               created: str | None = None) -> dict[str, Any]:
    """Our JSON for one image: everything needed to see how it was made and to make it again."""
    return {
        "schema": SCHEMA_VERSION,
        "app": __version__,
        "kind": request.kind,
        "created": created or datetime.now().astimezone().isoformat(timespec="seconds"),
        "request": request.to_dict(),
        "seed": seed,
        "index": index,
        "lineage": lineage or {},
        "fingerprint": fingerprint or {},
    }


def parameters_for(data: dict[str, Any]) -> str | None:
    """The A1111 text for our JSON (text-to-image only; style transfer has no such layout)."""
    try:
        request = request_from_dict(data["request"])
    except (KeyError, TypeError, ValueError):
        return None
    if not isinstance(request, GenerationRequest):
        return None
    seed = data.get("seed")
    return build_parameters(request, seed if isinstance(seed, int) else request.sampling.seed,
                            data.get("fingerprint") or {})


def description_for(data: dict[str, Any]) -> str:
    req = data.get("request") or {}
    if data.get("kind") == "stylize":
        styles = ", ".join(Path(s).name for s in req.get("styles", []))
        return f"Style transfer of {Path(str(req.get('content', ''))).name} with {styles}"
    return str(req.get("prompt", ""))


@functools.lru_cache(maxsize=1)
def srgb_icc() -> bytes | None:
    """An sRGB ICC profile built by LittleCMS (Pillow's ImageCms), or None where unavailable."""
    try:
        from PIL import ImageCms

        return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    except Exception as exc:  # noqa: BLE001 - Pillow built without LittleCMS
        log.warning("No sRGB ICC profile available (%s); writing the sRGB chunk only", exc)
        return None


def xmp_for(data: dict[str, Any] | None, parameters: str | None, *, include_json: bool = False) -> str:
    """Our XMP packet; only our own images (``data`` given) are marked as AI-made."""
    created = None
    if data and data.get("created"):
        try:
            created = datetime.fromisoformat(str(data["created"]))
        except ValueError:
            created = None
    return build_xmp(description=description_for(data) if data else "", created=created,
                     data_json=json.dumps(data, ensure_ascii=False) if include_json and data else None,
                     parameters=parameters if include_json else None,
                     source_type=TRAINED_ALGORITHMIC_MEDIA if data else None)


def add_text_chunk(info: PngImagePlugin.PngInfo, key: str, value: str, *, zip_over: int = 4096) -> None:
    """Add a PNG text chunk, compressed when longer than ``zip_over`` characters, but never when
    it would inflate past Pillow's limit: such a chunk makes Pillow (and so other tools, our
    thumbnails and exports) refuse the whole image, while a long plain chunk reads fine."""
    size = len(value.encode("utf-8"))
    if zip_over < size <= PngImagePlugin.MAX_TEXT_CHUNK:
        info.add_itxt(key, value, zip=True)
    elif value.isascii():
        info.add_text(key, value)
    else:
        info.add_itxt(key, value)  # UTF-8, never Latin-1 tEXt a reader could take for either


def png_info(data: dict[str, Any], parameters: str | None = None,
             extra_texts: dict[str, str] | None = None) -> PngImagePlugin.PngInfo:
    """The PNG text chunks of one of our images (parameters, t2i_studio JSON, XMP, Software)."""
    info = PngImagePlugin.PngInfo()
    text = parameters if parameters is not None else parameters_for(data)
    if text:  # never compressed: some readers of A1111's text do not inflate
        add_text_chunk(info, PARAMETERS_KEY, text, zip_over=PngImagePlugin.MAX_TEXT_CHUNK)
    add_text_chunk(info, JSON_KEY, json.dumps(data, ensure_ascii=False, default=str), zip_over=0)
    info.add_itxt(XMP_KEY, xmp_for(data, text), zip=False)
    info.add_text("Software", f"{APP_NAME} {__version__}")
    for key, value in (extra_texts or {}).items():
        info.add_text(key, value)
    return info


def png_save_args(data: dict[str, Any], parameters: str | None = None,
                  extra_texts: dict[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments for ``PIL.Image.save(..., format="PNG", **args)``."""
    info = png_info(data, parameters, extra_texts)
    icc = srgb_icc()
    args: dict[str, Any] = {"format": "PNG", "pnginfo": info, "compress_level": 6}
    if icc:
        args["icc_profile"] = icc
    else:
        info.add(b"sRGB", b"\x00")
    return args


# ---------------------------------------------------------------- reading

def _ours(raw: RawInfo, xmp: dict[str, str]) -> ImageMetadata | None:
    text = raw.texts.get(JSON_KEY) or xmp.get("t2i_studio")
    data = foreign.load_json(text)
    if not isinstance(data, dict) or not isinstance(data.get("request"), dict):
        return None
    try:
        request = request_from_dict(data["request"])
    except (TypeError, ValueError) as exc:
        return ImageMetadata("t2i_studio", None, None, raw.texts.get(PARAMETERS_KEY), data,
                             f"our metadata, but the request is unreadable: {exc}")
    seed = data.get("seed") if isinstance(data.get("seed"), int) else None
    parameters = raw.texts.get(PARAMETERS_KEY) or xmp.get("parameters")
    return ImageMetadata("t2i_studio", request, seed, parameters, data, "")


def read_metadata(path: Path | str) -> ImageMetadata:
    """Read what an image says about how it was made. Never raises."""
    try:
        raw = read_raw(path)
        xmp = parse_xmp(raw.xmp) if raw.xmp else {}
        meta = _ours(raw, xmp)
        if meta is None and (found := read_foreign(Path(path), raw, xmp)) is not None:
            meta = ImageMetadata(found.source, found.request, found.seed, found.parameters, found.data, "",
                                 notes=found.notes)
        if meta is None:
            why = "; ".join(raw.notes) if raw.notes else "no generation metadata in this image"
            meta = ImageMetadata("none", None, None, None, {"texts": dict(raw.texts)}, why)
    except Exception as exc:  # noqa: BLE001 - the contract: never an exception for a bad file
        log.debug("read_metadata(%s) failed", path, exc_info=True)
        return ImageMetadata("none", None, None, None, {}, f"unreadable metadata ({type(exc).__name__})")
    meta.format, meta.width, meta.height = raw.format, raw.width, raw.height
    meta.source_type = xmp.get("source_type")
    meta.notes = [*raw.notes, *meta.notes]
    return meta
