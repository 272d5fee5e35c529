"""Model files on disk: what a file really is (by its first bytes), its family, its hash.

Pickle checkpoints (``.ckpt``, ``.bin``, ``.pt`` and torch zip archives) can run arbitrary code when
loaded, so a file is only trusted when its first bytes are a safetensors header, whatever its name.
"""

from __future__ import annotations

import hashlib
import json
import struct
import threading
from pathlib import Path

from t2i_studio.core.atomic import write_atomic
from t2i_studio.core.engine import EngineError

PICKLE_RISK = ("Pickle checkpoints can run arbitrary code on your computer when loaded. Prefer a "
               ".safetensors version of this model; if you trust the file's source, pass "
               "--allow-unsafe-checkpoint.")

_hash_lock = threading.Lock()


def sniff(path: Path) -> str:
    """``"safetensors"``, ``"pickle"``, ``"zip"`` (torch's zip archive, pickle inside) or ``"unknown"``."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    if len(head) >= 9:
        (header_len,) = struct.unpack("<Q", head[:8])
        if 2 <= header_len <= 100 * 2**20 and head[8:9] == b"{":
            return "safetensors"
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return "pickle"
    return "unknown"


def check_checkpoint(path: Path, allow_unsafe: bool = False) -> str:
    """Raise EngineError unless ``path`` is a safetensors file (or an allowed pickle); return its type."""
    kind = sniff(path)
    if kind == "safetensors":
        safetensors_header(path)  # a damaged or truncated file is named now, not deep in a loader
        return kind
    if kind in ("pickle", "zip"):
        if allow_unsafe:
            return kind
        raise EngineError(f"Refusing to load {path.name}: it is a pickle checkpoint, not safetensors.",
                          hint=PICKLE_RISK)
    if path.suffix.lower() == ".safetensors":
        raise EngineError(f"{path.name} is not a model checkpoint: it does not start with a safetensors "
                          "header (damaged or truncated).", hint=_DAMAGED)
    raise EngineError(f"{path.name} is not a model checkpoint (neither safetensors nor a torch file).",
                      hint="Give a .safetensors checkpoint, a diffusers folder or a Hugging Face id.")


_DAMAGED = "Download or copy the file again; it may have been cut short."


def safetensors_header(path: Path) -> dict:
    """The JSON header of a safetensors file, checked against the file's size: EngineError naming the
    file when it is damaged (unreadable header) or truncated (tensors past its end)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            (header_len,) = struct.unpack("<Q", fh.read(8))
            raw = fh.read(header_len)
    except (OSError, struct.error) as exc:
        raise EngineError(f"Cannot read {path.name}: {exc}") from exc
    try:
        header = json.loads(raw.decode("utf-8")) if len(raw) == header_len else None
    except (UnicodeDecodeError, ValueError):
        header = None
    if not isinstance(header, dict):
        raise EngineError(f"{path.name} is damaged: its safetensors header cannot be read.", hint=_DAMAGED)
    ends = [entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"
            and isinstance(entry, dict) and isinstance(entry.get("data_offsets"), list)
            and len(entry["data_offsets"]) == 2 and isinstance(entry["data_offsets"][1], int)]
    if 8 + header_len + max(ends, default=0) > size:
        raise EngineError(f"{path.name} is truncated: it ends before its last tensor "
                          f"({size:,} of {8 + header_len + max(ends):,} bytes).", hint=_DAMAGED)
    return header


def safetensors_keys(path: Path) -> list[str]:
    """The tensor names in a safetensors file, read from its JSON header only."""
    return [k for k in safetensors_header(path) if k != "__metadata__"]


def family_from_keys(keys: list[str]) -> str:
    """The model family of an original-layout (A1111/ComfyUI) single-file checkpoint."""
    if any(k.startswith("conditioner.embedders.1.") for k in keys):
        return "sdxl"
    if any(".joint_blocks." in k for k in keys):
        return "sd3"
    if any(k.startswith(("double_blocks.", "model.diffusion_model.double_blocks.")) for k in keys):
        return "flux"
    if any(k.startswith("model.diffusion_model.input_blocks.") for k in keys):
        return "sd"
    return "unknown"


def family_from_class(class_name: str) -> str:
    name = class_name or ""
    if "XL" in name:
        return "sdxl"
    if "StableDiffusion3" in name:
        return "sd3"
    if "Flux" in name:
        return "flux"
    if "PixArt" in name:
        return "pixart"
    if "Sana" in name:
        return "sana"
    if "StableDiffusion" in name or "LatentConsistency" in name:
        return "sd"
    return "unknown"


def unet_in_channels(path: Path) -> int | None:
    """The UNet's input channels (9: an inpainting model) of a diffusers folder or an original-layout
    single file, from its config or header alone; None when it has no UNet or cannot tell."""
    if path.is_dir():
        try:
            config = json.loads((path / "unet" / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        channels = config.get("in_channels")
        return channels if isinstance(channels, int) else None
    if sniff(path) != "safetensors":
        return None
    weight = safetensors_header(path).get("model.diffusion_model.input_blocks.0.0.weight")
    shape = weight.get("shape") if isinstance(weight, dict) else None
    return shape[1] if isinstance(shape, list) and len(shape) == 4 else None


def folder_class(folder: Path) -> str:
    """The pipeline class named in a diffusers folder's model_index.json."""
    index = folder / "model_index.json"
    try:
        return str(json.loads(index.read_text(encoding="utf-8")).get("_class_name", ""))
    except (OSError, ValueError) as exc:
        raise EngineError(f"{folder} is not a diffusers model folder (no readable model_index.json).",
                          hint="Give the folder that holds model_index.json, a .safetensors file or a "
                               "Hugging Face id.") from exc


def _hash_cache_path() -> Path:
    from t2i_studio.core.settings import data_dir

    return data_dir() / "model_hashes.json"


def file_sha256(path: str | Path) -> str:
    """The file's SHA-256, read in blocks, not cached (input images: hashed once per job)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def sha256_file(path: Path) -> str:
    """The file's SHA-256, computed once and cached by (path, size, mtime) (multi-GB model files)."""
    path = Path(path).resolve()
    stat = path.stat()
    key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_file = _hash_cache_path()
    with _hash_lock:
        try:
            cache = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache = {}
        if key in cache:
            return str(cache[key])
    value = file_sha256(path)
    with _hash_lock:
        try:
            cache = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache = {}
        cache[key] = value
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cache_file, json.dumps(cache).encode("utf-8"))
    return value


def model_hash(path: Path) -> str:
    """A1111's "Model hash": the first 10 hex digits of the file's SHA-256."""
    return sha256_file(path)[:10]


def folder_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
