"""The one job loop, without Qt: the CLI calls it directly, the window's worker on its thread.

A job is split into engine runs once (``batches``: one run per batch, each with the seed of its
first image); each run's images are saved the moment the run is done (or as each arrives, for an
engine that hands them over early: ``Progress.arrived``), so an interrupted job keeps every
finished image. What happens is told as ``JobEvent``s of one type, whatever the engine; any
failure becomes the user's message through ``core.errors.describe``. Requests are validated once,
at submission (``EngineRegistry.check``), not here.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable

from t2i_studio.core import wildcards
from t2i_studio.core.engine import Cancelled, CancelToken, Progress, Result
from t2i_studio.core.engine_registry import EngineRegistry
from t2i_studio.core.errors import UserMessage, describe
from t2i_studio.core.project_errors import PartlySavedError
from t2i_studio.core.requests import MAX_SEED, GenerationRequest, Request

log = logging.getLogger(__name__)

PREVIEW_INTERVAL_S = 0.1  # previews go out at most this often
STEP_INTERVAL_S = 0.05  # plain step updates at most this often (the last step always)

STARTED, MESSAGE, PROGRESS, SAVED = "started", "message", "progress", "saved"
FINISHED, FAILED, CANCELLED = "finished", "failed", "cancelled"


@dataclass(frozen=True)
class JobEvent:
    """One thing that happened to a job. ``preview`` is a PIL image on some PROGRESS events;
    ``entries`` the entries saved by a SAVED event, or all of them on FINISHED."""

    kind: str
    job_id: int
    step: int = 0
    total: int = 0
    preview: Any = None
    text: str = ""
    details: str = ""
    entries: tuple[Any, ...] = ()


@dataclass
class JobOutcome:
    state: str  # FINISHED | FAILED | CANCELLED
    entries: list[Any] = field(default_factory=list)
    message: UserMessage | None = None  # why it failed


Save = Callable[[Request, Result], list[Any]]


def batches(request: Request) -> list[Request]:
    """The engine runs of a request: a generation of ``batch_count`` > 1 becomes one run per batch; one
    with a dynamic prompt gives each image its own drawn prompt (``core.wildcards.runs``)."""
    if isinstance(request, GenerationRequest) and wildcards.is_dynamic(request):
        return list(wildcards.runs(request))
    if not isinstance(request, GenerationRequest) or request.sampling.batch_count == 1:
        return [request]
    s = request.sampling
    return [request.replace(sampling=s.replace(batch_count=1, seed=(s.seed + b * s.batch_size) % (MAX_SEED + 1)))
            for b in range(s.batch_count)]


def run_job(request: Request, registry: EngineRegistry, save: Save, *, job_id: int = 0,
            on_event: Callable[[JobEvent], None] | None = None, cancel: CancelToken | None = None,
            stop_requested: Callable[[], bool] = lambda: False) -> JobOutcome:
    """Run a validated request run by run, saving each run's images at once.

    ``stop_requested`` ends a batch after the run in progress (keeping what is saved); a cancel
    drops the run in progress. ``KeyboardInterrupt`` passes through: what was saved stays saved.
    """
    own_loop = getattr(request, "run_job", None)
    if own_loop is not None:  # a request made of requests (core.xyz's plot) runs each through this loop
        return own_loop(registry, save, job_id=job_id, on_event=on_event, cancel=cancel,
                        stop_requested=stop_requested)
    emit = on_event or (lambda _event: None)
    cancel = cancel or CancelToken()
    entries: list[Any] = []
    emit(JobEvent(STARTED, job_id))
    try:
        cancel.raise_if_cancelled()
        engine = registry.engine(request.engine)
        runs = batches(request)
        for index, run in enumerate(runs):
            if index and stop_requested():
                break
            cancel.raise_if_cancelled()
            keep = partial(_keep, run, save, emit, job_id, entries)
            result = engine.run(run, _Relay(emit, job_id, index, len(runs), keep), cancel)
            cancel.raise_if_cancelled()  # a cancel that came in late saves nothing more of this run
            keep(result)
    except Cancelled:
        emit(JobEvent(CANCELLED, job_id, entries=tuple(entries)))
        return JobOutcome(CANCELLED, entries)
    except Exception as exc:  # noqa: BLE001 - every failure becomes the user's message
        if isinstance(exc, PartlySavedError) and exc.entries:  # saved before the disk filled: told as saved
            entries += exc.entries
            emit(JobEvent(SAVED, job_id, entries=exc.entries))
        message = describe(exc)
        log.log(logging.INFO if message.expected else logging.WARNING, "Job %s failed: %s", job_id,
                message.text, exc_info=not message.expected)
        emit(JobEvent(FAILED, job_id, text=message.text, details=message.details, entries=tuple(entries)))
        return JobOutcome(FAILED, entries, message)
    emit(JobEvent(FINISHED, job_id, entries=tuple(entries)))
    return JobOutcome(FINISHED, entries)


def _keep(run: Request, save: Save, emit: Callable[[JobEvent], None], job_id: int, entries: list[Any],
          result: Result) -> None:
    """Save ``result``'s images (if any) as ``run``'s and tell it."""
    if result.images:
        saved = save(run, result)
        entries += saved
        emit(JobEvent(SAVED, job_id, entries=tuple(saved)))


class _Relay:
    """An engine's ``on_progress``: maps the runs onto one job total, throttles what goes out, and
    has the images that arrive ahead of the run's end saved (``keep``)."""

    def __init__(self, emit: Callable[[JobEvent], None], job_id: int, run_index: int, run_count: int,
                 keep: Callable[[Result], None]) -> None:
        self.emit, self.job_id, self.keep = emit, job_id, keep
        self.run_index, self.run_count = run_index, run_count
        self.last_emit = self.last_preview = 0.0
        self.last_message = ""

    def __call__(self, progress: Progress) -> None:
        if progress.arrived is not None:
            self.keep(progress.arrived)
        now = time.monotonic()
        total = max(progress.total, 1)
        step = self.run_index * total + progress.step
        overall = total * self.run_count
        if progress.message and progress.message != self.last_message:
            self.last_message = progress.message
            self.emit(JobEvent(MESSAGE, self.job_id, step, overall, text=progress.message))
        if progress.preview is not None and now - self.last_preview >= PREVIEW_INTERVAL_S:
            self.last_preview = self.last_emit = now
            self.emit(JobEvent(PROGRESS, self.job_id, step, overall, progress.preview, progress.message))
        elif now - self.last_emit >= STEP_INTERVAL_S or progress.step >= progress.total:
            self.last_emit = now
            self.emit(JobEvent(PROGRESS, self.job_id, step, overall, text=progress.message))
