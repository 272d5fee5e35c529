"""Benchmark: the gallery grid over a 100,000-entry project (``--quick``: 20,000).

The project is the synthetic one of ``project_scale`` (64 px PNGs with full metadata, built once per
size and kept in the temp folder), indexed by ``Project.open``; its thumbnail cache
(``thumbs/<id>@128.webp``) is filled before timing, so the figures measure the gallery (paged model,
thread-pool loading, pixmap cache), not WebP encoding.

- ``first_screen_s``: ``set_project`` + show until every visible cell has its thumbnail.
- ``scroll_to_end_s``: drag the scrollbar from top to bottom in 100 painted steps, then wait until
  the last screen's thumbnails are all in.
- ``scroll_step_max_ms``: the longest wall time of one scroll step (query + layout + paint);
  ``scroll_step_mean_ms`` its mean, ``scroll_step_cpu_max_ms`` the longest GUI-thread CPU time of a
  step (what the step costs when other processes compete for the cores: see ``load_avg``).
- ``mem_growth_mb``: resident memory after reaching the end minus after the first screen.
Each figure is one JSON line on stdout.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import psutil  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QEventLoop, QPoint, QSize  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from _common import emit  # noqa: E402
from project_scale import project_arg_parser, synthetic_project  # noqa: E402  (the synthetic project)
from t2i_studio.core.project import Project  # noqa: E402
from t2i_studio.core.thumbnails import render, thumb_path  # noqa: E402
from t2i_studio.ui.gallery import GalleryWidget  # noqa: E402
from t2i_studio.ui.thumbnails import thumb_size_for  # noqa: E402

ICON = 128
STEPS = 100


def fill_thumbnail_cache(project: Project, size: int) -> int:
    """One WebP per distinct image content, hard-linked (or copied) for every entry; newer than the images."""
    thumbs = project.folder / "thumbs"
    rendered: dict[str, Path] = {}
    count = 0
    offset = 0
    while True:
        page = project.query(sort="oldest", offset=offset, limit=5000, params=False)
        if not page:
            break
        for entry in page:
            target = thumb_path(thumbs, entry.id, size)
            count += 1
            if target.exists():  # a kept project (--keep) already has them
                continue
            key = Path(entry.path).read_bytes()[-200:].hex()  # the IDAT tail identifies the colour
            if key not in rendered:
                with Image.open(entry.path) as image:
                    target.write_bytes(render(image, size))
                rendered[key] = target
            else:
                try:
                    os.link(rendered[key], target)
                except OSError:
                    shutil.copyfile(rendered[key], target)
        offset += len(page)
    later = time.time() + 60
    for path in rendered.values():
        os.utime(path, (later, later))
    return count


def visible_ids(gallery: GalleryWidget) -> list[int]:
    """Ids of the cells that intersect the viewport (scanning from the first one found)."""
    view = gallery.view
    rect = view.viewport().rect()
    grid = view.gridSize()
    first = None
    for y in range(0, grid.height() + 1, 4):  # the top edge may fall between two rows of cells
        index = view.indexAt(QPoint(grid.width() // 2, y))
        if index.isValid():
            first = index.row()
            break
    if first is None:
        return []
    ids = []
    for row in range(first, gallery.model.rowCount()):
        cell = view.visualRect(gallery.model.index(row))
        if cell.top() > rect.bottom():
            break
        if cell.intersects(rect):
            entry_id = gallery.model.entry_id(row)
            if entry_id is not None:
                ids.append(entry_id)
    return ids


def wait_screen_loaded(gallery: GalleryWidget, loop: QEventLoop, timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        loop.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
        ids = visible_ids(gallery)
        if ids and all(gallery.thumbnails.cached(i) is not None for i in ids):
            return
        time.sleep(0.001)
    raise TimeoutError("thumbnails of the visible screen did not arrive")


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def main() -> int:
    args = project_arg_parser(__doc__.splitlines()[0]).parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    loop = QEventLoop()
    t0 = time.perf_counter()
    with synthetic_project(args) as (folder, n):
        with Project.open(folder) as project:
            assert project.count() == n, project.count()
            thumbs = fill_thumbnail_cache(project, thumb_size_for(QSize(ICON, ICON)))
        print(f"prepared {n} entries and {thumbs} cached thumbnails in {time.perf_counter() - t0:.1f}s",
              file=sys.stderr)

        with Project.open(folder) as project:
            gallery = GalleryWidget(icon_size=ICON)
            gallery.resize(1280, 800)
            t0 = time.perf_counter()
            gallery.set_project(project)
            gallery.show()
            wait_screen_loaded(gallery, loop)
            first_screen_s = time.perf_counter() - t0
            on_screen = len(visible_ids(gallery))
            mem_start = rss_mb()

            bar = gallery.view.verticalScrollBar()
            steps_ms, steps_cpu_ms = [], []
            t0 = time.perf_counter()
            for k in range(1, STEPS + 1):
                s0, c0 = time.perf_counter(), time.thread_time()
                bar.setValue(bar.maximum() * k // STEPS)
                gallery.view.viewport().repaint()
                loop.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
                steps_ms.append((time.perf_counter() - s0) * 1000)
                steps_cpu_ms.append((time.thread_time() - c0) * 1000)
            wait_screen_loaded(gallery, loop)
            scroll_to_end_s = time.perf_counter() - t0
            last_row = gallery.model.rowCount() - 1
            assert gallery.model.entry_id(last_row) in visible_ids(gallery), "the end was not reached"
            mem_growth = rss_mb() - mem_start
            cache_mb = gallery.thumbnails.cache_bytes // 2**20
            gallery.shutdown()
            gallery.close()
            gallery.deleteLater()
            loop.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)

        params = {"entries": n, "icon_px": ICON, "window": "1280x800", "on_screen": on_screen, "steps": STEPS,
                  "cpus": os.cpu_count(), "qpa": os.environ.get("QT_QPA_PLATFORM"),
                  "load_avg": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None}
        for metric, value, unit, target, extra in (
                ("first_screen_s", first_screen_s, "s", 1.0, {}),
                ("scroll_to_end_s", scroll_to_end_s, "s", None, {}),
                ("scroll_step_max_ms", max(steps_ms), "ms", 50, {}),
                ("scroll_step_mean_ms", sum(steps_ms) / len(steps_ms), "ms", None, {}),
                ("scroll_step_cpu_max_ms", max(steps_cpu_ms), "ms", 50, {}),
                ("mem_growth_mb", mem_growth, "MB", 150, {"pixmap_cache_mb": cache_mb})):
            emit("gallery_scroll", metric, round(value, 4), unit=unit, target=target, params={**params, **extra})
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
