"""LatestOnly: work redone after each change, off the GUI thread, the newest change only.

A widget showing something slow to make from what the user is editing (a control map, a token
count) hands ``submit(work)`` each change. After a pause of ``delay_ms`` with no other change the
work runs in a BackgroundTask, one at a time; a change made meanwhile runs when that one ends, and
only the newest. ``succeeded(result)`` and ``failed(text)`` come on the GUI thread; ``stop()``
drops what waits and waits for what runs (at quit).
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from t2i_studio.worker.tasks import BackgroundTask


class LatestOnly(QObject):
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, delay_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work: Callable[[], Any] | None = None
        self._task: BackgroundTask | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._start)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)

    @property
    def busy(self) -> bool:
        """Work is waiting for the pause, or running."""
        return self._task is not None or self._timer.isActive()

    def submit(self, work: Callable[[], Any]) -> None:
        self._work = work
        self._timer.start()

    def drop(self) -> None:
        """Nothing waiting runs (what runs still ends, and says so)."""
        self._timer.stop()
        self._work = None

    def stop(self) -> None:
        self.drop()
        if self._task is not None:
            self._task.wait()

    def _start(self) -> None:
        if self._task is not None or self._work is None:
            return  # one at a time: the newest starts when this one ends
        work, self._work = self._work, None
        task = BackgroundTask(lambda _report, _cancel: work())
        task.succeeded.connect(self.succeeded)
        task.failed.connect(lambda text, _details: self.failed.emit(text))
        task.done.connect(self._ended)
        self._task = task
        task.start()

    def _ended(self) -> None:
        self._task = None
        self._start()
