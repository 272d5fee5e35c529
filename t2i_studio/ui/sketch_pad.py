"""The sketch pad: the canvas (``ui.sketch_canvas``) under its tools, whose drawing is the
scribble ControlNet's control image (issue #13): pen, eraser, pen size, undo, redo, clear, and the
canvas size, which follows the generation's."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QSpinBox, QToolButton, QVBoxLayout, QWidget

from t2i_studio.core.atomic import write_atomic
from t2i_studio.ui.sketch_canvas import CANVAS_SIZES, PEN_MAX, PEN_MIN, SketchCanvas


class SketchPad(QWidget):
    """The canvas under its tools: pen, eraser, pen size, undo, redo, clear; and the canvas size."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Sketch pad")
        self.canvas = SketchCanvas(self)
        actions = self.canvas.tool_actions
        self.addActions(list(actions.values()))  # their keys work anywhere in the pad
        self.buttons = {name: self._button(actions[name]) for name in
                        ("sketch_pen", "sketch_eraser", "sketch_undo", "sketch_redo", "sketch_clear")}
        size_tip = "Pen size in canvas pixels ([ thinner, ] thicker)"
        self.size_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.size_spin = QSpinBox(self)
        for control, name in ((self.size_slider, "Pen size"), (self.size_spin, "Pen size in pixels")):
            control.setRange(PEN_MIN, PEN_MAX)
            control.setValue(self.canvas.pen_size)
            control.setAccessibleName(name)
            control.setToolTip(size_tip)
            control.valueChanged.connect(self.canvas.set_pen_size)
        self.size_slider.setMinimumWidth(60)
        self.size_slider.setMaximumWidth(120)
        self.size_spin.setSuffix(" px")
        self.canvas.pen_size_changed.connect(self._pen_size_shown)
        size_label = QLabel("Size", self)
        size_label.setBuddy(self.size_spin)
        size_label.setToolTip(size_tip)
        self.size_choice = QComboBox(self)
        self.size_choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.size_choice.setAccessibleName("Canvas size")
        self.size_choice.setToolTip("The sketch's size in pixels: it follows the generation size; another "
                                    "size stretches the drawing to it and starts the undo history afresh")
        for width, height in CANVAS_SIZES:
            self.size_choice.addItem(f"{width} × {height}", f"{width}x{height}")
        self._generation: tuple[int, int] | None = None
        self._show_size()
        self.size_choice.activated.connect(self._size_chosen)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        size_choice_label = QLabel("Canvas", self)
        size_choice_label.setBuddy(self.size_choice)
        size_choice_label.setToolTip(self.size_choice.toolTip())
        tools, sizes = QHBoxLayout(), QHBoxLayout()
        for row, items in ((tools, ("sketch_pen", "sketch_eraser", 12, size_label, self.size_slider,
                                    self.size_spin, None, "sketch_undo", "sketch_redo", "sketch_clear")),
                           (sizes, (size_choice_label, self.size_choice, None))):
            row.setContentsMargins(0, 0, 0, 0)
            row.setSpacing(4)
            for item in items:
                if item is None:
                    row.addStretch(1)
                elif isinstance(item, int):
                    row.addSpacing(item)
                else:
                    row.addWidget(self.buttons[item] if isinstance(item, str) else item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tools)
        layout.addLayout(sizes)
        layout.addWidget(self.canvas, 1)
        self.canvas.changed.connect(self._show_size)  # a size set on the canvas itself shows too
        self.canvas.changed.connect(self.changed)

    def _button(self, action) -> QToolButton:  # noqa: ANN001 - a QAction
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setAccessibleName(action.text())
        button.setAutoRaise(True)
        return button

    # --- the canvas size ---------------------------------------------------------------------------
    def set_canvas_size(self, width: int, height: int) -> None:
        """The generation's size: the canvas follows it (the drawing stretched to it)."""
        self._generation = (width, height)
        self.canvas.set_canvas_size(width, height)
        self._show_size()

    def _show_size(self) -> None:
        """The choice shows the canvas's size; the generation's own is the first entry."""
        choice = self.size_choice
        if self._generation is not None:
            text = "{} × {} (generation)".format(*self._generation)
            if choice.itemData(0) == "generation":
                choice.setItemText(0, text)
            else:
                choice.insertItem(0, text, "generation")
        size = self.canvas.canvas_size()
        wanted = (size.width(), size.height())
        index = 0 if wanted == self._generation else choice.findData("{}x{}".format(*wanted))
        if index < 0:
            choice.addItem("{} × {}".format(*wanted), "{}x{}".format(*wanted))
            index = choice.count() - 1
        choice.setCurrentIndex(index)

    def _size_chosen(self, index: int) -> None:
        data = self.size_choice.itemData(index)
        width, height = self._generation if data == "generation" else map(int, data.split("x"))
        self.canvas.set_canvas_size(width, height)

    def _pen_size_shown(self, diameter: int) -> None:
        for control in (self.size_slider, self.size_spin):
            control.setValue(diameter)  # the same value again emits nothing: no loop

    # --- the drawing -------------------------------------------------------------------------------
    def canvas_size(self) -> QSize:
        return self.canvas.canvas_size()

    def is_empty(self) -> bool:
        return self.canvas.is_empty()

    def image(self) -> QImage:
        """The scribble map: white lines on black, RGB, the canvas's size."""
        return self.canvas.image()

    def save_png(self, path: str | Path) -> str:
        """Write the scribble map to ``path`` as a PNG, atomically (a temp file beside it, then
        replaced); returns the path written."""
        picture = self.canvas.scribble()
        return str(write_atomic(path, lambda handle: picture.save(handle, format="PNG")))

    def load_image(self, path: str | Path) -> None:
        """Start from a picture (a reused control image, a line drawing): see ``SketchCanvas``."""
        self.canvas.load_image(path)
