"""BackgroundTask: one piece of work off the GUI thread, for dialogs and drops.

``fn(report, cancel)`` runs on a thread of its own and touches no widget; ``report(value)`` may be
called as often as the work likes: only the latest value is kept (``latest``) and at most one
``progress`` signal per ``PROGRESS_INTERVAL_S`` carries it to the GUI thread, the last value always
included. The outcome comes back as exactly one of ``succeeded(result)``, ``failed(message,
details)`` (the text of ``core.errors.describe``) or ``cancelled()``, after the last ``progress``;
then ``done()``, once the thread has ended. Every signal is emitted on the GUI thread, so any
callable may be connected to them.
A task nobody holds still runs to its end; whoever needs the work over (a closing dialog) calls
``cancel()`` and ``wait()``.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal

from t2i_studio.core.engine import Cancelled, CancelToken
from t2i_studio.core.errors import describe

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.05

Work = Callable[[Callable[[Any], None], CancelToken], Any]

# Started and not yet ended: a task whose owner let go too early must not be freed mid-run (a
# QThread destroyed while running aborts the process).
_running: set[BackgroundTask] = set()


class _Thread(QThread):
    def __init__(self, task: BackgroundTask) -> None:
        super().__init__()
        self._task = task

    def run(self) -> None:
        self._task._run()


class BackgroundTask(QObject):
    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str, str)
    cancelled = Signal()
    done = Signal()
    _reported = Signal()  # from the work's thread: ``latest`` has a value not yet sent
    _ended = Signal(str, object)  # from the work's thread: the outcome's signal name and arguments

    def __init__(self, fn: Work, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self.cancel_token = CancelToken()
        self.latest: Any = None
        self._unsent = False  # ``latest`` is newer than the last progress signal
        self._poked = False  # a _reported is on its way: no need for another
        self._last_sent = float("-inf")
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.timeout.connect(self._send_progress)
        queued = Qt.ConnectionType.QueuedConnection
        self._reported.connect(self._schedule_progress, queued)
        self._ended.connect(self._deliver, queued)
        self._thread = _Thread(self)
        self._thread.finished.connect(self._on_finished, queued)

    def start(self) -> None:
        _running.add(self)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the work to stop; it ends with ``cancelled`` once it next checks its token."""
        self.cancel_token.cancel()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the work has ended (True), or ``timeout_s`` passed (False). The outcome
        signals come once the GUI thread's event loop runs again."""
        ended = self._thread.wait() if timeout_s is None else self._thread.wait(int(timeout_s * 1000))
        if ended:
            _running.discard(self)
        return ended

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    # -- on the work's thread ---------------------------------------------------------------------
    def _report(self, value: Any) -> None:
        self.latest = value
        self._unsent = True
        if not self._poked:
            self._poked = True
            self._reported.emit()

    def _run(self) -> None:
        try:
            result = self._fn(self._report, self.cancel_token)
        except Cancelled:
            self._ended.emit("cancelled", ())
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            message = describe(exc)
            log.log(logging.INFO if message.expected else logging.WARNING, "Background task failed: %s",
                    message.text, exc_info=not message.expected)
            self._ended.emit("failed", (message.text, message.details))
        else:
            self._ended.emit("succeeded", (result,))

    # -- on the GUI thread ------------------------------------------------------------------------
    def _schedule_progress(self) -> None:
        self._poked = False
        if self._throttle.isActive():
            return
        wait_s = PROGRESS_INTERVAL_S - (time.monotonic() - self._last_sent)
        if wait_s <= 0:
            self._send_progress()
        else:
            self._throttle.start(max(1, round(wait_s * 1000)))

    def _send_progress(self) -> None:
        if not self._unsent:
            return
        self._unsent = False  # before reading ``latest``: a report racing with us is sent next time
        self._last_sent = time.monotonic()
        self.progress.emit(self.latest)

    def _deliver(self, signal: str, args: tuple) -> None:
        self._throttle.stop()
        self._send_progress()  # the last report arrives before the outcome
        getattr(self, signal).emit(*args)

    def _on_finished(self) -> None:
        self._thread.wait()  # ``finished`` is emitted just before the thread really ends
        _running.discard(self)
        self.done.emit()
