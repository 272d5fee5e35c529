"""The gallery's grid: an icon-mode ``QListView`` that drags entries out to other apps as files
(the model's ``mimeData``) and reports outside files dropped on it (``files_dropped``), while drops
of its own items are ignored. Everything else (actions, filters) belongs to ``GalleryWidget``.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from t2i_studio.ui.controls import local_image_paths
from t2i_studio.ui.thumb_delegate import ThumbnailDelegate


class GalleryView(QListView):
    """Icon-mode list view that drags entries out as files and reports outside files dropped in."""

    files_dropped = Signal(list)  # local paths

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)  # turns drag and drop off: turned back on below
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setLayoutMode(QListView.LayoutMode.SinglePass)
        self.setUniformItemSizes(True)
        self.setWordWrap(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setItemDelegate(ThumbnailDelegate(self))
        self.setAccessibleName("Image gallery")
        self.setAccessibleDescription("Saved images. Enter opens, Delete moves to the trash, Ctrl+Z restores, "
                                      "F favourites, 0 to 5 rate, the menu key shows all actions.")

    def set_icon_size(self, edge: int) -> None:
        self.setIconSize(QSize(edge, edge))
        # room below the thumbnail for one caption line, descenders included
        self.setGridSize(QSize(edge + 12, edge + 12 + self.fontMetrics().height()))

    def _outside_files(self, event) -> bool:  # noqa: ANN001 - QDragEnterEvent/QDragMoveEvent/QDropEvent
        return event.source() is not self and bool(local_image_paths(event.mimeData()))

    def dragEnterEvent(self, event) -> None:  # noqa: ANN001, N802
        if self._outside_files(event):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: ANN001, N802
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: ANN001, N802
        if not self._outside_files(event):
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.files_dropped.emit(local_image_paths(event.mimeData()))
