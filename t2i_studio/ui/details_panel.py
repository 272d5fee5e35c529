"""The Details tab: everything about the selected image — prompt, negative prompt, every setting,
what it was made from and how it ran — with copy buttons, so nothing has to be retyped."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QPlainTextEdit, QPushButton, QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)

from t2i_studio.core.image_details import details
from t2i_studio.core.metadata import parameters_for
from t2i_studio.core.project import Entry
from t2i_studio.ui.controls import ElidedLabel


class DetailsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = ElidedLabel(self)
        self.prompt = self._text_box("Prompt")
        self.negative = self._text_box("Negative prompt")
        self.table = QTableWidget(0, 2, self)
        self.table.setAccessibleName("Settings of the selected image")
        self.table.horizontalHeader().setVisible(False)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.copy_prompt = QPushButton("Copy prompt", self)
        self.copy_negative = QPushButton("Copy negative", self)
        self.copy_all = QPushButton("Copy all settings", self)
        self.copy_all.setToolTip("The AUTOMATIC1111 'parameters' text: other tools paste it as settings")
        buttons = QHBoxLayout()
        for button in (self.copy_prompt, self.copy_negative, self.copy_all):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        lines = self.fontMetrics().lineSpacing()
        self.prompt.setMaximumHeight(lines * 4 + 12)  # the settings table gets the room
        self.negative.setMaximumHeight(lines * 2 + 12)
        layout.addWidget(self.prompt)
        layout.addWidget(self.negative)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.copy_prompt.clicked.connect(lambda: _copy(self.prompt.toPlainText()))
        self.copy_negative.clicked.connect(lambda: _copy(self.negative.toPlainText()))
        self.copy_all.clicked.connect(lambda: _copy(self._parameters))
        self._parameters = ""
        self.show_entry(None)

    def _text_box(self, name: str) -> QPlainTextEdit:
        box = QPlainTextEdit(self)
        box.setReadOnly(True)
        box.setAccessibleName(name)
        box.setPlaceholderText(name)
        return box

    def show_entry(self, entry: Entry | None) -> None:
        """Show ``entry``'s settings (None: nothing selected)."""
        params = entry.params if entry is not None else {}
        self.title.setText(f"#{entry.id} · {entry.width}×{entry.height} · {entry.kind}" if entry else
                           "Select an image in the gallery to see how it was made.")
        self.prompt.setPlainText(entry.prompt if entry else "")
        self.negative.setPlainText(entry.negative_prompt if entry else "")
        rows = details(params) if params else []
        self.table.setRowCount(len(rows))
        for row, (label, value) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(label))
            item = QTableWidgetItem(value)
            item.setToolTip(value)
            self.table.setItem(row, 1, item)
        self._parameters = (parameters_for(params) or params.get("parameters") or "") if params else ""
        self.copy_prompt.setEnabled(bool(entry and entry.prompt))
        self.copy_negative.setEnabled(bool(entry and entry.negative_prompt))
        self.copy_all.setEnabled(bool(self._parameters))

    def value(self, label: str) -> str | None:
        """The shown value of ``label`` (None when not shown)."""
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text() == label:
                return self.table.item(row, 1).text()
        return None


def _copy(text: str) -> None:
    QGuiApplication.clipboard().setText(text)
