"""The export formats, one table entry each: extension, Pillow encoder and its options, whether
quality applies and transparency survives, and how the kept metadata is written.

``core.export`` encodes through this table, the CLI takes its ``--format`` choices and help from
it, the export dialog its format list; adding a format is adding an entry to ``FORMATS``.

Metadata writers turn a ``KeptMetadata`` into Pillow save arguments:
- PNG keeps every text chunk of the source (``parameters``, ``t2i_studio``, XMP, other apps' too);
- JPEG and WebP carry the ``parameters`` text in EXIF UserComment plus an XMP packet with our
  JSON (so our own exports read back exactly);
- TIFF carries it in ImageDescription plus XMP in its own tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

from PIL import Image, PngImagePlugin

from t2i_studio import APP_NAME, __version__
from t2i_studio.core.image_io import read_raw
from t2i_studio.core.metadata import xmp_for
from t2i_studio.core.xmp import XMP_KEY

_JPEG_XMP_LIMIT = 65000  # one APP1 segment holds 64 KiB
_SOFTWARE = f"{APP_NAME} {__version__}"


@dataclass(frozen=True)
class KeptMetadata:
    """What an export carries over: the source file (PNG copies its chunks), our JSON when the
    source is one of ours, and the A1111 ``parameters`` text."""

    source: Path
    data: dict[str, Any] | None
    parameters: str | None


SaveArgs = dict[str, Any]


@dataclass(frozen=True)
class ExportFormat:
    name: str  # what requests, settings and the CLI say: "png"
    extension: str  # of the written file: ".png"
    pillow: str  # Pillow's format name for Image.save
    label: str  # what the user reads: "PNG"
    hint: str  # when to pick it (tooltips, CLI help)
    lossy: bool  # the quality setting applies
    alpha: bool  # transparency is kept; otherwise flattened on white
    write_metadata: Callable[[KeptMetadata], SaveArgs]
    options: Callable[[int], SaveArgs]  # encoder arguments for a quality of 1-100


def png_text_chunks(kept: KeptMetadata) -> SaveArgs:
    raw = read_raw(kept.source)
    info = PngImagePlugin.PngInfo()
    for key, value in raw.texts.items():
        info.add_text(key, value, zip=len(value) > 4096)
    if kept.parameters and "parameters" not in raw.texts:
        info.add_text("parameters", kept.parameters)
    info.add_itxt(XMP_KEY, raw.xmp or xmp_for(kept.data, kept.parameters, include_json=True))
    return {"pnginfo": info}


def _user_comment(text: str) -> bytes:
    try:
        return b"ASCII\0\0\0" + text.encode("ascii")
    except UnicodeEncodeError:
        return b"UNICODE\0" + text.encode("utf-16-be")


def exif_and_xmp(kept: KeptMetadata, *, xmp_limit: int | None = None) -> SaveArgs:
    xmp = xmp_for(kept.data, kept.parameters, include_json=True)
    if xmp_limit is not None and len(xmp.encode()) > xmp_limit:  # too big for the format: leave our JSON out
        xmp = xmp_for(kept.data, kept.parameters, include_json=False)
    exif = Image.Exif()
    exif.endian = ">"  # big-endian, so UTF-16BE comments read the same in every reader
    exif[0x0131] = _SOFTWARE
    if kept.parameters:
        exif.get_ifd(0x8769)[0x9286] = _user_comment(kept.parameters)
    return {"xmp": xmp.encode("utf-8"), "exif": exif.tobytes()}


def tiff_tags(kept: KeptMetadata) -> SaveArgs:
    xmp = xmp_for(kept.data, kept.parameters, include_json=True)
    # ImageDescription as UTF-8, Software, XMP in its own tag
    return {"tiffinfo": {270: (kept.parameters or "").encode("utf-8"), 305: _SOFTWARE, 700: xmp.encode("utf-8")}}


def _jpeg_options(quality: int) -> SaveArgs:
    # Chroma subsampling blurs colour edges; at high quality the user wants them kept.
    return {"quality": quality, "subsampling": 0 if quality >= 90 else 2, "optimize": True}


FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("png", ".png", "PNG", "PNG", "lossless, keeps every pixel and transparency",
                 lossy=False, alpha=True, write_metadata=png_text_chunks,
                 options=lambda quality: {"compress_level": 6}),
    ExportFormat("jpeg", ".jpg", "JPEG", "JPEG", "smallest files, lossy, no transparency",
                 lossy=True, alpha=False, write_metadata=partial(exif_and_xmp, xmp_limit=_JPEG_XMP_LIMIT),
                 options=_jpeg_options),
    ExportFormat("webp", ".webp", "WEBP", "WebP", "small files, lossy, keeps transparency",
                 lossy=True, alpha=True, write_metadata=exif_and_xmp,
                 options=lambda quality: {"quality": quality, "method": 5}),
    ExportFormat("tiff", ".tif", "TIFF", "TIFF", "lossless (LZW), for print workflows",
                 lossy=False, alpha=True, write_metadata=tiff_tags,
                 options=lambda quality: {"compression": "tiff_lzw"}),
)}
FORMAT_NAMES = tuple(FORMATS)


def export_format(name: str) -> ExportFormat:
    """The table entry for ``name``; ``ValueError`` naming the choices otherwise."""
    try:
        return FORMATS[name]
    except (KeyError, TypeError):
        raise ValueError(f"Format must be one of {', '.join(FORMAT_NAMES)}; got {name!r}.") from None


def lossy_labels() -> str:
    """``"JPEG/WebP"``: the formats the quality setting applies to, for help texts."""
    return "/".join(f.label for f in FORMATS.values() if f.lossy)
