"""The worker-thread side of JobRunner: the job queue both threads share, and the QObject that runs
jobs one at a time on the worker thread through the core job loop (``core.jobs.run_job``).

``Worker.drain`` takes jobs off the ``JobQueue`` until none is left. Engines come from the
registry, built on first use on the worker thread, so torch is imported by the first job and not at
start-up. Results are saved with ``project.save_result`` on the worker thread. The loop's events
leave the thread as queued signals carrying plain data (ints, strings, dicts, owned QImage copies).
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from PySide6.QtCore import QObject, Signal, Slot

from t2i_studio.core import jobs
from t2i_studio.core.engine_registry import EngineRegistry
from t2i_studio.core.jobs import JobEvent
from t2i_studio.worker.jobs import RUNNING, Job
from t2i_studio.worker.qimage import pil_to_qimage

log = logging.getLogger(__name__)


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

    def __init__(self, queue: JobQueue, registry: EngineRegistry) -> None:
        super().__init__()
        self._queue = queue
        self.registry = registry

    @Slot()
    def drain(self) -> None:
        while (job := self._queue.take()) is not None:
            try:
                outcome = self._run(job)
            finally:
                self._queue.done()
            self._emit(outcome)  # after done(): whoever reacts sees the queue without this job

    def _run(self, job: Job) -> JobEvent:
        ended: list[JobEvent] = []

        def on_event(event: JobEvent) -> None:
            if event.kind in (jobs.FINISHED, jobs.FAILED, jobs.CANCELLED):
                ended.append(event)  # sent once the job has left the queue
            else:
                self._emit(event)

        jobs.run_job(job.request, self.registry, job.project.save_result, job_id=job.id, on_event=on_event,
                     cancel=job.cancel, stop_requested=lambda: job.stop_after_current)
        self._emit_status(job.request.engine)  # first, so whoever reacts to the outcome sees the new status
        return ended[-1]

    def _emit(self, event: JobEvent) -> None:
        job_id = event.job_id
        if event.kind == jobs.STARTED:
            self.started.emit(job_id)
        elif event.kind == jobs.MESSAGE:
            self.message.emit(job_id, event.text)
        elif event.kind == jobs.PROGRESS:
            preview = pil_to_qimage(event.preview) if event.preview is not None else None
            self.progress.emit(job_id, event.step, event.total, preview)
        elif event.kind == jobs.SAVED:
            self.saved.emit(job_id, _ids(event))
        elif event.kind == jobs.FINISHED:
            self.finished.emit(job_id, _ids(event))
        elif event.kind == jobs.FAILED:
            self.failed.emit(job_id, event.text, event.details)
        elif event.kind == jobs.CANCELLED:
            self.cancelled.emit(job_id)

    def _emit_status(self, name: str) -> None:
        engine = self.registry.loaded(name)
        if engine is None:
            return
        try:
            status = dict(engine.status())
        except Exception:  # noqa: BLE001 - the status bar is never worth a crash
            log.debug("engine.status() failed", exc_info=True)
            return
        self.status.emit({k: status.get(k) for k in ("device", "model", "memory_mb")})


def _ids(event: JobEvent) -> list[int]:
    return [int(e.id) for e in event.entries]
