"""The round brush the painting tools share (the inpainting mask, the scribble sketch pad).

What is painted lives in a layer's alpha channel (an ARGB32 premultiplied ``QImage``, transparent
where nothing is painted); its colour is only how it is shown. ``paint_stroke`` lays one round-capped
segment on a layer (or erases one); ``alpha_of`` and ``layer_of`` turn a layer into an "L" image and
back. The brush's size steps (``[`` and ``]``) and the pens of its outline are here too, so every
tool sizes and shows its brush alike.
"""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen

LAYER_FORMAT = QImage.Format.Format_ARGB32_Premultiplied
SIZE_STEP = 1.25  # "[" and "]" scale the brush by this, and always by at least one pixel


def paint_stroke(layer: QImage, start: QPointF, end: QPointF, diameter: float, colour: QColor, *,
                 erase: bool = False) -> QRectF:
    """Paint (or erase) a round-ended line from ``start`` to ``end``, ``diameter`` pixels wide; a
    dab where they are the same point. Returns the rectangle of the layer it may have touched."""
    painter = QPainter(layer)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if erase:
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
    painter.setPen(QPen(colour, diameter, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                        Qt.PenJoinStyle.RoundJoin))
    if start == end:
        painter.drawPoint(start)  # a dab: the round cap makes it a disc
    else:
        painter.drawLine(start, end)
    painter.end()
    reach = diameter / 2 + 2
    return QRectF(start, end).normalized().adjusted(-reach, -reach, reach, reach)


def filled_layer(size: QSize, colour: QColor) -> QImage:
    layer = QImage(size, LAYER_FORMAT)
    layer.fill(colour)
    return layer


def alpha_of(layer: QImage) -> Image.Image:
    """The layer's alpha channel as an "L" image of its size (255: painted, 0: not)."""
    alpha = layer.convertToFormat(QImage.Format.Format_Alpha8)
    size = (alpha.width(), alpha.height())
    return Image.frombuffer("L", size, bytes(alpha.constBits()), "raw", "L", alpha.bytesPerLine(), 1)


def layer_of(values: Image.Image, colour: QColor) -> QImage:
    """A layer of ``colour`` whose alpha is ``values`` (an "L" image), at its size."""
    values = values.convert("L")
    alpha = QImage(values.tobytes(), values.width, values.height, values.width, QImage.Format.Format_Alpha8)
    alpha = alpha.copy()  # its own pixels, not a view of the bytes
    layer = filled_layer(alpha.size(), colour)
    painter = QPainter(layer)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)  # keep alpha's
    painter.drawImage(0, 0, alpha)
    painter.end()
    return layer


def smaller_size(diameter: int) -> int:
    return min(diameter - 1, round(diameter / SIZE_STEP))


def larger_size(diameter: int) -> int:
    return max(diameter + 1, round(diameter * SIZE_STEP))


def ring_pens() -> tuple[QPen, QPen]:
    """The brush outline's two pens, drawn one over the other: black, then white dashes on it, so
    the ring is seen on light and dark pictures. Cosmetic: the same on screen at any zoom."""
    pens = (QPen(QColor(0, 0, 0, 200), 1.5), QPen(QColor(255, 255, 255, 230), 1.5, Qt.PenStyle.DashLine))
    for pen in pens:
        pen.setCosmetic(True)
    return pens
