"""The model catalog contract: what the UI's model picker and manager need from the models module.

``engines.models`` implements it; the composition root hands it to the UI, which never imports
the engines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from t2i_studio.core.engine import CancelToken
from t2i_studio.core.requests import DEFAULT_ENGINE


@dataclass(frozen=True)
class ModelInfo:
    id: str  # what goes into a request's ModelRef.id: hub id, folder path or file path
    name: str  # short display name
    source: str  # "hub", "folder" or "file"
    family: str  # "sd", "sdxl", "sd3", "flux", ... or "unknown"
    size_bytes: int
    path: str | None = None  # on-disk location, where known
    engine: str = DEFAULT_ENGINE  # the registry's engine that runs it (a server's models: that server's)


ByteProgress = Callable[[int, int], None]  # (bytes done, bytes total; 0 when unknown)


class ModelCatalog(Protocol):
    def list(self) -> list[ModelInfo]:
        """Cached hub models and the folders/files the user added."""
        ...

    def add(self, path: str) -> ModelInfo:
        """Register a diffusers folder or .safetensors file; ``ValueError``/``StudioError`` if unusable."""
        ...

    def download(self, repo_id: str, revision: str | None, on_progress: ByteProgress,
                 cancel: CancelToken) -> ModelInfo:
        """Download into the standard Hugging Face cache (resumable); raises ``Cancelled``."""
        ...

    def download_size(self, repo_id: str, revision: str | None) -> int | None:
        """Bytes a download would take (None when the hub cannot be asked)."""
        ...

    def free_disk_bytes(self) -> int:
        ...
