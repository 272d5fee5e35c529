"""PIL / numpy images -> QImage copies that own their pixels.

``QImage(buffer, w, h, ...)`` only borrows the buffer, and without an explicit bytesPerLine it
assumes 32-bit aligned rows, which skews RGB images whose width is not a multiple of 4. Every
function here passes bytesPerLine and returns ``.copy()``, so the result is safe to send across
threads after the source array is gone. QImage (unlike QPixmap) may be built off the GUI thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtGui import QImage

if TYPE_CHECKING:
    from PIL.Image import Image


def array_to_qimage(array: np.ndarray) -> QImage:
    """An HxW (grey), HxWx3 (RGB) or HxWx4 (RGBA) uint8 array -> an owned QImage."""
    if array.dtype != np.uint8:
        raise ValueError(f"Expected a uint8 array, got {array.dtype}.")
    if array.ndim == 2:
        fmt, channels = QImage.Format.Format_Grayscale8, 1
    elif array.ndim == 3 and array.shape[2] == 3:
        fmt, channels = QImage.Format.Format_RGB888, 3
    elif array.ndim == 3 and array.shape[2] == 4:
        fmt, channels = QImage.Format.Format_RGBA8888, 4
    else:
        raise ValueError(f"Expected HxW, HxWx3 or HxWx4, got shape {array.shape}.")
    array = np.ascontiguousarray(array)
    height, width = array.shape[:2]
    image = QImage(array.data, width, height, width * channels, fmt)
    return image.copy()  # detach from the numpy buffer


def pil_to_qimage(image: Image) -> QImage:
    """Any PIL image -> an owned QImage (RGB, RGBA or greyscale)."""
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB")
    return array_to_qimage(np.asarray(image))
