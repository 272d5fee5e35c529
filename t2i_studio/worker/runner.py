"""JobRunner: one long-lived worker thread running generation and style jobs one at a time.

The runner lives on the GUI thread; its ``Worker`` (``job_worker``) lives on a QThread and drains
a FIFO queue shared by both kinds of job (the GPU is one device). The worker runs the core job
loop and reports through queued signals carrying plain data; the runner re-emits them on the GUI
thread. Requests are checked once, at ``submit``, against the engine registry.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from t2i_studio.core.engine_registry import EngineRegistry
from t2i_studio.core.requests import Request
from t2i_studio.worker.job_worker import JobQueue, Worker
from t2i_studio.worker.jobs import WAITING, Job, JobInfo

log = logging.getLogger(__name__)


class JobRunner(QObject):
    """The GUI-thread face of the worker: submit, cancel, list, and signals about jobs."""

    job_submitted = Signal(int)
    job_started = Signal(int)
    progress = Signal(int, int, int, object)  # job_id, step, total, preview QImage or None
    job_message = Signal(int, str)  # e.g. "Loading model…"
    images_saved = Signal(int, list)  # job_id, entry ids saved so far (after each batch)
    job_finished = Signal(int, list)  # job_id, all entry ids
    job_failed = Signal(int, str, str)  # job_id, message (with a suggested fix), details
    job_cancelled = Signal(int)
    queue_changed = Signal()
    status_changed = Signal(dict)  # {"device", "model", "memory_mb"} from engine.status()
    _wake = Signal()

    def __init__(self, registry: EngineRegistry, project: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.registry = registry
        self._queue = JobQueue()
        self._worker = Worker(self._queue, registry)
        self._thread = QThread()
        self._thread.setObjectName("t2i-worker")
        self._worker.moveToThread(self._thread)
        self._wake.connect(self._worker.drain)
        w = self._worker
        w.started.connect(self._on_started)
        w.progress.connect(self.progress)
        w.message.connect(self.job_message)
        w.saved.connect(self.images_saved)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        w.cancelled.connect(self._on_cancelled)
        w.status.connect(self.status_changed)
        self._shut_down = False
        self._thread.start()

    # --- submitting and listing -------------------------------------------------------------
    def set_project(self, project: Any) -> None:
        """Where later submissions are saved (queued jobs keep the project they were given)."""
        self.project = project

    def submit(self, request: Request, project: Any = None) -> int:
        """Check and queue a request; returns the job id. ``ValueError`` says what to change."""
        if self._shut_down:
            raise RuntimeError("The job runner has been shut down.")
        self.registry.check(request)
        target = project if project is not None else self.project
        if target is None:
            raise ValueError("No project is open: create or open a project first.")
        job = Job(request, target)
        with self._queue.lock:
            self._queue.waiting.append(job)
        self.job_submitted.emit(job.id)
        self.queue_changed.emit()
        self._wake.emit()
        return job.id

    def jobs(self) -> list[JobInfo]:
        with self._queue.lock:
            current = [self._queue.current] if self._queue.current else []
            return [j.info() for j in current + list(self._queue.waiting)]

    def current_job(self) -> int | None:
        with self._queue.lock:
            return self._queue.current.id if self._queue.current else None

    @property
    def busy(self) -> bool:
        with self._queue.lock:
            return self._queue.current is not None or bool(self._queue.waiting)

    # --- cancelling ----------------------------------------------------------------------
    def cancel(self, job_id: int) -> bool:
        """Cancel a running job (cooperatively) or drop a waiting one. False if unknown."""
        with self._queue.lock:
            job = self._queue.find(job_id)
            if job is None:
                return False
            dropped = job.state == WAITING
            if dropped:
                self._queue.waiting.remove(job)
            job.cancel.cancel()
        if dropped:
            self.job_cancelled.emit(job_id)
            self.queue_changed.emit()
        return True

    def remove(self, job_id: int) -> bool:
        """Take a waiting job off the queue (a running one is cancelled)."""
        return self.cancel(job_id)

    def cancel_current(self) -> bool:
        current = self.current_job()
        return current is not None and self.cancel(current)

    def cancel_all(self) -> None:
        for info in reversed(self.jobs()):
            self.cancel(info.id)

    def stop_after_current(self, job_id: int) -> bool:
        """For a batch: finish (and save) the image being made, then stop the job."""
        job = self._queue.find(job_id)
        if job is None:
            return False
        job.stop_after_current = True
        self.queue_changed.emit()
        return True

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Block until no job runs or waits (the GUI's queued signals are delivered later)."""
        deadline = time.monotonic() + timeout_s
        with self._queue.lock:
            while self._queue.current is not None or self._queue.waiting:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._queue.lock.wait(left)
        return True

    def shutdown(self, timeout_s: float = 60.0) -> bool:
        """Cancel everything, stop the worker thread and wait for it; then close the engines."""
        if self._shut_down:
            return not self._thread.isRunning()
        self._shut_down = True
        with self._queue.lock:
            self._queue.closing = True
            for job in self._queue.waiting:
                job.cancel.cancel()
            self._queue.waiting.clear()
            if self._queue.current is not None:
                self._queue.current.cancel.cancel()
        self._thread.quit()
        stopped = self._thread.wait(int(timeout_s * 1000))
        if not stopped:
            log.error("The worker thread did not stop within %.0f s", timeout_s)
            return False
        self.registry.close()
        return True

    # --- relays (GUI thread) -------------------------------------------------------------------
    def _on_started(self, job_id: int) -> None:
        self.job_started.emit(job_id)
        self.queue_changed.emit()

    def _on_finished(self, job_id: int, ids: list) -> None:
        self.job_finished.emit(job_id, ids)
        self.queue_changed.emit()

    def _on_failed(self, job_id: int, message: str, details: str) -> None:
        self.job_failed.emit(job_id, message, details)
        self.queue_changed.emit()

    def _on_cancelled(self, job_id: int) -> None:
        self.job_cancelled.emit(job_id)
        self.queue_changed.emit()
