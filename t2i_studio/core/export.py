"""Export for design work: PNG, JPEG, WebP or TIFF, in sRGB, resized well, metadata kept or not.

Kept metadata: PNG keeps every text chunk (``parameters``, ``t2i_studio``, XMP, other apps' too);
JPEG and WebP carry the ``parameters`` text in EXIF UserComment plus an XMP packet (with our JSON,
so our own exports read back exactly); TIFF carries it in ImageDescription plus XMP.
``strip_metadata`` writes none of that (the sRGB colour profile stays: it is colour, not metadata).
File names are sanitised and never overwrite an existing file.
"""

from __future__ import annotations

import io
import logging
import re
import string
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, PngImagePlugin

from t2i_studio import APP_NAME, __version__
from t2i_studio.core.atomic import write_atomic
from t2i_studio.core.image_io import load_image, read_raw
from t2i_studio.core.metadata import ImageMetadata, parameters_for, read_metadata, srgb_icc, xmp_for
from t2i_studio.core.project_errors import ProjectError, os_error_message
from t2i_studio.core.requests import ExportRequest
from t2i_studio.core.xmp import XMP_KEY

if TYPE_CHECKING:
    from t2i_studio.core.project import Entry, Project

log = logging.getLogger(__name__)
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp", "tiff": ".tif"}
NAME_FIELDS = ("date", "time", "seed", "prompt", "id", "model", "kind", "width", "height", "stem")
MAX_NAME_BYTES = 120
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_JPEG_XMP_LIMIT = 65000


@dataclass
class Exported:
    source: str
    output: Path
    format: str
    width: int
    height: int
    metadata: str  # "kept" | "stripped" | "none" (the source had none to keep)


