"""The prompt panel's LoRAs: one row per LoRA (its name, a weight slider, remove), added from files.

``adapters()`` gives them as the request carries them; ``set_adapters()`` shows a request's (reuse
settings), so an image made with LoRAs reuses them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QStyle, QVBoxLayout, QWidget

from t2i_studio.core.requests import Adapter
from t2i_studio.ui.controls import ElidedLabel, FloatSlider, icon_button

WEIGHT_RANGE = (-2.0, 2.0)  # what the slider offers; a request may carry up to ±4 (typed in the CLI)


class _Row(QWidget):
    def __init__(self, adapter: Adapter, parent: QWidget) -> None:
        super().__init__(parent)
        self.adapter = adapter
        self.name = ElidedLabel(self)
        self.name.setText(Path(adapter.source).stem or adapter.source)
        self.name.setToolTip(adapter.source)
        low, high = WEIGHT_RANGE
        self.weight = FloatSlider(f"Weight of {self.name.text()}", min(low, adapter.weight),
                                  max(high, adapter.weight), adapter.weight, decimals=2, parent=self,
                                  tooltip="How strongly this LoRA pulls the picture (0: not at all)")
        self.remove = icon_button(self, f"Remove {self.name.text()}", "Stop using this LoRA",
                                  icon=QStyle.StandardPixmap.SP_DialogDiscardButton)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.name, 1)
        layout.addWidget(self.weight, 2)
        layout.addWidget(self.remove)


class LoraList(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self.empty = QLabel("No LoRA: the model as it is.", self)
        self.empty.setEnabled(False)
        self.add_button = icon_button(self, "Add LoRA", "Add a LoRA (.safetensors)…", text="+")
        self.add_button.clicked.connect(self._pick)
        self._rows_box = QVBoxLayout()
        self._rows_box.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.empty, 1)
        top.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._rows_box)
        layout.addLayout(top)

    def adapters(self) -> tuple[Adapter, ...]:
        return tuple(Adapter(row.adapter.source, row.adapter.kind, row.weight.value()) for row in self._rows)

    def set_adapters(self, adapters: tuple[Adapter, ...]) -> None:
        for row in list(self._rows):
            self._drop(row, emit=False)
        for adapter in adapters:
            self.add(adapter, emit=False)
        self.changed.emit()

    def add(self, adapter: Adapter, *, emit: bool = True) -> None:
        row = _Row(adapter, self)
        row.weight.valueChanged.connect(lambda _v: self.changed.emit())
        row.remove.clicked.connect(lambda: self._drop(row))
        self._rows.append(row)
        self._rows_box.addWidget(row)
        self.empty.setVisible(False)
        if emit:
            self.changed.emit()

    def _drop(self, row: _Row, *, emit: bool = True) -> None:
        self._rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self.empty.setVisible(not self._rows)
        if emit:
            self.changed.emit()

    def _pick(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a LoRA", "", "LoRA (*.safetensors)")
        if path:
            self.add(Adapter(path))
