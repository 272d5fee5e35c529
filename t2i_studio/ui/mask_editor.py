"""The viewer's mask tools: paint the inpainting mask over the picture shown, in its own pixels.

The mask belongs to a picture, the ``target``: the last file the viewer showed. Another file of the
same size keeps the mask (a result can be inpainted again with the same mask); another size starts
an empty one. Strokes are mapped through the view's zoom and pan to picture pixels; the left button
paints (or erases, with the eraser), the right button erases, the middle button pans. A request
names the mask as a project file (``Project.keep_input``, named by its pixels), written the first
time a request is built after a change; or ``ALPHA_MASK``, the picture's transparent pixels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog, QGraphicsEllipseItem, QGraphicsView, QLabel, QSlider, QSpinBox, QToolBar, QToolButton,
    QWidget,
)

from t2i_studio.core.masks import MaskError, load_mask, scaled_mask
from t2i_studio.core.project_errors import ProjectError
from t2i_studio.core.requests import ALPHA_MASK, ImageInputs
from t2i_studio.ui.actions import ActionSpec, create_actions
from t2i_studio.ui.brush import larger_size, ring_pens, smaller_size
from t2i_studio.ui.controls import IMAGE_FILTER
from t2i_studio.ui.mask_canvas import MaskCanvas

if TYPE_CHECKING:
    from PIL import Image

    from t2i_studio.core.project import Project
    from t2i_studio.ui.viewer import ImageView

BRUSH_MIN, BRUSH_MAX, BRUSH_DEFAULT = 1, 512, 48  # diameter, picture pixels
_IN_VIEWER = Qt.ShortcutContext.WidgetWithChildrenShortcut  # "[" typed in the prompt stays a "["


def _spec(id_: str, text: str, handler: str, tip: str, keys: tuple[str, ...] = (), **more) -> ActionSpec:
    return ActionSpec(id_, text, handler, keys, tip, context=_IN_VIEWER, **more)


# What the tool bar offers (and the viewer's "Inpaint" button, ``mask_tools``), by handler name here.
MASK_ACTIONS: tuple[ActionSpec, ...] = (
    _spec("mask_tools", "Inpaint", "toggle_active",
          "Paint a mask over this picture and regenerate what it covers", checkable=True),
    _spec("mask_brush", "Brush", "use_brush", "Mask: paint over what to regenerate", ("B",), checkable=True),
    _spec("mask_eraser", "Eraser", "use_eraser", "Mask: erase (the right button always erases)", ("E",),
          checkable=True),
    _spec("mask_smaller", "Smaller brush", "shrink_brush", "Mask: a smaller brush", ("[",)),
    _spec("mask_larger", "Larger brush", "grow_brush", "Mask: a larger brush", ("]",)),
    _spec("mask_invert", "Invert", "invert", "Mask: regenerate what is kept now, and keep what is painted"),
    _spec("mask_clear", "Clear", "clear", "Mask: erase all of it"),
    _spec("mask_show", "Show", "show_toggled", "Mask: show or hide it over the picture", checkable=True),
    _spec("mask_load", "Load…", "pick_file",
          "Mask: load a mask file (white regenerates), stretched to the picture"),
    _spec("mask_alpha", "Alpha", "alpha_toggled",
          "Mask: regenerate the picture's transparent pixels (no painting)", checkable=True),
)
_TOOL_BAR = ("mask_brush", "mask_eraser", None, "size", "feather", None, "mask_invert", "mask_clear",
             "mask_show", None, "mask_load", "mask_alpha")


class MaskTools(QObject):
    changed = Signal()  # the mask, its picture or the feather changed: the request did
    active_changed = Signal(bool)
    failed = Signal(str)  # a mask that could not be read or kept, as the user's message

    def __init__(self, view: ImageView, show_file: Callable[[str], bool], owner: QWidget) -> None:
        super().__init__(owner)
        self.view = view
        self._show_file = show_file  # the viewer's: the picture to paint on
        self.project: Callable[[], Project | None] = lambda: None  # where painted masks are kept
        self.canvas = MaskCanvas()
        view.scene().addItem(self.canvas)
        self._ring = self._brush_ring()
        self._target = self._shown = ""
        self._file: str | None = None  # the file holding the mask as it is (None: not written since a change)
        self._empty = True
        self._alpha_error = ""  # why the picture's transparency is no mask
        self._write_error = ""
        self._painted: Image.Image | None = None  # the painted mask, kept while the alpha channel is the mask
        self._stroke: QPointF | None = None
        self._erasing = False
        self._pan: QPoint | None = None
        self._paints = False  # the tools are on, over their picture, and it is not the alpha's mask
        self.actions = create_actions(MASK_ACTIONS, owner, lambda spec: getattr(self, spec.handler)())
        self.toggle = self.actions["mask_tools"]
        self.button = QToolButton(owner)  # the viewer's Inpaint button
        self.button.setDefaultAction(self.toggle)
        self.actions["mask_brush"].setChecked(True)
        self.actions["mask_show"].setChecked(True)
        self.tool_bar = self._build_tool_bar(owner)
        view.viewport().installEventFilter(self)
        view.viewport().setMouseTracking(True)  # the brush ring follows the pointer
        self._refresh()

    def _brush_ring(self) -> QGraphicsEllipseItem:
        """The brush's outline: black with white dashes on it, seen on light and dark pictures."""
        ring = QGraphicsEllipseItem()
        dashes = QGraphicsEllipseItem(ring)
        for item, pen in zip((ring, dashes), ring_pens()):
            item.setPen(pen)
        ring.setZValue(2)
        ring.hide()
        self.view.scene().addItem(ring)
        return ring

    def _build_tool_bar(self, owner: QWidget) -> QToolBar:
        bar = QToolBar("Mask tools", owner)
        bar.setAccessibleName("Mask tools")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.setMovable(False)  # what does not fit goes to its » menu: the viewer never widens
        self.size_slider = QSlider(Qt.Orientation.Horizontal, bar)
        self.size_slider.setRange(BRUSH_MIN, BRUSH_MAX)
        self.size_slider.setValue(BRUSH_DEFAULT)
        self.size_slider.setMinimumWidth(70)  # squeezed to a stub, it could not be dragged
        self.size_slider.setMaximumWidth(110)
        self.size_slider.setAccessibleName("Brush size")
        self.size_label = QLabel(bar)
        self.feather = QSpinBox(bar)
        self.feather.setRange(0, 256)
        self.feather.setValue(ImageInputs.mask_blur)
        self.feather.setSuffix(" px")
        self.feather.setPrefix("Feather ")
        self.feather.setAccessibleName("Mask feather (blur)")
        self.feather.setToolTip("Mask blur: how many pixels the mask's edge fades over")
        self.size_slider.valueChanged.connect(self._size_changed)
        self.feather.valueChanged.connect(lambda _v: self.changed.emit())
        self._size_changed(self.size_slider.value())
        for action in (self.actions["mask_brush"], self.actions["mask_eraser"]):
            action.toggled.connect(lambda _on: self._refresh())
        for name in _TOOL_BAR:
            if name is None:
                bar.addSeparator()
            elif name == "size":
                bar.addWidget(self.size_slider)
                bar.addWidget(self.size_label)
            elif name == "feather":
                bar.addWidget(self.feather)
            else:
                bar.addAction(self.actions[name])
        return bar

    # --- the picture -----------------------------------------------------------------------------
    @property
    def target(self) -> str:
        return self._target

    @property
    def active(self) -> bool:
        return self.toggle.isChecked()

    def set_active(self, on: bool) -> None:
        if on != self.active:
            self.toggle.setChecked(on)
            self.toggle_active()

    def toggle_active(self) -> None:
        self._refresh()
        self.active_changed.emit(self.active)

    def set_available(self, available: bool) -> None:
        """Offered only where the chosen engine can inpaint."""
        self.toggle.setVisible(available)
        self.button.setVisible(available)
        if not available and self.active:
            self.set_active(False)

    def image_shown(self, path: str, size: QSize) -> None:
        """The viewer shows the file ``path`` at ``size`` ("": a preview, or nothing)."""
        self._shown = path
        if path and path != self._target:
            self._target = path
            if size != self.canvas.size():
                self.canvas.reset(size)
                self._painted = None
            if self.uses_alpha:
                self._load_alpha()
            self._edited()
        self._refresh()

    def restore(self, init: str | None, mask: str | None, feather: int) -> None:
        """Show ``init`` with ``mask`` (a file or ALPHA_MASK): what a reused request painted."""
        self.feather.setValue(feather)
        if init and init != self._shown and not self._show_file(init):
            self._target = init  # unreadable: the request still names it, and its check says why
            self.canvas.reset(QSize())
        if (mask == ALPHA_MASK) != self.uses_alpha:
            self.actions["mask_alpha"].setChecked(mask == ALPHA_MASK)
            self.alpha_toggled()
        if mask and mask != ALPHA_MASK:
            self.load_file(mask)
            self._file = mask  # the request's own file: reusing it names the same mask

    def _refresh(self) -> None:
        """What can be seen and done: painting needs the tools on, over their picture, not its alpha."""
        on_picture = self.active and bool(self._target) and self._shown == self._target
        paints = on_picture and not self.uses_alpha
        self.tool_bar.setVisible(self.active)
        self.canvas.setVisible(on_picture and self.actions["mask_show"].isChecked())
        for name in ("mask_brush", "mask_eraser", "mask_smaller", "mask_larger", "mask_invert", "mask_clear",
                     "mask_load"):
            self.actions[name].setEnabled(paints)
        self.size_slider.setEnabled(paints)
        self.actions["mask_alpha"].setEnabled(on_picture)
        self._paints = paints
        mode = QGraphicsView.DragMode.NoDrag if paints else QGraphicsView.DragMode.ScrollHandDrag
        if self.view.dragMode() != mode:
            self.view.setDragMode(mode)  # the hand drag sets its own cursor
            if paints:
                self.view.viewport().setCursor(Qt.CursorShape.CrossCursor)
        if not paints:
            self._ring.hide()

    # --- the request's mask ----------------------------------------------------------------------
    @property
    def uses_alpha(self) -> bool:
        return self.actions["mask_alpha"].isChecked()

    def mask_value(self) -> str | None:
        """What the request's ``mask`` names: ALPHA_MASK, the file of the painted mask (kept in the
        project now if it changed since it was last kept), or None: nothing painted, or nowhere to
        keep it (``problem`` says)."""
        if not self._target:
            return None
        if self.uses_alpha:
            return ALPHA_MASK
        if self._file is None and not self._empty:
            project = self.project()
            try:
                if project is None:
                    raise ProjectError("Open a project first: a painted mask is kept in it.")
                self._file = str(project.keep_input(self.canvas.to_pil()))
                self._write_error = ""
            except (ProjectError, OSError) as exc:
                self._write_error = f"The painted mask cannot be kept: {exc}"
        return self._file

    def problem(self) -> str:
        """Why the mask cannot be used yet ("" when it can, or when nothing is painted: the request
        says that)."""
        if self.uses_alpha:
            return self._alpha_error
        return self._write_error if self._file is None and not self._empty else ""

    def _edited(self) -> None:
        self._file = None
        self._empty = self.canvas.is_empty()
        self.changed.emit()

    # --- the tool bar's handlers -----------------------------------------------------------------
    def use_brush(self) -> None:
        self.actions["mask_brush"].setChecked(True)
        self.actions["mask_eraser"].setChecked(False)

    def use_eraser(self) -> None:
        self.actions["mask_eraser"].setChecked(True)
        self.actions["mask_brush"].setChecked(False)

    @property
    def brush_size(self) -> int:
        return self.size_slider.value()

    def set_brush_size(self, diameter: int) -> None:
        self.size_slider.setValue(diameter)

    def shrink_brush(self) -> None:
        self.size_slider.setValue(smaller_size(self.brush_size))

    def grow_brush(self) -> None:
        self.size_slider.setValue(larger_size(self.brush_size))

    def _size_changed(self, diameter: int) -> None:
        self.size_label.setText(f" {diameter} px ")
        self.size_slider.setToolTip(f"Brush size: {diameter} pixels of the picture ([ smaller, ] larger)")
        radius = diameter / 2
        for ring in (self._ring, *self._ring.childItems()):
            ring.setRect(QRectF(-radius, -radius, diameter, diameter))

    def invert(self) -> None:
        self.canvas.invert()
        self._edited()

    def clear(self) -> None:
        self.canvas.clear()
        self._edited()

    def show_toggled(self) -> None:
        self._refresh()

    def pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.view, "Load a mask (white regenerates)", "", IMAGE_FILTER)
        if path:
            self.load_file(path)

    def load_file(self, path: str) -> None:
        """A mask file stretched to the picture; kept in the project when a request names it."""
        size = self.canvas.size()
        if size.isEmpty():
            return
        try:
            self.canvas.set_pil(scaled_mask(path, self._target, (size.width(), size.height())))
        except MaskError as exc:
            self.failed.emit(str(exc))
        self._edited()

    def alpha_toggled(self) -> None:
        if self.uses_alpha:
            self._painted = self.canvas.to_pil() if not self.canvas.size().isEmpty() else None
            self._load_alpha()
        else:
            self._alpha_error = ""
            if self._painted is not None:
                self.canvas.set_pil(self._painted)
            else:
                self.canvas.reset(self.canvas.size())
            self._painted = None
        self._edited()
        self._refresh()

    def _load_alpha(self) -> None:
        """Show the picture's transparent pixels as the mask (or say why there are none)."""
        try:
            self.canvas.set_pil(load_mask(ALPHA_MASK, self._target))
            self._alpha_error = ""
        except MaskError as exc:
            self.canvas.clear()
            self._alpha_error = str(exc)

    # --- painting ----------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if not self._paints:
            return False
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            return self._press(event)
        if kind == QEvent.Type.MouseMove:
            return self._move(event)
        if kind == QEvent.Type.MouseButtonRelease:
            return self._release()
        if kind == QEvent.Type.Leave:
            self._ring.hide()
        return False

    def _at(self, event) -> QPointF:  # noqa: ANN001 - a QMouseEvent on the viewport
        return self.view.mapToScene(event.position().toPoint())

    def _press(self, event) -> bool:  # noqa: ANN001
        button = event.button()
        if button == Qt.MouseButton.MiddleButton:
            self._pan = event.position().toPoint()
            return True
        if button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return False
        self.view.setFocus()  # "[" and "]" reach the tools
        self._erasing = button == Qt.MouseButton.RightButton or self.actions["mask_eraser"].isChecked()
        self._stroke = self._at(event)
        self.canvas.stroke(self._stroke, self._stroke, self.brush_size, erase=self._erasing)
        return True

    def _move(self, event) -> bool:  # noqa: ANN001
        at = self._at(event)
        self._ring.setPos(at)
        self._ring.show()
        if self._pan is not None:
            delta = event.position().toPoint() - self._pan
            self._pan = event.position().toPoint()
            for bar, step in ((self.view.horizontalScrollBar(), delta.x()),
                              (self.view.verticalScrollBar(), delta.y())):
                bar.setValue(bar.value() - step)
            return True
        if self._stroke is None:
            return False
        self.canvas.stroke(self._stroke, at, self.brush_size, erase=self._erasing)
        self._stroke = at
        return True

    def _release(self) -> bool:
        if self._pan is not None:
            self._pan = None
            return True
        if self._stroke is None:
            return False
        self._stroke = None
        self._edited()
        return True
