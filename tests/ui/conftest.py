"""Window tests: no JobRunner QThread may outlive its test (fixture in ui_helpers), and no test
leaves data on the clipboard (the offscreen platform crashes at exit while it owns some)."""

import pytest

from ui_helpers import no_worker_thread_left  # noqa: F401


@pytest.fixture(autouse=True)
def clipboard_left_empty():
    yield
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is not None:
        QGuiApplication.clipboard().clear()
