"""The prompt panel's "Hires fix" section: text-to-image made at the panel's size, upscaled by a
factor or to a size, then refined by a second pass (A1111's hires fix, ``core.requests.Hires``).

Off, the section is one check box; on, it shows its settings in a frame below it, and the size the
picture ends at ("512×512 → 1024×1024"). Upscalers: Latent, Lanczos, and the model upscalers the
window offers (``set_upscalers``, the names of the upscaler library's files).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget,
)

from t2i_studio.core.a1111 import upscaler_label
from t2i_studio.core.requests import LANCZOS, LATENT_UPSCALER, MAX_SIDE, Hires
from t2i_studio.ui.controls import FloatSlider

BUILT_IN = (LATENT_UPSCALER, LANCZOS)
BY_FACTOR, TO_SIZE = "factor", "size"


class HiresSection(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = (512, 512)
        self.on = QCheckBox("Hires fix", self)
        self.on.setAccessibleName("Hires fix")
        self.set_usable(True)
        self.body = QGroupBox(self)  # a frame without a title: an empty one stays hidden while off
        self.by = QComboBox(self.body)
        self.by.addItem("By factor", BY_FACTOR)
        self.by.addItem("To size", TO_SIZE)
        self.by.setAccessibleName("Hires upscale by")
        self.by.setToolTip("Upscale by a factor, or to a width and height")
        self.scale = FloatSlider("Hires upscale factor", 1.0, 4.0, Hires.scale, parent=self.body,
                                 tooltip="How many times larger the final picture is")
        self.size_row = QWidget(self.body)
        self.target_width, self.target_height = QSpinBox(self.size_row), QSpinBox(self.size_row)
        size_layout = QHBoxLayout(self.size_row)
        size_layout.setContentsMargins(0, 0, 0, 0)
        for spin, name in ((self.target_width, "width"), (self.target_height, "height")):
            spin.setRange(64, MAX_SIDE)
            spin.setSingleStep(8)
            spin.setSuffix(" px")
            spin.setValue(1024)
            spin.setAccessibleName(f"Hires {name}")
            spin.setToolTip(f"The final picture's {name}, a multiple of 8")
        size_layout.addWidget(self.target_width, 1)
        size_layout.addWidget(QLabel("×", self.size_row))
        size_layout.addWidget(self.target_height, 1)
        self.upscaler = QComboBox(self.body)
        self.upscaler.setAccessibleName("Hires upscaler")
        self.upscaler.setToolTip("Latent: enlarge the latents (fast, softer). Lanczos or a model: enlarge "
                                 "the picture, then refine it")
        self.upscaler.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.upscaler.setMinimumContentsLength(8)  # a long model name elides rather than widen the panel
        self.set_upscalers([])
        self.steps = QSpinBox(self.body)
        self.steps.setRange(0, 500)
        self.steps.setSpecialValueText("Same as steps")
        self.steps.setAccessibleName("Hires steps")
        self.steps.setToolTip("Steps of the second pass; 0: as many as the first")
        self.strength = FloatSlider("Hires denoising strength", 0.0, 1.0, Hires.strength, parent=self.body,
                                    tooltip="How much the second pass may change: 0 keeps the upscaled "
                                            "picture, 1 redraws it")
        self.result = QLabel(self.body)
        self.result.setAccessibleName("Hires result size")
        self.form = QFormLayout(self.body)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.addRow("Upscale", self.by)
        self.form.addRow("Factor", self.scale)
        self.form.addRow("Size", self.size_row)
        self.form.addRow("Upscaler", self.upscaler)
        self.form.addRow("Steps", self.steps)
        self.form.addRow("Strength", self.strength)
        self.form.addRow("Result", self.result)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.on)
        layout.addWidget(self.body)

        self.on.toggled.connect(self._update)
        self.by.currentIndexChanged.connect(self._update)
        for signal in (self.scale.valueChanged, self.target_width.valueChanged,
                       self.target_height.valueChanged, self.upscaler.currentIndexChanged,
                       self.steps.valueChanged, self.strength.valueChanged):
            signal.connect(self._update)
        self._update()

    def set_usable(self, usable: bool) -> None:
        """Only text-to-image has a hires fix (an init image, inpainting or outpainting: off)."""
        self.setEnabled(usable)
        self.on.setToolTip("Make the picture at the panel's size, upscale it, then refine it at the larger "
                           "size (sharper large pictures than generating them directly)" if usable else
                           "The hires fix refines text-to-image: clear the init image, or turn inpainting "
                           "and outpainting off")

    def set_upscalers(self, names: list[str]) -> None:
        """Latent and Lanczos, then the model upscalers ``names`` (the current choice stays)."""
        current = self.upscaler.currentData() or LATENT_UPSCALER
        self.upscaler.blockSignals(True)
        self.upscaler.clear()
        for name in (*BUILT_IN, *(n for n in names if n not in BUILT_IN)):
            self.upscaler.addItem(upscaler_label(name), name)
            self.upscaler.setItemData(self.upscaler.count() - 1, name, Qt.ItemDataRole.ToolTipRole)
        self._choose_upscaler(current)
        self.upscaler.blockSignals(False)

    def _choose_upscaler(self, name: str) -> None:
        if self.upscaler.findData(name) < 0:  # a reused request's model, not in the library now
            self.upscaler.addItem(upscaler_label(name), name)
        self.upscaler.setCurrentIndex(self.upscaler.findData(name))

    def set_base_size(self, width: int, height: int) -> None:
        """The first pass's size (the panel's): what the factor multiplies."""
        self._base = (width, height)
        self._update()

    def hires(self) -> Hires | None:
        """The hires part of the request, None when off."""
        if not self.on.isChecked():
            return None
        sized = self.by.currentData() == TO_SIZE
        return Hires(scale=self.scale.value(), width=self.target_width.value() if sized else 0,
                     height=self.target_height.value() if sized else 0,
                     upscaler=str(self.upscaler.currentData()), steps=self.steps.value(),
                     strength=self.strength.value())

    def set_hires(self, hires: Hires | None) -> None:
        self.on.setChecked(hires is not None)
        if hires is None:
            return
        self.by.setCurrentIndex(self.by.findData(TO_SIZE if hires.width and hires.height else BY_FACTOR))
        self.scale.setValue(hires.scale)
        if hires.width and hires.height:
            self.target_width.setValue(hires.width)
            self.target_height.setValue(hires.height)
        self._choose_upscaler(hires.upscaler)
        self.steps.setValue(hires.steps)
        self.strength.setValue(hires.strength)

    def _update(self, *_args: object) -> None:
        self.body.setVisible(self.on.isChecked())
        sized = self.by.currentData() == TO_SIZE
        self.form.setRowVisible(self.scale, not sized)
        self.form.setRowVisible(self.size_row, sized)
        hires = self.hires() or Hires()
        width, height = self._base
        target = hires.target(width, height)
        self.result.setText(f"{width}×{height} → {target[0]}×{target[1]}")
        self.changed.emit()
