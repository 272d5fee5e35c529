"""A control input's control map, shown small before generating.

The map is made by the engine's own function (``core.control_maps.map_for``) from the picture at
its full size, as the engine makes it, then scaled down: canny's edges depend on the scale. A large
photo takes a moment, so it runs in a BackgroundTask after a pause in the editing, one at a time;
a weight or step change, which leaves the map as it is, makes nothing again.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from t2i_studio.core.control_maps import map_for
from t2i_studio.core.image_io import load_image
from t2i_studio.core.requests import Control
from t2i_studio.worker.qimage import pil_to_qimage
from t2i_studio.worker.tasks import BackgroundTask

DELAY_MS = 150
EDGE = 72


def thumbnail(control: Control, edge: int = EDGE) -> QImage:
    """The control map of ``control``'s picture, at most ``edge`` pixels on a side."""
    made = map_for(control, load_image(control.image).convert("RGB"))
    made.thumbnail((edge, edge))
    return pil_to_qimage(made)


def _key(control: Control) -> tuple:
    """What the map depends on: a picture rewritten in place (the sketch pad's) is made again."""
    try:
        stamp = os.stat(control.image).st_mtime_ns
    except OSError:
        stamp = None
    return control.image, stamp, control.preprocessor, control.canny_low, control.canny_high


class MapPreview(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Control map preview")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(EDGE, EDGE)
        self.setWordWrap(True)
        self.setFrameShape(QLabel.Shape.StyledPanel)
        self._shown: tuple | None = None  # the key of the map shown, or to be shown
        self._making: tuple | None = None  # the key of the map being made
        self._next: Control | None = None
        self._task: BackgroundTask | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DELAY_MS)
        self._timer.timeout.connect(self._start)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)
        self._say("No picture", "The control map shows here once a picture is chosen")

    @property
    def busy(self) -> bool:
        """A map is waiting for the pause in the editing, or being made."""
        return self._task is not None or self._timer.isActive()

    def show_for(self, control: Control) -> None:
        """Show the map of ``control`` (after a pause; at once when it has no picture)."""
        if not control.image:
            self._timer.stop()
            self._next, self._shown = None, None
            self._say("No picture", "The control map shows here once a picture is chosen")
            return
        key = _key(control)
        if key != self._shown:
            self._shown, self._next = key, control
            self._timer.start()

    def stop(self) -> None:
        """Wait for a map being made (its result is dropped)."""
        self._timer.stop()
        self._next = None
        if self._task is not None:
            self._task.wait()

    def _start(self) -> None:
        if self._task is not None or self._next is None:
            return  # one at a time: the newest starts when this one ends
        control, self._making, self._next = self._next, self._shown, None
        task = BackgroundTask(lambda _report, _cancel: thumbnail(control))
        task.succeeded.connect(self._show)
        task.failed.connect(self._failed)
        task.done.connect(self._ended)
        self._task = task
        task.start()

    def _show(self, image: QImage) -> None:
        if self._making != self._shown:  # the control changed while it was made
            return
        self.setText("")
        self.setPixmap(QPixmap.fromImage(image))
        self.setToolTip("The control map the ControlNet is given (white: the structure it follows)")

    def _failed(self, text: str, _details: str) -> None:
        if self._making == self._shown:
            self._say("Cannot read", text)

    def _say(self, text: str, tooltip: str) -> None:
        self.setPixmap(QPixmap())
        self.setText(text)
        self.setToolTip(tooltip)

    def _ended(self) -> None:
        self._task = None
        self._start()
