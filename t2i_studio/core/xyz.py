"""The X/Y/Z plot (A1111's script): up to three settings swept over one base request.

Each cell is a complete ``GenerationRequest`` (so each single image reproduces alone); the plot
runs as one job whose cells go one by one through the job loop (``core.jobs.run_job``), each saved
the moment it is made, and ends with a labelled grid (``core.xyz_grid``) saved as an entry of kind
"grid". Its JSON's request is the first cell's, so whatever reads requests (details, reuse
settings, A1111's ``parameters``, a rebuild) sees that cell, as on A1111's grids;
``request["plot"]`` adds the axes (``core.xyz_axes``), and ``lineage["cells"]`` the cells' ids.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, replace
from typing import Any, Callable, ClassVar

from t2i_studio.core.engine import CancelToken, Result
from t2i_studio.core.engine_registry import EngineRegistry
from t2i_studio.core.errors import describe
from t2i_studio.core.jobs import (
    CANCELLED, FAILED, FINISHED, MESSAGE, PROGRESS, SAVED, STARTED, JobEvent, JobOutcome, Save, run_job,
)
from t2i_studio.core.requests import IMAGE_MODES, GenerationRequest
from t2i_studio.core.serial import to_data
from t2i_studio.core.xyz_axes import MAX_CELLS, Axis, loras, stem
from t2i_studio.core.xyz_grid import MAX_GRID_PIXELS, fit_within, grid_image

Z_LAYOUTS = ("side", "stacked")  # one grid per Z value, side by side or one under another

log = logging.getLogger(__name__)


def _lora_weight(request: GenerationRequest, axis: Axis, value: float) -> GenerationRequest:
    index = loras(request)[axis.lora][0]
    adapters = list(request.model.adapters)
    adapters[index] = adapters[index].replace(weight=value)
    return request.replace(model=request.model.replace(adapters=tuple(adapters)))


def _prompt_sr(request: GenerationRequest, axis: Axis, value: str) -> GenerationRequest:
    search = axis.values[0]
    return request.replace(prompt=request.prompt.replace(search, value),
                           negative_prompt=request.negative_prompt.replace(search, value),
                           template=request.template.replace(search, value))


def _strength(request: GenerationRequest, _axis: Axis, value: float) -> GenerationRequest:
    if request.mode in IMAGE_MODES:
        return request.replace(images=request.images.replace(strength=value))
    return request.replace(hires=request.hires.replace(strength=value))  # validated: there is a hires fix


def _sampling(name: str) -> Callable[[GenerationRequest, Axis, Any], GenerationRequest]:
    return lambda request, _axis, value: request.replace(sampling=request.sampling.replace(**{name: value}))


_APPLY: dict[str, Callable[[GenerationRequest, Axis, Any], GenerationRequest]] = {
    "seed": _sampling("seed"), "steps": _sampling("steps"), "cfg": _sampling("guidance"),
    "scheduler": _sampling("scheduler"), "lora": _lora_weight, "prompt_sr": _prompt_sr, "strength": _strength,
}


def cells(base: GenerationRequest, axes: tuple[Axis, ...]) -> list[tuple[tuple[int, ...], GenerationRequest]]:
    """Every cell as (its index on each axis, its complete request), X fastest, then Y, then Z."""
    out = []
    for reverse in itertools.product(*(range(len(axis.values)) for axis in reversed(axes))):
        coords = tuple(reversed(reverse))
        request = base
        for axis, index in zip(axes, coords):
            request = _APPLY[axis.kind](request, axis, axis.values[index])
        out.append((coords, request))
    return out


@dataclass(frozen=True)
class Plot:
    """A base request and one to three axes over it; a request kind of its own ("grid")."""

    kind: ClassVar[str] = "grid"

    base: GenerationRequest
    axes: tuple[Axis, ...]
    z_layout: str = "side"

    @property
    def engine(self) -> str:
        return self.base.engine

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(axis.values) for axis in self.axes)

    @property
    def image_count(self) -> int:
        return math.prod(self.shape) + 1  # the cells and the grid

    def validate(self) -> Plot:
        if not 1 <= len(self.axes) <= 3:
            raise ValueError(f"An X/Y/Z plot takes one to three axes, got {len(self.axes)}.")
        seen = set()
        for axis in self.axes:
            axis.validate()
            key = (axis.kind, axis.lora, axis.values[0] if axis.kind == "prompt_sr" else None)
            if key in seen:
                raise ValueError(f"{axis.title(self.base)} is on two axes: sweep each setting on one.")
            seen.add(key)
        if self.z_layout not in Z_LAYOUTS:
            raise ValueError(f"Z grids are laid out {' or '.join(Z_LAYOUTS)}, got {self.z_layout!r}.")
        sampling = self.base.sampling
        if sampling.image_count != 1:
            raise ValueError(f"An X/Y/Z plot makes one image per cell: set the batch size and batch count to 1 "
                             f"(they are {sampling.batch_size} and {sampling.batch_count}).")
        self.base.validate()
        for axis in self.axes:
            axis.applies_to(self.base)
        if math.prod(self.shape) > MAX_CELLS:
            shape = " × ".join(map(str, self.shape))
            raise ValueError(f"This plot has {shape} = {math.prod(self.shape):,} cells; a plot takes at most "
                             f"{MAX_CELLS}: use fewer values.")
        for _coords, cell in self.cells():
            cell.validate()
        return self

    def cells(self) -> list[tuple[tuple[int, ...], GenerationRequest]]:
        return cells(self.base, self.axes)

    def parts(self) -> list[GenerationRequest]:
        """The cells' requests: what ``EngineRegistry.check`` checks against their engine."""
        return [request for _coords, request in self.cells()]

    def to_dict(self) -> dict[str, Any]:
        """The first cell's request, with the axes under "plot": readers of requests see that cell (as
        A1111's grid carries its first image's settings), and it makes the same plot as the base (each
        axis sets its value in every cell, and an S/R's first value is the prompt's own text)."""
        first = self.cells()[0][1]
        return {**first.to_dict(), "plot": {"axes": to_data(self.axes), "z_layout": self.z_layout}}

    def titles(self) -> list[str]:
        return [axis.title(self.base) for axis in self.axes]

    def labels(self) -> list[list[str]]:
        return [axis.labels() for axis in self.axes]

    def cell_text(self, coords: tuple[int, ...]) -> str:
        return ", ".join(f"{title} {axis.labels()[index]}"
                         for title, axis, index in zip(self.titles(), self.axes, coords))

    def label(self) -> str:
        """What the jobs list calls it."""
        prompt = " ".join(self.base.prompt.split())
        prompt = prompt if len(prompt) <= 40 else prompt[:39] + "…"
        return f"X/Y/Z plot {' × '.join(map(str, self.shape))}: {prompt}"

    def detail(self) -> str:
        base = self.base
        return (f"{' × '.join(self.titles())} · {base.width}×{base.height} · seed {base.sampling.seed} · "
                f"{stem(base.model.id)}")

    def run_job(self, registry: EngineRegistry, save: Save, **loop: Any) -> JobOutcome:
        """``core.jobs.run_job`` hands a plot here: see ``run_plot``."""
        return run_plot(self, registry, save, **loop)


