"""Output size: presets by aspect ratio, or custom width/height snapped to multiples of 8."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from t2i_studio.core.requests import MAX_SIDE

ASPECTS = (("1:1 square", 1, 1), ("4:3 landscape", 4, 3), ("3:4 portrait", 3, 4),
           ("3:2 landscape", 3, 2), ("2:3 portrait", 2, 3), ("16:9 wide", 16, 9),
           ("9:16 tall", 9, 16))
CUSTOM = "Custom"


def snap8(value: int) -> int:
    return max(64, min(MAX_SIDE, int(value / 8 + 0.5) * 8))  # half up: 100 -> 104


def size_for(aspect_w: int, aspect_h: int, long_side: int) -> tuple[int, int]:
    if aspect_w >= aspect_h:
        return snap8(long_side), snap8(long_side * aspect_h / aspect_w)
    return snap8(long_side * aspect_w / aspect_h), snap8(long_side)


class SizePicker(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.aspect = QComboBox(self)
        for label, w, h in ASPECTS:
            self.aspect.addItem(label, (w, h))
        self.aspect.addItem(CUSTOM, None)
        self.aspect.setAccessibleName("Aspect ratio")
        # the preset names elide in a narrow panel rather than widen it
        self.aspect.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.aspect.setMinimumContentsLength(5)
        self.aspect.setToolTip("Aspect ratio preset (the long side stays as it is)")
        self.width_spin, self.height_spin = QSpinBox(self), QSpinBox(self)
        for spin, name in ((self.width_spin, "Width"), (self.height_spin, "Height")):
            spin.setRange(64, MAX_SIDE)
            spin.setSingleStep(8)
            spin.setSuffix(" px")
            spin.setAccessibleName(name)
            spin.setToolTip(f"{name} in pixels, a multiple of 8 (snapped when you leave the field)")
            spin.valueChanged.connect(self._typed)
            spin.editingFinished.connect(lambda s=spin: self._snap(s))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.aspect, 1)
        layout.addWidget(self.width_spin)
        layout.addWidget(QLabel("×", self))
        layout.addWidget(self.height_spin)
        self._updating = False
        self.set_size(512, 512)
        self.aspect.currentIndexChanged.connect(self._aspect_chosen)

    def size(self) -> tuple[int, int]:  # type: ignore[override]
        return self.width_spin.value(), self.height_spin.value()

    def set_size(self, width: int, height: int) -> None:
        self._updating = True
        self.width_spin.setValue(int(width))
        self.height_spin.setValue(int(height))
        self._updating = False
        self._sync_aspect()
        self.changed.emit()

    def _aspect_chosen(self, index: int) -> None:
        ratio = self.aspect.itemData(index)
        if ratio is None or self._updating:
            return
        self.set_size(*size_for(ratio[0], ratio[1], max(self.size())))

    def _typed(self, _value: int) -> None:
        if not self._updating:
            self._sync_aspect()
            self.changed.emit()

    def _snap(self, spin: QSpinBox) -> None:
        if spin.value() % 8:
            spin.setValue(snap8(spin.value()))

    def _sync_aspect(self) -> None:
        width, height = self.size()
        index = self.aspect.count() - 1
        for i, (_label, w, h) in enumerate(ASPECTS):
            if size_for(w, h, max(width, height)) == (width, height):
                index = i
                break
        self._updating = True
        self.aspect.setCurrentIndex(index)
        self._updating = False
