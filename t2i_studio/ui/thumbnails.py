"""Gallery thumbnails: loaded on a private thread pool, handed back as QImages, cached as QPixmaps.

Pool threads only call ``Project.thumbnail()`` and decode/scale the file into a ``QImage`` (safe off
the GUI thread). Results wait in an outbox; one queued signal per batch wakes the GUI thread, and
only there does a ``QImage`` become a ``QPixmap`` in a byte-bounded LRU cache. Requests are served newest first and the backlog is
bounded, so a fast scroll through 100,000 entries only loads what the user ends up looking at.
Nothing here logs or calls ``threading.current_thread()`` on a pool thread.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage, QPixmap

if TYPE_CHECKING:
    from t2i_studio.core.project import Project

DEFAULT_CACHE_BYTES = 64 * 1024 * 1024  # about 1,000 cells of 128 px: twenty screens
DEFAULT_MAX_PENDING = 256


THUMB_SIZES = (128, 256, 512, 1024)  # what Project.thumbnail() makes


def thumb_size_for(size: QSize) -> int:
    """The smallest stored thumbnail size that covers ``size`` (no upscaling on screen)."""
    edge = max(size.width(), size.height())
    return next((s for s in THUMB_SIZES if s >= edge), THUMB_SIZES[-1])


def load_thumbnail_image(project: Project, entry_id: int, size: QSize) -> QImage:
    """Thumbnail of one entry as a QImage fitting ``size`` (any thread; raises on failure)."""
    path = project.thumbnail(entry_id, thumb_size_for(size))
    image = QImage(str(path))
    if image.isNull():
        raise OSError(f"cannot read thumbnail {path}")
    if image.width() > size.width() or image.height() > size.height():
        image = image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    return image


class _Bridge(QObject):
    """Lives on the GUI thread; pool threads emit on it, so delivery is queued to the GUI thread."""

    ready = Signal()  # results are waiting in the loader's outbox


class _Drain(QRunnable):
    """Takes ids from the loader's queue (newest first) until it is empty or the loader stops."""

    def __init__(self, loader: ThumbnailLoader) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._loader = loader

    def run(self) -> None:
        loader = self._loader
        while True:
            job = loader._take()
            if job is None:
                return
            generation, project, entry_id = job
            image, error = QImage(), ""
            try:
                image = load_thumbnail_image(project, entry_id, loader.image_size)
            except Exception as exc:  # noqa: BLE001 - reported to the GUI thread, never raised here
                error = f"{type(exc).__name__}: {exc}"
            loader._deliver(generation, entry_id, image, error)


