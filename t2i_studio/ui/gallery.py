"""The gallery: a virtualised grid over the project index, with search, filters, sort and actions.

``GalleryWidget`` shows a ``QListView`` in icon mode over ``GalleryModel`` (paged queries) with
thumbnails from ``ThumbnailLoader`` (thread pool). It handles favourites, ratings, copy, show in
folder, delete to trash with Ctrl+Z, drag out and drop in by itself; what belongs to the window
(open in viewer, reuse settings/seed, init image, stylize, export) goes out as signals.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QItemSelection, QItemSelectionModel, QMetaMethod, QMimeData, QModelIndex, QSize, Qt, QTimer, QUrl, Signal,
)
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QLabel, QLineEdit, QListView, QToolButton, QVBoxLayout, QWidget,
)

from t2i_studio.ui.gallery_menu import GalleryActions
from t2i_studio.ui.gallery_model import SORTS, GalleryModel
from t2i_studio.ui.thumbnails import ThumbnailLoader

if TYPE_CHECKING:
    from t2i_studio.core.project import Entry, Project

log = logging.getLogger(__name__)

open_url = QDesktopServices.openUrl  # "show in folder"; tests replace it
_KINDS = (("All kinds", None), ("Generated", "generate"), ("Stylized", "stylize"), ("Imported", "import"))
_SORT_LABELS = {"newest": "Newest first", "oldest": "Oldest first", "rating": "Best rated", "model": "By model"}


def _reason(exc: BaseException) -> str:
    user_message = getattr(exc, "user_message", None)
    return user_message() if callable(user_message) else (str(exc) or type(exc).__name__)


class _DeleteCommand(QUndoCommand):
    """Entries already moved to the trash; undo restores them, redo trashes them again."""

    def __init__(self, gallery: GalleryWidget, ids: list[int]) -> None:
        super().__init__(f"Delete {len(ids)} image{'s' if len(ids) != 1 else ''}")
        self._gallery, self._ids, self._first = gallery, list(ids), True

    def redo(self) -> None:
        if self._first:  # the gallery did the first delete before pushing, to report errors
            self._first = False
            return
        self._gallery._mutate(lambda p: p.delete(self._ids), "delete", refresh=True)

    def undo(self) -> None:
        if self._gallery._mutate(lambda p: p.restore(self._ids), "restore", refresh=True):
            self._gallery.message.emit(f"Restored {len(self._ids)} image(s) from the trash.")
            self._gallery.select_ids(self._ids)


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
        self.setAccessibleName("Image gallery")
        self.setAccessibleDescription("Saved images. Enter opens, Delete moves to the trash, Ctrl+Z restores, "
                                      "F favourites, 0 to 5 rate, the menu key shows all actions.")

    def set_icon_size(self, edge: int) -> None:
        self.setIconSize(QSize(edge, edge))
        self.setGridSize(QSize(edge + 12, edge + 12))

    @staticmethod
    def _local_files(mime: QMimeData) -> list[str]:
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []

    def _outside_files(self, event) -> bool:  # noqa: ANN001 - QDragEnterEvent/QDragMoveEvent/QDropEvent
        return event.source() is not self and bool(self._local_files(event.mimeData()))

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
        self.files_dropped.emit(self._local_files(event.mimeData()))


class GalleryWidget(QWidget):
    entry_activated = Signal(int)
    current_changed = Signal(int)  # -1 when none
    reuse_settings = Signal(int)
    reuse_seed = Signal(int)
    use_as_init = Signal(int)
    stylize_requested = Signal(int)
    export_requested = Signal(list)
    imported = Signal(list)
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, icon_size: int = 128) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self._last_current = -1
        self.thumbnails = ThumbnailLoader(self, image_size=QSize(icon_size, icon_size))
        self.model = GalleryModel(self.thumbnails, self)
        self.undo_stack = QUndoStack(self)
        self._build(icon_size)
        self.item_actions = GalleryActions(self.view)
        self.item_actions.triggered.connect(self._on_action)
        self.item_actions.rating_chosen.connect(self.set_rating)
        self.undo_action = self.undo_stack.createUndoAction(self)
        self.redo_action = self.undo_stack.createRedoAction(self)
        for action, keys in ((self.undo_action, QKeySequence.StandardKey.Undo),
                             (self.redo_action, QKeySequence.StandardKey.Redo)):
            action.setShortcut(keys)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.view.addAction(action)
        self._update_actions()
        self.set_project(None)

    def _build(self, icon_size: int) -> None:
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search prompts…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search prompts")
        self.search.setToolTip("Full-text search over prompts and negative prompts")
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(self._apply_filters)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._apply_filters)
        self.favorites = QToolButton(self)
        self.favorites.setText("★")
        self.favorites.setCheckable(True)
        self.favorites.setAccessibleName("Favourites only")
        self.favorites.setToolTip("Show favourites only")
        self.favorites.toggled.connect(self._apply_filters)
        self.kind = QComboBox(self)
        for label, value in _KINDS:
            self.kind.addItem(label, value)
        self.kind.setAccessibleName("Kind filter")
        self.kind.setToolTip("Show generated, stylized or imported images")
        self.model_filter = QComboBox(self)
        self.model_filter.setAccessibleName("Model filter")
        self.model_filter.setToolTip("Show images made with one model")
        self.model_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_filter.setMinimumContentsLength(12)
        self.sort = QComboBox(self)
        for value in SORTS:
            self.sort.addItem(_SORT_LABELS[value], value)
        self.sort.setAccessibleName("Sort order")
        self.sort.setToolTip("Order of the images")
        for combo in (self.kind, self.model_filter, self.sort):
            combo.currentIndexChanged.connect(self._apply_filters)
        self.count_label = QLabel(self)
        self.count_label.setAccessibleName("Number of images shown")

        self.view = GalleryView(self)
        self.view.set_icon_size(icon_size)
        self.view.setModel(self.model)
        self.view.activated.connect(lambda index: self._emit_for(self.entry_activated, index.row()))
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.view.customContextMenuRequested.connect(self._show_menu)
        self.view.files_dropped.connect(self.import_files)
        self.model.modelReset.connect(self._update_count)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.search, 3)
        bar.addWidget(self.favorites)
        bar.addWidget(self.kind, 1)
        bar.addWidget(self.model_filter, 1)
        bar.addWidget(self.sort, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count_label)
        self.setFocusProxy(self.view)

    # -- public API -------------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        self.undo_stack.clear()
        self.project = project
        self._fill_models()
        self.model.set_project(project)
        self.view.setEnabled(project is not None)
        self._update_actions()
        self._check_current()

    def refresh(self) -> None:
        """Re-query the index, keeping the scroll position, selection and current item."""
        bar = self.view.verticalScrollBar()
        scroll, old_count = bar.value(), self.model.rowCount()
        current = self.view.currentIndex()
        current_row = current.row() if current.isValid() else 0
        current_id = self.current_id()
        selected = self.selected_ids()
        self._fill_models()
        self.model.reload()
        shift = max(0, self.model.rowCount() - old_count) if self.model.filters.sort == "newest" else 0
        self.select_ids(selected, current_id=current_id, near=current_row + shift, scroll=False)
        bar.setValue(scroll)
        self._check_current()

    def selected_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.view.selectionModel().selectedIndexes())
        return [eid for eid in (self.model.entry_id(r) for r in rows) if eid is not None]

    def current_id(self) -> int | None:
        index = self.view.currentIndex()
        return self.model.entry_id(index.row()) if index.isValid() else None

    def shutdown(self) -> None:
        """Stop thumbnail loading and wait for the pool threads (before closing the project)."""
        self.thumbnails.shutdown()

    def select_ids(self, ids: list[int], *, current_id: int | None = None, near: int = 0,
                   scroll: bool = True) -> None:
        """Select the entries of ``ids`` found near row ``near`` (paged model: not a global search)."""
        selection = QItemSelection()
        current_row = None
        for eid in ids:
            row = self.model.row_of(eid, near)
            if row is not None:
                index = self.model.index(row)
                selection.select(index, index)
                if current_row is None:
                    current_row = row
        if current_id is not None:
            row = self.model.row_of(current_id, near)
            current_row = row if row is not None else current_row
        sm = self.view.selectionModel()
        if current_row is not None:
            sm.setCurrentIndex(self.model.index(current_row), QItemSelectionModel.SelectionFlag.NoUpdate)
            if scroll:
                self.view.scrollTo(self.model.index(current_row))
        sm.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def import_files(self, paths: list[str]) -> list[int]:
        """Import outside image files (as a drop does); bad files are reported through ``message``."""
        if self.project is None:
            self.message.emit("Open a project before importing images.")
            return []
        if getattr(self.project, "read_only", False):
            self.message.emit("This project is open read-only: images cannot be imported.")
            return []
        ids, problems = [], []
        for path in paths:
            try:
                if Path(path).is_dir():
                    raise ValueError("is a folder, not an image file")
                ids.append(self.project.import_image(path).id)
            except Exception as exc:  # noqa: BLE001 - any bad file is reported, the app keeps going
                log.info("import of %s failed: %s", path, exc)
                problems.append(f"{Path(path).name}: {_reason(exc)}")
        if ids:
            self.refresh()
            self.select_ids(ids)
            self.imported.emit(ids)
        notes = []
        if ids:
            notes.append(f"Imported {len(ids)} image{'s' if len(ids) != 1 else ''}.")
        if problems:
            notes.append(f"Could not import {len(problems)} file{'s' if len(problems) != 1 else ''}: "
                         + "; ".join(problems))
        if notes:
            self.message.emit(" ".join(notes))
        return ids

    # -- actions ----------------------------------------------------------------------------------
    def _on_action(self, name: str) -> None:
        ids = self.selected_ids()
        current = self.current_id()
        target = current if current is not None and (current in ids or not ids) else (ids[0] if ids else None)
        if target is None:
            return
        ids = ids or [target]
        single = {"open": self.entry_activated, "reuse_settings": self.reuse_settings,
                  "reuse_seed": self.reuse_seed, "use_as_init": self.use_as_init,
                  "stylize": self.stylize_requested}
        if name in single:
            single[name].emit(target)
        elif name == "favorite":
            entry = self.project.get(target) if self.project else None
            value = not entry.favorite if entry is not None else True
            self._mutate(lambda p: [p.set_favorite(i, value) for i in ids], "mark as favourite", changed=ids)
        elif name == "export":
            self._request_export(ids)
        elif name == "copy_image":
            self._copy_image(target)
        elif name == "copy_prompt":
            entry = self.project.get(target) if self.project else None
            if entry is not None:
                QGuiApplication.clipboard().setText(entry.prompt)
                self.message.emit("Prompt copied.")
        elif name == "show_in_folder":
            entry = self.project.get(target) if self.project else None
            if entry is not None:
                open_url(QUrl.fromLocalFile(str(Path(entry.path).parent)))
        elif name == "delete":
            self.delete_ids(ids)

    def set_rating(self, rating: int) -> None:
        ids = self.selected_ids() or ([self.current_id()] if self.current_id() is not None else [])
        if ids:
            self._mutate(lambda p: [p.set_rating(i, rating) for i in ids], "rate", changed=ids)

    def delete_ids(self, ids: list[int]) -> None:
        """Move entries to the project's trash; Ctrl+Z (``undo_stack``) restores them."""
        if not ids:
            return
        row = self.view.currentIndex().row()
        if self._mutate(lambda p: p.delete(ids), "delete", refresh=True):
            self.undo_stack.push(_DeleteCommand(self, ids))
            self.message.emit(f"Moved {len(ids)} image{'s' if len(ids) != 1 else ''} to the trash "
                              "(Ctrl+Z restores).")
            if self.model.rowCount():
                index = self.model.index(min(max(row, 0), self.model.rowCount() - 1))
                self.view.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _mutate(self, change, what: str, *, changed: list[int] = (), refresh: bool = False) -> bool:  # noqa: ANN001
        """Apply ``change(project)``; report failures (read-only project, disk) as a message."""
        if self.project is None:
            return False
        try:
            change(self.project)
        except Exception as exc:  # noqa: BLE001 - shown to the user, the gallery keeps working
            log.warning("could not %s: %s", what, exc)
            self.message.emit(f"Could not {what}: {_reason(exc)}")
            return False
        filters = self.model.filters
        if refresh or filters.favorites_only or filters.sort == "rating":
            self.refresh()
        else:
            for eid in changed:
                self.model.refresh_entry(eid)
        self._update_actions()
        return True

    def _request_export(self, ids: list[int]) -> None:
        if self.isSignalConnected(QMetaMethod.fromSignal(self.export_requested)):
            self.export_requested.emit(ids)
            return
        from t2i_studio.ui.dialogs.export_dialog import ExportDialog  # nobody listening: open it here

        if self.project is not None:
            ExportDialog(self.project, ids, self).open()

    def _copy_image(self, entry_id: int) -> None:
        entry = self.project.get(entry_id) if self.project else None
        if entry is None:
            return
        image = QImage(str(entry.path))
        if image.isNull():
            self.message.emit(f"Could not copy: {Path(entry.path).name} cannot be read.")
            return
        mime = QMimeData()
        mime.setImageData(image)
        mime.setUrls([QUrl.fromLocalFile(str(entry.path))])
        QGuiApplication.clipboard().setMimeData(mime)
        self.message.emit("Image copied.")

    def _show_menu(self, pos) -> None:  # noqa: ANN001
        index = self.view.indexAt(pos)
        if not index.isValid():
            index = self.view.currentIndex()
            if not index.isValid():
                return
            pos = self.view.visualRect(index).center()
        if not self.view.selectionModel().isSelected(index):
            self.view.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self._update_actions()
        menu = self.item_actions.build_menu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    # -- state ------------------------------------------------------------------------------------
    def _apply_filters(self) -> None:
        self._search_timer.stop()
        self.model.set_filters(text=self.search.text().strip(), favorites_only=self.favorites.isChecked(),
                               kind=self.kind.currentData(), model=self.model_filter.currentData(),
                               sort=self.sort.currentData() or "newest")
        self._check_current()

    def _fill_models(self) -> None:
        chosen = self.model_filter.currentData()
        names = self.project.models() if self.project is not None else []
        self.model_filter.blockSignals(True)
        self.model_filter.clear()
        self.model_filter.addItem("All models", None)
        for name in names:
            self.model_filter.addItem(Path(name).name if ("/" in name and Path(name).is_absolute()) else name, name)
            self.model_filter.setItemData(self.model_filter.count() - 1, name, Qt.ItemDataRole.ToolTipRole)
        found = self.model_filter.findData(chosen) if chosen is not None else 0
        self.model_filter.setCurrentIndex(max(found, 0))
        self.model_filter.blockSignals(False)
        if chosen is not None and found < 0:
            self._apply_filters()  # the chosen model has no images left: show all

    def _update_count(self) -> None:
        if self.project is None:
            self.count_label.setText("No project open")
            return
        n = self.model.rowCount()
        filtered = self.model.filters != type(self.model.filters)(sort=self.model.filters.sort)
        text = f"{n:,} image{'s' if n != 1 else ''}{' match' if filtered else ''}"
        if n == 0 and not filtered:
            text = "No images yet: generate one, or drop image files here to import them."
        self.count_label.setText(text)

    def _update_actions(self) -> None:
        ids = self.selected_ids()
        current = self.current_id()
        count = len(ids) or (1 if current is not None else 0)
        entry: Entry | None = None
        if current is not None:
            entry = self.model.entry(self.view.currentIndex().row())
        writable = self.project is not None and not getattr(self.project, "read_only", False)
        self.item_actions.update_for(count, bool(entry and entry.favorite), entry.rating if entry else 0, writable)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_actions()
        self._check_current()

    def _check_current(self) -> None:
        current = self.current_id()
        value = -1 if current is None else current
        if value != self._last_current:
            self._last_current = value
            self.current_changed.emit(value)

    def _emit_for(self, signal, row: int) -> None:  # noqa: ANN001
        eid = self.model.entry_id(row)
        if eid is not None:
            signal.emit(eid)
