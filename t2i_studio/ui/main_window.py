"""The studio window: prompt and style panels, viewer, gallery and jobs around one JobRunner.

The window only reads widgets on the GUI thread and hands validated requests to the runner; the
runner's signals (plain data) drive the viewer, the gallery and the status bar. This module owns
the layout, the wiring, the job display and the messages; the menus are in ``window_menus``, the
gallery-entry actions in ``window_entries``, and projects, settings and closing in
``window_session``.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget, QLabel, QMainWindow, QMessageBox, QScrollArea, QVBoxLayout, QWidget,
)

from t2i_studio import APP_NAME, __version__
from t2i_studio.core.catalog import ModelCatalog
from t2i_studio.core.errors import describe
from t2i_studio.core.project import Project
from t2i_studio.core.requests import Request
from t2i_studio.core.settings import Settings
from t2i_studio.ui.gallery import GalleryWidget
from t2i_studio.ui.jobs_view import JobsView
from t2i_studio.ui.message_bar import MessageBar
from t2i_studio.ui.prompt_panel import NO_MODEL_HINT, PromptPanel
from t2i_studio.ui.style_panel import StylePanel
from t2i_studio.ui.viewer import Viewer
from t2i_studio.ui.window_entries import EntryActions
from t2i_studio.ui.window_menus import build_menus, shortcuts_html
from t2i_studio.ui.window_session import ProjectSession
from t2i_studio.worker.runner import JobRunner

log = logging.getLogger(__name__)


def _scrolled(panel: QWidget) -> QWidget:
    """The panel in a scroll area, with its footer (error text, buttons) kept visible below it."""
    area = QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(area, 1)
    footer = getattr(panel, "footer", None)
    if footer is not None:
        layout.addWidget(footer)
    return box


class MainWindow(EntryActions, ProjectSession, QMainWindow):
    def __init__(self, settings: Settings, runner: JobRunner, catalog: ModelCatalog | None = None,
                 project: Project | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.runner = runner
        self.catalog = catalog
        self.project: Project | None = None
        self.confirm: Callable[[str, str], bool] = self._ask  # tests replace it to auto-answer
        self._closed = False
        self._job_labels: dict[int, str] = {}
        self.setObjectName("MainWindow")
        self.resize(1440, 900)
        self._build()
        build_menus(self)
        self._connect()
        self._restore_settings()
        self.set_project(project)
        QTimer.singleShot(0, self.refresh_models)  # after the window shows: the catalog may scan disk

    # --- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        self.message_bar = MessageBar(self)
        self.viewer = Viewer(self)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.message_bar)
        layout.addWidget(self.viewer, 1)
        self.setCentralWidget(central)

        self.prompt_panel = PromptPanel(self)
        self.style_panel = StylePanel(self)
        self.gallery = GalleryWidget(self)
        self.jobs_view = JobsView(self.runner, self)
        self.generate_dock = self._dock("Generate", _scrolled(self.prompt_panel), Qt.DockWidgetArea.LeftDockWidgetArea)
        self.style_dock = self._dock("Style transfer", _scrolled(self.style_panel), Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(self.generate_dock, self.style_dock)
        self.generate_dock.raise_()
        self.gallery_dock = self._dock("Gallery", self.gallery, Qt.DockWidgetArea.RightDockWidgetArea)
        self.jobs_dock = self._dock("Jobs", self.jobs_view, Qt.DockWidgetArea.RightDockWidgetArea)
        self.docks = [self.generate_dock, self.style_dock, self.gallery_dock, self.jobs_dock]
        self.resizeDocks([self.generate_dock, self.gallery_dock], [400, 500], Qt.Orientation.Horizontal)
        self.resizeDocks([self.gallery_dock, self.jobs_dock], [700, 150], Qt.Orientation.Vertical)

        status = self.statusBar()
        self.device_label, self.model_label, self.memory_label = QLabel(), QLabel(), QLabel()
        for label, name in ((self.device_label, "Device"), (self.model_label, "Loaded model"),
                            (self.memory_label, "Memory in use")):
            label.setAccessibleName(name)
            status.addPermanentWidget(label)
        self.show_status({"device": None, "model": None, "memory_mb": None})

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", "_").lower() + "_dock")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _connect(self) -> None:
        r = self.runner
        r.job_started.connect(self._on_job_started)
        r.progress.connect(self._on_progress)
        r.job_message.connect(lambda _job, text: self.viewer.job_message(text))
        r.images_saved.connect(self._on_images_saved)
        r.job_finished.connect(self._on_job_finished)
        r.job_failed.connect(self._on_job_failed)
        r.job_cancelled.connect(self._on_job_cancelled)
        r.queue_changed.connect(self._on_queue_changed)
        r.status_changed.connect(self.show_status)
        p = self.prompt_panel
        p.generate_requested.connect(self.submit)
        p.cancel_requested.connect(self.cancel_current)
        p.manage_models.connect(self.manage_models)
        p.preview_every_changed.connect(r.set_preview_every)
        p.validity_changed.connect(lambda _error: self._update_notice())
        s = self.style_panel
        s.stylize_requested.connect(self.submit)
        s.cancel_requested.connect(self.cancel_current)
        g = self.gallery
        g.entry_activated.connect(self.show_entry)
        g.current_changed.connect(self._on_gallery_current)
        g.reuse_settings.connect(self.reuse_settings)
        g.reuse_seed.connect(self.reuse_seed)
        g.use_as_init.connect(self.use_as_init)
        g.stylize_requested.connect(self.stylize_entry)
        g.export_requested.connect(self.export_entries)
        g.imported.connect(self._on_imported)
        g.message.connect(lambda text: self.notify(text))

    # --- messages --------------------------------------------------------------------------------
    def notify(self, text: str, *, kind: str = "info", details: str = "",
               action: tuple[str, Callable[[], None]] | None = None) -> None:
        """A non-blocking message above the viewer (errors stay until dismissed)."""
        if kind == "error":
            log.info("Shown to the user: %s", text)
        self.message_bar.show_message(text, kind=kind, details=details, action=action)

    def error(self, exc: BaseException, what: str = "") -> None:
        message = describe(exc)
        self.notify(f"{what}{message.text}", kind="error", details=message.details)

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def show_status(self, status: dict[str, Any]) -> None:
        device, model, memory = status.get("device"), status.get("model"), status.get("memory_mb")
        self.device_label.setText(f"Device: {device or 'not loaded yet'}")
        self.model_label.setText(f"Model: {model or '—'}")
        self.memory_label.setText(f"Memory: {memory:.0f} MB" if isinstance(memory, (int, float)) else "Memory: —")

    # --- jobs ------------------------------------------------------------------------------------
    def generate(self) -> None:
        self.prompt_panel.submit()

    def stylize(self) -> None:
        self.style_panel.submit()

    def submit(self, request: Request) -> int | None:
        try:
            job_id = self.runner.submit(request)
        except ValueError as exc:
            self.notify(str(exc), kind="error")
            return None
        self._job_labels[job_id] = request.kind
        if self.runner.current_job() not in (None, job_id):
            self.statusBar().showMessage("Queued: it starts when the running job is done.", 4000)
        return job_id

    def cancel_current(self) -> None:
        if self.runner.cancel_current():
            self.statusBar().showMessage("Cancelling…", 3000)

    def _on_job_started(self, job_id: int) -> None:
        self.viewer.job_started(self._job_labels.get(job_id, ""))

    def _on_progress(self, job_id: int, step: int, total: int, preview: object) -> None:
        if job_id != self.runner.current_job():
            return
        self.viewer.job_progress(step, total)
        if preview is not None:
            self.viewer.show_preview(preview)  # type: ignore[arg-type]

    def _on_images_saved(self, _job_id: int, ids: list) -> None:
        self.gallery.refresh()
        if ids:
            self.show_entry(int(ids[-1]))

    def _on_job_finished(self, job_id: int, ids: list) -> None:
        self._job_labels.pop(job_id, None)
        self.viewer.job_ended()
        count = len(ids)
        self.statusBar().showMessage(f"Saved {count} image{'s' if count != 1 else ''}.", 5000)

    def _on_job_failed(self, job_id: int, message: str, details: str) -> None:
        self._job_labels.pop(job_id, None)
        self.viewer.job_ended()
        self.notify(message, kind="error", details=details)

    def _on_job_cancelled(self, job_id: int) -> None:
        if self._job_labels.pop(job_id, None) is not None:
            self.statusBar().showMessage("Job cancelled: nothing was saved for it.", 5000)
        if self.runner.current_job() is None:
            self.viewer.job_ended()

    def _on_queue_changed(self) -> None:
        running = self.runner.current_job() is not None
        self.prompt_panel.set_running(running)
        self.style_panel.set_running(running)
        waiting = max(0, len(self.runner.jobs()) - (1 if running else 0))
        self.jobs_dock.setWindowTitle(f"Jobs ({waiting} waiting)" if waiting else "Jobs")

    # --- models ----------------------------------------------------------------------------------
    def refresh_models(self) -> None:
        models = []
        if self.catalog is not None:
            try:
                models = self.catalog.list()
            except Exception as exc:  # noqa: BLE001 - a broken cache must not stop the window
                self.error(exc, "Could not list the models: ")
        self.prompt_panel.set_models(models)
        self._update_notice()

    def manage_models(self) -> None:
        if self.catalog is None:
            self.notify("No model catalog is available in this session.")
            return
        from t2i_studio.ui.dialogs.model_manager import ModelManagerDialog

        dialog = ModelManagerDialog(self.catalog, self)
        dialog.models_changed.connect(self.refresh_models)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    # --- help ------------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", shortcuts_html(),
                          QMessageBox.StandardButton.Close, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME}</b> {__version__}<br>Text-to-image generation and neural "
                          "style transfer, with every result saved with its settings.")

    # --- state -----------------------------------------------------------------------------------
    def _update_enabled(self) -> None:
        self.export_action.setEnabled(self.project is not None)
        self._update_notice()

    def _update_notice(self) -> None:
        """What the window says when it cannot work yet: no project open, or no model."""
        if self.project is None:
            self.viewer.set_notice("No project is open: use Project ▸ New project… or Open project…")
        elif not self.prompt_panel.model_id():
            self.viewer.set_notice(NO_MODEL_HINT)
        else:
            self.viewer.set_notice("")
