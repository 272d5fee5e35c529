"""Requests for the ComfyUI servers and a job run into a real project, as the window's worker runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from comfyui.sd15_files import CHECKPOINT
from PIL import Image

from t2i_studio.core import jobs
from t2i_studio.core.engine import CancelToken
from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.project import Project
from t2i_studio.core.requests import (
    Adapter,
    GenerationRequest,
    ImageInputs,
    ModelRef,
    Sampling,
)
from t2i_studio.core.servers import ServerConfig
from t2i_studio.engines.comfyui.pool import ServerPool
from t2i_studio.engines.registry import local_registry


def comfy_request(prompt: str = "a lighthouse at dusk", *, seed: int = 7, steps: int = 1, batch_size: int = 1,
                  model: str = CHECKPOINT, loras: tuple[tuple[str, float], ...] = (),
                  init_image: str | None = None, strength: float = 0.6, scheduler: str = "Euler") -> GenerationRequest:
    return GenerationRequest(
        prompt, width=64, height=64, mode="img2img" if init_image else "txt2img", engine="comfyui",
        model=ModelRef(model, adapters=tuple(Adapter(name, weight=w) for name, w in loras)),
        sampling=Sampling(steps=steps, guidance=5.0, scheduler=scheduler, seed=seed, batch_size=batch_size),
        images=ImageInputs(init_image, strength))


def registry_for(*urls: str, **pool_options: Any):
    return local_registry(ServerPool([ServerConfig(u) for u in urls], **pool_options))


def run(request: GenerationRequest, registry: Any, folder: Path, cancel: CancelToken | None = None,
        on_event: Any = None) -> tuple[jobs.JobOutcome, list[jobs.JobEvent]]:
    """Check, then run the job loop saving into the project at ``folder``; the outcome and events."""
    registry.check(request)
    events: list[jobs.JobEvent] = []

    def record(event: jobs.JobEvent) -> None:
        events.append(event)
        if on_event is not None:
            on_event(event)

    project = Project.open(folder, create=True)
    try:
        outcome = jobs.run_job(request, registry, project.save_result, on_event=record, cancel=cancel)
    finally:
        project.close()
    return outcome, events


def pixels(path: Any) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32)


def ours(path: Any) -> dict:
    return read_metadata(path).data
