"""Jobs of the runner's queue, and the plain-data snapshot of them the UI lists."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from t2i_studio.core.engine import CancelToken
from t2i_studio.core.requests import LANCZOS, GenerationRequest, Request, UpscaleRequest
from t2i_studio.core.xyz import Plot

WAITING = "waiting"
RUNNING = "running"

_ids = itertools.count(1)


@dataclass(frozen=True)
class JobInfo:
    """What the jobs view shows; plain data, safe on any thread."""

    id: int
    kind: str  # "generate" | "stylize" | "upscale" | "grid" (an X/Y/Z plot)
    label: str
    detail: str  # size, seed, model (or the style transfer's size and styles)
    state: str  # WAITING | RUNNING
    images: int  # images the job will make
    stop_after_current: bool


@dataclass
class Job:
    request: Request
    project: Any  # the Project the results are saved into (anything with save_result)
    id: int = field(default_factory=lambda: next(_ids))
    state: str = WAITING
    cancel: CancelToken = field(default_factory=CancelToken)
    stop_after_current: bool = False
    submitted: float = field(default_factory=time.monotonic)

    @property
    def kind(self) -> str:
        return self.request.kind

    def label(self) -> str:
        req = self.request
        if isinstance(req, Plot):
            return req.label()
        if isinstance(req, GenerationRequest):
            text = " ".join(req.prompt.split())
            text = text if len(text) <= 48 else text[:47] + "…"
            count = f" ×{req.image_count}" if req.image_count > 1 else ""
            return f"{text}{count}"
        if isinstance(req, UpscaleRequest):
            upscale = req.upscale
            size = f"to {upscale.width}×{upscale.height}" if upscale.width else f"×{upscale.scale:g}"
            return f"Upscale {_stem(req.source)} {size}"
        names = ", ".join(_stem(s) for s in req.styles)
        return f"Stylize {_stem(req.content)} with {names}"

    def info(self) -> JobInfo:
        return JobInfo(self.id, self.kind, self.label(), self.detail(), self.state, self.request.image_count,
                       self.stop_after_current)

    def detail(self) -> str:
        req = self.request
        if isinstance(req, Plot):
            return req.detail()
        if isinstance(req, GenerationRequest):
            more = f"…+{req.image_count - 1}" if req.image_count > 1 else ""
            return f"{req.width}×{req.height} · seed {req.sampling.seed}{more} · {_stem(req.model.id)}"
        if isinstance(req, UpscaleRequest):
            upscaler = req.upscale.upscaler
            dpi = f" · {req.upscale.dpi} dpi" if req.upscale.dpi else ""
            return f"{'Lanczos' if upscaler == LANCZOS else _stem(upscaler)}{dpi}"
        count = len(req.styles)
        return f"{req.size} px · {count} style{'s' if count != 1 else ''}"


def _stem(path: str) -> str:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name
