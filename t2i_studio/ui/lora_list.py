"""The prompt panel's LoRAs: one row per ``<lora:name:weight>`` tag of the prompt (its name, a weight
slider, remove), and a picker of the LoRA folders' files.

The prompt is the one place LoRAs are said, as in A1111 and Forge, whose users type and paste tags
and expect a picked LoRA to appear as a tag they can edit: picking one (or adding a file with +)
adds its tag at the prompt's end, a slider rewrites its tag's weight, removing a row removes its tag,
and a tag typed or pasted into the prompt adds a row. Tags name files of the LoRA folders
(``core.lora_library``) or files added by hand; ``adapters()`` gives them, by path, as the request
carries them, and ``problem()`` says which names are unknown. ``set_adapters()`` shows a reused
request's, adding a tag for any LoRA its prompt does not name.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QHBoxLayout, QLabel, QPlainTextEdit, QStyle, QVBoxLayout, QWidget,
)

from t2i_studio.core import lora_library
from t2i_studio.core.lora_syntax import (
    DEFAULT_WEIGHT, LoraTag, append_tag, find_tags, lookup, lora_name, remove_tag, resolve, set_weight,
    with_tags,
)
from t2i_studio.core.requests import Adapter
from t2i_studio.ui.controls import ElidedLabel, FloatSlider, icon_button

WEIGHT_RANGE = (-2.0, 2.0)  # what the slider offers; a tag may say up to ±4
RELIST_S = 2.0  # while a tag names no known file, the folders are listed again this often as you type


class _Row(QWidget):
    def __init__(self, tag: LoraTag, parent: QWidget) -> None:
        super().__init__(parent)
        self.tag_name = tag.name  # the row shows the tag of this name, wherever the prompt has it
        self.name = ElidedLabel(self)
        low, high = WEIGHT_RANGE
        self.weight = FloatSlider(f"Weight of {tag.name}", min(low, tag.weight), max(high, tag.weight),
                                  tag.weight, decimals=2, parent=self,
                                  tooltip="How strongly this LoRA pulls the picture (0: not at all)")
        self.remove = icon_button(self, f"Remove {tag.name}", "Stop using this LoRA (its tag leaves the "
                                  "prompt)", icon=QStyle.StandardPixmap.SP_DialogDiscardButton)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.name, 1)
        layout.addWidget(self.weight, 2)
        layout.addWidget(self.remove)
        self.show_tag(tag, None)

    def show_tag(self, tag: LoraTag, path: str | None) -> None:
        self.name.setText(tag.name if path else f"{tag.name} (not found)")
        self.name.setToolTip(path or tag.problem or f"No LoRA file called {tag.name} in the LoRA folders")
        self.name.setStyleSheet("" if path else "color: #c0392b;")
        if abs(self.weight.value() - tag.weight) > 1e-9:
            self.weight.blockSignals(True)
            self.weight.setValue(tag.weight)
            self.weight.blockSignals(False)


class _Picker(QComboBox):
    """The LoRA folders' files, listed again each time the list opens (files come and go)."""

    opening = Signal()

    def showPopup(self) -> None:  # noqa: N802 - Qt's name
        self.opening.emit()
        super().showPopup()


