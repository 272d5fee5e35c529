"""The sketch canvas: where a scribble ControlNet's control image is drawn (the pad's tools are in ``ui.sketch_pad``).

The drawing has a fixed canvas size in picture pixels (the generation's size, or one picked here)
and lives in a layer whose alpha is the ink (``ui.brush``); ``image()`` is the scribble map, white
lines on black, RGB. The canvas is shown scaled to fit the widget, keeping its aspect, framed. The
left button draws (erases with the eraser tool, or a stylus's eraser end), the right button always
erases. Each stroke, clear and loaded picture is one undo step holding the pixels of the rectangle
it touched, before and after, so undo and redo restore them exactly. A new canvas size stretches
the drawing to it (the pipeline stretches a control image to the generation size the same way) and
starts the history afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, QSizeF, Qt, Signal
from PySide6.QtGui import (
    QActionGroup, QColor, QImage, QKeySequence, QPainter, QPaintEvent, QPen, QPointingDevice,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from t2i_studio.core.image_io import load_image as read_image
from t2i_studio.ui.actions import ActionSpec, create_actions, key_text
from t2i_studio.ui.brush import (
    LAYER_FORMAT, alpha_of, filled_layer, larger_size, layer_of, paint_stroke, ring_pens, smaller_size,
)
from t2i_studio.worker.qimage import pil_to_qimage

DEFAULT_SIZE = (512, 512)
PEN_MIN, PEN_MAX, PEN_DEFAULT = 1, 64, 6  # diameter, canvas pixels
UNDO_STEPS = 50
CANVAS_SIZES = ((512, 512), (768, 768), (1024, 1024), (768, 512), (512, 768), (1024, 768), (768, 1024),
                (1216, 832), (832, 1216))
INK = QColor(255, 255, 255)
_BLANK = QColor(0, 0, 0, 0)
_FRAME = QColor(140, 140, 140)  # seen against the black canvas and light or dark windows alike
_MARGIN = 1  # room for the frame
_HERE = Qt.ShortcutContext.WidgetWithChildrenShortcut  # "[" typed in the prompt stays a "["


def _spec(id_: str, text: str, handler: str, tip: str, keys: tuple[str, ...] = (), **more) -> ActionSpec:
    return ActionSpec(id_, text, handler, keys, tip, context=_HERE, **more)


SKETCH_ACTIONS: tuple[ActionSpec, ...] = (
    _spec("sketch_pen", "Pen", "use_pen", "Sketch: draw white lines", ("B",), checkable=True),
    _spec("sketch_eraser", "Eraser", "use_eraser", "Sketch: erase (the right button always erases)", ("E",),
          checkable=True),
    _spec("sketch_smaller", "Thinner", "shrink_pen", "Sketch: a thinner pen", ("[",)),
    _spec("sketch_larger", "Thicker", "grow_pen", "Sketch: a thicker pen", ("]",)),
    _spec("sketch_undo", "Undo", "undo", "Sketch: undo the last stroke", ("Ctrl+Z",)),
    _spec("sketch_redo", "Redo", "redo", "Sketch: redo what was undone", ("Ctrl+Shift+Z", "Ctrl+Y")),
    _spec("sketch_clear", "Clear", "clear", "Sketch: erase all of it (Undo brings it back)"),
)


def ink_of(picture: Image.Image) -> Image.Image:
    """A picture's lines as an "L" image, white ink on black, whichever way they were drawn: on a
    mostly transparent layer the opaque pixels are the lines; otherwise the minority side of mid
    grey is ink, so dark lines on light paper are inverted."""
    if "A" in picture.getbands() or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        alpha = rgba.getchannel("A")
        if np.count_nonzero(np.asarray(alpha) < 128) > alpha.width * alpha.height / 2:
            return alpha
        paper = Image.new("RGBA", rgba.size, "white")
        picture = Image.alpha_composite(paper, rgba)
    grey = np.asarray(picture.convert("L"))
    if np.count_nonzero(grey >= 128) > grey.size / 2:
        grey = 255 - grey
    return Image.fromarray(np.ascontiguousarray(grey, dtype=np.uint8), "L")


@dataclass(frozen=True)
class _Step:
    """One undo step: the pixels of ``before.rect()`` moved to ``at``, before and after."""

    at: QPoint
    before: QImage
    after: QImage


class SketchCanvas(QWidget):
    """The drawing, shown scaled to fit; its actions (``tool_actions``) carry its keys."""

    changed = Signal()  # after every stroke, undo, redo, clear, load or new size
    pen_size_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layer = filled_layer(QSize(*DEFAULT_SIZE), _BLANK)
        self._undo: list[_Step] = []
        self._redo: list[_Step] = []
        self._pen = PEN_DEFAULT
        self._last: QPointF | None = None  # the stroke's last point, canvas pixels (None: no stroke)
        self._button = Qt.MouseButton.NoButton
        self._before = QImage()
        self._touched = QRectF()
        self._erasing = self._stylus_eraser = False
        self._hover: QPointF | None = None  # the pointer, widget pixels (for the pen's ring)
        self.setAccessibleName("Sketch canvas")
        self.setAccessibleDescription("Draw the scribble control image: white lines on black")
        self.setToolTip("Draw with the left button, erase with the right ([ thinner, ] thicker pen)")
        self.setMouseTracking(True)  # the ring follows the pointer
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.tool_actions = create_actions(SKETCH_ACTIONS, self, lambda spec: getattr(self, spec.handler)())
        for spec in SKETCH_ACTIONS:
            if spec.keys:
                keys = key_text(spec.keys, QKeySequence.SequenceFormat.NativeText)
                self.tool_actions[spec.id].setToolTip(f"{spec.tip} ({keys})")
        tools = QActionGroup(self)
        for name in ("sketch_pen", "sketch_eraser"):
            tools.addAction(self.tool_actions[name])
        self.tool_actions["sketch_pen"].setChecked(True)
        self._sync_actions()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(*DEFAULT_SIZE)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(160, 160)

    # --- the drawing -------------------------------------------------------------------------------
    def canvas_size(self) -> QSize:
        return self._layer.size()

    def set_canvas_size(self, width: int, height: int, *, keep: bool = True) -> None:
        """Draw at ``width`` × ``height`` from now on: the drawing stretched to it (``keep``) or
        cleared; the undo history starts afresh either way."""
        if width < 1 or height < 1:
            raise ValueError(f"A canvas needs a positive size, got {width}×{height}.")
        self._end_stroke()
        if keep and QSize(width, height) == self._layer.size():
            return
        if keep and not self.is_empty():
            self._layer = self._layer.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation
                                             ).convertToFormat(LAYER_FORMAT)
        else:
            self._layer = filled_layer(QSize(width, height), _BLANK)
        self._undo.clear()
        self._redo.clear()
        self._edited()

    def is_empty(self) -> bool:
        return alpha_of(self._layer).getbbox() is None

    def scribble(self) -> Image.Image:
        """The scribble map as an RGB Pillow image of the canvas size: white lines on black."""
        return alpha_of(self._layer).convert("RGB")

    def image(self) -> QImage:
        return pil_to_qimage(self.scribble())

    def load_image(self, path: str | Path) -> None:
        """Start from a picture: its lines (``ink_of``) stretched to the canvas, as one undo step.
        An unreadable file raises ``ImageReadError`` and changes nothing."""
        ink = ink_of(read_image(str(path)))
        size = (self._layer.width(), self._layer.height())
        if ink.size != size:
            ink = ink.resize(size, Image.Resampling.LANCZOS)
        self._end_stroke()
        self._replace(layer_of(ink, INK))

    def clear(self) -> None:
        self._end_stroke()
        if not self.is_empty():
            self._replace(filled_layer(self._layer.size(), _BLANK))

    def _replace(self, layer: QImage) -> None:
        """The whole drawing becomes ``layer`` (the canvas's size), as one undo step."""
        self._push(_Step(QPoint(0, 0), self._layer, layer.copy()))  # the step keeps its own pixels
        self._layer = layer
        self._edited()

    # --- undo --------------------------------------------------------------------------------------
    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> None:
        self._end_stroke()
        if self._undo:
            step = self._undo.pop()
            self._redo.append(step)
            self._put(step.at, step.before)

    def redo(self) -> None:
        self._end_stroke()
        if self._redo:
            step = self._redo.pop()
            self._undo.append(step)
            self._put(step.at, step.after)

    def _put(self, at: QPoint, pixels: QImage) -> None:
        painter = QPainter(self._layer)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)  # exactly these
        painter.drawImage(at, pixels)
        painter.end()
        self._edited()

    def _push(self, step: _Step) -> None:
        self._undo.append(step)
        del self._undo[:-UNDO_STEPS]
        self._redo.clear()

    def _edited(self) -> None:
        self._sync_actions()
        self.update()
        self.changed.emit()

    def _sync_actions(self) -> None:
        self.tool_actions["sketch_undo"].setEnabled(self.can_undo())
        self.tool_actions["sketch_redo"].setEnabled(self.can_redo())

    # --- the pen -----------------------------------------------------------------------------------
    @property
    def pen_size(self) -> int:
        return self._pen

    def set_pen_size(self, diameter: int) -> None:
        diameter = max(PEN_MIN, min(PEN_MAX, int(diameter)))
        if diameter != self._pen:
            self._update_ring()
            self._pen = diameter
            self._update_ring()
            self.pen_size_changed.emit(diameter)

    def shrink_pen(self) -> None:
        self.set_pen_size(smaller_size(self._pen))

    def grow_pen(self) -> None:
        self.set_pen_size(larger_size(self._pen))

    @property
    def erases(self) -> bool:
        """The eraser tool is chosen (the right button erases either way)."""
        return self.tool_actions["sketch_eraser"].isChecked()

    def use_pen(self) -> None:
        self.tool_actions["sketch_pen"].setChecked(True)

    def use_eraser(self) -> None:
        self.tool_actions["sketch_eraser"].setChecked(True)

    # --- on screen ---------------------------------------------------------------------------------
    def _frame(self) -> QRectF:
        """Where the canvas is shown: as large as fits, keeping its aspect, at the top, centred across."""
        room = QRectF(self.rect()).adjusted(_MARGIN, _MARGIN, -_MARGIN, -_MARGIN)
        shown = QSizeF(self._layer.size()).scaled(room.size(), Qt.AspectRatioMode.KeepAspectRatio)
        frame = QRectF(QPointF(0, 0), shown)
        frame.moveCenter(room.center())
        frame.moveTop(room.top())
        return frame

    def _scale(self) -> float:
        return self._frame().width() / max(1, self._layer.width())

    def to_canvas(self, at: QPointF) -> QPointF:
        """A point of this widget in canvas pixels."""
        return (at - self._frame().topLeft()) / max(self._scale(), 1e-6)

    def from_canvas(self, at: QPointF) -> QPointF:
        """A point in canvas pixels where it is shown on this widget."""
        return self._frame().topLeft() + at * self._scale()

    def _on_screen(self, rect: QRectF) -> QRect:
        frame, scale = self._frame(), self._scale()
        return QRectF(frame.topLeft() + rect.topLeft() * scale, rect.size() * scale).toAlignedRect()

    def _ring_rect(self) -> QRect:
        radius = max(1.5, self._pen * self._scale() / 2) + 2
        at = self._hover or QPointF()
        return QRectF(at.x() - radius, at.y() - radius, 2 * radius, 2 * radius).toAlignedRect()

    def _update_ring(self) -> None:
        if self._hover is not None:
            self.update(self._ring_rect())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        frame = self._frame()
        painter.fillRect(frame, Qt.GlobalColor.black)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(frame, self._layer)
        painter.setPen(QPen(_FRAME, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(frame.adjusted(-0.5, -0.5, 0.5, 0.5))
        if self._hover is not None:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            radius = max(1.5, self._pen * self._scale() / 2)
            for pen in ring_pens():
                painter.setPen(pen)
                painter.drawEllipse(self._hover, radius, radius)
        painter.end()

    # --- strokes -----------------------------------------------------------------------------------
    def tabletEvent(self, event) -> None:  # noqa: ANN001, N802 - a QTabletEvent
        if event.type() == QEvent.Type.TabletPress:  # the mouse press Qt makes of it comes next
            self._stylus_eraser = event.pointerType() == QPointingDevice.PointerType.Eraser
        event.ignore()  # Qt then sends the mouse events a stroke is drawn from

    def mousePressEvent(self, event) -> None:  # noqa: ANN001, N802 - a QMouseEvent
        button = event.button()
        if self._last is not None or button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            event.ignore()
            return
        self._button = button
        stylus_eraser, self._stylus_eraser = self._stylus_eraser, False
        self._erasing = button == Qt.MouseButton.RightButton or self.erases or stylus_eraser
        self._before = self._layer.copy()
        self._touched = QRectF()
        self._last = self.to_canvas(event.position())
        self._segment(self._last, self._last)

    def mouseMoveEvent(self, event) -> None:  # noqa: ANN001, N802
        self._update_ring()
        self._hover = event.position()
        self._update_ring()
        if self._last is not None:
            at = self.to_canvas(event.position())
            if at != self._last:
                self._segment(self._last, at)
                self._last = at

    def mouseReleaseEvent(self, event) -> None:  # noqa: ANN001, N802
        if self._last is not None and event.button() == self._button:
            self._end_stroke()

    def leaveEvent(self, event) -> None:  # noqa: ANN001, N802
        self._update_ring()
        self._hover = None
        super().leaveEvent(event)

    def _segment(self, start: QPointF, end: QPointF) -> None:
        touched = paint_stroke(self._layer, start, end, self._pen, INK, erase=self._erasing)
        self._touched = self._touched.united(touched)
        self.update(self._on_screen(touched).adjusted(-1, -1, 1, 1))

    def _end_stroke(self) -> None:
        """The stroke in progress (if any) becomes one undo step, unless it changed nothing."""
        if self._last is None:
            return
        self._last = None
        rect = self._touched.toAlignedRect().intersected(self._layer.rect())
        before, self._before = self._before.copy(rect), QImage()
        after = self._layer.copy(rect)
        if not rect.isEmpty() and before != after:
            self._push(_Step(rect.topLeft(), before, after))
            self._edited()
