"""The upscaler library: model files (ESRGAN & co.) kept in one folder, named by their file name.

An upscaler is named ``lanczos``, by a file's path, or by the name of a file in this folder
(``settings.upscalers_dir()``, or the ``folder`` given). Files come in as whole copies (atomic), so a
half-copied model never shows up; what a file holds is the engine's business (``validate``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from t2i_studio.core.atomic import is_temp_name, write_atomic
from t2i_studio.core.requests import LANCZOS, LATENT_UPSCALER

EXTENSIONS = (".safetensors", ".pth", ".ckpt", ".pt")  # .safetensors, or pickle (refused unless allowed)


@dataclass(frozen=True)
class UpscalerFile:
    name: str  # the file's name without its extension: what requests and the CLI call it
    path: Path
    size_bytes: int


def _folder(folder: Path | str | None) -> Path:
    if folder is not None:
        return Path(folder).expanduser()
    from t2i_studio.core.settings import upscalers_dir

    return upscalers_dir()


def list_upscalers(folder: Path | str | None = None) -> list[UpscalerFile]:
    """The library's upscaler files by name (none when the folder is not there yet)."""
    where = _folder(folder)
    if not where.is_dir():
        return []
    files = [p for p in where.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS
             and not is_temp_name(p.name)]
    return sorted((UpscalerFile(p.stem, p, p.stat().st_size) for p in files), key=lambda f: f.name.lower())


def _find(name: str, folder: Path | str | None) -> UpscalerFile | None:
    known = list_upscalers(folder)
    for match in (lambda f: name in (f.name, f.path.name),
                  lambda f: name.lower() in (f.name.lower(), f.path.name.lower())):
        found = [f for f in known if match(f)]
        if found:
            return found[0]
    return None


def resolve_upscaler(name_or_path: str, folder: Path | str | None = None) -> str:
    """``lanczos`` (and ``latent``) as they are, else the path of the file named: a path that exists,
    or a file of the library. ``ValueError`` saying what is there otherwise."""
    name = str(name_or_path).strip()
    if name.lower() in (LANCZOS, LATENT_UPSCALER):
        return name.lower()
    path = Path(name).expanduser()
    if path.is_file():
        return str(path)
    found = _find(name, folder) if name else None
    if found is not None:
        return str(found.path)
    known = ", ".join(f.name for f in list_upscalers(folder)) or "none yet"
    raise ValueError(f"No upscaler called {name!r}: give lanczos, an upscaler model file, or one of the "
                     f"library's ({known}; add one with `t2i-studio upscalers add FILE`).")


def add_upscaler(path: Path | str, folder: Path | str | None = None,
                 validate: Callable[[Path], Any] | None = None) -> UpscalerFile:
    """Copy the file at ``path`` into the library; ``validate(path)`` raises on a file that is not an
    upscaler (checked first, so nothing bad is copied)."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise ValueError(f"Upscaler file not found: {source}")
    if source.suffix.lower() not in EXTENSIONS:
        raise ValueError(f"{source.name} is not an upscaler model file: give a .safetensors file (or, if you "
                         "trust its source, a .pth, .ckpt or .pt file).")
    where = _folder(folder)
    existing = _find(source.stem, where)
    if existing is not None:
        raise ValueError(f"The library already has an upscaler called {existing.name} ({existing.path.name}): "
                         "remove it first, or rename the new file.")
    if validate is not None:
        validate(source)
    where.mkdir(parents=True, exist_ok=True)
    target = where / source.name

    def copy(handle: Any) -> None:
        with open(source, "rb") as original:
            shutil.copyfileobj(original, handle, 2**20)

    try:
        write_atomic(target, copy, overwrite=False)
    except FileExistsError:  # added by someone else just now
        raise ValueError(f"The library already has a file called {target.name}.") from None
    return UpscalerFile(target.stem, target, target.stat().st_size)


def remove_upscaler(name: str, folder: Path | str | None = None) -> UpscalerFile:
    """Delete the library's upscaler called ``name`` (its name or file name); returns what it was."""
    found = _find(name, folder)
    if found is None:
        known = ", ".join(f.name for f in list_upscalers(folder)) or "none"
        raise ValueError(f"The library has no upscaler called {name!r} (it has: {known}).")
    found.path.unlink()
    return found
