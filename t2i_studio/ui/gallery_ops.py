"""What the gallery does to a project's images, without any widget: favourite, rate, delete to the
trash with undo (``undo_stack``), import outside files in the background, copy, show in folder and
ask for an export. ``GalleryWidget`` runs these on its selection and redraws from the signals;
failures become ``message`` notices, never exceptions.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QMimeData, QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage, QUndoCommand, QUndoStack

from t2i_studio.core.errors import describe
from t2i_studio.worker.tasks import BackgroundTask

if TYPE_CHECKING:
    from t2i_studio.core.engine import CancelToken
    from t2i_studio.core.project import Project

log = logging.getLogger(__name__)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


class _DeleteCommand(QUndoCommand):
    """Entries already moved to the trash; undo restores them, redo trashes them again."""

    def __init__(self, ops: GalleryOps, ids: list[int]) -> None:
        super().__init__(f"Delete {_plural(len(ids), 'image')}")
        self._ops, self._ids, self._first = ops, list(ids), True

    def redo(self) -> None:
        if self._first:  # the first delete ran before the push, so that its failure is reported
            self._first = False
            return
        if self._ops._change(lambda p: p.delete(self._ids), "delete"):
            self._ops.removed.emit(self._ids)

    def undo(self) -> None:
        if self._ops._change(lambda p: p.restore(self._ids), "restore"):
            self._ops.added.emit(self._ids)
            self._ops.message.emit(f"Restored {_plural(len(self._ids), 'image')} from the trash.")


def _import_all(project: Project, paths: list[str], report: Callable[[object], None],
                cancel: CancelToken) -> tuple[list[int], list[str]]:
    """Runs on the task's thread: the project's index gives each thread its own connection."""
    ids, problems = [], []
    for done, path in enumerate(paths, 1):
        cancel.raise_if_cancelled()
        try:
            if Path(path).is_dir():
                raise ValueError("is a folder, not an image file")
            ids.append(project.import_image(path).id)
        except Exception as exc:
            log.info("import of %s failed: %s", path, exc)
            problems.append(f"{Path(path).name}: {describe(exc).text}")
        report((done, len(paths)))
    return ids, problems


class GalleryOps(QObject):
    message = Signal(str)  # what happened, for the message bar
    progress = Signal(str)  # a passing note while a drop imports ("Importing 3 of 40 files…")
    marks_changed = Signal(list)  # ids whose favourite or rating changed
    removed = Signal(list)  # ids moved to the trash
    added = Signal(list)  # ids back from the trash or imported: show and select them
    imported = Signal(list)  # after ``added`` and its message: the window may offer their settings
    export_requested = Signal(list)  # ids the user wants to export (the window opens the dialog)

    def __init__(self, parent: QObject | None = None,
                 open_url: Callable[[QUrl], object] = QDesktopServices.openUrl) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.open_url = open_url  # "show in folder"; tests pass a recorder
        self.undo_stack = QUndoStack(self)
        self._imports: list[BackgroundTask] = []

    def set_project(self, project: Project | None) -> None:
        self.stop_imports()  # an import writes into the project it started with
        self.undo_stack.clear()
        self.project = project

    # -- marks and trash ----------------------------------------------------------------------------
    def set_favorite(self, ids: list[int], value: bool) -> None:
        if ids and self._change(lambda p: [p.set_favorite(i, value) for i in ids], "mark as favourite"):
            self.marks_changed.emit(list(ids))

    def rate(self, ids: list[int], rating: int) -> None:
        if ids and self._change(lambda p: [p.set_rating(i, rating) for i in ids], "rate"):
            self.marks_changed.emit(list(ids))

    def delete(self, ids: list[int]) -> bool:
        """Move entries to the project's trash; ``undo_stack.undo()`` restores them."""
        if not ids or not self._change(lambda p: p.delete(ids), "delete"):
            return False
        self.undo_stack.push(_DeleteCommand(self, ids))
        self.removed.emit(list(ids))
        self.message.emit(f"Moved {_plural(len(ids), 'image')} to the trash (Ctrl+Z restores).")
        return True

    def _change(self, change: Callable[[Project], object], what: str) -> bool:
        """Apply ``change(project)``; a failure (read-only project, full disk) becomes a message."""
        if self.project is None:
            return False
        try:
            change(self.project)
        except Exception as exc:
            log.warning("could not %s: %s", what, exc)
            self.message.emit(f"Could not {what}: {describe(exc).text}")
            return False
        return True

    # -- import -------------------------------------------------------------------------------------
    def import_files(self, paths: list[str]) -> BackgroundTask | None:
        """Import outside image files (as a drop does) on a thread of their own; the outcome comes
        back as ``added``, one ``message`` (bad files named) and ``imported``."""
        if self.project is None:
            self.message.emit("Open a project before importing images.")
            return None
        if getattr(self.project, "read_only", False):
            self.message.emit("This project is open read-only: images cannot be imported.")
            return None
        project, paths = self.project, list(paths)
        task = BackgroundTask(lambda report, cancel: _import_all(project, paths, report, cancel), self)
        task.progress.connect(lambda value, t=task: self._on_import_progress(t, *value))
        task.succeeded.connect(lambda result, t=task: self._on_imported(t, *result))
        task.failed.connect(lambda text, _details, t=task: self._on_import_failed(t, text))
        task.done.connect(lambda t=task: self._forget(t))
        self._imports.append(task)
        task.start()
        return task

    def stop_imports(self) -> None:
        """Cancel running imports and wait for them (each stops after the file it is on)."""
        tasks, self._imports = self._imports, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            task.wait()
            task.deleteLater()

    def _is_current(self, task: BackgroundTask) -> bool:
        return task in self._imports  # a stopped import's late result is for a project gone by

    def _on_import_progress(self, task: BackgroundTask, done: int, total: int) -> None:
        if self._is_current(task) and done < total:
            self.progress.emit(f"Importing {done} of {total} files…")

    def _on_imported(self, task: BackgroundTask, ids: list[int], problems: list[str]) -> None:
        if not self._is_current(task):
            return
        if ids:
            self.added.emit(ids)
        notes = [f"Imported {_plural(len(ids), 'image')}."] if ids else []
        if problems:
            notes.append(f"Could not import {_plural(len(problems), 'file')}: " + "; ".join(problems))
        if notes:
            self.message.emit(" ".join(notes))
        if ids:  # last: the window answers it with a "Reuse settings" offer that must not be overwritten
            self.imported.emit(ids)

    def _on_import_failed(self, task: BackgroundTask, text: str) -> None:
        if self._is_current(task):  # only a fault outside any one file gets here (bad files are listed)
            self.message.emit(f"Could not import: {text}")

    def _forget(self, task: BackgroundTask) -> None:
        if self._is_current(task):
            self._imports.remove(task)
            task.deleteLater()

    # -- clipboard, files, export ------------------------------------------------------------------
    def copy_prompt(self, entry_id: int) -> None:
        entry = self.project.get(entry_id) if self.project is not None else None
        if entry is not None:
            QGuiApplication.clipboard().setText(entry.prompt)
            self.message.emit("Prompt copied.")

    def copy_image(self, entry_id: int) -> None:
        entry = self.project.get(entry_id) if self.project is not None else None
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

    def show_in_folder(self, entry_id: int) -> None:
        entry = self.project.get(entry_id) if self.project is not None else None
        if entry is not None:
            self.open_url(QUrl.fromLocalFile(str(Path(entry.path).parent)))

    def request_export(self, ids: list[int]) -> None:
        if ids and self.project is not None:
            self.export_requested.emit(list(ids))
