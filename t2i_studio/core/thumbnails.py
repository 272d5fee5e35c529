"""Gallery thumbnails: WebP files in ``thumbs/``, made lazily, safe to make from a thread pool.

``thumbs/<id>.webp`` is the 256 px one; other sizes (512 for HiDPI) are ``thumbs/<id>@<size>.webp``.
A thumbnail older than its image is made again; all of them can be deleted at any time.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

from PIL import Image, ImageOps

from t2i_studio.core.atomic import write_atomic
from t2i_studio.core.image_io import load_image

DEFAULT_SIZE = 256
SIZES = (128, 256, 512, 1024)
_NAME = re.compile(r"^(\d+)(?:@(\d+))?\.webp$")


def thumb_path(folder: Path, entry_id: int, size: int = DEFAULT_SIZE) -> Path:
    name = f"{entry_id}.webp" if size == DEFAULT_SIZE else f"{entry_id}@{size}.webp"
    return folder / name


def parse_thumb_name(name: str) -> tuple[int, int] | None:
    """``"12@512.webp"`` -> ``(12, 512)``; None for files that are not thumbnails."""
    match = _NAME.match(name)
    if not match:
        return None
    return int(match.group(1)), int(match.group(2) or DEFAULT_SIZE)


def render(image: Image.Image, size: int) -> bytes:
    """A WebP of ``image`` fitted into ``size`` x ``size`` (never enlarged), high-quality filter."""
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB")
    image.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=82, method=4)
    return out.getvalue()


def ensure_thumbnail(image_path: Path, thumbs: Path, entry_id: int, size: int = DEFAULT_SIZE) -> Path:
    """The thumbnail's path, made now if missing or older than the image (ImageReadError if unreadable)."""
    if size not in SIZES:
        raise ValueError(f"Thumbnail size must be one of {', '.join(map(str, SIZES))}; got {size!r}.")
    target = thumb_path(thumbs, entry_id, size)
    try:
        if target.stat().st_mtime >= image_path.stat().st_mtime:
            return target
    except FileNotFoundError:
        pass
    data = render(load_image(image_path), size)
    thumbs.mkdir(parents=True, exist_ok=True)
    write_atomic(target, data)
    return target


def private_folder(folder: Path) -> Path:
    """``folder``, made if missing and readable by this user alone (mode 0700); ``PermissionError``
    when it belongs to someone else, so nothing planted there is ever shown."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if hasattr(os, "getuid") and folder.stat().st_uid != os.getuid():
        raise PermissionError(f"{folder} belongs to another user; not using it for thumbnails.")
    os.chmod(folder, 0o700)
    return folder


def remove_thumbnails(thumbs: Path, entry_id: int) -> None:
    for size in SIZES:
        try:
            thumb_path(thumbs, entry_id, size).unlink()
        except OSError:
            pass