class LoraList(QWidget):
    changed = Signal()
    folder_added = Signal(str)  # a LoRA folder the user chose: the window keeps it in the settings

    def __init__(self, prompt: QPlainTextEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._prompt = prompt
        self._rows: list[_Row] = []
        self._library: dict[str, str] = {}  # name -> path: the LoRA folders' files
        self._added: dict[str, str] = {}  # name -> path: files added with +, or a reused request's
        self._folders: list[Path] = []  # folders chosen in this session (the window saves them)
        self._listed_for: tuple[frozenset[str], float] = (frozenset(), 0.0)  # unknown names, when listed
        self.empty = QLabel("No LoRA: pick one, or type <lora:name:0.8> in the prompt.", self)
        self.empty.setEnabled(False)
        self.empty.setWordWrap(True)
        self.picker = _Picker(self)
        self.picker.setAccessibleName("LoRA folders")
        self.picker.setToolTip("Add a LoRA of the LoRA folders: its tag goes at the end of the prompt")
        self.picker.setPlaceholderText("Add a LoRA…")
        self.add_button = icon_button(self, "Add LoRA", "Add a LoRA file (.safetensors)…", text="+")
        self.folder_button = icon_button(self, "Add LoRA folder", "Offer the LoRAs of another folder too…",
                                         icon=QStyle.StandardPixmap.SP_DirOpenIcon)
        self._rows_box = QVBoxLayout()
        self._rows_box.setContentsMargins(0, 0, 0, 0)
        bottom = QHBoxLayout()
        bottom.addWidget(self.picker, 1)
        bottom.addWidget(self.add_button)
        bottom.addWidget(self.folder_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._rows_box)
        layout.addWidget(self.empty)
        layout.addLayout(bottom)
        self.picker.opening.connect(self.refresh)
        self.picker.activated.connect(lambda index: self.pick(self.picker.itemText(index)))
        self.add_button.clicked.connect(self._pick_file)
        self.folder_button.clicked.connect(self._pick_folder)
        prompt.textChanged.connect(self._sync)
        self.refresh()

    # --- what the request carries -----------------------------------------------------------
    def adapters(self) -> tuple[Adapter, ...]:
        return resolve(self._text(), self._known()).adapters

    def problem(self) -> str:
        """Why the tags cannot run ("" when they can): unknown names, bad weights, no LoRAs here."""
        text = self._text()
        if not find_tags(text):
            return ""
        if not self.isEnabled():
            return "This model's engine cannot use LoRAs: remove the <lora:…> tags from the prompt."
        resolved = resolve(text, self._known())
        if resolved.problems:
            return resolved.problems[0]
        if resolved.unknown:
            return lora_library.unknown_message(resolved.unknown, "add its file with +")
        return ""

    def set_adapters(self, adapters: tuple[Adapter, ...]) -> None:
        """A reused request's LoRAs: their files known by name, a tag for each the prompt lacks."""
        loras = tuple(a for a in adapters if a.kind == "lora")
        for adapter in loras:
            if lora_library.present(adapter.source):  # one not here: its tag says "not found"
                self._added[lora_name(adapter.source)] = adapter.source
        self._edit(with_tags(self._text(), loras))
        self._sync()

    # --- adding ---------------------------------------------------------------------------------
    def add(self, adapter: Adapter) -> None:
        """A LoRA file from anywhere: known by its name from now on, its tag added."""
        name = lora_name(adapter.source)
        self._added[name] = adapter.source
        self._append(name, adapter.weight)
        self._sync()

    def pick(self, name: str) -> None:
        """Add the library's LoRA ``name``."""
        self.picker.setCurrentIndex(-1)
        if name:
            self._append(name, DEFAULT_WEIGHT)

    def _append(self, name: str, weight: float) -> None:
        """A tag for ``name`` at the prompt's end, unless the prompt names it already."""
        if all(tag.name.lower() != name.lower() for tag in find_tags(self._text())):
            self._edit(append_tag(self._text(), name, weight))

    def add_folder(self, folder: str) -> None:
        self._folders.append(Path(folder))
        self.folder_added.emit(folder)
        self.refresh()

    def refresh(self) -> None:
        """List the LoRA folders again (the picker, and the names tags resolve to)."""
        folders = lora_library.lora_folders()
        self._library = lora_library.known(lora_library.list_loras(
            folders + [f for f in self._folders if f not in folders]))
        self.picker.blockSignals(True)
        self.picker.clear()
        self.picker.addItems(sorted(self._library, key=str.lower))
        self.picker.setCurrentIndex(-1)
        self.picker.blockSignals(False)
        self._sync()

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a LoRA", "", "LoRA (*.safetensors)")
        if path:
            self.add(Adapter(path))

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a LoRA folder")
        if folder:
            self.add_folder(folder)

    # --- the prompt's tags, shown --------------------------------------------------------------
    def _known(self) -> dict[str, str]:
        return {**self._library, **self._added}

    def _text(self) -> str:
        return self._prompt.toPlainText()

    def _sync(self) -> None:
        """Rows for the prompt's tags: updated in place while the names stay (a slider being dragged
        keeps its row), made again when they change."""
        tags = find_tags(self._text())
        unknown = frozenset(t.name for t in tags if lookup(t.name, self._known()) is None)
        names, listed = self._listed_for
        if unknown and (unknown != names or time.monotonic() - listed > RELIST_S):  # a file may have come
            self._listed_for = (unknown, time.monotonic())
            self.refresh()
            return
        if [t.name for t in tags] != [row.tag_name for row in self._rows]:
            for row in self._rows:
                row.setParent(None)
                row.deleteLater()
            self._rows = [self._row(k, tag) for k, tag in enumerate(tags)]
        known = self._known()
        for row, tag in zip(self._rows, tags):
            row.show_tag(tag, lookup(tag.name, known))
        self.empty.setVisible(not self._rows)
        self.changed.emit()

    def _row(self, index: int, tag: LoraTag) -> _Row:
        row = _Row(tag, self)
        row.weight.valueChanged.connect(
            lambda value: self._edit_tag(index, lambda t: set_weight(self._text(), t, value)))
        row.remove.clicked.connect(lambda: self._edit_tag(index, lambda t: remove_tag(self._text(), t)))
        self._rows_box.addWidget(row)
        return row

    def _edit_tag(self, index: int, change) -> None:  # noqa: ANN001 - LoraTag -> the new prompt
        tags = find_tags(self._text())
        if index < len(tags):
            self._edit(change(tags[index]))

    def _edit(self, text: str) -> None:
        """Make the prompt ``text`` by replacing only what differs, as one undo step, so the cursor and
        the rest of what the user typed stay."""
        old = self._text()
        if text == old:
            return
        start = next((i for i, (a, b) in enumerate(zip(old, text)) if a != b), min(len(old), len(text)))
        tail = 0
        while tail < min(len(old), len(text)) - start and old[-1 - tail] == text[-1 - tail]:
            tail += 1
        cursor = QTextCursor(self._prompt.document())
        cursor.setPosition(_units(old[:start]))
        cursor.setPosition(_units(old[:len(old) - tail]), QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(text[start:len(text) - tail])


def _units(text: str) -> int:
    """A position in Qt's text, which counts UTF-16 units (an emoji is two)."""
    return len(text.encode("utf-16-le")) // 2
