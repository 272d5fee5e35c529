"""The model catalog contract: what the UI's model picker and manager need from the models module.

``engines.models`` implements it; the composition root hands it to the UI, which never imports
the engines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from t2i_studio.core.engine import CancelToken
from t2i_studio.core.requests import DEFAULT_ENGINE


CHECKPOINT, CONTROLNET = "checkpoint", "controlnet"  # ModelInfo.kind: a generation model, or a ControlNet
FAMILY_NAMES = {"sd": "SD 1.x/2.x", "sdxl": "SDXL", "sd3": "SD3", "flux": "FLUX"}


def family_name(family: str | None) -> str:
    """A model family as people name it ("SDXL"); the code itself when it has no common name."""
    return FAMILY_NAMES.get(family or "", family or "unknown")


@dataclass(frozen=True)
class ModelInfo:
    id: str  # what goes into a request's ModelRef.id: hub id, folder path or file path
    name: str  # short display name
    source: str  # "hub", "folder" or "file"
    family: str  # "sd", "sdxl", "sd3", "flux", ... or "unknown"
    size_bytes: int
    path: str | None = None  # on-disk location, where known
    engine: str = DEFAULT_ENGINE  # the registry's engine that runs it (a server's models: that server's)
    kind: str = CHECKPOINT  # CONTROLNET: steers a generation model of ``family``, never one itself


ByteProgress = Callable[[int, int], None]  # (bytes done, bytes total; 0 when unknown)


@dataclass(frozen=True)
class Recommended:
    """A model worth a first download: what it is good for and under which licence."""

    id: str
    good_for: str
    licence: str


# The download size is asked from the hub when one is chosen (the dialog shows it before it starts).
RECOMMENDED = (
    Recommended("stabilityai/sd-turbo", "Speed on small machines: a picture in 1–4 steps at 512 px, even "
                "on a CPU", "Stability AI non-commercial community licence"),
    Recommended("stable-diffusion-v1-5/stable-diffusion-v1-5", "The classic all-rounder most LoRAs and guides "
                "are made for; 512 px, 20–30 steps", "CreativeML Open RAIL-M"),
    Recommended("stabilityai/stable-diffusion-xl-base-1.0", "Quality: detailed 1024 px pictures; wants a GPU "
                "with 8 GB or more", "CreativeML Open RAIL++-M"),
    Recommended("stabilityai/sdxl-turbo", "SDXL looks in 1–4 steps at 512 px", "Stability AI non-commercial "
                "community licence"),
)


class ModelCatalog(Protocol):
    def list(self) -> list[ModelInfo]:
        """Cached hub models and the folders/files the user added."""
        ...

    def add(self, path: str) -> ModelInfo:
        """Register a diffusers folder or .safetensors file (a model or a ControlNet);
        ``ValueError``/``StudioError`` if unusable."""
        ...

    def download(self, repo_id: str, revision: str | None, on_progress: ByteProgress,
                 cancel: CancelToken) -> ModelInfo:
        """Download into the standard Hugging Face cache (resumable); raises ``Cancelled``."""
        ...

    def remove(self, model_id: str) -> str:
        """Take a model off the list: an added folder or file is forgotten (its files stay); a hub
        model's files are deleted from the cache. Returns what was done, in words."""
        ...

    def rename(self, model_id: str, name: str) -> None:
        """Show the model as ``name`` ("" goes back to its own name)."""
        ...

    def download_size(self, repo_id: str, revision: str | None) -> int | None:
        """Bytes a download would take (None when the hub cannot be asked)."""
        ...

    def free_disk_bytes(self) -> int:
        ...
