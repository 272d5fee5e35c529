"""The window's session: which project it works on (``ProjectSession``: new, open, recent,
switching while jobs run, closing it at the end) and what it remembers between runs
(``WindowSettings``: geometry and dock layout, the panels' last inputs, the device options).
"""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from t2i_studio import APP_NAME
from t2i_studio.core.project import Project, ProjectError

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

    from t2i_studio.core.settings import Settings
    from t2i_studio.ui.gallery import GalleryWidget
    from t2i_studio.ui.message_bar import MessageBar
    from t2i_studio.ui.prompt_panel import PromptPanel
    from t2i_studio.ui.style_panel import StylePanel
    from t2i_studio.worker.runner import JobRunner

log = logging.getLogger(__name__)


class ProjectSession:
    """Hands the project to the gallery and the runner, and tells the window (``on_changed``)."""

    def __init__(self, *, settings: Settings, runner: JobRunner, gallery: GalleryWidget, messages: MessageBar,
                 confirm: Callable[[str, str], bool], on_changed: Callable[[Project | None], None],
                 dialog_parent: QWidget) -> None:
        self.settings = settings
        self.runner = runner
        self.gallery = gallery
        self.messages = messages
        self.confirm = confirm
        self.on_changed = on_changed
        self.dialog_parent = dialog_parent
        self.project: Project | None = None

    def set_project(self, project: Project | None) -> None:
        old, self.project = self.project, project
        self.gallery.set_project(project)  # first: it stops imports into the old project
        self.runner.set_project(project)
        if old is not None and old is not project:
            old.close()
        if project is not None:
            self.settings.remember_project(str(project.folder))
        self.on_changed(project)

    def open_project_folder(self, folder: str, *, create: bool = False) -> bool:
        if not self.stop_jobs_for("switch projects"):
            return False
        try:
            project = Project.create(folder) if create else Project.open_or_browse(folder)
        except (ProjectError, OSError) as exc:
            self.messages.show_error(exc, "Could not open the project: ")
            return False
        self.set_project(project)
        if project.read_only:
            self.messages.show_message(f"Opened project {project.name} read-only: it is open in another window, "
                                       "or its folder is not writable. Browse, search and export work.")
        else:
            self.messages.show_message(f"Opened project {project.name} ({project.folder}).")
        return True

    def new_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.dialog_parent, "Choose an empty folder for the new project")
        if folder:
            self.open_project_folder(folder, create=True)

    def open_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.dialog_parent, "Open a project folder")
        if folder:
            self.open_project_folder(folder)

    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        for folder in self.settings.recent_projects:
            action = menu.addAction(folder)
            action.triggered.connect(lambda _c=False, f=folder: self.open_project_folder(f))
        if not self.settings.recent_projects:
            menu.addAction("(none)").setEnabled(False)

    def stop_jobs_for(self, what: str) -> bool:
        """Ask before cancelling running or waiting jobs; True when none are left."""
        if not self.runner.busy:
            return True
        if not self.confirm(APP_NAME, f"Jobs are running or waiting. Cancel them and {what}?"):
            return False
        self.runner.cancel_all()
        return self.runner.wait_idle(60)

    def close(self) -> None:
        """Close the project at shutdown (after the runner and the gallery have stopped)."""
        project, self.project = self.project, None
        self.gallery.set_project(None)
        if project is not None:
            project.close()


class WindowSettings:
    def __init__(self, settings: Settings, window: QMainWindow, prompt_panel: PromptPanel,
                 style_panel: StylePanel, runner: JobRunner) -> None:
        self.settings = settings
        self.window = window
        self.prompt_panel = prompt_panel
        self.style_panel = style_panel
        self.runner = runner

    def restore(self) -> None:
        s, p = self.settings, self.prompt_panel
        if s.window_geometry:
            self.window.restoreGeometry(QByteArray(base64.b64decode(s.window_geometry)))
        if s.window_state:
            self.window.restoreState(QByteArray(base64.b64decode(s.window_state)))
        p.load_state(s.last_generation)
        self.style_panel.load_state(s.last_style)

    def save(self, project: Project | None) -> None:
        """Write the settings file; a failure is logged (quitting must not stop on it)."""
        s, p = self.settings, self.prompt_panel
        s.window_geometry = base64.b64encode(bytes(self.window.saveGeometry())).decode()
        s.window_state = base64.b64encode(bytes(self.window.saveState())).decode()
        s.thumbnail_size = self.window.gallery.thumb_size.value()
        s.last_generation = p.state()
        s.last_style = self.style_panel.state()
        if project is not None:
            s.last_project = str(project.folder)
        try:
            s.save()
        except OSError as exc:
            log.warning("Could not save the settings: %s", exc)
