"""The gallery's list model: a window over the project index, fetched a page at a time.

``rowCount`` is the index's count for the current filters; ``data`` fetches the page holding a row
with ``Project.query(offset=..., limit=PAGE, params=False)`` the first time any row of it is shown
(no params JSON: cells show the prompt, seed and marks only), and keeps the most recently used pages
only. With uniform item sizes the view asks for visible rows only, so a 100,000-entry project costs
a few page queries per screen, not one object per entry. Each full page's last row is remembered (a
few numbers per page, kept until the next reload) so a later page is queried from the nearest one
before it (``after=``), an index seek, instead of an OFFSET that steps through every earlier row.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractListModel, QMimeData, QModelIndex, QPersistentModelIndex, Qt, QUrl
from PySide6.QtGui import QColor, QPainter, QPixmap

from t2i_studio.ui.thumb_delegate import BADGE_ROLE

if TYPE_CHECKING:
    from t2i_studio.core.project import Entry, Project
    from t2i_studio.ui.thumbnails import ThumbnailLoader

SORTS = ("newest", "oldest", "rating", "model")
KINDS = ("generate", "stylize", "import")
EntryRole = Qt.ItemDataRole.UserRole + 1
IdRole = Qt.ItemDataRole.UserRole + 2

_AnyIndex = QModelIndex | QPersistentModelIndex
_ROLES = frozenset({Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                    Qt.ItemDataRole.AccessibleTextRole, EntryRole, IdRole, BADGE_ROLE})


@dataclass(frozen=True)
class Filters:
    """What the gallery shows: the arguments of ``Project.query``/``count`` besides paging."""

    text: str = ""
    favorites_only: bool = False
    kind: str | None = None
    model: str | None = None
    sort: str = "newest"

    def query_args(self) -> dict[str, Any]:
        return {"favorites_only": self.favorites_only, "kind": self.kind, "model": self.model}


class GalleryModel(QAbstractListModel):
    """Rows of the project index; ``EntryRole`` gives a display copy of the entry without ``params``
    (kept small so pages stay cheap): use ``Project.get(id)`` for the full settings."""

    PAGE = 100
    MAX_PAGES = 12

    def __init__(self, thumbnails: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails
        self.project: Project | None = None
        self.filters = Filters()
        self._count = 0
        self._pages: OrderedDict[int, list[Entry]] = OrderedDict()
        self._rows: dict[int, int] = {}  # entry id -> row, for the pages in memory
        self._anchors: dict[int, dict[str, Any]] = {}  # page number -> sort columns of its last row
        self._placeholder: QPixmap | None = None
        thumbnails.loaded.connect(self._on_thumbnails)

    # -- what is shown ---------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.thumbnails.set_project(project)
        self.reload()

    def set_filters(self, **changes: Any) -> None:
        if changes.get("sort", self.filters.sort) not in SORTS:
            raise ValueError(f"Sort must be one of {', '.join(SORTS)}; got {changes['sort']!r}.")
        new = replace(self.filters, **changes)
        if new != self.filters:
            self.filters = new
            self.reload()

    def reload(self) -> None:
        """Re-count and forget the cached pages (after any change to the index)."""
        self.beginResetModel()
        self._pages.clear()
        self._rows.clear()
        self._anchors.clear()
        self._count = 0
        if self.project is not None:
            self._count = self.project.count(self.filters.text, **self.filters.query_args())
        self.endResetModel()

    def entry(self, row: int) -> Entry | None:
        if not 0 <= row < self._count or self.project is None:
            return None
        number, offset = divmod(row, self.PAGE)
        page = self._pages.get(number)
        if page is None:
            page = self._load_page(number)
        else:
            self._pages.move_to_end(number)
        return page[offset] if offset < len(page) else None

    def entry_id(self, row: int) -> int | None:
        entry = self.entry(row)
        return entry.id if entry is not None else None

    def row_of(self, entry_id: int, near: int = 0, span: int = 2) -> int | None:
        """Row of ``entry_id`` if it is in memory or within ``span`` pages of row ``near``."""
        row = self._rows.get(entry_id)
        if row is not None:
            return row
        first = max(0, near // self.PAGE - span)
        last = min((max(self._count - 1, 0)) // self.PAGE, near // self.PAGE + span)
        for number in range(first, last + 1):
            if number not in self._pages:
                self._load_page(number)
            row = self._rows.get(entry_id)
            if row is not None:
                return row
        return None

    def refresh_entry(self, entry_id: int) -> None:
        """Re-read one entry (favourite, rating changed) and repaint it, without a reset."""
        row = self._rows.get(entry_id)
        if row is None or self.project is None:
            return
        fresh = self.project.get(entry_id)
        number, offset = divmod(row, self.PAGE)
        page = self._pages.get(number)
        if fresh is None or page is None or offset >= len(page):
            return
        page[offset] = replace(fresh, params={})
        self._anchors.clear()  # its rating may have moved it: seek from the top as before
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def _load_page(self, number: int) -> list[Entry]:
        assert self.project is not None
        f = self.filters
        before = max((k for k in self._anchors if k < number), default=-1)  # -1: from the top
        page = self.project.query(f.text, **f.query_args(), sort=f.sort, after=self._anchors.get(before),
                                  offset=(number - before - 1) * self.PAGE, limit=self.PAGE, params=False)
        if len(page) == self.PAGE:
            last = page[-1]
            self._anchors[number] = {"id": last.id, "created": last.created, "rating": last.rating,
                                     "model": last.model}
        self._pages[number] = page
        for k, e in enumerate(page):
            self._rows[e.id] = number * self.PAGE + k
        while len(self._pages) > self.MAX_PAGES:
            _, old = self._pages.popitem(last=False)
            for e in old:
                self._rows.pop(e.id, None)
        return page

    def _on_thumbnails(self, entry_ids: list[int]) -> None:
        rows = [r for r in (self._rows.get(i) for i in entry_ids) if r is not None]
        if rows:  # one signal for the batch: the view repaints the cells in the range it shows
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)), [Qt.ItemDataRole.DecorationRole])

    # -- Qt model interface ------------------------------------------------------------------------
    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES or not index.isValid():  # the delegate asks for a dozen roles per cell
            return None
        entry = self.entry(index.row())
        if entry is None:
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnails.pixmap(entry.id) or self.placeholder()
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.prompt.splitlines()[0][:60] if entry.prompt else f"#{entry.id}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(entry)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return accessible_text(entry)
        if role == BADGE_ROLE:
            return badge(entry)
        if role == EntryRole:
            return entry
        if role == IdRole:
            return entry.id
        return None

    def flags(self, index: _AnyIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        """The selected images as files, so other apps receive copies of the PNGs."""
        mime = QMimeData()
        entries = [e for e in (self.entry(i.row()) for i in indexes if i.isValid()) if e is not None]
        mime.setUrls([QUrl.fromLocalFile(str(e.path)) for e in entries])
        mime.setText("\n".join(str(e.path) for e in entries))
        return mime

    def placeholder(self) -> QPixmap:
        if self._placeholder is None:
            size = self.thumbnails.image_size
            pixmap = QPixmap(size)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(128, 128, 128, 60))
            painter.drawRoundedRect(pixmap.rect().adjusted(4, 4, -4, -4), 6, 6)
            painter.end()
            self._placeholder = pixmap
        return self._placeholder


def badge(entry: Entry) -> str:
    """What the thumbnail itself shows: a heart for a favourite, the rating in stars."""
    marks = (["♥"] if entry.favorite else []) + (["★" * entry.rating] if entry.rating else [])
    return " ".join(marks)


def tooltip(entry: Entry) -> str:
    prompt = entry.prompt if len(entry.prompt) <= 300 else entry.prompt[:300] + "…"
    stars = "★" * entry.rating + "☆" * (5 - entry.rating)
    lines = [f"<b>{html.escape(prompt) or '(no prompt)'}</b>",
             f"{html.escape(entry.model or 'unknown model')} · seed {entry.seed if entry.seed is not None else '—'}",
             f"{entry.width}×{entry.height} · {entry.kind} · {html.escape(entry.created[:19].replace('T', ' '))}",
             f"{stars}{' · favourite' if entry.favorite else ''}"]
    return "<br>".join(lines)


def accessible_text(entry: Entry) -> str:
    label = {"generate": "Generated image", "stylize": "Stylized image", "upscale": "Upscaled image",
             "grid": "X/Y/Z plot grid", "import": "Imported image"}
    text = f"{label.get(entry.kind, 'Image')} {entry.id}: {entry.prompt[:80] or 'no prompt'}"
    if entry.favorite:
        text += ", favourite"
    if entry.rating:
        text += f", rated {entry.rating} of 5"
    return text
