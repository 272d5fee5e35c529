"""The prompt panel's VAE choice (Advanced settings): the model's own, or a file or diffusers folder of
the VAE folder (``settings.vae_dir()``), listed again each time the list opens; a reused request's VAE
from elsewhere is shown too."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from t2i_studio.core.lora_library import list_vaes
from t2i_studio.core.settings import vae_dir

OWN = "The model's own"


class VaePicker(QComboBox):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("VAE")
        self.setToolTip(f"The VAE that turns latents into pixels: the model's own, or one of {vae_dir()}")
        self.refresh()
        self.currentIndexChanged.connect(lambda _i: self.changed.emit())

    def vae(self) -> str | None:
        data = self.currentData()
        return str(data) if data else None

    def set_vae(self, path: str | None) -> None:
        self.refresh(path)
        self.setCurrentIndex(max(0, self.findData(path)) if path else 0)

    def refresh(self, keep: str | None = None) -> None:
        """List the VAE folder again, keeping the choice (``keep``: the one to offer besides)."""
        current = keep or self.vae()
        self.blockSignals(True)
        self.clear()
        self.addItem(OWN, None)
        self.setItemData(0, "Decode with the VAE the model comes with", Qt.ItemDataRole.ToolTipRole)
        for path in [str(f.path) for f in list_vaes()] + ([current] if current else []):
            if self.findData(path) < 0:
                self.addItem(Path(path).name, path)
                self.setItemData(self.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        self.setCurrentIndex(max(0, self.findData(current)) if current else 0)
        self.blockSignals(False)

    def showPopup(self) -> None:  # noqa: N802 - Qt's name
        self.refresh()
        super().showPopup()
