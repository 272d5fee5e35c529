"""New images coming into a project: results saved, outside pictures imported, style images kept.

Each image is written once, never overwriting: a pending index row first, then the atomic
no-overwrite file, then the row is marked done, so a crash at any moment leaves nothing half-made
(``maintenance.recover_pending`` settles a pending row on the next open). The pictures a result was
made from are copied in by content hash, style images to ``styles/<sha12>.png``, init images,
masks, control and reference pictures to ``inputs/<sha12>.png``, so it stays reproducible after the
originals are gone.
Each function works on a ProjectStore; the Project checks that it is writable before calling in.
"""

from __future__ import annotations

import copy
import hashlib
import io
import logging
from pathlib import Path
from typing import Any

from t2i_studio.core.atomic import write_atomic
from t2i_studio.core.engine import Result
from t2i_studio.core.image_io import load_image, read_raw
from t2i_studio.core.metadata import image_data, png_save_args
from t2i_studio.core.project_errors import ImageReadError, PartlySavedError, ProjectError, os_error_message
from t2i_studio.core.requests import GenerationRequest, Request, UpscaleRequest
from t2i_studio.core.scan import now_local, request_fields, row_for_file
from t2i_studio.core.store import Entry, ProjectStore

log = logging.getLogger(__name__)
KEEP_EXT = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}  # formats imported byte for byte


# lineage keys naming an input picture -> the key that names its stored copy
INPUT_KEYS = {"source_image": "source_stored", "mask_image": "mask_stored"}
INPUT_LISTS = {"control_images": "controls_stored", "reference_images": "references_stored"}  # several each


def save_result(store: ProjectStore, request: Request, result: Result) -> list[Entry]:
    """Image k of ``result`` gets ``result.seeds[k]``; each one is a PNG with our full metadata
    (and the request's dpi, when it names one)."""
    if len(result.images) != len(result.seeds):
        raise ValueError(f"{len(result.images)} images but {len(result.seeds)} seeds in the result.")
    created = now_local()
    lineage = store_inputs(store.folder, store_styles(store.folder, result.lineage or {}))
    dpi = _dpi(request)
    entries: list[Entry] = []
    batch = request.sampling.seeds() if isinstance(request, GenerationRequest) else []
    for k, (image, seed) in enumerate(zip(result.images, result.seeds)):
        # its place in the batch, also when images come back one by one and out of order
        index = batch.index(seed) if seed in batch else k
        data = image_data(request, seed, index=index, fingerprint=result.fingerprint, lineage=lineage,
                          created=created)
        buffer = io.BytesIO()
        texts = result.texts[k] if k < len(result.texts) else None
        image.save(buffer, **png_save_args(data, extra_texts=texts), **({"dpi": (dpi, dpi)} if dpi else {}))
        row = {"created": created, "kind": request.kind, "width": image.width, "height": image.height,
               "seed": seed, "params": data, **request_fields(request, data)}
        try:
            entries.append(_store_file(store, row, buffer.getvalue(), created[:10], f"-{seed}.png"))
        except ProjectError as exc:
            if not entries:
                raise
            raise PartlySavedError(f"{exc} {len(entries)} of {len(result.images)} images were saved first.",
                                   exc.hint, exc.details, entries=tuple(entries)) from exc
    return entries


def _store_file(store: ProjectStore, row: dict[str, Any], data: bytes, day: str, suffix: str) -> Entry:
    """Pending row, atomic no-overwrite file, row done (see the module's docstring)."""
    index = store.index
    with store.lock:
        folder = store.folder / "images" / day
        for _attempt in range(1000):
            entry_id = store.allocate_id()
            rel = f"images/{day}/{entry_id:06d}{suffix}"
            full = {**row, "id": entry_id, "path": rel, "pending": 1}
            with index.write() as conn:
                index.insert(conn, full)
            try:
                folder.mkdir(parents=True, exist_ok=True)
                write_atomic(store.folder / rel, data, overwrite=False)
            except FileExistsError:  # a file dropped in by hand took the name: next id
                _drop_row(store, entry_id)
                continue
            except OSError as exc:
                _drop_row(store, entry_id)
                raise os_error_message(exc, "save the image") from exc
            except BaseException:
                _drop_row(store, entry_id)
                raise
            with index.write() as conn:
                conn.execute("UPDATE entries SET pending = 0 WHERE id = ?", (entry_id,))
            return store.entry_from_row({**full, "pending": 0, "favorite": 0, "rating": 0, "tags": "",
                                         "deleted": 0})
    raise ProjectError("Could not find a free file name in the images folder.")


