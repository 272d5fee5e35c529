"""JobRunner: one long-lived worker thread running generation and style jobs one at a time.

The runner lives on the GUI thread; its ``_Worker`` lives on a QThread and drains a FIFO queue
shared by both kinds of job (the GPU is one device). Engines are built from factories on first
use, on the worker thread, so torch is imported by the first job and not at start-up. Results are
saved with ``project.save_result`` on the worker thread. Everything the worker reports reaches the
GUI through queued signals carrying plain data (ints, strings, dicts, owned QImage copies); the
runner re-emits them on the GUI thread. Previews are throttled to one per ``PREVIEW_INTERVAL_S``.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
import traceback
import weakref
from collections import deque
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from t2i_studio.core.engine import Cancelled, Engine, Progress
from t2i_studio.core.errors import StudioError
from t2i_studio.core.requests import Request
from t2i_studio.worker.jobs import RUNNING, WAITING, Job, JobInfo
from t2i_studio.worker.qimage import pil_to_qimage

log = logging.getLogger(__name__)

PREVIEW_INTERVAL_S = 0.1  # previews reach the GUI at most this often
STEP_INTERVAL_S = 0.05  # plain step updates at most this often (the last step always)

EngineFactory = Callable[[], Engine]
_runners: weakref.WeakSet[JobRunner] = weakref.WeakSet()


def running_threads() -> list[QThread]:
    """Worker threads still running (tests fail when one outlives them)."""
    return [r._thread for r in list(_runners) if r._thread.isRunning()]


class _WorkerThread(QThread):
    """The worker's QThread. Python code that asks for ``threading.current_thread()`` on it (the
    logging module does, for every record) registers a ``_DummyThread`` that Python 3.11 never
    forgets and that reports itself alive forever; forget it when the thread ends, so a stopped
    worker does not look like a leaked thread."""

    def run(self) -> None:
        try:
            self.exec()
        finally:
            ident = threading.get_ident()
            with threading._active_limbo_lock:  # type: ignore[attr-defined]
                if isinstance(threading._active.get(ident), threading._DummyThread):  # type: ignore[attr-defined]
                    del threading._active[ident]  # type: ignore[attr-defined]


class _Queue:
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


class _Worker(QObject):
    started = Signal(int)
    progress = Signal(int, int, int, object)
    message = Signal(int, str)
    saved = Signal(int, list)
    finished = Signal(int, list)
    failed = Signal(int, str, str)
    cancelled = Signal(int)
    status = Signal(dict)

    def __init__(self, queue: _Queue, factories: dict[str, EngineFactory]) -> None:
        super().__init__()
        self._queue = queue
        self._factories = factories
        self.engines: dict[str, Engine] = {}
        self.preview_every: int | None = None

    @Slot()
    def drain(self) -> None:
        while (job := self._queue.take()) is not None:
            try:
                self._run(job)
            finally:
                self._queue.done()

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

    def _run(self, job: Job) -> None:
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
            message, details = describe_error(exc)
            log.warning("Job %s failed: %s", job.id, message, exc_info=not isinstance(exc, StudioError))
            outcome = (self.failed, (job.id, message, details))
        if engine is not None:
            self._emit_status(engine)  # first, so whoever reacts to the outcome sees the new status
        signal, args = outcome
        signal.emit(*args)

    def _emit_status(self, engine: Engine) -> None:
        try:
            status = dict(engine.status())
        except Exception:  # noqa: BLE001 - the status bar is never worth a crash
            log.debug("engine.status() failed", exc_info=True)
            return
        self.status.emit({k: status.get(k) for k in ("device", "model", "memory_mb")})


class _ProgressRelay:
    """An engine's ``on_progress``: maps batch runs onto one job total and throttles previews."""

    def __init__(self, worker: _Worker, job_id: int, run_index: int, run_count: int) -> None:
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


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(message with a suggested fix, details) for any failure of a job."""
    if isinstance(exc, StudioError):
        return exc.user_message(), exc.details or ""
    if isinstance(exc, ValueError):
        return str(exc), ""
    if isinstance(exc, MemoryError):
        return ("Out of memory. Try a smaller size, fewer images per batch, or turn on CPU offload "
                "and VAE tiling under Advanced."), traceback.format_exc()
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return ("The disk is full: the image could not be saved. Free some space or move the "
                "project to another disk."), str(exc)
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}. Check that the file exists and is readable.", str(exc)
    return f"Unexpected error: {exc}", "".join(traceback.format_exception(exc))


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

    def __init__(self, factories: dict[str, EngineFactory], project: Any = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self._queue = _Queue()
        self._worker = _Worker(self._queue, dict(factories))
        self._thread = _WorkerThread()
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
        _runners.add(self)

    # --- submitting and listing -------------------------------------------------------------
    def set_project(self, project: Any) -> None:
        """Where later submissions are saved (queued jobs keep the project they were given)."""
        self.project = project

    def set_preview_every(self, steps: int) -> None:
        self._worker.preview_every = max(1, int(steps))

    def submit(self, request: Request, project: Any = None) -> int:
        """Validate and queue a request; returns the job id. ``ValueError`` if invalid."""
        if self._shut_down:
            raise RuntimeError("The job runner has been shut down.")
        request.validate()
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
        for engine in self._worker.engines.values():
            try:
                engine.close()
            except Exception:  # noqa: BLE001
                log.warning("Closing an engine failed", exc_info=True)
        self._worker.engines.clear()
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
