"""Thumbnails load on pool threads and come back to the GUI thread; the model pages lazily."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSize

from gallery_helpers import add_generated
from t2i_studio.core.project import Project
from t2i_studio.ui.gallery import GalleryWidget
from t2i_studio.ui.gallery_model import GalleryModel
from t2i_studio.ui.thumbnails import ThumbnailLoader


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.fixture
def project(tmp_path):
    with Project.create(tmp_path / "project") as proj:
        for k in range(6):
            add_generated(proj, f"image number {k}", seed=k, color=(40 * k, 80, 120))
        yield proj


def test_thumbnails_load_off_the_gui_thread_and_shutdown_leaves_no_thread(qtbot, project):
    threads_before = os_threads() if Path("/proc/self/task").is_dir() else None
    gui = threading.get_ident()
    loaded_on: list[int] = []
    worked_on: list[int] = []
    original = project.thumbnail

    def thumbnail(entry_id, size=256):
        worked_on.append(threading.get_ident())
        return original(entry_id, size)

    project.thumbnail = thumbnail  # type: ignore[method-assign]
    loader = ThumbnailLoader(image_size=QSize(64, 64), threads=2)
    loader.loaded.connect(lambda ids: loaded_on.extend([threading.get_ident()] * len(ids)))
    loader.set_project(project)
    ids = [e.id for e in project.query()]
    assert all(loader.pixmap(i) is None for i in ids)  # nothing cached yet: all queued
    qtbot.waitUntil(lambda: len(loaded_on) == len(ids))
    assert worked_on and gui not in worked_on
    assert set(loaded_on) == {gui}
    for i in ids:
        pixmap = loader.pixmap(i)
        assert pixmap is not None and not pixmap.isNull() and max(pixmap.width(), pixmap.height()) <= 64

    failures = []
    loader.failed.connect(lambda i, why: failures.append((i, why)))
    assert loader.pixmap(99999) is None
    qtbot.waitUntil(lambda: bool(failures))
    assert failures[0][0] == 99999 and "99999" in failures[0][1]
    assert loader.pixmap(99999) is None and loader.pending() == 0  # a failure is not retried

    assert loader.shutdown(5000)
    assert loader.is_idle()
    if threads_before is not None:  # the pool's threads were joined; the OS reaps them a moment later
        qtbot.waitUntil(lambda: os_threads() <= threads_before, timeout=2000)
    loader.request(ids[0])  # after shutdown: ignored
    assert loader.pending() == 0


def test_cache_is_bounded_and_project_switch_drops_stale_results(qtbot, project):
    loader = ThumbnailLoader(image_size=QSize(64, 64), cache_bytes=3 * 64 * 64 * 4)
    loader.set_project(project)
    ids = [e.id for e in project.query()]
    done: list[int] = []
    loader.loaded.connect(done.extend)
    for i in ids:
        loader.request(i)
    qtbot.waitUntil(lambda: len(done) == len(ids))
    assert loader.cache_size_bytes() <= 3 * 64 * 64 * 4
    assert sum(loader.cached(i) is not None for i in ids) == 3
    loader.set_project(None)
    assert loader.cached(ids[-1]) is None
    loader.shutdown()


class VirtualProject:
    """100,000 entries without a disk: counts the page queries the model makes."""

    def __init__(self, template, n: int = 100_000) -> None:
        self.template, self.n, self.queries = template, n, []

    def count(self, text="", **_filters) -> int:
        return self.n

    def query(self, text="", *, offset=0, limit=200, **_filters):
        self.queries.append(offset)
        return [replace(self.template, id=self.n - k) for k in range(offset, min(offset + limit, self.n))]

    def get(self, entry_id):
        return replace(self.template, id=entry_id)

    def models(self):
        return ["org/model-a"]

    def thumbnail(self, entry_id, size=256):
        raise FileNotFoundError("virtual")


def test_model_pages_lazily_over_100000_entries(qtbot, project):
    virtual = VirtualProject(project.query()[0])
    widget = GalleryWidget(icon_size=64)
    qtbot.addWidget(widget)
    widget.resize(800, 600)
    widget.set_project(virtual)  # type: ignore[arg-type]
    widget.show()
    qtbot.waitExposed(widget)
    assert widget.model.rowCount() == 100_000
    assert len(virtual.queries) <= 2  # the first screen: one page (maybe two)
    widget.view.scrollToBottom()
    qtbot.wait(20)
    widget.view.setCurrentIndex(widget.model.index(99_999))
    assert widget.current_id() == 1
    assert len(virtual.queries) <= 6 and max(virtual.queries) == 100_000 - GalleryModel.PAGE
    for row in range(0, 100_000, 1000):  # touch every 1000th row: memory stays bounded
        widget.model.entry(row)
    assert len(widget.model._pages) <= GalleryModel.MAX_PAGES
    assert len(widget.model._rows) <= GalleryModel.MAX_PAGES * GalleryModel.PAGE
    widget.shutdown()