def run_plot(plot: Plot, registry: EngineRegistry, save: Save, *, job_id: int = 0,
             on_event: Callable[[JobEvent], None] | None = None, cancel: CancelToken | None = None,
             stop_requested: Callable[[], bool] = lambda: False) -> JobOutcome:
    """Each cell through the job loop, saved at once; then the grid. Progress runs over all the cells
    (weighted by their steps). A cancel or a failure keeps the finished cells and makes no grid;
    ``stop_requested`` ends the plot after the cell in progress, with a grid of what was made."""
    emit = on_event or (lambda _event: None)
    cancel = cancel or CancelToken()
    plan = plot.cells()
    weights = [request.sampling.steps for _coords, request in plan]
    total = sum(weights)
    budget = MAX_GRID_PIXELS // len(plan)  # each kept image shrunk to its share of the grid: bounded memory
    images: list[Any] = [None] * len(plan)
    ids: list[Any] = [None] * len(plan)
    fingerprint: dict[str, Any] = {}
    entries: list[Any] = []
    emit(JobEvent(STARTED, job_id))
    done = 0
    for index, (coords, request) in enumerate(plan):
        if index and stop_requested():
            break
        text = f"Cell {index + 1} of {len(plan)}: {plot.cell_text(coords)}"
        emit(JobEvent(MESSAGE, job_id, done, total, text=text))

        def save_cell(run: Any, result: Result, index: int = index) -> list[Any]:
            saved = save(run, result)
            images[index] = fit_within(result.images[0], budget)
            ids[index] = getattr(saved[0], "id", None) if saved else None
            fingerprint.update(result.fingerprint)
            return saved

        outcome = run_job(request, registry, save_cell, job_id=job_id, cancel=cancel,
                          on_event=_CellRelay(emit, done, weights[index], total))
        entries += outcome.entries
        if outcome.state != FINISHED:
            message = outcome.message
            emit(JobEvent(outcome.state, job_id, text=message.text if message else "",
                          details=message.details if message else "", entries=tuple(entries)))
            return JobOutcome(outcome.state, entries, message)
        done += weights[index]
    if cancel.cancelled:  # came in as the last cell ended: no grid, as no image of a cancelled run
        emit(JobEvent(CANCELLED, job_id, entries=tuple(entries)))
        return JobOutcome(CANCELLED, entries)
    try:
        grid = grid_image(images, plot.titles(), plot.labels(), stacked=plot.z_layout == "stacked")
        saved = save(plot, Result([grid], [plan[0][1].sampling.seed], fingerprint, {"cells": ids}))
    except Exception as exc:  # noqa: BLE001 - as in run_job: every failure becomes the user's message
        message = describe(exc)
        log.log(logging.INFO if message.expected else logging.WARNING, "Job %s: the grid failed: %s", job_id,
                message.text, exc_info=not message.expected)
        emit(JobEvent(FAILED, job_id, text=message.text, details=message.details, entries=tuple(entries)))
        return JobOutcome(FAILED, entries, message)
    entries += saved
    emit(JobEvent(SAVED, job_id, entries=tuple(saved)))
    emit(JobEvent(FINISHED, job_id, entries=tuple(entries)))
    return JobOutcome(FINISHED, entries)


class _CellRelay:
    """A cell's job events as the plot's: its progress mapped onto all the cells; its start and end
    are the plot's to tell."""

    def __init__(self, emit: Callable[[JobEvent], None], done: int, weight: int, total: int) -> None:
        self.emit, self.done, self.weight, self.total = emit, done, weight, total

    def __call__(self, event: JobEvent) -> None:
        if event.kind in (MESSAGE, PROGRESS):
            step = self.done + round(self.weight * event.step / max(event.total, 1))
            self.emit(replace(event, step=step, total=self.total))
        elif event.kind == SAVED:
            self.emit(event)
