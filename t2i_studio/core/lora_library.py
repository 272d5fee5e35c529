"""The LoRA and VAE files the app offers by name, and finding an image's LoRAs and VAE again.

LoRAs are the ``.safetensors`` files in the LoRA folder (``settings.loras_dir()``) and the folders the
user added (``Settings.lora_folders``), subfolders included, named by file name without extension as
A1111 names them; VAEs are the files and diffusers folders in ``settings.vae_dir()``. ``find_again``
takes a stored request to this computer: a LoRA whose file is not where it was is looked up by
A1111's hash (``Lora hashes``) or by name, and a tag naming a file by its other name is renamed, as
A1111 does when it reads an image's settings; what cannot be found is said.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from pathlib import Path

from t2i_studio.core.a1111 import parse_parameters
from t2i_studio.core.atomic import is_temp_name
from t2i_studio.core.lora_syntax import find_tags, lora_name, lookup, tag_text
from t2i_studio.core.requests import GenerationRequest
from t2i_studio.core.settings import Settings, loras_dir, vae_dir

LORA_EXTENSIONS = (".safetensors",)
VAE_EXTENSIONS = (".safetensors", ".pt", ".ckpt", ".bin")  # pickles are listed, and refused unless allowed
_hashes: dict[tuple[str, int, int], str] = {}  # (path, size, mtime) -> hash: this process's cache


@dataclass(frozen=True)
class WeightsFile:
    name: str  # what tags and pickers call it
    path: Path


def present(source: str) -> bool:
    """A LoRA is where its source says, or is a hub id (no suffix: fetched by the engine)."""
    return Path(source).exists() or not Path(source).suffix


def lora_folders(settings: Settings | None = None) -> list[Path]:
    """The LoRA folder, then the folders the user added, each once."""
    extra = (settings or Settings.load()).lora_folders
    folders = [loras_dir(), *(Path(f).expanduser() for f in extra)]
    return [f for k, f in enumerate(folders) if f not in folders[:k]]


def list_loras(folders: list[Path] | None = None) -> list[WeightsFile]:
    """The LoRA files by name; where two folders hold one name, the first folder's."""
    found: dict[str, WeightsFile] = {}
    for folder in lora_folders() if folders is None else folders:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.suffix.lower() in LORA_EXTENSIONS and path.is_file() and not is_temp_name(path.name):
                    found.setdefault(path.stem, WeightsFile(path.stem, path))
    return sorted(found.values(), key=lambda f: f.name.lower())


def list_vaes(folder: Path | None = None) -> list[WeightsFile]:
    """The VAE folder's files (named with their extension, as A1111 writes ``VAE: name``) and diffusers
    VAE folders (``config.json`` inside)."""
    where = vae_dir() if folder is None else folder
    if not where.is_dir():
        return []
    found = [WeightsFile(p.name, p) for p in where.iterdir()
             if (p.is_file() and p.suffix.lower() in VAE_EXTENSIONS and not is_temp_name(p.name))
             or (p / "config.json").is_file()]
    return sorted(found, key=lambda f: f.name.lower())


def find_vae(name: str) -> WeightsFile | None:
    """The VAE folder's file or folder called ``name`` (with or without its extension)."""
    return next((f for f in list_vaes() if name in (f.name, f.path.stem)), None)


def known(files: list[WeightsFile]) -> dict[str, str]:
    """Name -> path, the table tags are resolved in (``lora_syntax.resolve``)."""
    return {f.name: str(f.path) for f in files}


