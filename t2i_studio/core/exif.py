"""EXIF as the image tools write it into JPEG and WebP, read and written with Pillow.

- UserComment holds the A1111 ``parameters`` text: A1111 (through piexif) writes the ``UNICODE\\0``
  prefix, UTF-16 big-endian text and EXIF type UNDEFINED, in a big-endian ("MM") block; we write
  exactly that and read any prefix and byte order.
- ComfyUI's save nodes put their JSON in IFD0 text tags as ``"key:{json}"``: ``prompt`` in Model
  (0x0110), the extra PNG-info keys (``workflow`` first) in Make (0x010F) and the tags below it.
  We read every such tag back as a text of that name and write other tools' JSON texts the same way.
"""

from __future__ import annotations

import re
from typing import Any

from PIL import ExifTags, Image, TiffTags

USER_COMMENT = ExifTags.Base.UserComment
_PROMPT_TAG = ExifTags.Base.Model  # ComfyUI: "prompt:{...}"
_EXTRA_TAGS = (ExifTags.Base.Make, ExifTags.Base.ImageDescription, ExifTags.Base.DocumentName)
_KEYED_JSON = re.compile(r"([A-Za-z_][\w-]{0,78}):\s*[\[{]")
MAX_EXIF_BYTES = 16 * 2**20

# Pillow's tag table gives UserComment no type, so it would write bytes as BYTE; the EXIF spec (and
# every reader of A1111's files) wants UNDEFINED. Registering the type is how Pillow is told.
TiffTags.TAGS_V2_GROUPS[ExifTags.IFD.Exif][USER_COMMENT] = TiffTags.TagInfo(
    USER_COMMENT, "UserComment", TiffTags.UNDEFINED, 1)


def user_comment_bytes(text: str) -> bytes:
    """UserComment as A1111 writes it: ``UNICODE\\0`` then UTF-16BE."""
    return b"UNICODE\0" + text.encode("utf-16-be")


def decode_user_comment(raw: Any, big_endian: bool) -> str | None:
    """The text of a UserComment value in any of the spec's prefixes and either byte order."""
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


def _load(exif: bytes | None) -> Image.Exif | None:
    if not exif or len(exif) > MAX_EXIF_BYTES:
        return None
    try:
        parsed = Image.Exif()
        parsed.load(exif)
        return parsed
    except Exception:  # noqa: BLE001 - broken EXIF is "no EXIF", never an error
        return None


def user_comment(exif: bytes | None) -> str | None:
    """The UserComment text of an EXIF block, or None."""
    parsed = _load(exif)
    if parsed is None:
        return None
    try:
        text = decode_user_comment(parsed.get_ifd(ExifTags.IFD.Exif).get(USER_COMMENT), exif[:2] == b"MM")
    except Exception:  # noqa: BLE001 - a broken sub-IFD
        return None
    return (text.strip("\0") or None) if text else None


def description(exif: bytes | None) -> str | None:
    """ImageDescription, unless it holds a ComfyUI-style ``key:{json}`` text."""
    parsed = _load(exif)
    value = parsed.get(ExifTags.Base.ImageDescription) if parsed is not None else None
    if not isinstance(value, str) or _KEYED_JSON.match(value):
        return None
    return value.strip("\0") or None


def keyed_texts(exif: bytes | None) -> dict[str, str]:
    """ComfyUI-style ``key:{json}`` texts of IFD0, by key (``{"prompt": ..., "workflow": ...}``)."""
    parsed = _load(exif)
    out: dict[str, str] = {}
    if parsed is None:
        return out
    for tag in (_PROMPT_TAG, *_EXTRA_TAGS):
        value = parsed.get(tag)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        match = _KEYED_JSON.match(value) if isinstance(value, str) else None
        if match and match.group(1) not in out:
            out[match.group(1)] = value[len(match.group(1)) + 1:].strip("\0")
    return out


def build_exif(software: str, parameters: str | None, texts: dict[str, str], limit: int | None = None) -> bytes:
    """An EXIF block (``Exif\\0\\0`` + TIFF) with ``parameters`` in UserComment and other tools' JSON
    ``texts`` in ComfyUI's tags. What would take the block past ``limit`` bytes is left out, the
    largest text first, ``parameters`` last (JPEG holds 64 KiB of EXIF)."""
    keyed = [(k, v) for k, v in texts.items() if k != "prompt"][: len(_EXTRA_TAGS)]
    if "prompt" in texts:
        keyed.insert(0, ("prompt", texts["prompt"]))
    while True:
        exif = Image.Exif()
        exif.endian = ">"  # A1111's byte order; UTF-16BE comments read the same everywhere
        exif[ExifTags.Base.Software] = software
        extra = iter(_EXTRA_TAGS)
        for key, value in keyed:
            exif[_PROMPT_TAG if key == "prompt" else next(extra)] = f"{key}:{value}"
        if parameters:
            exif.get_ifd(ExifTags.IFD.Exif)[USER_COMMENT] = user_comment_bytes(parameters)
        data = exif.tobytes()
        if limit is None or len(data) <= limit or not (keyed or parameters):
            return data
        if keyed:
            keyed.remove(max(keyed, key=lambda kv: len(kv[1])))
        else:  # a prompt longer than the format holds: the file is still written, without it
            parameters = None