class ThumbnailLoader(QObject):
    """``pixmap(id)`` returns a cached pixmap or None and queues a load; ``loaded([ids])`` follows.

    Call ``shutdown()`` before the project closes or the app quits: it drops the backlog and waits for
    the pool threads to finish and exit.
    """

    loaded = Signal(list)  # entry ids whose pixmaps are now cached (a batch per event-loop pass)
    failed = Signal(int, str)  # entry id, reason

    def __init__(self, parent: QObject | None = None, *, image_size: QSize = QSize(128, 128),
                 cache_bytes: int = DEFAULT_CACHE_BYTES, max_pending: int = DEFAULT_MAX_PENDING,
                 threads: int | None = None) -> None:
        super().__init__(parent)
        self.image_size = QSize(image_size)
        self.cache_bytes = cache_bytes
        self.max_pending = max_pending
        self._pool = QThreadPool(self)
        # Loading is mostly Python (the GIL): more threads than spare cores only slow the GUI down.
        self._pool.setMaxThreadCount(threads or min(4, max(1, (os.cpu_count() or 2) - 1)))
        self._bridge = _Bridge(self)
        self._bridge.ready.connect(self._on_ready)
        self._lock = threading.Lock()
        self._outbox: list[tuple[int, int, QImage, str]] = []  # guarded by _lock
        self._queue: OrderedDict[int, None] = OrderedDict()  # guarded by _lock
        self._draining = 0  # guarded by _lock
        self._stopped = False  # guarded by _lock
        self._project: Project | None = None  # read under _lock by pool threads
        self._generation = 0  # bumped when the project changes: stale results are dropped
        self._cache: OrderedDict[int, QPixmap] = OrderedDict()
        self._cache_used = 0
        self._failed: set[int] = set()

    # -- GUI thread -----------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        """Switch projects; loads still running for the old one finish first (it may close next)."""
        self.shutdown()
        with self._lock:
            self._project = project
            self._generation += 1
            self._stopped = False
        self.clear()

    def clear(self) -> None:
        """Forget cached pixmaps (e.g. after the index was rebuilt)."""
        self._cache.clear()
        self._cache_used = 0
        self._failed.clear()

    def cached(self, entry_id: int) -> QPixmap | None:
        pixmap = self._cache.get(entry_id)
        if pixmap is not None:
            self._cache.move_to_end(entry_id)
        return pixmap

    def pixmap(self, entry_id: int) -> QPixmap | None:
        """The cached pixmap of ``entry_id``, or None after queueing it (once) for loading."""
        pixmap = self.cached(entry_id)
        if pixmap is None and entry_id not in self._failed:
            self.request(entry_id)
        return pixmap

    def request(self, entry_id: int) -> None:
        start = False
        with self._lock:
            if self._stopped or self._project is None:
                return
            self._queue[entry_id] = None
            self._queue.move_to_end(entry_id)
            while len(self._queue) > self.max_pending:
                self._queue.popitem(last=False)  # the oldest wish: scrolled past long ago
            if self._draining < self._pool.maxThreadCount():
                self._draining += 1
                start = True
        if start:
            self._pool.start(_Drain(self))

    def pending(self) -> int:
        with self._lock:
            return len(self._queue) + self._draining

    def is_idle(self) -> bool:
        return self.pending() == 0 and self._pool.activeThreadCount() == 0

    def shutdown(self, timeout_ms: int = -1) -> bool:
        """Stop loading: drop the backlog, wait for running loads, remove the pool's threads."""
        with self._lock:
            self._stopped = True
            self._queue.clear()
        return self._pool.waitForDone(timeout_ms)

    def cache_size_bytes(self) -> int:
        return self._cache_used

    # -- pool threads ---------------------------------------------------------------------------
    def _take(self) -> tuple[int, Project, int] | None:
        with self._lock:
            if self._stopped or not self._queue or self._project is None:
                self._draining -= 1
                return None
            entry_id, _ = self._queue.popitem(last=True)  # newest wish first
            return self._generation, self._project, entry_id

    def _deliver(self, generation: int, entry_id: int, image: QImage, error: str) -> None:
        """Put one result in the outbox; only the first of a batch wakes the GUI thread."""
        with self._lock:
            wake = not self._outbox
            self._outbox.append((generation, entry_id, image, error))
        if wake:
            self._bridge.ready.emit()

    # -- back on the GUI thread -----------------------------------------------------------------
    @Slot()
    def _on_ready(self) -> None:
        with self._lock:
            batch, self._outbox = self._outbox, []
        loaded = []
        for generation, entry_id, image, error in batch:
            if generation != self._generation:
                continue
            if image.isNull():
                self._failed.add(entry_id)
                self.failed.emit(entry_id, error or "empty image")
            else:
                self._store(entry_id, image)
                loaded.append(entry_id)
        if loaded:
            self.loaded.emit(loaded)

    def _store(self, entry_id: int, image: QImage) -> None:
        pixmap = QPixmap.fromImage(image)
        old = self._cache.pop(entry_id, None)
        if old is not None:
            self._cache_used -= _bytes(old)
        self._cache[entry_id] = pixmap
        self._cache_used += _bytes(pixmap)
        while self._cache_used > self.cache_bytes and len(self._cache) > 1:
            _, evicted = self._cache.popitem(last=False)
            self._cache_used -= _bytes(evicted)


def _bytes(pixmap: QPixmap) -> int:
    return max(1, pixmap.width() * pixmap.height() * max(1, pixmap.depth() // 8))
