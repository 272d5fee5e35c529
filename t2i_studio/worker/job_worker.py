"""The worker-thread side of JobRunner: the job queue both threads share, the QObject that runs
jobs one at a time on the worker thread, the progress relay, and the messages for failures.

``Worker.drain`` takes jobs off the ``JobQueue`` until none is left. Engines are built from
factories on first use, on the worker thread, so torch is imported by the first job and not at
start-up. Results are saved with ``project.save_result`` on the worker thread. Everything the
worker reports leaves it as queued signals carrying plain data (ints, strings, dicts, owned QImage
copies). Previews are throttled to one per ``PREVIEW_INTERVAL_S``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

from t2i_studio.core.engine import Cancelled, Engine, Progress
from t2i_studio.core.errors import StudioError, describe
from t2i_studio.worker.jobs import RUNNING, Job
from t2i_studio.worker.qimage import pil_to_qimage

log = logging.getLogger(__name__)

PREVIEW_INTERVAL_S = 0.1  # previews reach the GUI at most this often
STEP_INTERVAL_S = 0.05  # plain step updates at most this often (the last step always)

EngineFactory = Callable[[], Engine]


class JobQueue:
    """The jobs shared by the GUI thread (submit/cancel) and the worker (take/finish)."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.waiting: deque[Job] = deque()
        self.current: Job | None = None
        self.closing = False

    def take(self) -> Job | None:
        with self.lock:
            if self.closing or not self.waiting:
                return None
            job = self.current = self.waiting.popleft()
            job.state = RUNNING
            return job

    def done(self) -> None:
        with self.lock:
            self.current = None
            self.lock.notify_all()

    def find(self, job_id: int) -> Job | None:
        with self.lock:
            if self.current is not None and self.current.id == job_id:
                return self.current
            return next((j for j in self.waiting if j.id == job_id), None)


class Worker(QObject):
    """Runs the queued jobs on the worker thread; ``drain`` is queued to it by the runner."""

    started = Signal(int)
    progress = Signal(int, int, int, object)
    message = Signal(int, str)
    saved = Signal(int, list)
    finished = Signal(int, list)
    failed = Signal(int, str, str)
    cancelled = Signal(int)
    status = Signal(dict)

    def __init__(self, queue: JobQueue, factories: dict[str, EngineFactory]) -> None:
        super().__init__()
        self._queue = queue
        self._factories = factories
        self.engines: dict[str, Engine] = {}
        self.preview_every: int | None = None

    @Slot()
    def drain(self) -> None:
        while (job := self._queue.take()) is not None:
            try:
                signal, args = self._run(job)
            finally:
                self._queue.done()
            signal.emit(*args)  # after done(): whoever reacts sees the queue without this job

    def _engine(self, kind: str) -> Engine:
        engine = self.engines.get(kind)
        if engine is None:
            factory = self._factories.get(kind)
            if factory is None:
                raise StudioError(f"No engine for {kind!r} jobs.")
            engine = self.engines[kind] = factory()
        if kind == "generate" and self.preview_every and hasattr(engine, "preview_every"):
            engine.preview_every = self.preview_every  # type: ignore[attr-defined]
        return engine

    def _run(self, job: Job) -> tuple[Any, tuple]:
        self.started.emit(job.id)
        engine: Engine | None = None
        try:
            job.cancel.raise_if_cancelled()
            engine = self._engine(job.kind)
            runs = job.runs()
            ids: list[int] = []
            for index, request in enumerate(runs):
                if index and job.stop_after_current:
                    break
                job.cancel.raise_if_cancelled()
                callback = _ProgressRelay(self, job.id, index, len(runs))
                result = engine.run(request, callback, job.cancel)
                job.cancel.raise_if_cancelled()  # a cancel that came in late still saves nothing
                entries = job.project.save_result(request, result)
                new_ids = [int(e.id) for e in entries]
                ids += new_ids
                self.saved.emit(job.id, new_ids)
            outcome: tuple[Any, tuple] = (self.finished, (job.id, ids))
        except Cancelled:
            outcome = (self.cancelled, (job.id,))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message, the app goes on
            message = describe(exc)
            log.warning("Job %s failed: %s", job.id, message.text, exc_info=not message.expected)
            outcome = (self.failed, (job.id, message.text, message.details))
        if engine is not None:
            self._emit_status(engine)  # first, so whoever reacts to the outcome sees the new status
        return outcome

    def _emit_status(self, engine: Engine) -> None:
        try:
            status = dict(engine.status())
        except Exception:  # noqa: BLE001 - the status bar is never worth a crash
            log.debug("engine.status() failed", exc_info=True)
            return
        self.status.emit({k: status.get(k) for k in ("device", "model", "memory_mb")})


class _ProgressRelay:
    """An engine's ``on_progress``: maps batch runs onto one job total and throttles previews."""

    def __init__(self, worker: Worker, job_id: int, run_index: int, run_count: int) -> None:
        self.worker, self.job_id = worker, job_id
        self.run_index, self.run_count = run_index, run_count
        self.last_emit = self.last_preview = 0.0
        self.last_message = ""

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        total = max(progress.total, 1)
        step = self.run_index * total + progress.step
        overall = total * self.run_count
        if progress.message and progress.message != self.last_message:
            self.last_message = progress.message
            self.worker.message.emit(self.job_id, progress.message)
        if progress.preview is not None and now - self.last_preview >= PREVIEW_INTERVAL_S:
            image = pil_to_qimage(progress.preview)
            self.last_preview = self.last_emit = now
            self.worker.progress.emit(self.job_id, step, overall, image)
        elif now - self.last_emit >= STEP_INTERVAL_S or progress.step >= progress.total:
            self.last_emit = now
            self.worker.progress.emit(self.job_id, step, overall, None)
