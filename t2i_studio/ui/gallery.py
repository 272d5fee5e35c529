"""The gallery: a virtualised grid over the project index, with search, filters, sort and actions.

``GalleryWidget`` shows a ``GalleryView`` (icon-mode list, drag out, drop in) over ``GalleryModel``
(paged queries) with thumbnails from ``ThumbnailLoader`` (thread pool). Its item actions
(``GalleryActions``) run on the selection: favourites, ratings, copy, show in folder, export,
delete with Ctrl+Z and imports go to ``GalleryOps`` (no widgets; ``ops``, whose signals redraw the
grid); what belongs to the window (open in viewer, reuse settings/seed, init image, stylize, upscale)
goes out as this widget's signals.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QLineEdit, QSlider, QToolButton, QVBoxLayout, QWidget,
)

from t2i_studio.ui.gallery_menu import GalleryActions
from t2i_studio.ui.gallery_model import SORTS, GalleryModel
from t2i_studio.ui.gallery_ops import GalleryOps
from t2i_studio.ui.gallery_view import GalleryView
from t2i_studio.ui.thumbnails import ThumbnailLoader

if TYPE_CHECKING:
    from t2i_studio.core.project import Entry, Project
    from t2i_studio.ui.actions import ActionSpec
    from t2i_studio.worker.tasks import BackgroundTask

_KINDS = (("All kinds", None), ("Generated", "generate"), ("Stylized", "stylize"), ("Upscaled", "upscale"),
          ("X/Y/Z grids", "grid"), ("Imported", "import"))
THUMB_MIN, THUMB_MAX = 64, 320  # the thumbnail size control's range, pixels
_SORT_LABELS = {"newest": "Newest first", "oldest": "Oldest first", "rating": "Best rated", "model": "By model"}


class GalleryWidget(QWidget):
    entry_activated = Signal(int)
    current_changed = Signal(int)  # -1 when none
    reuse_settings = Signal(int)
    reuse_seed = Signal(int)
    use_as_init = Signal(int)
    stylize_requested = Signal(int)
    upscale_requested = Signal(int)
    inpaint_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, icon_size: int = 128) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self._last_current = -1
        self.thumbnails = ThumbnailLoader(self, image_size=QSize(icon_size, icon_size))
        self.model = GalleryModel(self.thumbnails, self)
        self.ops = GalleryOps(self)
        self.ops.marks_changed.connect(self._on_marks_changed)
        self.ops.removed.connect(lambda _ids: self._after_change())
        self.ops.added.connect(self._on_added)
        self._build(icon_size)
        self.item_actions = GalleryActions(self.view, self.ops.undo_stack)
        self.item_actions.triggered.connect(self._run)
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
        self.kind.setToolTip("Show generated, stylized, upscaled or imported images, or X/Y/Z plot grids")
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
        self.thumb_size = QSlider(Qt.Orientation.Horizontal, self)
        self.thumb_size.setRange(THUMB_MIN, THUMB_MAX)
        self.thumb_size.setSingleStep(16)
        self.thumb_size.setPageStep(64)
        self.thumb_size.setValue(icon_size)
        self.thumb_size.setMaximumWidth(140)
        self.thumb_size.setAccessibleName("Thumbnail size")
        self.thumb_size.setToolTip("Thumbnail size")
        self.thumb_size.valueChanged.connect(self.set_thumbnail_size)

        self.view = GalleryView(self)
        self.view.set_icon_size(icon_size)
        self.view.setModel(self.model)
        self.view.activated.connect(lambda index: self._emit_for(self.entry_activated, index.row()))
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.view.customContextMenuRequested.connect(self._show_menu)
        self.view.files_dropped.connect(self.ops.import_files)
        self.model.modelReset.connect(self._update_count)

        # The search gets a row of its own: beside the filters a narrow dock squeezed it to a few characters.
        filters = QHBoxLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addWidget(self.favorites)
        filters.addWidget(self.kind, 1)
        filters.addWidget(self.model_filter, 1)
        filters.addWidget(self.sort, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addLayout(filters)
        layout.addWidget(self.view, 1)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.thumb_size)
        layout.addLayout(bottom)
        self.setFocusProxy(self.view)

    # -- public API -------------------------------------------------------------------------------
    def set_thumbnail_size(self, edge: int) -> None:
        """Thumbnails ``edge`` pixels wide, read at a matching size (the slider calls this)."""
        edge = max(THUMB_MIN, min(THUMB_MAX, int(edge)))
        if self.thumb_size.value() != edge:
            self.thumb_size.setValue(edge)  # calls back here
            return
        self.view.set_icon_size(edge)
        self.thumbnails.image_size = QSize(edge, edge)
        self.thumbnails.clear()
        self.model.layoutChanged.emit()

    def set_project(self, project: Project | None) -> None:
        self.ops.set_project(project)
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

    def import_files(self, paths: list[str]) -> BackgroundTask | None:
        """Import outside image files, as a drop does (files opened with the app come this way)."""
        return self.ops.import_files(paths)

    def shutdown(self) -> None:
        """Stop thumbnail loading and imports and wait for their threads (before closing the project)."""
        self.thumbnails.shutdown()
        self.ops.stop_imports()

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

    def _emit_for(self, signal, row: int) -> None:
        eid = self.model.entry_id(row)
        if eid is not None:
            signal.emit(eid)

    # -- item actions -----------------------------------------------------------------------------
    def _run(self, spec: ActionSpec) -> None:
        """Run an item action on the selection; single-image actions take the current image."""
        ids = self.selected_ids()
        current = self.current_id()
        target = current if current is not None and (current in ids or not ids) else (ids[0] if ids else None)
        if target is None:
            return
        ids = ids or [target]
        match spec.handler:
            case "send":
                getattr(self, spec.data).emit(target)
            case "favorite":
                entry = self.project.get(target) if self.project is not None else None
                self.ops.set_favorite(ids, not entry.favorite if entry is not None else True)
            case "rate":
                self.ops.rate(ids, spec.data)
            case "export":
                self.ops.request_export(ids)
            case "copy_image":
                self.ops.copy_image(target)
            case "copy_prompt":
                self.ops.copy_prompt(target)
            case "show_in_folder":
                self.ops.show_in_folder(target)
            case "delete":
                row = self.view.currentIndex().row()
                if self.ops.delete(ids) and self.model.rowCount():  # the next image takes the place
                    index = self.model.index(min(max(row, 0), self.model.rowCount() - 1))
                    self.view.selectionModel().setCurrentIndex(
                        index, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _on_marks_changed(self, ids: list[int]) -> None:
        filters = self.model.filters
        if filters.favorites_only or filters.sort == "rating":  # the change may hide or move them
            self._after_change()
            return
        for eid in ids:
            self.model.refresh_entry(eid)
        self._update_actions()

    def _on_added(self, ids: list[int]) -> None:
        self._after_change()
        self.select_ids(ids)

    def _after_change(self) -> None:
        self.refresh()
        self._update_actions()

    def _show_menu(self, pos) -> None:
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
