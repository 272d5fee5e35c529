"""App settings (a dataclass stored as JSON) and the folders the app uses on disk.

Locations follow platformdirs; ``T2I_STUDIO_HOME`` moves all of them under one folder (tests and
portable installs use it). Models use the standard Hugging Face cache, shared with other tools.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from t2i_studio.core.atomic import write_atomic

log = logging.getLogger(__name__)
_APP = "t2i-studio"


def _home_override() -> Path | None:
    home = os.environ.get("T2I_STUDIO_HOME")
    return Path(home) if home else None


def config_dir() -> Path:
    home = _home_override()
    return home / "config" if home else Path(platformdirs.user_config_dir(_APP, appauthor=False))


def data_dir() -> Path:
    home = _home_override()
    return home / "data" if home else Path(platformdirs.user_data_dir(_APP, appauthor=False))


def log_dir() -> Path:
    home = _home_override()
    return home / "logs" if home else Path(platformdirs.user_log_dir(_APP, appauthor=False))


def cache_dir() -> Path:
    """This user's cache folder (thumbnails of projects that cannot hold their own)."""
    home = _home_override()
    return home / "cache" if home else Path(platformdirs.user_cache_dir(_APP, appauthor=False))


def default_project_dir() -> Path:
    """The folder chosen in the preferences, else ``standard_project_dir()``."""
    return _chosen("default_project", standard_project_dir())


def standard_project_dir() -> Path:
    """``~/Pictures/T2I Studio`` where a Pictures folder exists, else under the data folder."""
    home = _home_override()
    if home:
        return home / "projects" / "default"
    pictures = Path(platformdirs.user_pictures_dir())
    return pictures / "T2I Studio" if pictures.is_dir() else data_dir() / "projects" / "default"


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache (HF_HUB_CACHE / HF_HOME respected), shared with other tools."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def style_weights_dir() -> Path:
    """Where VGG19 features for style transfer are cached (features-only safetensors)."""
    return data_dir() / "weights"


_FOLDERS_NOW: dict[str, Path] = {}  # folders given for this process (the CLI's --wildcards-dir, ...)


def use_folders(folders: dict[str, Path]) -> None:
    """These folders in place of their ``Settings`` fields for the rest of this process (not saved);
    any given before are dropped."""
    _FOLDERS_NOW.clear()
    _FOLDERS_NOW.update({field: folder.expanduser() for field, folder in folders.items()})


def _chosen(field: str, standard: Path) -> Path:
    """The folder given for this process, else ``Settings.<field>`` (chosen in the preferences), else
    ``standard``."""
    if field in _FOLDERS_NOW:
        return _FOLDERS_NOW[field]
    chosen = getattr(Settings.load(), field)
    return Path(chosen).expanduser() if chosen else standard


def upscalers_dir() -> Path:
    """The folder of upscaler models (ESRGAN & co.): the one chosen in the preferences, else ours."""
    return _chosen("upscaler_folder", standard_upscalers_dir())


def standard_upscalers_dir() -> Path:
    return data_dir() / "upscalers"


def embeddings_dir() -> Path:
    """The folder of textual-inversion embeddings, used by file name in prompts: the one chosen in the
    preferences, else ours."""
    return _chosen("embedding_folder", standard_embeddings_dir())


def standard_embeddings_dir() -> Path:
    return data_dir() / "embeddings"


def wildcards_dir() -> Path:
    """The folder of wildcard files (``__colors/warm__``: ``colors/warm.txt``): the one chosen in the
    preferences, else ours."""
    return _chosen("wildcard_folder", standard_wildcards_dir())


def standard_wildcards_dir() -> Path:
    return data_dir() / "wildcards"


def loras_dir() -> Path:
    """The folder of LoRA files, offered by name (``<lora:name:0.8>``): the one chosen in the
    preferences, else ours. Folders the user added (``Settings.lora_folders``) are offered too."""
    return _chosen("lora_folder", standard_loras_dir())


def standard_loras_dir() -> Path:
    return data_dir() / "loras"


def vae_dir() -> Path:
    """The folder of VAEs offered in place of a model's own: the one chosen in the preferences, else ours."""
    return _chosen("vae_folder", standard_vae_dir())


def standard_vae_dir() -> Path:
    return data_dir() / "vae"


@dataclass
class Settings:
    """Everything the app remembers between runs. Unknown keys in the file are kept out, not fatal."""

    last_project: str | None = None
    recent_projects: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)  # folders and files the user added
    model_names: dict[str, str] = field(default_factory=dict)  # model id -> the name the user gave it
    servers: list[dict[str, Any]] = field(default_factory=list)  # ComfyUI servers (core.servers); secrets in the keyring
    # the last requests (with their run options: device, precision, memory, previews) and panel state
    last_generation: dict[str, Any] = field(default_factory=dict)
    last_style: dict[str, Any] = field(default_factory=dict)
    thumbnail_size: int = 128  # the gallery's thumbnails, pixels
    last_export: dict[str, Any] = field(default_factory=dict)  # the export dialog's last choices
    last_upscale: dict[str, Any] = field(default_factory=dict)  # the upscale dialog's last choices
    last_xyz: dict[str, Any] = field(default_factory=dict)  # the X/Y/Z plot dialog's last axes
    theme: str = "system"  # "system", "light" or "dark"
    default_project: str = ""  # where images go when no project is named; "": standard_project_dir()
    upscaler_folder: str = ""  # upscaler model files; "": upscalers_dir()'s own
    embedding_folder: str = ""  # textual-inversion embeddings; "": embeddings_dir()'s own
    wildcard_folder: str = ""  # wildcard files of dynamic prompts; "": wildcards_dir()'s own
    lora_folder: str = ""  # LoRA files; "": loras_dir()'s own
    lora_folders: list[str] = field(default_factory=list)  # more LoRA folders the user added (A1111's, say)
    vae_folder: str = ""  # VAE files and folders; "": vae_dir()'s own
    window_geometry: str = ""  # base64 of QWidget.saveGeometry()
    window_state: str = ""  # base64 of QMainWindow.saveState()

    @classmethod
    def path(cls) -> Path:
        return config_dir() / "settings.json"

    @classmethod
    def load(cls) -> Settings:
        """Read the settings file; a missing or broken file gives defaults (and a log line)."""
        path = cls.path()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("Settings file %s unreadable (%s); using defaults", path, exc)
            return cls()
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names}) if isinstance(raw, dict) else cls()

    def save(self) -> None:
        """Write atomically so a crash never leaves a half-written settings file."""
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(dataclasses.asdict(self), indent=2).encode("utf-8"))

    def remember_project(self, folder: str, keep: int = 10) -> None:
        self.last_project = folder
        self.recent_projects = [folder] + [p for p in self.recent_projects if p != folder][: keep - 1]