def _drop_row(store: ProjectStore, entry_id: int) -> None:
    with store.index.write() as conn:
        conn.execute("DELETE FROM entries WHERE id = ?", (entry_id,))


def import_image(store: ProjectStore, path: Path | str) -> Entry:
    """Copy an outside image in (other formats than KEEP_EXT become PNG)."""
    source = Path(path)
    raw = read_raw(source)
    image = load_image(source)  # proves the pixels decode (ImageReadError otherwise)
    ext = KEEP_EXT.get(raw.format)
    if ext:
        data = source.read_bytes()
    else:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        data, ext = buffer.getvalue(), ".png"
    day = now_local()[:10]
    with store.lock:
        for _attempt in range(1000):
            entry_id = store.allocate_id()
            rel = f"images/{day}/{entry_id:06d}-import{ext}"
            target = store.folder / rel
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(target, data, overwrite=False)
            except FileExistsError:  # a file dropped in by hand took the name: next id (never delete it)
                continue
            except OSError as exc:
                raise os_error_message(exc, "import the image") from exc
            try:  # from here the file is ours: any failure removes it again
                row = row_for_file(target, rel, entry_id)
                if row is None:
                    raise ImageReadError(f"{source.name} is not a readable image.")
                with store.index.write() as conn:
                    store.index.insert(conn, row)
            except BaseException as exc:
                target.unlink(missing_ok=True)
                if isinstance(exc, OSError):
                    raise os_error_message(exc, "import the image") from exc
                raise
            return store.entry_from_row(store.index.get(entry_id))  # as the index holds it
    raise ProjectError("Could not find a free file name in the images folder.")


def _dpi(request: Request) -> int | None:
    upscale = request.upscale if isinstance(request, (GenerationRequest, UpscaleRequest)) else None
    return upscale.dpi if upscale is not None else None


def keep_input(folder: Path, image: Any) -> Path:
    """Store a PIL image as ``inputs/<sha12>.png`` (the same pixels once) and return its path: the
    masks painted in the window become files a request can name, kept with the project."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = buffer.getvalue()
    target = folder / "inputs" / f"{hashlib.sha256(data).hexdigest()[:12]}.png"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_atomic(target, data, overwrite=False)
        except FileExistsError:  # stored by another thread just now
            pass
    return target


def store_inputs(folder: Path, lineage: dict[str, Any]) -> dict[str, Any]:
    """``lineage`` with each input picture's stored copy named (``"source_stored":
    "inputs/<sha12>.png"``, None when it could not be read); a copy already in the project stays."""
    lineage = dict(lineage)
    for key, stored_key in INPUT_KEYS.items():
        path = lineage.get(key)
        if path and stored_key not in lineage:
            lineage[stored_key] = _kept(folder, path)
    for key, stored_key in INPUT_LISTS.items():
        if lineage.get(key) and stored_key not in lineage:
            lineage[stored_key] = [_kept(folder, path) for path in lineage[key]]
    return lineage


def _kept(folder: Path, path: str) -> str | None:
    """The project's copy of an input picture ("inputs/<sha12>.png"; None when it cannot be read)."""
    try:
        source = Path(path)
        if source.resolve().parent == (folder / "inputs").resolve():
            return f"inputs/{source.name}"
        return f"inputs/{keep_input(folder, load_image(source)).name}"
    except (OSError, ImageReadError) as exc:
        log.warning("Could not keep a copy of the input image %s: %s", path, exc)
        return None


def store_styles(folder: Path, lineage: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``lineage`` whose styles name their stored copy (``"stored": "styles/<sha12>.png"``,
    or None when the style file could not be read)."""
    lineage = copy.deepcopy(lineage)
    for style in lineage.get("styles") or []:
        if not isinstance(style, dict) or not style.get("path"):
            continue
        try:
            path = Path(style["path"])
            sha = style.get("sha256") or hashlib.sha256(path.read_bytes()).hexdigest()
            rel = f"styles/{sha[:12]}.png"
            target = folder / rel
            if not target.exists():
                buffer = io.BytesIO()
                load_image(path).save(buffer, format="PNG")
                try:
                    write_atomic(target, buffer.getvalue(), overwrite=False)
                except FileExistsError:  # another thread stored the same style just now
                    pass
            style["stored"] = rel
        except (OSError, ImageReadError) as exc:
            log.warning("Could not keep a copy of the style image %s: %s", style.get("path"), exc)
            style["stored"] = None
    return lineage
