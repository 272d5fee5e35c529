"""The prompt panel's "Inpaint / Outpaint" section: the editing mode and its options.

Both modes start from the picture in the viewer (the mask tools' ``target``); inpainting adds the
mask painted there (``MaskTools``: the mask, its feather). Outpainting adds pixels on each side,
typed or worked out for an aspect ratio (``core.masks.sides_for_aspect``). The section builds the
``ImageInputs`` fields of its mode and shows those of a reused request; the init strength stays
the panel's.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QImageReader
from PySide6.QtWidgets import (
    QFormLayout, QGridLayout, QGroupBox, QLabel, QSizePolicy, QSpinBox, QVBoxLayout, QWidget,
)

from t2i_studio.core.masks import sides_for_aspect
from t2i_studio.core.requests import MAX_SIDE, ImageInputs
from t2i_studio.ui.controls import ElidedLabel, choose, combo

if TYPE_CHECKING:
    from t2i_studio.ui.mask_editor import MaskTools

EDIT_MODES = (("Off", ""), ("Inpaint", "inpaint"), ("Outpaint", "outpaint"))
MASKED_CONTENT = (("Original", "original"), ("Fill", "fill"), ("Latent noise", "latent_noise"))
INPAINT_AREAS = (("Whole picture", "whole"), ("Only masked", "masked"))
FILLS = (("Edge", "edge"), ("Noise", "noise"))
BY_PIXELS = "Pixels"
RATIOS = ("1:1", "4:3", "3:2", "16:9", "21:9", "3:4", "2:3", "9:16")
SIDES = ("Left", "Right", "Top", "Bottom")


class InpaintSection(QGroupBox):
    changed = Signal()  # anything the request's mode or image inputs depend on

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Inpaint / Outpaint", parent)
        self.tools: MaskTools | None = None
        self._offered: tuple[str, ...] = ("inpaint", "outpaint")
        self.mode = combo(self, "Edit mode", "Inpaint: regenerate what the mask covers. Outpaint: extend "
                           "the picture. Both start from the picture in the viewer.", EDIT_MODES)
        self.picture = ElidedLabel(self)
        self.picture.setAccessibleName("Picture to edit")

        self.masked_content = combo(self, "Masked content", "What the area to regenerate starts from: the "
                                     "picture, colours from around it, or noise", MASKED_CONTENT)
        self.inpaint_box = QWidget(self)
        self.area = combo(self.inpaint_box, "Inpaint area", "Whole picture, or only a crop around the mask "
                           "at the generation size (fine detail in large pictures)", INPAINT_AREAS)
        self.padding = QSpinBox(self.inpaint_box)
        self.padding.setRange(0, 1024)
        self.padding.setValue(ImageInputs.padding)
        self.padding.setSuffix(" px")
        self.padding.setAccessibleName("Only-masked padding")
        self.padding.setToolTip("Only masked: pixels of the picture around the mask the model sees")
        self.hint = QLabel("Paint the mask over the picture in the viewer: white areas are regenerated.",
                           self.inpaint_box)
        self.hint.setWordWrap(True)
        # a long hint wraps in the width the panel has, never widens it
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        inpaint_form = QFormLayout(self.inpaint_box)
        inpaint_form.setContentsMargins(0, 0, 0, 0)
        inpaint_form.addRow(self.hint)
        inpaint_form.addRow("Area", self.area)
        inpaint_form.addRow("Padding", self.padding)

        self.outpaint_box = QWidget(self)
        self.ratio = combo(self.outpaint_box, "Outpaint to", "Pixels: type how many to add on each side; "
                            "a ratio: added evenly to reach that aspect ratio",
                            ((BY_PIXELS, None), *((ratio, ratio) for ratio in RATIOS)))
        self.sides = []
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        for k, name in enumerate(SIDES):
            spin = QSpinBox(self.outpaint_box)
            spin.setRange(0, MAX_SIDE)
            spin.setSingleStep(8)
            spin.setSuffix(" px")
            spin.setAccessibleName(f"Outpaint {name.lower()}")
            spin.setToolTip(f"Pixels added on the {name.lower()}")
            grid.addWidget(QLabel(name, self.outpaint_box), k // 2, (k % 2) * 2)
            grid.addWidget(spin, k // 2, (k % 2) * 2 + 1)
            self.sides.append(spin)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.fill = combo(self.outpaint_box, "Outpaint fill", "What the new area starts from: the picture's "
                           "edges stretched out, or noise", FILLS)
        outpaint_form = QFormLayout(self.outpaint_box)
        outpaint_form.setContentsMargins(0, 0, 0, 0)
        outpaint_form.addRow("Extend", self.ratio)
        outpaint_form.addRow(grid)
        outpaint_form.addRow("Fill", self.fill)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Mode", self.mode)
        form.addRow(self.picture)
        form.addRow("Content", self.masked_content)
        self.form = form
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.inpaint_box)
        layout.addWidget(self.outpaint_box)

        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.ratio.currentIndexChanged.connect(lambda _i: self._picture_changed())
        self.area.currentIndexChanged.connect(self._area_changed)
        for widget in (self.masked_content, self.fill):
            widget.currentIndexChanged.connect(lambda _i: self.changed.emit())
        for spin in (self.padding, *self.sides):
            spin.valueChanged.connect(lambda _v: self.changed.emit())
        self.set_modes(self._offered)  # none until the viewer's mask tools are attached
        self._area_changed()
        self._mode_changed()

    def attach(self, tools: MaskTools) -> None:
        """The viewer's mask tools: the picture edited and the mask painted over it."""
        self.tools = tools
        tools.active_changed.connect(self._tools_toggled)
        tools.changed.connect(self._picture_changed)
        self.set_modes(self._offered)

    def _tools_toggled(self, on: bool) -> None:
        """The viewer's Inpaint button: on is inpainting; off ends it (but not outpainting)."""
        if on or self.edit_mode() == "inpaint":
            self.set_edit_mode("inpaint" if on else "")

    # --- modes -------------------------------------------------------------------------------------
    def set_modes(self, modes: tuple[str, ...]) -> None:
        """Offer the editing modes among ``modes`` (the chosen engine's); none without mask tools."""
        self._offered = tuple(modes)
        available = [m for m in ("inpaint", "outpaint") if m in modes] if self.tools is not None else []
        current = self.edit_mode()
        self.mode.blockSignals(True)
        self.mode.clear()
        for label, value in EDIT_MODES:
            if not value or value in available:
                self.mode.addItem(label, value)
        choose(self.mode, current)
        self.mode.blockSignals(False)
        if self.tools is not None:
            self.tools.set_available("inpaint" in available)
        if self.edit_mode() != current:
            self._mode_changed()
        self.setVisible(bool(available))

    def edit_mode(self) -> str:
        """"inpaint", "outpaint", or "" (off)."""
        return str(self.mode.currentData() or "")

    def set_edit_mode(self, mode: str) -> bool:
        """Switch to ``mode`` ("" off); False when the engine (or a missing viewer) does not offer it."""
        index = self.mode.findData(mode)
        if index < 0:
            return False
        self.mode.setCurrentIndex(index)
        return True

    def _mode_changed(self) -> None:
        mode = self.edit_mode()
        self.inpaint_box.setVisible(mode == "inpaint")
        self.outpaint_box.setVisible(mode == "outpaint")
        self.picture.setVisible(bool(mode))
        self.form.setRowVisible(self.masked_content, bool(mode))
        if self.tools is not None:
            self.tools.set_active(mode == "inpaint")
        self._picture_changed()

    def _area_changed(self) -> None:
        self.padding.setEnabled(self.area.currentData() == "masked")
        self.changed.emit()

    # --- the picture -------------------------------------------------------------------------------
    def init_image(self) -> str | None:
        return (self.tools.target or None) if self.tools is not None and self.edit_mode() else None

    def _picture_size(self) -> tuple[int, int] | None:
        path = self.init_image()
        size = QImageReader(path).size() if path else None
        return (size.width(), size.height()) if size is not None and size.isValid() else None

    def _picture_changed(self) -> None:
        """Say which picture is edited (and what outpainting makes of it); sides for a ratio."""
        path, size = self.init_image(), self._picture_size()
        ratio = self._ratio()
        for spin in self.sides:
            spin.setEnabled(ratio is None)
        if ratio is not None and size is not None:
            for spin, value in zip(self.sides, sides_for_aspect(size, ratio)):
                spin.blockSignals(True)
                spin.setValue(value)
                spin.blockSignals(False)
        if not path:
            text = "Show a picture in the viewer to edit it."
        elif size is None:
            text = Path(path).name
        elif self.edit_mode() == "outpaint":
            left, right, top, bottom = self._outpaint()
            wide, high = size[0] + left + right, size[1] + top + bottom
            text = f"{Path(path).name}: {size[0]}×{size[1]} → {wide}×{high}"
        else:
            text = f"{Path(path).name}: {size[0]}×{size[1]}"
        self.picture.setText(text)
        self.changed.emit()

    def _ratio(self) -> tuple[int, int] | None:
        chosen = self.ratio.currentData()
        if not chosen:
            return None
        across, down = chosen.split(":")
        return int(across), int(down)

    def _outpaint(self) -> tuple[int, int, int, int]:
        left, right, top, bottom = (spin.value() for spin in self.sides)
        return left, right, top, bottom

    # --- requests ----------------------------------------------------------------------------------
    def fields(self) -> dict[str, Any]:
        """The ``ImageInputs`` fields of the mode chosen (none when off)."""
        mode, content = self.edit_mode(), self.masked_content.currentData()
        if mode == "inpaint" and self.tools is not None:
            return {"mask": self.tools.mask_value(), "mask_blur": self.tools.feather.value(),
                    "inpaint_area": self.area.currentData(), "padding": self.padding.value(),
                    "masked_content": content}
        if mode == "outpaint":  # the new area starts from the masked content too
            return {"outpaint": self._outpaint(), "outpaint_fill": self.fill.currentData(),
                    "masked_content": content}
        return {}

    def problem(self) -> str:
        """What stops the mode's request that the request itself cannot say (the mask tools')."""
        if self.tools is None or not self.edit_mode():
            return ""
        if not self.tools.target:
            return f"Show a picture in the viewer (open one from the gallery) to {self.edit_mode()} it."
        return self.tools.problem() if self.edit_mode() == "inpaint" else ""

    def set_images(self, mode: str, images: ImageInputs) -> None:
        """Show a reused request's mode and inputs: its picture in the viewer, with its mask."""
        choose(self.masked_content, images.masked_content)
        choose(self.area, images.inpaint_area)
        self.padding.setValue(images.padding)
        choose(self.fill, images.outpaint_fill)
        self.ratio.setCurrentIndex(0)  # requests keep pixels
        for spin, value in zip(self.sides, images.outpaint):
            spin.setValue(value)
        edit = mode if mode in ("inpaint", "outpaint") else ""
        if edit and self.tools is not None:
            mask = images.mask if edit == "inpaint" else None
            self.tools.restore(images.init_image, mask, images.mask_blur)
        if not self.set_edit_mode(edit):  # the engine cannot: the request shows as what it can do
            self.set_edit_mode("")
