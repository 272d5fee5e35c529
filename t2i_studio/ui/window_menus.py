"""The main window's menus, shortcuts and the keyboard-shortcut help text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut

if TYPE_CHECKING:
    from t2i_studio.ui.main_window import MainWindow

SHORTCUTS = (
    ("Ctrl+Enter", "Generate from the prompt panel (from anywhere in the window)"),
    ("Ctrl+Shift+Enter", "Stylize with the style panel"),
    ("Esc", "Cancel the running job"),
    ("Ctrl+N / Ctrl+O", "New / open project"),
    ("Ctrl+E", "Export the selected images"),
    ("Ctrl+M", "Manage models"),
    ("Ctrl+0 / Ctrl+1", "Viewer: fit to window / actual size (wheel zooms, drag pans)"),
    ("Ctrl+Z / Ctrl+Shift+Z", "Gallery: undo / redo delete"),
    ("Delete", "Gallery: move the selected images to the trash"),
    ("Enter", "Gallery: open the current image in the viewer"),
    ("Ctrl+Q", "Quit"),
)


def _action(window: MainWindow, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:  # noqa: ANN001
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(lambda _checked=False: slot())
    menu.addAction(action)
    return action


def build_menus(window: MainWindow) -> None:
    bar = window.menuBar()
    project = bar.addMenu("&Project")
    window.new_project_action = _action(window, project, "&New project…", window.new_project,
                                        QKeySequence.StandardKey.New, "Create a project folder")
    window.open_project_action = _action(window, project, "&Open project…", window.open_project,
                                         QKeySequence.StandardKey.Open, "Open a project folder")
    window.recent_menu = project.addMenu("Open &recent")
    window.recent_menu.aboutToShow.connect(window.fill_recent_menu)
    project.addSeparator()
    window.export_action = _action(window, project, "&Export selected…", window.export_selected, "Ctrl+E",
                                   "Export the selected images (format, size, metadata)")
    # The gallery's own Ctrl+E would make the key ambiguous while the gallery has focus (Qt then
    # runs neither action): the window's action covers the gallery, the gallery's keeps a menu hint.
    gallery_export = window.gallery.item_actions.actions["export"]
    gallery_export.setShortcut(QKeySequence())
    gallery_export.setText(f"{gallery_export.text()}\tCtrl+E")
    project.addSeparator()
    _action(window, project, "&Quit", window.close, QKeySequence.StandardKey.Quit)

    models = bar.addMenu("&Models")
    window.models_action = _action(window, models, "&Manage models…", window.manage_models, "Ctrl+M",
                                   "Download or add text-to-image models")
    _action(window, models, "&Reload model list", window.refresh_models)

    view = bar.addMenu("&View")
    for dock in window.docks:
        view.addAction(dock.toggleViewAction())
    view.addSeparator()
    _action(window, view, "&Fit image", window.viewer.view.fit, "Ctrl+0")
    _action(window, view, "&Actual size", window.viewer.view.actual_size, "Ctrl+1")

    help_menu = bar.addMenu("&Help")
    _action(window, help_menu, "&Keyboard shortcuts", window.show_shortcuts)
    _action(window, help_menu, "&About T2I Studio", window.show_about)

    for keys in ("Ctrl+Return", "Ctrl+Enter"):
        shortcut = QShortcut(QKeySequence(keys), window)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(window.generate)
    for keys in ("Ctrl+Shift+Return", "Ctrl+Shift+Enter"):
        shortcut = QShortcut(QKeySequence(keys), window)
        shortcut.activated.connect(window.stylize)
    escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), window)
    escape.activated.connect(window.cancel_current)


def shortcuts_html() -> str:
    rows = "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in SHORTCUTS)
    return f"<table cellspacing='6'>{rows}</table>"
