"""Reading image files safely: metadata without decoding pixels, and pixels within limits.

``read_raw`` never decodes pixel data: for PNG it walks the chunks itself (text chunks capped in
size, compressed text inflated with a cap, CRCs checked); for other formats Pillow parses only the
headers. ``load_image`` decodes pixels after a size check and maps every failure to
``ImageReadError`` — the one documented error type.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from t2i_studio.core.exif import keyed_texts
from t2i_studio.core.project_errors import ImageReadError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_CHUNK = 4 * 2**20  # bytes of one text chunk as stored
MAX_INFLATED = 8 * 2**20  # bytes of one compressed text chunk once inflated
MAX_TEXT_TOTAL = 32 * 2**20  # all text of one file
MAX_CHUNKS = 200_000
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485  # ~ 9459 x 9459, Pillow's own limit
MAX_FILE_BYTES = 1 * 2**30
_TEXT_TYPES = {b"tEXt", b"zTXt", b"iTXt"}


@dataclass
class RawInfo:
    """What the file says about itself: format, size and the text/EXIF/XMP it carries."""

    format: str = ""  # "PNG", "JPEG", "WEBP", ... ("" when not an image we recognise)
    width: int | None = None
    height: int | None = None
    texts: dict[str, str] = field(default_factory=dict)
    exif: bytes | None = None
    xmp: str | None = None
    icc: bool = False
    notes: list[str] = field(default_factory=list)  # problems met on the way (skipped chunks ...)


def sniff_format(head: bytes) -> str:
    """The format from the file's first bytes (the extension is never trusted)."""
    if head.startswith(PNG_SIGNATURE):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:2] == b"BM":
        return "BMP"
    return ""


def _inflate(data: bytes) -> bytes | None:
    decomp = zlib.decompressobj()
    try:
        out = decomp.decompress(data, MAX_INFLATED)
    except zlib.error:
        return None
    if decomp.unconsumed_tail:
        return None  # a decompression bomb, or simply too much text
    return out


