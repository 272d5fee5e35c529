"""A scripted engine and project for driving the worker and the window without torch.

``FakeEngine`` makes flat-colour images of the requested size, step by step, honouring the cancel
token at every step; a script of per-prompt behaviours ("fail", "oom", "slow", "block") lets a test
choose what happens. ``FakeProject`` records what was saved and hands back entries with ids.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from PIL import Image

from t2i_studio.core import schedulers
from t2i_studio.core.engine import CancelToken, EngineError, Progress, Result
from t2i_studio.core.engine_registry import EngineEntry, EngineRegistry
from t2i_studio.core.requests import (
    DEFAULT_ENGINE, STYLE_ENGINE, UPSCALE_ENGINE, GenerationRequest, UpscaleRequest,
)


class FakeEngine:
    def __init__(self, kind: str = "generate", step_s: float = 0.005, steps: int | None = None,
                 preview_every: int = 1) -> None:
        self.kind = kind
        self.step_s = step_s
        self.steps = steps
        self.preview_every = preview_every
        self.runs: list[Any] = []
        self.thread_names: list[str] = []
        self.closed = 0
        self.gate = threading.Event()  # "block" prompts wait for it
        self.started = threading.Event()  # set when a run begins

    def run(self, request, on_progress, cancel: CancelToken) -> Result:
        self.started.set()
        self.runs.append(request)
        self.thread_names.append(threading.current_thread().name)
        script = getattr(request, "prompt", "") if isinstance(request, GenerationRequest) else ""
        if "fail" in script:
            raise EngineError("The model folder is not a diffusers pipeline.",
                              hint="Pick a folder with model_index.json.", details="scripted")
        if "crash" in script:
            raise RuntimeError("scripted crash")
        total = self.steps or (request.sampling.steps if isinstance(request, GenerationRequest) else 4)
        width, height = _size(request)
        for step in range(1, total + 1):
            if "block" in script:
                while not self.gate.wait(0.01):
                    cancel.raise_if_cancelled()
            cancel.raise_if_cancelled()
            time.sleep(self.step_s * (10 if "slow" in script else 1))
            preview = Image.new("RGB", (width // 2, height // 2), (step * 20 % 256, 64, 128)) \
                if step % self.preview_every == 0 else None
            on_progress(Progress(step, total, preview, "Loading model…" if step == 1 else ""))
        cancel.raise_if_cancelled()
        generation = isinstance(request, GenerationRequest)
        seeds = request.sampling.seeds() if generation else [getattr(request, "seed", 0)]  # upscales have none
        images = [Image.new("RGB", (width, height), (seed % 256, 100, 150)) for seed in seeds]
        return Result(images, seeds, {"app": "fake", "device": "cpu"}, {})

    def close(self) -> None:
        self.closed += 1

    def status(self) -> dict[str, Any]:
        return {"device": "cpu", "model": "fake-model", "memory_mb": 12.5}


def registry_of(factories: dict[str, Callable[[], Any]]) -> EngineRegistry:
    """A registry of the default engine names ("diffusers" for "generate", "style" for "stylize",
    "upscale" for "upscale") built by the given factories, keyed by request kind."""
    modes = {"generate": ("txt2img", "img2img"), "stylize": ("stylize",), "upscale": ("upscale",)}
    names = {"generate": DEFAULT_ENGINE, "stylize": STYLE_ENGINE, "upscale": UPSCALE_ENGINE}
    return EngineRegistry([EngineEntry(names[kind], f"test {kind}", kind, modes[kind], factory,
                                       schedulers=schedulers.NAMES if kind == "generate" else ())
                           for kind, factory in factories.items()])


def _size(request) -> tuple[int, int]:
    if isinstance(request, GenerationRequest):
        return request.width, request.height
    if isinstance(request, UpscaleRequest):
        with Image.open(request.source) as source:
            return request.upscale.target(*source.size)
    return request.size, request.size


@dataclass
class FakeEntry:
    id: int
    path: Path
    seed: int | None


@dataclass
class FakeProject:
    folder: Path | None = None
    saved: list[tuple[Any, Result]] = field(default_factory=list)
    entries: list[FakeEntry] = field(default_factory=list)
    save_threads: list[str] = field(default_factory=list)
    fail_save: bool = False

    def save_result(self, request, result: Result) -> list[FakeEntry]:
        self.save_threads.append(threading.current_thread().name)
        if self.fail_save:
            import errno
            raise OSError(errno.ENOSPC, "No space left on device")
        self.saved.append((request, result))
        out = []
        for image, seed in zip(result.images, result.seeds):
            entry = FakeEntry(len(self.entries) + 1, Path(f"/fake/{len(self.entries) + 1}.png"), seed)
            self.entries.append(entry)
            out.append(entry)
        return out
