"""The contract between the job runner (or the CLI) and the engines.

Nothing here imports torch or Qt: the worker and the UI only know these types, so they can be
driven by a scripted fake engine in tests and by the real engines in the app.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol, runtime_checkable

from t2i_studio.core.errors import StudioError

if TYPE_CHECKING:
    from PIL.Image import Image

    from t2i_studio.core.requests import Request


@dataclass(frozen=True)
class Progress:
    """One step of a job: ``step`` of ``total`` done; ``preview`` is set every few steps.

    ``arrived``: images of the run finished ahead of the rest (a batch spread over ComfyUI servers
    comes back image by image); the job loop saves them at once, so they show in the gallery as they
    come and stay saved whatever happens to the rest. The run's Result then holds only the others.
    """

    step: int
    total: int
    preview: Image | None = None
    message: str = ""
    arrived: Result | None = None


class Cancelled(Exception):
    """Raised inside an engine when its CancelToken fires; the job saves nothing."""


class EngineError(StudioError):
    """An engine failure the user can act on (missing model, out of memory, bad weights...)."""


class CancelToken:
    """Cooperative cancellation, checked by engines at every denoising step / optimiser iteration."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


@dataclass
class Result:
    """What an engine hands back: the images, the seed of each, and how they were made.

    ``fingerprint`` holds what is needed to reproduce the result (versions, device, dtype,
    scheduler config, model id/revision/hash); ``lineage`` the inputs it came from (source image,
    style images by SHA-256); ``texts`` more PNG text chunks for image k (a ComfyUI result's
    ``prompt`` graph, so ComfyUI itself reopens it).
    """

    images: list[Image]
    seeds: list[int]
    fingerprint: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)
    texts: list[dict[str, str]] = field(default_factory=list)


ProgressCallback = Callable[[Progress], None]


@runtime_checkable
class Engine(Protocol):
    """A text-to-image or style-transfer engine. ``run`` is called on the worker thread only; it
    makes one batch (``batch_count`` is the job loop's business, ``core.jobs``)."""

    def run(self, request: Request, on_progress: ProgressCallback, cancel: CancelToken) -> Result:
        ...

    def close(self) -> None:
        """Free models and device memory; the engine may be used again (it reloads lazily)."""
        ...

    def status(self) -> dict[str, Any]:
        """For the status bar: ``{"device": str, "model": str | None, "memory_mb": float}``."""
        ...