def _legacy_text(data: bytes) -> str:
    """tEXt/zTXt are Latin-1 by the PNG spec, but many tools write UTF-8 there: text that is valid
    UTF-8 (and not plain ASCII) almost never is Latin-1 prose, so it reads as UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _decode_text_chunk(ctype: bytes, data: bytes) -> tuple[str, str] | None:
    key, sep, rest = data.partition(b"\0")
    if not sep or not 1 <= len(key) <= 79:
        return None
    name = key.decode("latin-1")
    if ctype == b"tEXt":
        return name, _legacy_text(rest)
    if ctype == b"zTXt":
        if not rest or rest[0] != 0:
            return None
        inflated = _inflate(rest[1:])
        return None if inflated is None else (name, _legacy_text(inflated))
    if len(rest) < 2:  # iTXt: flag, method, language\0, translated key\0, text
        return None
    compressed, method = rest[0], rest[1]
    parts = rest[2:].split(b"\0", 2)
    if len(parts) != 3:
        return None
    text = parts[2]
    if compressed:
        if method != 0:
            return None
        inflated = _inflate(text)
        if inflated is None:
            return None
        text = inflated
    return name, text.decode("utf-8", "replace")


def _read_png(handle: io.BufferedReader, info: RawInfo) -> None:
    handle.seek(len(PNG_SIGNATURE))
    total_text = 0
    for _ in range(MAX_CHUNKS):
        header = handle.read(8)
        if len(header) < 8:
            info.notes.append("truncated file (no IEND chunk)")
            return
        length, ctype = struct.unpack(">I4s", header)
        if length > 0x7FFFFFFF:
            info.notes.append("corrupt chunk length")
            return
        if ctype == b"IEND":
            return
        wanted = ctype in _TEXT_TYPES or ctype in (b"IHDR", b"eXIf", b"iCCP")
        if wanted and length > MAX_TEXT_CHUNK:
            info.notes.append(f"skipped an oversized {ctype.decode('latin-1')} chunk ({length} bytes)")
            wanted = False
        if not wanted:
            handle.seek(length + 4, io.SEEK_CUR)
            continue
        data = handle.read(length)
        crc = handle.read(4)
        if len(data) < length or len(crc) < 4:
            info.notes.append("truncated file (inside a chunk)")
            return
        if zlib.crc32(ctype + data) & 0xFFFFFFFF != struct.unpack(">I", crc)[0]:
            info.notes.append(f"bad CRC in a {ctype.decode('latin-1')} chunk, ignored")
            continue
        if ctype == b"IHDR" and length >= 8:
            info.width, info.height = struct.unpack(">II", data[:8])
        elif ctype == b"eXIf":
            info.exif = data
        elif ctype == b"iCCP":
            info.icc = True
        else:
            total_text += length
            if total_text > MAX_TEXT_TOTAL:
                info.notes.append("too much text metadata; the rest ignored")
                return
            decoded = _decode_text_chunk(ctype, data)
            if decoded is None:
                info.notes.append(f"unreadable {ctype.decode('latin-1')} chunk ignored")
                continue
            key, text = decoded
            if key == "XML:com.adobe.xmp":
                info.xmp = text
            elif key not in info.texts:
                info.texts[key] = text
    info.notes.append("too many chunks; the rest ignored")


def _read_other(path: Path, info: RawInfo) -> None:
    try:
        with Image.open(path) as im:  # headers only: no pixel decoding here
            info.format = im.format or info.format
            info.width, info.height = im.size
            info.icc = bool(im.info.get("icc_profile"))
            exif = im.info.get("exif")
            if isinstance(exif, bytes):
                info.exif = exif[6:] if exif.startswith(b"Exif\0\0") else exif
            xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
            if isinstance(xmp, bytes):
                xmp = xmp.decode("utf-8", "replace")
            if isinstance(xmp, str) and len(xmp) <= MAX_TEXT_CHUNK:
                info.xmp = xmp
            tags = getattr(im, "tag_v2", None)  # TIFF: XMP in tag 700, text in ImageDescription
            if tags is not None:
                tiff_xmp, description = tags.get(700), tags.get(270)
                if isinstance(tiff_xmp, bytes) and len(tiff_xmp) <= MAX_TEXT_CHUNK:
                    info.xmp = tiff_xmp.decode("utf-8", "replace")
                if isinstance(description, str) and len(description) <= MAX_TEXT_CHUNK:
                    try:  # UTF-8 bytes in an ASCII tag come back as Latin-1 text
                        description = description.encode("latin-1").decode("utf-8")
                    except UnicodeError:
                        pass
                    info.texts["ImageDescription"] = description
            comment = im.info.get("comment")
            if isinstance(comment, bytes) and len(comment) <= MAX_TEXT_CHUNK:
                info.texts["comment"] = comment.decode("utf-8", "replace")
    except Image.DecompressionBombError:
        info.notes.append("image too large to open safely")
    except Exception as exc:  # noqa: BLE001 - any parser failure means "unreadable", never a crash
        info.notes.append(f"unreadable image ({type(exc).__name__})")


def read_raw(path: Path | str) -> RawInfo:
    """The metadata-bearing parts of an image file. Never raises; problems go to ``notes``."""
    info = RawInfo()
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
            info.format = sniff_format(head)
            if info.format == "PNG":
                _read_png(handle, info)  # type: ignore[arg-type]
                return info
    except OSError as exc:
        info.notes.append(f"cannot read the file: {exc.strerror or exc}")
        return info
    if not info.format:
        info.notes.append("not an image file (unknown format)")
        return info
    _read_other(path, info)
    for key, text in keyed_texts(info.exif).items():  # ComfyUI's JPEG/WebP graphs read as its PNG texts
        info.texts.setdefault(key, text)
    return info


@contextmanager
def _quiet_bomb_warning() -> Iterator[None]:
    """Pillow warns on opening a large image; the size check right after tells the user instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _check_size(path: Path, im: Image.Image, max_pixels: int) -> None:
    width, height = im.size
    if width <= 0 or height <= 0 or width * height > max_pixels:
        raise ImageReadError(f"{path.name} is too large to open safely ({width}x{height} pixels).",
                             f"Images up to about {max_pixels // 1_000_000} megapixels can be opened.")


@contextmanager
def _opened(path: Path, max_pixels: int) -> Iterator[Image.Image]:
    """``path`` opened once its file size and pixel count (from the header) are within the limits;
    any failure, also in the caller's block, becomes an ``ImageReadError``."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImageReadError(f"{path.name} is too large to open ({path.stat().st_size} bytes).")
        with _quiet_bomb_warning(), Image.open(path) as im:
            _check_size(path, im, max_pixels)
            yield im
    except ImageReadError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageReadError(f"{path.name} is too large to open safely.", details=str(exc)) from None
    except FileNotFoundError:
        raise ImageReadError(f"{path} does not exist.") from None
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for broken files
        raise ImageReadError(f"{path.name} is not a readable image ({type(exc).__name__}: {exc}).",
                             "The file may be truncated, damaged, or not an image.") from None


def check_image(path: Path | str, *, max_pixels: int = MAX_PIXELS) -> None:
    """That ``path`` is an image within the pixel limit, from its header alone (nothing decoded):
    the cheap check a job makes before it starts. ``ImageReadError`` otherwise."""
    with _opened(Path(path), max_pixels) as im:
        im.verify()


def load_image(path: Path | str, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode an image fully (a detached copy) once its size is checked from the header (the one
    pixel limit for every image the app opens); every failure is an ``ImageReadError``."""
    with _opened(Path(path), max_pixels) as im:
        im.load()
        return im.copy()

