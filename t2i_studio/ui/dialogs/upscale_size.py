"""How large an upscale comes out: by a factor, or to fit a paper (one of ``core.print_sizes.PAPERS``
or a custom width × height in mm, cm or inches) at a print resolution. The paper turns to the
picture's orientation (``print_target``), so one choice serves portrait and landscape pictures.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel, QRadioButton, QSpinBox, QWidget,
)

from t2i_studio.core.print_sizes import MAX_DPI, PAPERS, UNITS, Paper, print_target
from t2i_studio.core.requests import Upscale

CUSTOM = "custom"
DEFAULT_DPI = 300


class UpscaleSizePicker(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.by_factor = QRadioButton("By &factor", self)
        self.by_factor.setChecked(True)
        self.factor = QDoubleSpinBox(self)
        self.factor.setRange(1.0, 8.0)
        self.factor.setDecimals(2)
        self.factor.setSingleStep(0.5)
        self.factor.setValue(2.0)
        self.factor.setSuffix(" ×")
        self.factor.setAccessibleName("Upscale factor")
        self.factor.setToolTip("How many times wider and taller the result is (1 to 8)")
        self.for_print = QRadioButton("For &print", self)
        self.for_print.setToolTip("Large enough to fill a paper at the print resolution, keeping the picture's "
                                  "shape")
        self.paper = QComboBox(self)
        for name, (width, height, unit) in PAPERS.items():
            self.paper.addItem(f"{name} · {width:g} × {height:g} {unit}", name)
        self.paper.addItem("Custom size", CUSTOM)
        self.paper.setAccessibleName("Paper")
        self.paper.setToolTip("The paper turns to the picture: landscape pictures print across it")
        self.custom_width, self.custom_height = (self._length(name, value) for name, value in
                                                 (("Custom width", 20.0), ("Custom height", 30.0)))
        self.unit = QComboBox(self)
        self.unit.addItems(UNITS)
        self.unit.setCurrentText("cm")
        self.unit.setAccessibleName("Custom size unit")
        self.dpi = QSpinBox(self)
        self.dpi.setRange(1, MAX_DPI)
        self.dpi.setValue(DEFAULT_DPI)
        self.dpi.setSuffix(" dpi")
        self.dpi.setAccessibleName("Print resolution")
        self.dpi.setToolTip("Dots per inch on paper (300 for prints, 150 for posters seen from afar); "
                            "written into the file")
        modes = QButtonGroup(self)
        modes.addButton(self.by_factor)
        modes.addButton(self.for_print)

        self.custom = QWidget(self)  # shown for a custom paper only
        custom = QHBoxLayout(self.custom)
        custom.setContentsMargins(0, 0, 0, 0)
        custom.addWidget(self.custom_width, 1)
        custom.addWidget(QLabel("×", self.custom))
        custom.addWidget(self.custom_height, 1)
        custom.addWidget(self.unit)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setColumnStretch(1, 1)
        grid.addWidget(self.by_factor, 0, 0)
        grid.addWidget(self.factor, 0, 1)
        grid.addWidget(self.for_print, 1, 0)
        grid.addWidget(self.paper, 1, 1)
        grid.addWidget(self.custom, 2, 1)
        grid.addWidget(QLabel("Print resolution", self), 3, 0)
        grid.addWidget(self.dpi, 3, 1)

        for button in (self.by_factor, self.for_print):
            button.toggled.connect(self._update)
        for box in (self.paper, self.unit):
            box.currentIndexChanged.connect(self._update)
        for spin in (self.factor, self.custom_width, self.custom_height, self.dpi):
            spin.valueChanged.connect(self.changed)
        self._update()

    def _length(self, name: str, value: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(self)
        spin.setRange(0.01, 10_000.0)
        spin.setDecimals(2)
        spin.setValue(value)
        spin.setAccessibleName(name)
        return spin

    def _update(self) -> None:
        printing = self.for_print.isChecked()
        self.factor.setEnabled(not printing)
        self.paper.setEnabled(printing)
        self.custom.setVisible(printing and self.paper.currentData() == CUSTOM)
        self.changed.emit()

    def paper_choice(self) -> Paper | None:
        """The paper chosen (a name or ``(width, height, unit)``); None when sizing by factor."""
        if not self.for_print.isChecked():
            return None
        name = self.paper.currentData()
        if name != CUSTOM:
            return name
        return self.custom_width.value(), self.custom_height.value(), self.unit.currentText()

    def unit_shown(self) -> str:
        """The unit the print size reads best in: the paper's own (centimetres when by factor)."""
        paper = self.paper_choice()
        if paper is None:
            return "cm"
        return self.unit.currentText() if isinstance(paper, tuple) else PAPERS[paper][2]

    def target(self, size: tuple[int, int]) -> tuple[int, int]:
        """The result's pixels for a picture of ``size``; ``ValueError`` for a paper that cannot be."""
        paper = self.paper_choice()
        if paper is None:
            return Upscale(scale=self.factor.value()).target(*size)
        return print_target(size, paper, self.dpi.value())

    # -- remembered between upscales ---------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"by": "print" if self.for_print.isChecked() else "factor", "factor": self.factor.value(),
                "paper": self.paper.currentData(), "dpi": self.dpi.value(),
                "custom": [self.custom_width.value(), self.custom_height.value(), self.unit.currentText()]}

    def load_state(self, state: dict[str, Any]) -> None:
        """Unknown or damaged values keep the defaults."""
        (self.for_print if state.get("by") == "print" else self.by_factor).setChecked(True)
        index = self.paper.findData(state.get("paper"))
        if index >= 0:
            self.paper.setCurrentIndex(index)
        if isinstance(state.get("factor"), (int, float)):
            self.factor.setValue(state["factor"])
        if isinstance(state.get("dpi"), int):
            self.dpi.setValue(state["dpi"])
        custom = state.get("custom")
        if isinstance(custom, list) and len(custom) == 3 and custom[2] in UNITS and \
                all(isinstance(v, (int, float)) for v in custom[:2]):
            self.custom_width.setValue(custom[0])
            self.custom_height.setValue(custom[1])
            self.unit.setCurrentText(custom[2])
