"""The prompt panel's Style picker: none, or a style preset (``core.presets``) applied on submit.

Each preset's tooltip shows its templates; the list is read again each time it opens, so presets
imported meanwhile (``t2i-studio styles import``) appear. Its last item imports an A1111
``styles.csv`` into the user's own presets.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFileDialog, QMessageBox, QWidget

from t2i_studio.core import presets
from t2i_studio.core.errors import describe
from t2i_studio.core.presets import Preset
from t2i_studio.core.requests import GenerationRequest

NONE_TIP = "No style: the prompts go as typed"
IMPORT = "Import A1111 styles.csv…"


def preview(preset: Preset) -> str:
    """What the preset does to the prompts, as a tooltip."""
    where = "" if presets.PLACEHOLDER in preset.prompt else "(added after your prompt) "
    lines = [f"Prompt: {where}{preset.prompt}"]
    if preset.negative_prompt:
        lines.append(f"Negative: {preset.negative_prompt}")
    return "\n".join(lines)


class StylePicker(QComboBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Style")
        self.setToolTip(NONE_TIP)
        self._presets: dict[str, Preset] = {}
        self._last = ""  # the style chosen before the import item was
        self.reload()
        self.currentIndexChanged.connect(self._chosen)

    def reload(self) -> None:
        """Read the presets again, keeping the chosen one (by name) while it is still there."""
        current = self.name()
        self._presets = {p.name: p for p in presets.all_presets()}
        self.blockSignals(True)
        self.clear()
        self.addItem("None")
        self.setItemData(0, NONE_TIP, Qt.ItemDataRole.ToolTipRole)
        for preset in self._presets.values():
            self.addItem(preset.name, preset.name)
            self.setItemData(self.count() - 1, preview(preset), Qt.ItemDataRole.ToolTipRole)
        self.insertSeparator(self.count())
        self.addItem(IMPORT)
        self.blockSignals(False)
        self.set_name(current)

    def showPopup(self) -> None:  # noqa: N802 - Qt's name
        self.reload()
        super().showPopup()

    def name(self) -> str:
        """The chosen preset's name; "" for none."""
        data = self.currentData()
        return str(data) if data else ""

    def set_name(self, name: str) -> None:
        index = self.findData(name) if name else -1
        self.setCurrentIndex(max(index, 0))
        self._show_tooltip()

    def preset(self) -> Preset | None:
        return self._presets.get(self.name())

    def styled(self, request: GenerationRequest) -> GenerationRequest:
        """``request`` with the chosen preset applied to its prompts."""
        preset = self.preset()
        return presets.apply(request, [preset]) if preset is not None else request

    def _chosen(self, index: int) -> None:
        if self.itemText(index) == IMPORT:
            self.blockSignals(True)  # the style chosen before, unless the import brings one
            self.set_name(self._last)
            self.blockSignals(False)
            self._import()
        self._last = self.name()
        self._show_tooltip()

    def _show_tooltip(self) -> None:
        preset = self.preset()
        self.setToolTip(preview(preset) if preset is not None else NONE_TIP)

    def _import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import styles", "", "A1111 styles (*.csv);;All files (*)")
        if not path:
            return
        try:
            imported = presets.import_csv(Path(path))
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, "Import styles", describe(exc).text)
            return
        self.reload()
        self.set_name(imported[0].name)