def lora_hash(path: Path) -> str:
    """A1111's LoRA hash: the SHA-256 of a safetensors file after its header (so editing the metadata
    keeps it), of the whole file otherwise; 12 hex digits, what ``Lora hashes`` and Civitai use."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _hashes:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            head = handle.read(8)
            (header,) = struct.unpack("<Q", head) if len(head) == 8 else (0,)
            handle.seek(8 + header if path.suffix.lower() == ".safetensors" else 0)
            for block in iter(lambda: handle.read(2**20), b""):
                digest.update(block)
        _hashes[key] = digest.hexdigest()[:12]
    return _hashes[key]


def lora_hashes(parameters: str | None) -> dict[str, str]:
    """``Lora hashes: name: hash, name2: hash2`` of an A1111 text, by name."""
    text = str(parse_parameters(parameters)["params"].get("Lora hashes", "")) if parameters else ""
    pairs = (item.rsplit(":", 1) for item in text.split(",") if ":" in item)
    return {name.strip(): digest.strip().lower() for name, digest in pairs}


def _by_hash(digest: str | None, files: list[WeightsFile]) -> WeightsFile | None:
    """The file of A1111 hash ``digest`` (files are hashed only when a name was not enough)."""
    return next((f for f in files if lora_hash(f.path).startswith(digest)), None) if digest else None


@dataclass
class Found:
    request: GenerationRequest
    notes: list[str] = field(default_factory=list)  # what was found elsewhere, and what is missing
    missing: list[str] = field(default_factory=list)  # LoRAs and VAEs not on this computer


def find_again(request: GenerationRequest, parameters: str | None = None) -> Found:
    """``request`` with its LoRAs and VAE found on this computer (``parameters``: the image's A1111
    text, whose ``Lora hashes`` find renamed files)."""
    hashes = {k.lower(): v for k, v in lora_hashes(parameters).items()}
    files = list_loras()
    by_name = {f.name: f for f in files}
    table = known(files)
    found = Found(request)
    adapters, prompt = [], request.prompt
    renamed: dict[str, WeightsFile] = {}  # a name the image used -> the file here
    for adapter in request.model.adapters:
        name = lora_name(adapter.source)
        if adapter.kind != "lora" or present(adapter.source):
            adapters.append(adapter)
            table.setdefault(name, adapter.source)
            continue
        here = _by_hash(hashes.get(name.lower()), files) or lookup(name, by_name)
        if here is None:
            found.missing.append(f"LoRA {name}")
            adapters.append(adapter)
            continue
        found.notes.append(f"The LoRA {name} was not at {adapter.source}: using {here.path}.")
        renamed[name.lower()] = here
        adapters.append(adapter.replace(source=str(here.path)))
    for tag in reversed(find_tags(prompt)):  # from the end: earlier spans stay valid
        if tag.name.lower() in renamed:
            here = renamed[tag.name.lower()]
        elif lookup(tag.name, table) is not None or tag.problem:
            continue
        elif (here := _by_hash(hashes.get(tag.name.lower()), files)) is None:
            found.missing.append(f"LoRA {tag.name}")
            continue
        if here.name != tag.name:
            found.notes.append(f"<lora:{tag.name}> is called {here.name} here.")
            prompt = prompt[:tag.start] + tag_text(here.name, tag.weight, tag.kind) + prompt[tag.end:]
    model = request.model.replace(adapters=tuple(adapters), vae=_vae_here(request.model.vae, found))
    found.request = request.replace(prompt=prompt, model=model)
    found.missing = list(dict.fromkeys(found.missing))
    return found


def _vae_here(vae: str | None, found: Found) -> str | None:
    """The VAE where it is, else the VAE folder's of that name; a VAE not here is left out (the
    model's own is used), and said."""
    if not vae or Path(vae).exists():
        return vae
    name = Path(vae).name
    here = find_vae(name)
    if here is None:
        found.missing.append(f"VAE {name}")
        return None
    found.notes.append(f"The VAE {name} was not at {vae}: using {here.path}.")
    return str(here.path)


def unknown_message(names: list[str], how: str) -> str:
    """Why tags naming no known LoRA cannot run, and ``how`` else to give the file."""
    folders = ", ".join(str(f) for f in lora_folders())
    return (f"No LoRA called {', '.join(names)} in the LoRA folders ({folders}): put its file there, "
            f"or {how}.")


def missing_message(missing: list[str]) -> str:
    """One line for the window and the CLI saying what is not on this computer and where it goes."""
    text = f"Not on this computer: {', '.join(missing)}."
    if any(item.startswith("LoRA ") for item in missing):
        text += f" Put LoRA files in {', '.join(str(f) for f in lora_folders())}."
    if any(item.startswith("VAE ") for item in missing):
        text += f" The model's own VAE is used; VAEs go in {vae_dir()}."
    return text
