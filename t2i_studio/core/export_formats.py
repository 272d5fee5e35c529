"""The export formats, one table entry each: extension, Pillow encoder and its options, whether
quality applies and transparency survives, and how the kept metadata is written.

``core.export`` encodes through this table, the CLI takes its ``--format`` choices and help from
it, the export dialog its format list; adding a format is adding an entry to ``FORMATS``.

Metadata writers turn a ``KeptMetadata`` into Pillow save arguments:
- PNG keeps every text chunk of the source (``parameters``, ``t2i_studio``, XMP, other apps' too);
- JPEG and WebP carry the ``parameters`` text in EXIF UserComment as A1111 writes it, other tools'
  JSON (ComfyUI's ``prompt``/``workflow``, InvokeAI's) in EXIF as ComfyUI's save nodes write it
  (``core.exif``), and an XMP packet with our JSON (so our own exports read back exactly) or the
  source's own XMP;
- TIFF carries it in ImageDescription plus XMP in its own tag.
Only our own images get our XMP's AI-made mark (IPTC DigitalSourceType); a plain photo gets no XMP.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

from PIL import PngImagePlugin

from t2i_studio import APP_NAME, __version__
from t2i_studio.core.exif import build_exif
from t2i_studio.core.image_io import RawInfo, read_raw
from t2i_studio.core.metadata import JSON_KEY, PARAMETERS_KEY, add_text_chunk, xmp_for
from t2i_studio.core.xmp import XMP_KEY

_JPEG_SEGMENT = 65000  # one APP1 segment (EXIF, XMP) holds 64 KiB
_OURS = {PARAMETERS_KEY, JSON_KEY, XMP_KEY, "Software"}
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
    dpi: bool = True  # the file records a print resolution (Pillow's ``dpi``); WebP has no such field


def _foreign_json(raw: RawInfo) -> dict[str, str]:
    """Other tools' JSON texts (ComfyUI's ``prompt``/``workflow``, InvokeAI's ...), not ours."""
    return {key: text for key, text in raw.texts.items()
            if key not in _OURS and text.lstrip()[:1] in ("{", "[")}


def png_text_chunks(kept: KeptMetadata) -> SaveArgs:
    raw = read_raw(kept.source)
    info = PngImagePlugin.PngInfo()
    for key, value in raw.texts.items():
        add_text_chunk(info, key, value)
    if kept.parameters and PARAMETERS_KEY not in raw.texts:
        info.add_text(PARAMETERS_KEY, kept.parameters)
    xmp = raw.xmp or _xmp(kept)
    if xmp:
        info.add_itxt(XMP_KEY, xmp)
    return {"pnginfo": info}


def _xmp(kept: KeptMetadata, include_json: bool = True) -> str | None:
    """Our XMP packet when there is something to say; a plain photo gets none."""
    if kept.data is None and not kept.parameters:
        return None
    return xmp_for(kept.data, kept.parameters, include_json=include_json)


def exif_and_xmp(kept: KeptMetadata, *, exif_limit: int | None = None, xmp_limit: int | None = None) -> SaveArgs:
    raw = read_raw(kept.source)
    xmp = _xmp(kept) if kept.data is not None or not raw.xmp else raw.xmp  # another tool's XMP stays as it was
    if xmp and xmp_limit is not None and len(xmp.encode()) > xmp_limit:  # too big for the format
        xmp = _xmp(kept, include_json=False) if kept.data is not None else None
        if xmp and len(xmp.encode()) > xmp_limit:
            xmp = None
    args: SaveArgs = {"exif": build_exif(_SOFTWARE, kept.parameters, _foreign_json(raw), exif_limit)}
    if xmp:
        args["xmp"] = xmp.encode("utf-8")
    return args


def tiff_tags(kept: KeptMetadata) -> SaveArgs:
    xmp = _xmp(kept)
    # ImageDescription as UTF-8, Software, XMP in its own tag
    tags = {270: (kept.parameters or "").encode("utf-8"), 305: _SOFTWARE}
    if xmp:
        tags[700] = xmp.encode("utf-8")
    return {"tiffinfo": tags}


def _jpeg_options(quality: int) -> SaveArgs:
    # Chroma subsampling blurs colour edges; at high quality the user wants them kept.
    return {"quality": quality, "subsampling": 0 if quality >= 90 else 2, "optimize": True}


FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("png", ".png", "PNG", "PNG", "lossless, keeps every pixel and transparency",
                 lossy=False, alpha=True, write_metadata=png_text_chunks,
                 options=lambda quality: {"compress_level": 6}),
    ExportFormat("jpeg", ".jpg", "JPEG", "JPEG", "smallest files, lossy, no transparency",
                 lossy=True, alpha=False,
                 write_metadata=partial(exif_and_xmp, exif_limit=_JPEG_SEGMENT, xmp_limit=_JPEG_SEGMENT),
                 options=_jpeg_options),
    ExportFormat("webp", ".webp", "WEBP", "WebP", "small files, lossy, keeps transparency",
                 lossy=True, alpha=True, write_metadata=exif_and_xmp,
                 options=lambda quality: {"quality": quality, "method": 5}, dpi=False),
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
