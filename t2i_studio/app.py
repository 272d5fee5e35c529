"""Composition root: builds the QApplication, settings and main window, and runs the event loop."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from t2i_studio import APP_ID, APP_NAME, __version__
from t2i_studio.core.settings import Settings
from t2i_studio.ui.main_window import MainWindow


def run(project: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    settings = Settings.load()
    window = MainWindow(settings)
    window.show()
    return app.exec()
