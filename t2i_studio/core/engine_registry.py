"""The engines a request can name, each declaring what it can do, and the one check at submission.

A request names its engine (``request.engine``: "diffusers", "style"; later the built-in starter
model and remote servers). The composition root (app, CLI) registers them with a factory that
imports the engine, and torch, only when the first job needs it; the UI reads the declared modes,
schedulers and adapters to offer only what the chosen engine supports.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from t2i_studio.core import wildcards
from t2i_studio.core.errors import StudioError
from t2i_studio.core.requests import MAX_SEED, GenerationRequest

if TYPE_CHECKING:
    from t2i_studio.core.engine import Engine
    from t2i_studio.core.requests import Request

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class EngineEntry:
    name: str  # what requests name
    label: str  # what the UI shows
    kind: str  # the request kind it runs: "generate" or "stylize"
    modes: tuple[str, ...]
    factory: Callable[[], Engine]
    schedulers: tuple[str, ...] = ()
    adapters: tuple[str, ...] = ()  # adapter kinds it can apply ("lora")
    # deeper checks that read no weights (the model exists, its family has the scheduler...)
    check: Callable[[Request], None] | None = None
    max_seed: int = MAX_SEED  # the largest seed it takes (requests allow 64 bits, as ComfyUI does)
    hires: bool = False  # it runs a txt2img request's hires fix (its second pass)
    controls: bool = False  # it steers with ControlNets (``ImageInputs.controls``)
    references: bool = False  # it steers with IP-Adapter reference pictures (``ImageInputs.references``)


def _check_seeds(entry: EngineEntry, request: Request) -> None:
    sampling = getattr(request, "sampling", None)
    if sampling is not None:
        seeds = [*sampling.seeds(), sampling.variation_seed or 0]
    else:
        seeds = [getattr(request, "seed", 0)]
    if max(seeds) > entry.max_seed:
        raise ValueError(f"The {entry.label} engine takes seeds up to {entry.max_seed}; this request needs "
                         f"{max(seeds)}: choose a smaller seed (the picture will differ from the original's).")


class EngineRegistry:
    """Engine entries by name, and their engines, built on first use and kept warm."""

    def __init__(self, entries: list[EngineEntry]) -> None:
        self._entries = {e.name: e for e in entries}
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def entries(self, kind: str | None = None) -> list[EngineEntry]:
        return [e for e in self._entries.values() if kind is None or e.kind == kind]

    def entry(self, name: str) -> EngineEntry:
        found = self._entries.get(name)
        if found is None:
            known = ", ".join(self._entries) or "none"
            raise ValueError(f"No engine called {name!r} here (available: {known}).")
        return found

    def check(self, request: Request) -> None:
        """Validate ``request`` and that its engine can run it; ``ValueError`` says what to change."""
        request.validate()
        parts = getattr(request, "parts", None)
        if parts is not None:  # a request made of requests (core.xyz's plot): each is checked as itself
            for part in parts():
                self.check(part)
            return
        entry = self.entry(request.engine)
        if entry.kind != request.kind:
            raise ValueError(f"The {entry.label} engine does not run {request.kind} jobs.")
        if request.mode not in entry.modes:
            raise ValueError(f"The {entry.label} engine cannot do {request.mode}; it does "
                             f"{', '.join(entry.modes)}.")
        sampling = getattr(request, "sampling", None)
        if sampling is not None and entry.schedulers and sampling.scheduler not in entry.schedulers:
            raise ValueError(f"The {entry.label} engine has no scheduler {sampling.scheduler!r}; use "
                             f"one of {', '.join(entry.schedulers)}.")
        _check_seeds(entry, request)
        if getattr(request, "hires", None) is not None and not entry.hires:
            raise ValueError(f"The {entry.label} engine cannot run a hires fix: turn it off, or choose another "
                             "engine's model.")
        if getattr(getattr(request, "images", None), "controls", ()) and not entry.controls:
            raise ValueError(f"The {entry.label} engine cannot use ControlNets: remove the control inputs, or "
                             "choose another engine's model.")
        if getattr(getattr(request, "images", None), "references", ()) and not entry.references:
            raise ValueError(f"The {entry.label} engine cannot use IP-Adapter reference pictures: remove them, or "
                             "choose another engine's model.")
        model = getattr(request, "model", None)
        for adapter in getattr(model, "adapters", ()):
            if adapter.kind not in entry.adapters:
                raise ValueError(f"The {entry.label} engine cannot apply {adapter.kind} adapters "
                                 f"({adapter.source}): remove them or choose another engine.")
        if isinstance(request, GenerationRequest):  # every engine draws dynamic prompts the same way (core.jobs)
            wildcards.check(request)
        if entry.check is not None:
            try:
                entry.check(request)
            except StudioError as exc:  # a missing model, say: one kind of "change the request"
                raise ValueError(exc.user_message()) from exc

    def engine(self, name: str) -> Engine:
        """The engine called ``name``, built by its factory the first time (on the caller's thread)."""
        with self._lock:
            engine = self._engines.get(name)
            if engine is None:
                engine = self._engines[name] = self.entry(name).factory()
            return engine

    def loaded(self, name: str) -> Engine | None:
        """The engine called ``name`` if it has been built, else None (nothing is built)."""
        with self._lock:
            return self._engines.get(name)

    def close(self) -> None:
        """Free every built engine's models (they reload if used again)."""
        with self._lock:
            engines = list(self._engines.values())
        for engine in engines:
            try:
                engine.close()
            except Exception:  # noqa: BLE001 - closing down goes on with the next engine
                log.warning("Closing an engine failed", exc_info=True)