class _NameFormatter(string.Formatter):
    """``{prompt:40}`` means "the first 40 characters", not "padded to 40"."""

    def get_value(self, key: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        if key not in kwargs:
            raise ValueError(f"Unknown name template field {{{key}}}; use {', '.join(NAME_FIELDS)}.")
        return kwargs[key]

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec.isdigit():
            return str(value)[: int(format_spec)]
        return format(value, format_spec)


def sanitize_filename(stem: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """A safe file name stem: no separators, no traversal, no reserved names, length-limited."""
    text = unicodedata.normalize("NFC", stem)
    text = re.sub(r"[^\w.()+@=-]+", "-", text)  # separators, control and reserved characters go
    text = re.sub(r"-{2,}", "-", text).strip(" .-_")
    while len(text.encode("utf-8")) > max_bytes:
        text = text[:-1]
    text = text.rstrip(" .-_")
    if not text:
        text = "image"
    if text.split(".")[0].upper() in _RESERVED:
        text = "_" + text
    return text


def name_fields(source: Path, meta: ImageMetadata, entry: Entry | None) -> dict[str, Any]:
    if entry is not None:
        created = entry.created
    else:
        try:
            created = datetime.fromtimestamp(source.stat().st_mtime).isoformat(timespec="seconds")
        except OSError:
            created = datetime.now().isoformat(timespec="seconds")
    request = meta.request
    prompt = getattr(request, "prompt", "") or (entry.prompt if entry else "")
    model = (entry.model if entry else getattr(request, "model", "")) or ""
    seed = entry.seed if entry is not None else meta.seed
    return {
        "date": created[:10], "time": created[11:19].replace(":", ""), "seed": "" if seed is None else seed,
        "prompt": " ".join(prompt.split()), "id": entry.id if entry else "", "model": model.rstrip("/\\").split("/")[-1],
        "kind": entry.kind if entry else (request.kind if request else "image"),
        "width": meta.width or "", "height": meta.height or "", "stem": source.stem,
    }


def render_name(template: str, fields: dict[str, Any]) -> str:
    try:
        return _NameFormatter().format(template, **fields)
    except (IndexError, KeyError, ValueError) as exc:
        raise ValueError(f"Bad name template {template!r}: {exc}") from None


def _to_srgb(image: Image.Image) -> Image.Image:
    icc = image.info.get("icc_profile")
    srgb = srgb_icc()
    if not icc or not srgb or icc == srgb:
        return image
    try:
        from PIL import ImageCms

        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if "A" in image.getbands() else "RGB"
        return ImageCms.profileToProfile(image.convert(mode), src, ImageCms.createProfile("sRGB"),
                                         outputMode=mode) or image
    except Exception as exc:  # noqa: BLE001 - a broken embedded profile: keep the pixels as they are
        log.warning("Could not convert the colour profile (%s); exporting pixels unchanged", exc)
        return image


def prepare_pixels(image: Image.Image, fmt: str, long_edge: int | None) -> Image.Image:
    image = _to_srgb(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        image = image.point(lambda v: v / 256).convert("L") if image.mode.startswith("I;16") else image.convert("L")
    has_alpha = "A" in image.getbands() or image.mode == "P" and "transparency" in image.info
    image = image.convert("RGBA" if has_alpha else ("L" if image.mode in ("1", "L") else "RGB"))
    if fmt == "jpeg" and image.mode == "RGBA":
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    if long_edge and max(image.size) != long_edge:
        scale = long_edge / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0 if scale < 1 else None)
    image.info = {}
    return image


def _user_comment(text: str) -> bytes:
    try:
        return b"ASCII\0\0\0" + text.encode("ascii")
    except UnicodeEncodeError:
        return b"UNICODE\0" + text.encode("utf-16-be")


def _exif_bytes(parameters: str | None) -> bytes:
    exif = Image.Exif()
    exif.endian = ">"  # big-endian, so UTF-16BE comments read the same in every reader
    exif[0x0131] = f"{APP_NAME} {__version__}"
    if parameters:
        exif.get_ifd(0x8769)[0x9286] = _user_comment(parameters)
    return exif.tobytes()


def encode(image: Image.Image, fmt: str, *, quality: int, source: Path, meta: ImageMetadata | None) -> bytes:
    """The exported file's bytes; ``meta`` None means strip all metadata."""
    args: dict[str, Any] = {}
    icc = srgb_icc()
    if icc:
        args["icc_profile"] = icc
    data = meta.data if meta is not None and meta.source == "t2i_studio" else None
    parameters = None
    if meta is not None:
        parameters = meta.parameters or (parameters_for(data) if data else None)
    if fmt == "png":
        if meta is not None:
            raw = read_raw(source)
            info = PngImagePlugin.PngInfo()
            for key, value in raw.texts.items():
                info.add_text(key, value, zip=len(value) > 4096)
            if parameters and "parameters" not in raw.texts:
                info.add_text("parameters", parameters)
            info.add_itxt(XMP_KEY, raw.xmp or xmp_for(data, parameters, include_json=True))
            args["pnginfo"] = info
        args["compress_level"] = 6
    elif fmt in ("jpeg", "webp", "tiff") and meta is not None:
        xmp = xmp_for(data, parameters, include_json=True)
        if fmt == "jpeg" and len(xmp.encode()) > _JPEG_XMP_LIMIT:  # one APP1 segment: leave our JSON out
            xmp = xmp_for(data, parameters, include_json=False)
        args["xmp"] = xmp.encode("utf-8")
        if fmt == "tiff":
            args["tiffinfo"] = {270: (parameters or "").encode("utf-8"), 305: f"{APP_NAME} {__version__}",
                                700: args.pop("xmp")}  # ImageDescription as UTF-8, XMP in its tag
        else:
            args["exif"] = _exif_bytes(parameters)
    if fmt == "jpeg":
        args.update(quality=quality, subsampling=0 if quality >= 90 else 2, optimize=True)
    elif fmt == "webp":
        args.update(quality=quality, method=5)
    elif fmt == "tiff":
        args["compression"] = "tiff_lzw"
    out = io.BytesIO()
    image.save(out, format={"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "tiff": "TIFF"}[fmt], **args)
    return out.getvalue()


def write_unique(out_dir: Path, stem: str, ext: str, data: bytes) -> Path:
    """Write ``stem + ext`` into ``out_dir``; on a clash try ``stem-2``, ``stem-3`` ... never overwrite."""
    for n in range(1, 10000):
        candidate = out_dir / (f"{stem}{ext}" if n == 1 else f"{stem}-{n}{ext}")
        if candidate.resolve().parent != out_dir.resolve():
            raise ProjectError(f"Refusing to write outside {out_dir}: {candidate.name}")
        if candidate.exists():
            continue
        try:
            return write_atomic(candidate, data, overwrite=False)
        except FileExistsError:
            continue
    raise ProjectError(f"Too many files named {stem}{ext} in {out_dir}.")


def export_file(source: Path, out_dir: Path, *, fmt: str = "png", long_edge: int | None = None,
                quality: int = 92, strip_metadata: bool = False, name_template: str = "{date}-{seed}-{prompt:40}",
                entry: Entry | None = None) -> Exported:
    """Export one image file (a project entry's, or any file). Raises StudioError on failure."""
    ExportRequest(sources=(str(source),), format=fmt, long_edge=long_edge, quality=quality,
                  name_template=name_template).validate()
    meta = read_metadata(source)
    image = prepare_pixels(load_image(source), fmt, long_edge)
    fields = name_fields(source, meta, entry)
    stem = sanitize_filename(render_name(name_template, fields))
    keep = None if strip_metadata else meta
    data = encode(image, fmt, quality=quality, source=source, meta=keep)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        output = write_unique(out_dir, stem, EXTENSIONS[fmt], data)
    except OSError as exc:
        raise os_error_message(exc, "write the exported image") from exc
    state = "stripped" if strip_metadata else ("kept" if meta.source != "none" or meta.parameters else "none")
    return Exported(str(source), output, fmt, image.width, image.height, state)


def run_export(request: ExportRequest, project: Project | None = None) -> list[Exported]:
    """Export every source of ``request``: an existing file path, or an entry id of ``project``."""
    request.validate()
    out_dir = Path(request.out_dir) if request.out_dir else (
        project.folder / "exports" if project is not None else Path.cwd() / "exports")
    render_name(request.name_template, dict.fromkeys(NAME_FIELDS, ""))  # fail early on a bad template
    jobs: list[tuple[Path, Any]] = []
    for source in request.sources:
        path = Path(source).expanduser()
        if path.is_file():
            jobs.append((path, None))
            continue
        text = str(source).lstrip("#")
        if text.isdigit() and project is not None:
            entry = project.get(int(text))
            if entry is None:
                raise ProjectError(f"No entry {text} in the project {project.folder}.")
            jobs.append((entry.path, entry))
            continue
        raise ProjectError(f"{source} is neither an image file nor an entry id"
                           + ("" if project is not None else " (entry ids need --project)") + ".")
    return [export_file(path, out_dir, fmt=request.format, long_edge=request.long_edge,
                        quality=request.quality, strip_metadata=request.strip_metadata,
                        name_template=request.name_template, entry=entry) for path, entry in jobs]
