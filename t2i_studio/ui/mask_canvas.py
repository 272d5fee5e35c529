"""The painted mask: a layer over the picture in the scene, in the picture's own pixels.

The layer's alpha channel is the mask (opaque: regenerate, transparent: keep); its colour is only
how the window shows it, drawn translucent so the picture stays visible, and never part of the
mask a request names (``to_pil`` gives the alpha alone, as an "L" image).
"""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from t2i_studio.ui.brush import LAYER_FORMAT, alpha_of, filled_layer, layer_of, paint_stroke

OVERLAY_COLOUR = QColor(255, 40, 110)  # magenta-red: reads over skin, sky and foliage alike
OVERLAY_OPACITY = 0.45
_FORMAT = LAYER_FORMAT


class MaskCanvas(QGraphicsItem):
    """The mask layer; scene units are picture pixels (the picture's item sits at the origin)."""

    def __init__(self) -> None:
        super().__init__()
        self._image = QImage()
        self.setOpacity(OVERLAY_OPACITY)
        self.setZValue(1)  # over the picture
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)  # repaint only what changed

    # --- QGraphicsItem -----------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return QRectF(0, 0, self._image.width(), self._image.height())

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if not self._image.isNull():
            painter.drawImage(option.exposedRect, self._image, option.exposedRect)

    # --- the mask ----------------------------------------------------------------------------------
    def size(self) -> QSize:
        return self._image.size()

    def reset(self, size: QSize) -> None:
        """An empty mask of ``size`` (an empty size: none at all)."""
        self.prepareGeometryChange()
        self._image = QImage(size, _FORMAT) if not size.isEmpty() else QImage()
        self.clear()

    def clear(self) -> None:
        if not self._image.isNull():
            self._image.fill(Qt.GlobalColor.transparent)
        self.update()

    def stroke(self, start: QPointF, end: QPointF, diameter: float, *, erase: bool = False) -> None:
        """Paint (or erase) a round-ended line from ``start`` to ``end``, ``diameter`` pixels wide."""
        if self._image.isNull():
            return
        self.update(paint_stroke(self._image, start, end, diameter, OVERLAY_COLOUR, erase=erase))

    def invert(self) -> None:
        if self._image.isNull():
            return
        inverted = self._filled()
        painter = QPainter(inverted)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationOut)  # 1 - alpha
        painter.drawImage(0, 0, self._image)
        painter.end()
        self._image = inverted
        self.update()

    def is_empty(self) -> bool:
        return self._image.isNull() or self.to_pil().getbbox() is None

    def to_pil(self) -> Image.Image:
        """The mask as an "L" image of the picture's size: 255 regenerate, 0 keep."""
        return alpha_of(self._image)

    def set_pil(self, mask: Image.Image) -> None:
        """Show ``mask`` (an "L" image, white regenerates) as the layer, at its own size."""
        self.prepareGeometryChange()
        self._image = layer_of(mask, OVERLAY_COLOUR)
        self.update()

    def _filled(self, size: QSize | None = None) -> QImage:
        return filled_layer(size or self._image.size(), OVERLAY_COLOUR)
