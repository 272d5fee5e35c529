""""Stealth" metadata hidden in pixel bits: NovelAI's and the A1111 stealth-pnginfo extension's.

The writer puts one bit per pixel in the alpha channel's lowest bit (``stealth_pnginfo``, gzip'd:
``stealth_pngcomp``) or three per pixel in the red, green and blue lowest bits (``stealth_rgbinfo``
/ ``stealth_rgbcomp``), column by column from the top left: a 15-byte signature, the data's length
in bits (32 bits, big-endian), then the data - A1111's ``parameters`` text, or NovelAI's text
chunks as one JSON object. Only lossless images can carry it; the pixels are decoded within
``image_io``'s limits.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from t2i_studio.core.image_io import MAX_INFLATED, load_image

_SIGNATURES = {b"stealth_pnginfo": ("alpha", False), b"stealth_pngcomp": ("alpha", True),
               b"stealth_rgbinfo": ("rgb", False), b"stealth_rgbcomp": ("rgb", True)}
_SIG_BITS = 15 * 8


def _bits(image: Image.Image, mode: str) -> np.ndarray:
    """The lowest bits in the writer's order: x outer, y inner (and r, g, b within a pixel)."""
    if mode == "alpha":
        plane = np.asarray(image.getchannel("A"))
        return (plane.T & 1).ravel()
    rgb = np.asarray(image.convert("RGB"))
    return (rgb.transpose(1, 0, 2) & 1).ravel()


def _to_int(bits: np.ndarray) -> int:
    return int("".join("1" if b else "0" for b in bits) or "0", 2)


def _decode(bits: np.ndarray, compressed: bool) -> str | None:
    length = _to_int(bits[_SIG_BITS:_SIG_BITS + 32])
    data_bits = bits[_SIG_BITS + 32:_SIG_BITS + 32 + length]
    if length == 0 or length % 8 or len(data_bits) < length:
        return None
    data = np.packbits(data_bits).tobytes()
    if compressed:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
                data = handle.read(MAX_INFLATED + 1)
        except (OSError, EOFError, zlib.error):
            return None
        if len(data) > MAX_INFLATED:
            return None
    return data.decode("utf-8", "replace")


def read_stealth(path: Path | str) -> str | None:
    """The hidden text of an image, or None (no signature, damaged, or not decodable)."""
    try:
        image = load_image(path)
    except Exception:  # noqa: BLE001 - an image we cannot decode has no readable stealth data
        return None
    modes = ("alpha", "rgb") if "A" in image.getbands() else ("rgb",)
    for mode in modes:
        bits = _bits(image, mode)
        if len(bits) < _SIG_BITS + 32:
            continue
        found = _SIGNATURES.get(np.packbits(bits[:_SIG_BITS]).tobytes())
        if found and found[0] == mode:
            return _decode(bits, found[1])
    return None
