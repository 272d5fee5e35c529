"""Composition root: QApplication, settings, the project, the JobRunner with the engine registry,
the model catalog, the engines' look into upscaler files and prompt tokens, and the main window.

Only this module knows the engines: the registry's factories import them (and torch) on the worker
thread at the first job, so torch is not imported before the window shows.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from importlib import resources
from typing import Any, Callable

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from t2i_studio import APP_ID, APP_NAME, __version__
from t2i_studio.core.catalog import ModelCatalog, ModelInfo
from t2i_studio.core.engine import CancelToken
from t2i_studio.core.project import Project, ProjectError
from t2i_studio.core.servers import configured
from t2i_studio.core.settings import Settings
from t2i_studio.engines.comfyui import server_models
from t2i_studio.engines.comfyui.pool import ServerPool, check as check_server
from t2i_studio.engines.prompt_encoding import count_tokens
from t2i_studio.engines.registry import local_registry
from t2i_studio.engines.upscalers import describe_upscaler
from t2i_studio.ui.theme import apply_theme
from t2i_studio.worker.runner import JobRunner

log = logging.getLogger(__name__)


class LazyCatalog:
    """The model catalog, built on first use (the models module is not needed to show the window),
    with the checkpoints and ControlNets of each online ComfyUI server after the local models."""

    def __init__(self, settings: Settings, servers: ServerPool | None = None) -> None:
        self._settings = settings
        self._servers = servers
        self._catalog: ModelCatalog | None = None
        self._remote: list[ModelInfo] = []
        self._lock = threading.Lock()

    def _get(self) -> ModelCatalog:
        with self._lock:
            if self._catalog is None:
                from t2i_studio.engines.models import HubModelCatalog

                self._catalog = HubModelCatalog(self._settings)
            return self._catalog

    def list(self) -> list[ModelInfo]:
        """The local models, then the servers' as they last answered (``refresh_servers``)."""
        return self._get().list() + self._remote

    def refresh_servers(self) -> list[ModelInfo]:
        """Ask every server for its models again (network: the window calls it off the GUI thread)."""
        self._remote = server_models(self._servers) if self._servers is not None else []
        return self._remote

    def add(self, path: str) -> ModelInfo:
        return self._get().add(path)

    def remove(self, model_id: str) -> str:
        return self._get().remove(model_id)

    def rename(self, model_id: str, name: str) -> None:
        self._get().rename(model_id, name)

    def download(self, repo_id: str, revision: str | None, on_progress: Callable[[int, int], None],
                 cancel: CancelToken) -> ModelInfo:
        return self._get().download(repo_id, revision, on_progress, cancel)

    def download_size(self, repo_id: str, revision: str | None) -> int | None:
        return self._get().download_size(repo_id, revision)

    def free_disk_bytes(self) -> int:
        return self._get().free_disk_bytes()


def app_icon() -> QIcon:
    """The app icon from the packaged resources (an empty icon where they are missing)."""
    icon = QIcon()
    try:
        root = resources.files("t2i_studio") / "resources" / "icons" / "hicolor"
        for size in (16, 24, 32, 48, 64, 128, 256, 512):
            png = root / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
            if png.is_file():
                icon.addFile(str(png))
    except (FileNotFoundError, NotADirectoryError, ModuleNotFoundError):
        pass
    return icon


def open_start_project(settings: Settings, folder: str | None) -> tuple[Project | None, Exception | None]:
    """The project given on the command line, else the last one, else the default project."""
    try:
        if folder:  # held by another window: opened read-only (the title says so)
            return Project.open_or_browse(folder, create=True), None
        if settings.last_project:
            try:
                return Project.open_or_browse(settings.last_project), None
            except ProjectError as exc:
                log.info("Last project unavailable (%s); using the default project", exc)
        return Project.default(), None
    except (ProjectError, OSError) as exc:
        return None, exc


def build(project: str | None = None, argv: list[str] | None = None) -> tuple[QApplication, Any]:
    """Create (or reuse) the QApplication and build the main window, not yet shown."""
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    icon = app_icon()
    if not icon.isNull():
        app.setWindowIcon(icon)

    from t2i_studio.ui.main_window import MainWindow

    settings = Settings.load()
    apply_theme(settings.theme)
    servers = ServerPool(configured(settings))  # one pool: the engine and the picker see the same servers
    runner = JobRunner(local_registry(servers))
    start_project, error = open_start_project(settings, project)
    window = MainWindow(settings, runner, LazyCatalog(settings, servers), start_project,
                        describe_upscaler=describe_upscaler,  # loads torch and spandrel when first called
                        use_servers=servers.configure, check_server=check_server)
    window.prompt_panel.tokens.set_counter(count_tokens)  # the model's tokenizer, read off the GUI thread
    vgg = os.environ.get("T2I_STUDIO_VGG_WEIGHTS")
    if vgg:  # "random" or a file: for offline demos and tests
        window.style_panel.vgg_weights = vgg
    if error is not None:
        window.error(error, "The project could not be opened: ")
    elif start_project is not None and start_project.read_only:
        window.message_bar.show_message(
            f"Opened project {start_project.name} read-only: it is open in another window, or its folder is "
            "not writable. Browse, search and export work.")
    return app, window  # type: ignore[return-value]


def run(project: str | None = None, files: list[str] | None = None) -> int:
    app, window = build(project)
    window.show()
    if files:  # "Open with": import once the window is up; the gallery offers "reuse settings"
        QTimer.singleShot(0, lambda: window.gallery.import_files([os.path.abspath(f) for f in files]))
    try:
        return app.exec()
    finally:
        window.shutdown()  # idempotent: the close event normally did it already
