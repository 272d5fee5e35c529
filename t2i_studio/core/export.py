"""Export for design work: any format of ``core.export_formats``, in sRGB, resized well, metadata
kept or not.

An ``ExportRequest`` says what to export and how; ``prepare_export`` checks it and resolves its
sources (files, or entry ids of a project) into an ``ExportPlan``, whose ``run`` is the one loop
that writes the files, for the CLI and the export dialog alike. ``strip_metadata`` writes no
prompt, settings, EXIF or XMP (the sRGB colour profile stays: it is colour, not metadata). File
names are sanitised and never overwrite an existing file.
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
from typing import TYPE_CHECKING, Any, Callable

from PIL import Image

from t2i_studio.core.atomic import write_atomic
from t2i_studio.core.engine import CancelToken
from t2i_studio.core.export_formats import KeptMetadata, export_format
from t2i_studio.core.image_io import load_image
from t2i_studio.core.metadata import ImageMetadata, parameters_for, read_metadata, srgb_icc
from t2i_studio.core.project_errors import ProjectError, os_error_message

if TYPE_CHECKING:
    from t2i_studio.core.project import Entry, Project

log = logging.getLogger(__name__)
NAME_FIELDS = ("date", "time", "seed", "prompt", "id", "model", "kind", "width", "height", "stem")
DEFAULT_FORMAT = "png"
DEFAULT_TEMPLATE = "{date}-{seed}-{prompt:40}"
DEFAULT_QUALITY = 92
LONG_EDGE_RANGE = (16, 16384)
DPI_RANGE = (36, 4800)
MAX_NAME_BYTES = 120
MAX_TEMPLATE_CHARS = 500
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}

OnProgress = Callable[[int, int], None]  # (files written, files in all)


@dataclass(frozen=True)
class ExportRequest:
    """Export images (project entries or files) for design work."""

    sources: tuple[str, ...]  # image files, or entry ids ("12" or "#12") of the project
    format: str = DEFAULT_FORMAT  # a name in core.export_formats.FORMATS
    out_dir: str | None = None  # default: the project's exports/ folder
    long_edge: int | None = None  # resize so the long edge is this many pixels
    quality: int = DEFAULT_QUALITY  # for lossy formats
    strip_metadata: bool = False
    name_template: str = DEFAULT_TEMPLATE
    dpi: int | None = None  # print resolution written into the file (None: none written)

    def validate(self) -> ExportRequest:
        """``self``, or ``ValueError`` saying what is wrong."""
        if len(self.sources) < 1:
            raise ValueError("Nothing to export: give at least one entry or file.")
        export_format(self.format)
        low, high = LONG_EDGE_RANGE
        if self.long_edge is not None and not (isinstance(self.long_edge, int) and low <= self.long_edge <= high):
            raise ValueError(f"Long edge must be from {low} to {high} pixels, got {self.long_edge!r}.")
        if not (isinstance(self.quality, int) and 1 <= self.quality <= 100):
            raise ValueError(f"Quality must be from 1 to 100, got {self.quality!r}.")
        if not self.name_template.strip():
            raise ValueError("The name template is empty.")
        low, high = DPI_RANGE
        if self.dpi is not None and not (isinstance(self.dpi, int) and low <= self.dpi <= high):
            raise ValueError(f"DPI must be from {low} to {high}, got {self.dpi!r}.")
        if self.dpi is not None and not export_format(self.format).dpi:
            raise ValueError(f"{export_format(self.format).label} files cannot record a DPI: choose PNG, JPEG "
                             "or TIFF for print.")
        return self


@dataclass
class Exported:
    source: str
    output: Path
    format: str
    width: int
    height: int
    metadata: str  # "kept" | "stripped" | "none" (the source had none to keep)


class _NameFormatter(string.Formatter):
    """``{prompt:40}`` means "the first 40 characters", not "padded to 40". Plain field names only
    (``{seed.__class__}`` and ``{seed[0]}`` reach into Python objects), and no format widening a
    field past what a file name can hold (``{seed:x>2000000}``)."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if any(c in field_name for c in ".["):
            raise ValueError(f"{{{field_name}}}: name template fields take no attribute or index access; "
                             f"use {', '.join(NAME_FIELDS)}.")
        if field_name not in NAME_FIELDS:
            raise ValueError(f"Unknown name template field {{{field_name}}}; use {', '.join(NAME_FIELDS)}.")
        return kwargs.get(field_name, ""), field_name

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec.isdigit():
            return str(value)[: int(format_spec)]
        if max(map(int, re.findall(r"\d+", format_spec)), default=0) > MAX_NAME_BYTES:  # width or precision
            raise ValueError(f"Format {format_spec!r} makes a field wider than a file name "
                             f"({MAX_NAME_BYTES} bytes).")
        return format(value, format_spec)


def sanitize_filename(stem: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """A safe file name stem: no separators, no traversal, no reserved names, length-limited."""
    # cut first (a long prompt is thousands of characters; no name needs more than max_bytes of them)
    text = unicodedata.normalize("NFC", stem[: max_bytes * 4])[: max_bytes * 4]
    text = re.sub(r"[^\w.()+@=-]+", "-", text)  # separators, control and reserved characters go
    text = re.sub(r"-{2,}", "-", text).strip(" .-_")
    text = text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")  # whole characters only
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
    model_ref = getattr(request, "model", None)  # style requests name no model
    model = (entry.model if entry else model_ref.id if model_ref else "") or ""
    seed = entry.seed if entry is not None else meta.seed
    return {
        "date": created[:10], "time": created[11:19].replace(":", ""), "seed": "" if seed is None else seed,
        "prompt": " ".join(prompt.split()), "id": entry.id if entry else "", "model": model.rstrip("/\\").split("/")[-1],
        "kind": entry.kind if entry else (request.kind if request else "image"),
        "width": meta.width or "", "height": meta.height or "", "stem": source.stem,
    }


def render_name(template: str, fields: dict[str, Any]) -> str:
    if len(template) > MAX_TEMPLATE_CHARS:
        raise ValueError(f"The name template is {len(template):,} characters; at most {MAX_TEMPLATE_CHARS}.")
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
    if image.mode == "RGBA" and not export_format(fmt).alpha:
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    if long_edge and max(image.size) != long_edge:
        scale = long_edge / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0 if scale < 1 else None)
    image.info = {}
    return image


def encode(image: Image.Image, fmt: str, *, quality: int, source: Path, meta: ImageMetadata | None,
           dpi: int | None = None) -> bytes:
    """The exported file's bytes; ``meta`` None means strip all metadata."""
    spec = export_format(fmt)
    args = spec.options(quality)
    if dpi is not None and spec.dpi:
        args["dpi"] = (dpi, dpi)
    icc = srgb_icc()
    if icc:
        args["icc_profile"] = icc
    if meta is not None:
        data = meta.data if meta.source == "t2i_studio" else None
        parameters = meta.parameters or (parameters_for(data) if data else None)
        args.update(spec.write_metadata(KeptMetadata(source, data, parameters)))
    out = io.BytesIO()
    image.save(out, format=spec.pillow, **args)
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


def export_file(source: Path, out_dir: Path, *, fmt: str = DEFAULT_FORMAT, long_edge: int | None = None,
                quality: int = DEFAULT_QUALITY, strip_metadata: bool = False, name_template: str = DEFAULT_TEMPLATE,
                entry: Entry | None = None, dpi: int | None = None) -> Exported:
    """Export one image file (a project entry's, or any file). Raises StudioError on failure."""
    ExportRequest(sources=(str(source),), format=fmt, long_edge=long_edge, quality=quality,
                  name_template=name_template, dpi=dpi).validate()
    meta = read_metadata(source)
    image = prepare_pixels(load_image(source), fmt, long_edge)
    fields = name_fields(source, meta, entry)
    stem = sanitize_filename(render_name(name_template, fields))
    keep = None if strip_metadata else meta
    data = encode(image, fmt, quality=quality, source=source, meta=keep, dpi=dpi)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        output = write_unique(out_dir, stem, export_format(fmt).extension, data)
    except OSError as exc:
        raise os_error_message(exc, "write the exported image") from exc
    state = "stripped" if strip_metadata else ("kept" if meta.source != "none" or meta.parameters else "none")
    return Exported(str(source), output, fmt, image.width, image.height, state)


@dataclass(frozen=True)
class ExportPlan:
    """A checked export with its sources resolved to files: running it needs no project index, so
    it may run on any thread."""

    request: ExportRequest
    out_dir: Path
    items: tuple[tuple[Path, Entry | None], ...]

    def run(self, on_progress: OnProgress | None = None, cancel: CancelToken | None = None) -> list[Exported]:
        """Write every file. ``on_progress(done, total)`` comes before the first and after each;
        ``cancel`` is checked between files (``Cancelled``; the files written so far stay)."""
        r = self.request
        results: list[Exported] = []
        for path, entry in self.items:
            if on_progress is not None:
                on_progress(len(results), len(self.items))
            if cancel is not None:
                cancel.raise_if_cancelled()
            results.append(export_file(path, self.out_dir, fmt=r.format, long_edge=r.long_edge, quality=r.quality,
                                       strip_metadata=r.strip_metadata, name_template=r.name_template, entry=entry,
                                       dpi=r.dpi))
        if on_progress is not None:
            on_progress(len(results), len(self.items))
        return results


def prepare_export(request: ExportRequest, project: Project | None = None) -> ExportPlan:
    """Check ``request`` and resolve each source: an existing file path, or an entry id of ``project``
    (read from its index: call this on the thread that uses the project)."""
    request.validate()
    out_dir = Path(request.out_dir) if request.out_dir else (
        project.folder / "exports" if project is not None else Path.cwd() / "exports")
    render_name(request.name_template, dict.fromkeys(NAME_FIELDS, ""))  # fail early on a bad template
    items: list[tuple[Path, Entry | None]] = []
    for source in request.sources:
        path = Path(source).expanduser()
        if path.is_file():
            items.append((path, None))
            continue
        text = str(source).lstrip("#")
        if text.isdigit() and project is not None:
            entry = project.get(int(text))
            if entry is None:
                raise ProjectError(f"No entry {text} in the project {project.folder}.")
            items.append((entry.path, entry))
            continue
        raise ProjectError(f"{source} is neither an image file nor an entry id"
                           + ("" if project is not None else " (entry ids need --project)") + ".")
    return ExportPlan(request, out_dir, tuple(items))


def run_export(request: ExportRequest, project: Project | None = None, *, on_progress: OnProgress | None = None,
               cancel: CancelToken | None = None) -> list[Exported]:
    """Export every source of ``request``; see ``prepare_export`` and ``ExportPlan.run``."""
    return prepare_export(request, project).run(on_progress, cancel)
