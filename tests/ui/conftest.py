"""Window tests: no test leaves data on the clipboard (the offscreen platform crashes at exit while
it owns some). Threads and QThreads left running fail the test (tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def clipboard_left_empty():
    yield
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is not None:
        QGuiApplication.clipboard().clear()
