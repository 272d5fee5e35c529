"""The studio window: prompt and style panels, viewer, gallery and jobs around one JobRunner.

The window lays out the widgets and wires them to small controllers, each given only what it
needs: ``ProjectSession`` (which project is open), ``WindowSettings`` (what is remembered),
``EntryActions`` (what is done with gallery entries), ``JobDisplay`` (submitting and following
jobs); its menus and shortcuts come from the table in ``window_actions``. Widgets are read on the
GUI thread only, and the runner's signals carry plain data.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication, QDockWidget, QLabel, QMainWindow, QMenu, QMessageBox, QScrollArea, QTabWidget, QVBoxLayout,
    QWidget,
)

from t2i_studio import APP_NAME, __version__
from t2i_studio.core.catalog import ModelCatalog
from t2i_studio.core.project import Project
from t2i_studio.core.servers import ServerConfig, configured
from t2i_studio.core.settings import Settings
from t2i_studio.core.upscaler_library import list_upscalers
from t2i_studio.ui.details_panel import DetailsPanel
from t2i_studio.ui.gallery import GalleryWidget
from t2i_studio.ui.jobs_view import JobsView
from t2i_studio.ui.message_bar import MessageBar
from t2i_studio.ui.prompt_panel import NO_MODEL_HINT, PromptPanel
from t2i_studio.ui.sketch_pad import SketchPad
from t2i_studio.ui.style_panel import StylePanel
from t2i_studio.ui.viewer import Viewer
from t2i_studio.ui.window_actions import install_actions, shortcuts_html
from t2i_studio.ui.window_entries import EntryActions
from t2i_studio.ui.window_jobs import JobDisplay
from t2i_studio.ui.window_session import ProjectSession, WindowSettings
from t2i_studio.worker.runner import JobRunner
from t2i_studio.worker.tasks import BackgroundTask

if TYPE_CHECKING:
    from t2i_studio.ui.dialogs.servers_dialog import Check
    from t2i_studio.ui.dialogs.upscalers_dialog import Describe

log = logging.getLogger(__name__)


class _PanelScroll(QScrollArea):
    """Scrolls a panel up and down, never sideways: the panel follows the dock's width, and the dock
    cannot get narrower than the panel needs (its texts elide or wrap instead of pushing it wider)."""

    def __init__(self) -> None:
        super().__init__()
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().minimumSizeHint()
        panel = self.widget()
        if panel is None:
            return hint
        width = panel.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width()
        return QSize(max(hint.width(), width), hint.height())


def _scrolled(panel: QWidget) -> QWidget:
    """The panel in a scroll area, with its footer (error text, buttons) kept visible below it."""
    area = _PanelScroll()
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


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, runner: JobRunner, catalog: ModelCatalog | None = None,
                 project: Project | None = None, describe_upscaler: Describe | None = None,
                 use_servers: Callable[[list[ServerConfig]], None] | None = None,
                 check_server: Check | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.runner = runner
        self.catalog = catalog
        self.describe_upscaler = describe_upscaler  # the engines' look into an upscaler file (app.py)
        self.use_servers = use_servers  # hands the settings' ComfyUI servers to the engines' pool (app.py)
        self.check_server = check_server  # asks one server what it has (app.py)
        self.server_states: dict[str, str] = {}  # url -> what the last check said, for this session
        self.confirm: Callable[[str, str], bool] = self._ask  # tests replace it to auto-answer
        self._closed = False
        self._server_query: BackgroundTask | None = None  # asking the ComfyUI servers for their models
        self._ask_again = False
        self.setObjectName("MainWindow")
        self.resize(1440, 900)
        self._build()
        self._make_controllers()
        self.actions_by_id = install_actions(self, self.gallery.item_actions)
        self._connect()
        self.window_settings.restore()
        self.session.set_project(project)
        QTimer.singleShot(0, self.refresh_models)  # after the window shows: the catalog may scan disk

    @property
    def project(self) -> Project | None:
        return self.session.project

    # --- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        self.message_bar = MessageBar(self)
        self.viewer = Viewer(self)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.message_bar)
        # the sketch pad shares the centre with the picture: sketch, generate, look, sketch on
        self.sketch_pad = SketchPad(self)
        self.centre_tabs = QTabWidget(central)
        self.centre_tabs.setDocumentMode(True)
        self.centre_tabs.addTab(self.viewer, "Picture")
        self.centre_tabs.addTab(self.sketch_pad, "Sketch")
        self.centre_tabs.setTabToolTip(1, "Draw a layout for a scribble ControlNet (ControlNet section ▸ "
                                          "picture: Sketch pad)")
        layout.addWidget(self.centre_tabs, 1)
        self.setCentralWidget(central)

        self.prompt_panel = PromptPanel(self)
        self.style_panel = StylePanel(self)
        self.gallery = GalleryWidget(self, icon_size=self.settings.thumbnail_size)
        self.jobs_view = JobsView(self.runner, self)
        self.details = DetailsPanel(self)
        self.generate_dock = self._dock("Generate", _scrolled(self.prompt_panel), Qt.DockWidgetArea.LeftDockWidgetArea)
        self.style_dock = self._dock("Style transfer", _scrolled(self.style_panel), Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(self.generate_dock, self.style_dock)
        self.generate_dock.raise_()
        self.gallery_dock = self._dock("Gallery", self.gallery, Qt.DockWidgetArea.RightDockWidgetArea)
        # Jobs and Details share one dock as tabs: a second group of tabified docks leaves a stale tab bar
        # drawn over the status bar (Qt 6.11, whenever two groups are tabified or restored before showing)
        self.activity = QTabWidget(self)
        self.activity.setDocumentMode(True)
        self.activity.addTab(self.jobs_view, "Jobs")
        self.activity.addTab(self.details, "Details")
        self.jobs_dock = self._dock("Jobs and details", self.activity, Qt.DockWidgetArea.RightDockWidgetArea)
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

    def _sketch_file(self) -> str | None:
        """The sketch as a control picture: a file of the project named by its content, so a queued job
        keeps the drawing it was given (None: nothing drawn, or no project to keep it in)."""
        project = self.session.project
        if self.sketch_pad.is_empty() or project is None:
            return None
        return str(project.keep_input(self.sketch_pad.canvas.scribble()))

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", "_").lower() + "_dock")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def add_dock_toggles(self, menu: QMenu) -> None:
        """The View menu's show/hide entry for each dock."""
        menu.addActions([dock.toggleViewAction() for dock in self.docks])

    def _make_controllers(self) -> None:
        self.session = ProjectSession(settings=self.settings, runner=self.runner, gallery=self.gallery,
                                      messages=self.message_bar,
                                      confirm=lambda title, text: self.confirm(title, text),  # tests swap confirm
                                      on_changed=self._on_project_changed, dialog_parent=self)
        self.window_settings = WindowSettings(self.settings, self, self.prompt_panel, self.style_panel,
                                              self.runner)
        self.entries = EntryActions(project=lambda: self.session.project, selected_ids=self.gallery.selected_ids,
                                    settings=self.settings, open_url=lambda url: self.gallery.ops.open_url(url),
                                    prompt_panel=self.prompt_panel, generate_dock=self.generate_dock,
                                    style_panel=self.style_panel, style_dock=self.style_dock,
                                    viewer=self.viewer, details=self.details, runner=self.runner,
                                    submit=lambda request: self.jobs.submit(request),  # jobs come next
                                    messages=self.message_bar, dialog_parent=self)
        self.jobs = JobDisplay(runner=self.runner, viewer=self.viewer, gallery=self.gallery,
                               show_entry=self.entries.show_entry, panels=(self.prompt_panel, self.style_panel),
                               jobs_title=lambda text: self.activity.setTabText(0, text), status_bar=self.statusBar(),
                               messages=self.message_bar)

    def _connect(self) -> None:
        self.runner.status_changed.connect(self.show_status)
        self.prompt_panel.set_engines(self.runner.registry.entries("generate"))
        for panel in (self.prompt_panel, self.style_panel):  # every check that submission runs, as you type
            panel.footer.checker = self.runner.registry.check
            panel.revalidate()
        p = self.prompt_panel
        p.generate_requested.connect(self.jobs.submit)
        p.cancel_requested.connect(self.jobs.cancel_current)
        p.manage_models.connect(self.manage_models)
        p.validity_changed.connect(lambda _error: self._update_notice())
        masks = self.viewer.mask_tools  # inpainting edits the viewer's picture; painted masks go in the project
        masks.project = lambda: self.session.project
        masks.failed.connect(lambda text: self.message_bar.show_message(text, kind="error"))
        masks.active_changed.connect(lambda on: self.generate_dock.raise_() if on else None)
        p.attach_mask_tools(masks)
        pad = self.sketch_pad
        p.control.sketch_source = self._sketch_file
        pad.changed.connect(p.control.refresh_sketch)
        p.size.changed.connect(lambda: pad.set_canvas_size(*p.size.size()))
        pad.set_canvas_size(*p.size.size())
        show_picture = lambda *_: self.centre_tabs.setCurrentWidget(self.viewer)  # noqa: E731
        masks.active_changed.connect(lambda on: show_picture() if on else None)
        self.runner.job_started.connect(show_picture)  # its progress and result show there
        s = self.style_panel
        s.stylize_requested.connect(self.jobs.submit)
        s.generation_base = p.request  # style transfer by diffusion runs the Generate panel's model and settings
        s.cancel_requested.connect(self.jobs.cancel_current)
        g, e = self.gallery, self.entries
        g.entry_activated.connect(e.show_entry)
        g.entry_activated.connect(show_picture)
        g.current_changed.connect(e.follow_gallery)
        g.reuse_settings.connect(e.reuse_settings)
        g.reuse_seed.connect(e.reuse_seed)
        g.use_as_init.connect(e.use_as_init)
        g.stylize_requested.connect(e.stylize_entry)
        g.upscale_requested.connect(e.upscale_entry)
        g.inpaint_requested.connect(e.inpaint_entry)
        g.ops.export_requested.connect(e.export_entries)
        g.ops.imported.connect(e.offer_reuse)
        g.ops.message.connect(lambda text: self.message_bar.show_message(text))
        g.ops.progress.connect(lambda text: self.statusBar().showMessage(text, 3000))

    # --- what scripts and the app call -----------------------------------------------------------
    def generate(self) -> None:
        self.prompt_panel.submit()

    def stylize(self) -> None:
        self.style_panel.submit()

    def show_entry(self, entry_id: int) -> None:
        self.entries.show_entry(entry_id)

    def stylize_entry(self, entry_id: int) -> None:
        self.entries.stylize_entry(entry_id)

    def error(self, exc: BaseException, what: str = "") -> None:
        self.message_bar.show_error(exc, what)

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

    # --- models ----------------------------------------------------------------------------------
    def refresh_models(self) -> None:
        """The local models now, each ComfyUI server's when it has answered: asked off the GUI thread,
        since a server far away (or gone) may take seconds."""
        self._show_models()
        ask = getattr(self.catalog, "refresh_servers", None)
        if ask is None or self._closed:
            return
        if self._server_query is not None and self._server_query.running:
            self._ask_again = True  # the servers may have changed since that question went out
            return
        self._ask_again = False
        task = BackgroundTask(lambda _report, _cancel: ask(), self)
        task.succeeded.connect(lambda _models: self._show_models())
        task.failed.connect(lambda text, _details: self.message_bar.show_message(
            f"Could not ask the ComfyUI servers for their models: {text}", kind="error"))
        task.done.connect(lambda: self.refresh_models() if self._ask_again else None)
        self._server_query = task
        task.start()

    def _show_models(self) -> None:
        models = []
        if self.catalog is not None:
            try:
                models = self.catalog.list()
            except Exception as exc:
                self.error(exc, "Could not list the models: ")
        self.prompt_panel.set_models(models)
        try:
            self.prompt_panel.set_upscalers([f.name for f in list_upscalers()])  # for the hires fix
        except OSError as exc:
            self.error(exc, "Could not list the upscalers: ")
        self._update_notice()

    def show_preferences(self) -> None:
        from t2i_studio.ui.dialogs.preferences import PreferencesDialog

        dialog = PreferencesDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def manage_models(self) -> None:
        if self.catalog is None:
            self.message_bar.show_message("No model catalog is available in this session.")
            return
        from t2i_studio.ui.dialogs.model_manager import ModelManagerDialog

        dialog = ModelManagerDialog(self.catalog, self)
        dialog.models_changed.connect(self.refresh_models)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def manage_upscalers(self) -> None:
        from t2i_studio.ui.dialogs.upscalers_dialog import UpscalersDialog

        dialog = UpscalersDialog(self.describe_upscaler, parent=self)
        dialog.upscalers_changed.connect(self.refresh_models)  # the hires fix offers the library too
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def manage_servers(self) -> None:
        from t2i_studio.ui.dialogs.servers_dialog import ServersDialog

        dialog = ServersDialog(self.settings, self.check_server, self.server_states, parent=self)
        dialog.servers_changed.connect(self._servers_changed)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def _servers_changed(self) -> None:
        if self.use_servers is not None:  # the pool first: the model list asks it
            self.use_servers(configured(self.settings))
        self.refresh_models()

    def xyz_plot(self) -> None:
        from t2i_studio.ui.dialogs.xyz_dialog import open_xyz_dialog

        if self.project is None:
            self.message_bar.show_message("Open a project first: the plot's images are saved into it.")
            return
        open_xyz_dialog(self.prompt_panel, self.settings, submit=self.jobs.submit,
                        check=self.runner.registry.check, parent=self)

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
    def _on_project_changed(self, project: Project | None) -> None:
        if project is not None:
            suffix = " (read-only)" if project.read_only else ""
            self.setWindowTitle(f"{project.name}{suffix} — {APP_NAME}")
        else:
            self.setWindowTitle(APP_NAME)
        for action_id in ("export", "upscale", "upscale_file"):  # their results go into the project
            self.actions_by_id[action_id].setEnabled(project is not None)
        self._update_notice()

    def _update_notice(self) -> None:
        """What the window says when it cannot work yet: no project open, or no model."""
        if self.project is None:
            self.viewer.set_notice("No project is open: use Project ▸ New project… or Open project…")
        elif not self.prompt_panel.model_id():
            self.viewer.set_notice(NO_MODEL_HINT)
        else:
            self.viewer.set_notice("")

    # --- closing ---------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if not self._closed and self.runner.busy and not self.confirm(
                f"Quit {APP_NAME}?", "A job is running. Cancel it and quit? (The image being made is not "
                                     "saved; finished ones are.)"):
            event.ignore()
            return
        # gone at once: a model that is still loading, or the step in progress, cannot be cut short,
        # and the user should not watch the window wait for it
        self.hide()
        QApplication.processEvents()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Save the settings, cancel and wait for the worker, stop the gallery, close the project."""
        if self._closed:
            return
        self._closed = True
        self.window_settings.save(self.project)
        if self._server_query is not None:  # its answers have nowhere to go now
            self._server_query.cancel()
            self._server_query.wait()
        self.runner.shutdown()
        self.gallery.shutdown()
        self.session.close()
