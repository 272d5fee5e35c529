"""A control input's control map, shown small before generating.

The map is made by the engine's own function (``core.control_maps.map_for``) from the picture at
its full size, as the engine makes it, then scaled down: canny's edges depend on the scale. A large
photo takes a moment, so it is made off the GUI thread after a pause in the editing (LatestOnly);
a weight or step change, which leaves the map as it is, makes nothing again.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QWidget

from t2i_studio.core.control_maps import map_for
from t2i_studio.core.errors import describe
from t2i_studio.core.image_io import load_image
from t2i_studio.core.requests import Control
from t2i_studio.worker.latest import LatestOnly
from t2i_studio.worker.qimage import pil_to_qimage

DELAY_MS = 150
EDGE = 72


def thumbnail(control: Control, edge: int = EDGE) -> QImage:
    """The control map of ``control``'s picture, at most ``edge`` pixels on a side."""
    made = map_for(control, load_image(control.image).convert("RGB"))
    made.thumbnail((edge, edge))
    return pil_to_qimage(made)


def _made_or_why(control: Control) -> QImage | str:
    """The thumbnail, or why it cannot be made (said in the preview, not as an error)."""
    try:
        return thumbnail(control)
    except Exception as exc:  # noqa: BLE001 - any unreadable picture is told the same way
        return describe(exc).text


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
        self._maps = LatestOnly(DELAY_MS, self)
        self._maps.succeeded.connect(self._made)
        self._say("No picture", "The control map shows here once a picture is chosen")

    @property
    def busy(self) -> bool:
        """A map is waiting for the pause in the editing, or being made."""
        return self._maps.busy

    def show_for(self, control: Control) -> None:
        """Show the map of ``control`` (after a pause; at once when it has no picture)."""
        if not control.image:
            self._maps.drop()
            self._shown = None
            self._say("No picture", "The control map shows here once a picture is chosen")
            return
        key = _key(control)
        if key != self._shown:
            self._shown = key
            self._maps.submit(lambda: (key, _made_or_why(control)))

    def stop(self) -> None:
        """Wait for a map being made (its result is dropped)."""
        self._maps.stop()

    def _made(self, made: tuple[tuple, QImage | str]) -> None:
        key, image = made
        if key != self._shown:  # the control changed while it was made
            return
        if isinstance(image, str):
            self._say("Cannot read", image)
            return
        self.setText("")
        self.setPixmap(QPixmap.fromImage(image))
        self.setToolTip("The control map the ControlNet is given (white: the structure it follows)")

    def _say(self, text: str, tooltip: str) -> None:
        self.setPixmap(QPixmap())
        self.setText(text)
        self.setToolTip(tooltip)
