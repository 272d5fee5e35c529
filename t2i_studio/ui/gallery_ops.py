"""What the gallery's item actions do: favourite, rate, copy, show in folder, export, delete to the
trash with Ctrl+Z, and import dropped files. ``GalleryOps`` is mixed into ``GalleryWidget`` (which
owns the widgets, the model and the signals used here); failures become ``message`` notices.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QMetaMethod, QMimeData, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage, QUndoCommand

from t2i_studio.core.errors import describe

if TYPE_CHECKING:
    from PySide6.QtGui import QUndoStack

    from t2i_studio.core.project import Project
    from t2i_studio.ui.gallery import GalleryWidget
    from t2i_studio.ui.gallery_menu import GalleryActions
    from t2i_studio.ui.gallery_model import GalleryModel
    from t2i_studio.ui.gallery_view import GalleryView

log = logging.getLogger(__name__)

open_url = QDesktopServices.openUrl  # "show in folder"; tests replace it


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


class GalleryOps:
    """The action handlers of ``GalleryWidget`` (a mixin: no state of its own)."""

    project: Project | None
    model: GalleryModel
    view: GalleryView
    undo_stack: QUndoStack
    item_actions: GalleryActions

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
                problems.append(f"{Path(path).name}: {describe(exc).text}")
        if ids:
            self.refresh()
            self.select_ids(ids)
        notes = []
        if ids:
            notes.append(f"Imported {len(ids)} image{'s' if len(ids) != 1 else ''}.")
        if problems:
            notes.append(f"Could not import {len(problems)} file{'s' if len(problems) != 1 else ''}: "
                         + "; ".join(problems))
        if notes:
            self.message.emit(" ".join(notes))
        if ids:  # last: the window answers it with a "Reuse settings" offer that must not be overwritten
            self.imported.emit(ids)
        return ids

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
            self.message.emit(f"Could not {what}: {describe(exc).text}")
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
