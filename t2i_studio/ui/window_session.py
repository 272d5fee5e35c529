"""The main window's session: which project is open (new, open, recent, switching while jobs
run), the settings it restores at start and saves at the end, and closing down in order.

``ProjectSession`` is mixed into ``MainWindow`` before ``QMainWindow`` so that its ``closeEvent``
is the one Qt calls.
"""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QFileDialog

from t2i_studio import APP_NAME
from t2i_studio.core.project import Project, ProjectError

if TYPE_CHECKING:
    from t2i_studio.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class ProjectSession:
    """Project switching, settings persistence and shutdown of the main window."""

    # --- projects ------------------------------------------------------------------------------
    def set_project(self: MainWindow, project: Project | None) -> None:
        old, self.project = self.project, project
        self.gallery.set_project(project)
        self.runner.set_project(project)
        if old is not None and old is not project:
            old.close()
        if project is not None:
            self.settings.remember_project(str(project.folder))
            suffix = " (read-only)" if project.read_only else ""
            self.setWindowTitle(f"{project.name}{suffix} — {APP_NAME}")
        else:
            self.setWindowTitle(APP_NAME)
        self._update_enabled()

    def open_project_folder(self: MainWindow, folder: str, *, create: bool = False) -> bool:
        if not self._stop_jobs_for("switch projects"):
            return False
        try:
            project = Project.create(folder) if create else Project.open(folder)
        except (ProjectError, OSError) as exc:
            self.error(exc, "Could not open the project: ")
            return False
        self.set_project(project)
        self.notify(f"Opened project {project.name} ({project.folder}).")
        return True

    def new_project(self: MainWindow) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose an empty folder for the new project")
        if folder:
            self.open_project_folder(folder, create=True)

    def open_project(self: MainWindow) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a project folder")
        if folder:
            self.open_project_folder(folder)

    def fill_recent_menu(self: MainWindow) -> None:
        self.recent_menu.clear()
        for folder in self.settings.recent_projects:
            action = self.recent_menu.addAction(folder)
            action.triggered.connect(lambda _c=False, f=folder: self.open_project_folder(f))
        if not self.settings.recent_projects:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _stop_jobs_for(self: MainWindow, what: str) -> bool:
        if not self.runner.busy:
            return True
        if not self.confirm(APP_NAME, f"Jobs are running or waiting. Cancel them and {what}?"):
            return False
        self.runner.cancel_all()
        return self.runner.wait_idle(60)

    # --- settings ------------------------------------------------------------------------------
    def _restore_settings(self: MainWindow) -> None:
        s = self.settings
        if s.window_geometry:
            self.restoreGeometry(QByteArray(base64.b64decode(s.window_geometry)))
        if s.window_state:
            self.restoreState(QByteArray(base64.b64decode(s.window_state)))
        if s.last_generation:
            self.prompt_panel.load_state(s.last_generation)
        else:
            p = self.prompt_panel
            p.device.setCurrentText(s.device)
            p.dtype.setCurrentText(s.dtype)
            p.cpu_offload.setChecked(s.cpu_offload)
            p.vae_tiling.setChecked(s.vae_tiling)
            p.attention_slicing.setChecked(s.attention_slicing)
        self.prompt_panel.preview_every.setValue(max(1, s.preview_every))
        self.runner.set_preview_every(s.preview_every)
        self.style_panel.load_state(s.last_style)

    def save_settings(self: MainWindow) -> None:
        s = self.settings
        s.window_geometry = base64.b64encode(bytes(self.saveGeometry())).decode()
        s.window_state = base64.b64encode(bytes(self.saveState())).decode()
        s.last_generation = self.prompt_panel.state()
        s.last_style = self.style_panel.state()
        p = self.prompt_panel
        s.preview_every = p.preview_every.value()
        s.device, s.dtype = p.device.currentText(), p.dtype.currentText()
        s.cpu_offload, s.vae_tiling = p.cpu_offload.isChecked(), p.vae_tiling.isChecked()
        s.attention_slicing = p.attention_slicing.isChecked()
        if self.project is not None:
            s.last_project = str(self.project.folder)
        try:
            s.save()
        except OSError as exc:
            log.warning("Could not save the settings: %s", exc)

    # --- closing -------------------------------------------------------------------------------
    def closeEvent(self: MainWindow, event) -> None:  # noqa: ANN001, N802
        if self._closed:
            event.accept()
            return
        if self.runner.busy and not self.confirm(
                f"Quit {APP_NAME}?", "A job is running. Cancel it and quit? (Nothing of it is saved.)"):
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self: MainWindow) -> None:
        """Save the settings, cancel and wait for the worker, stop the gallery, close the project."""
        if self._closed:
            return
        self._closed = True
        self.save_settings()
        self.runner.shutdown()
        self.gallery.shutdown()
        project, self.project = self.project, None
        self.gallery.set_project(None)
        if project is not None:
            project.close()
