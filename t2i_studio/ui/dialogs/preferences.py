"""Edit ▸ Preferences: the app's defaults in one place, each applied and saved the moment it changes.

The dialog edits what the window already holds (theme and default project folder in the settings;
device, precision and preview frequency in the generate panel; the VGG weights in the style panel;
the gallery's thumbnail size), so there is one source of truth and nothing to "apply".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QSpinBox, QVBoxLayout,
)

from t2i_studio.core.requests import DEVICES, DTYPES
from t2i_studio.core.settings import standard_project_dir
from t2i_studio.ui.controls import icon_button
from t2i_studio.ui.theme import THEMES, apply_theme

if TYPE_CHECKING:
    from t2i_studio.ui.main_window import MainWindow

_DEVICE_LABELS = {"auto": "Automatic (CUDA, then Apple MPS, then CPU)", "cpu": "CPU", "cuda": "CUDA (NVIDIA)",
                  "mps": "Apple MPS"}
_DTYPE_LABELS = {"auto": "Automatic (fp16 on GPUs, bf16 or fp32 on CPUs)", "fp32": "fp32 (exact, most memory)",
                 "fp16": "fp16", "bf16": "bf16"}


class PreferencesDialog(QDialog):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Preferences")
        settings, prompt = window.settings, window.prompt_panel

        self.theme = QComboBox(self)
        for value, label in THEMES:
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        self.project_folder = QLineEdit(settings.default_project, self)
        self.project_folder.setPlaceholderText(str(standard_project_dir()))
        self.project_folder.setToolTip("Where images go when no other project is open (the CLI uses it too)")
        browse = icon_button(self, "Choose the default project folder", "Choose a folder…", text="…")
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.project_folder, 1)
        folder_row.addWidget(browse)
        self.device = self._choices(DEVICES, _DEVICE_LABELS, prompt.device.currentText())
        self.dtype = self._choices(DTYPES, _DTYPE_LABELS, prompt.dtype.currentText())
        self.preview_every = QSpinBox(self)
        self.preview_every.setRange(prompt.preview_every.minimum(), prompt.preview_every.maximum())
        self.preview_every.setValue(prompt.preview_every.value())
        self.preview_every.setSuffix(" steps")
        self.vgg = QComboBox(self)
        self._sync_vgg()
        self.thumbs = QSpinBox(self)
        gallery_size = window.gallery.thumb_size
        self.thumbs.setRange(gallery_size.minimum(), gallery_size.maximum())
        self.thumbs.setSingleStep(16)
        self.thumbs.setValue(gallery_size.value())
        self.thumbs.setSuffix(" px")

        form = QFormLayout()
        form.addRow("Theme", self.theme)
        form.addRow("Default project", folder_row)
        form.addRow("Device", self.device)
        form.addRow("Precision", self.dtype)
        form.addRow("Live preview every", self.preview_every)
        form.addRow("Style transfer weights", self.vgg)
        form.addRow("Thumbnail size", self.thumbs)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

        self.theme.currentIndexChanged.connect(self._theme_changed)
        self.project_folder.editingFinished.connect(self._folder_changed)
        browse.clicked.connect(self._browse)
        self.device.currentIndexChanged.connect(lambda _i: self._apply(prompt.device, self.device))
        self.dtype.currentIndexChanged.connect(lambda _i: self._apply(prompt.dtype, self.dtype))
        self.preview_every.valueChanged.connect(lambda v: (prompt.preview_every.setValue(v), self._save()))
        self.vgg.activated.connect(self._vgg_chosen)
        self.thumbs.valueChanged.connect(lambda v: (window.gallery.set_thumbnail_size(v), self._save()))

    def _choices(self, values: tuple[str, ...], labels: dict[str, str], current: str) -> QComboBox:
        combo = QComboBox(self)
        for value in values:
            combo.addItem(labels.get(value, value), value)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        return combo

    def _save(self) -> None:
        self.window_.window_settings.save(self.window_.project)

    def _apply(self, target: QComboBox, source: QComboBox) -> None:
        target.setCurrentText(str(source.currentData()))
        self._save()

    def _theme_changed(self) -> None:
        self.window_.settings.theme = str(self.theme.currentData())
        apply_theme(self.window_.settings.theme)
        self._save()

    def _folder_changed(self) -> None:
        text = self.project_folder.text().strip()
        self.window_.settings.default_project = text
        self._save()

    def _browse(self) -> None:
        start = self.project_folder.text() or self.project_folder.placeholderText()
        folder = QFileDialog.getExistingDirectory(self, "Default project folder", start)
        if folder:
            self.project_folder.setText(folder)
            self._folder_changed()

    def _sync_vgg(self) -> None:
        """The style panel's Weights choices, as they are there (files it knows included)."""
        weights = self.window_.style_panel.weights
        self.vgg.clear()
        for i in range(weights.count()):
            self.vgg.addItem(weights.itemText(i), weights.itemData(i))
        self.vgg.setCurrentIndex(weights.currentIndex())

    def _vgg_chosen(self, index: int) -> None:
        weights = self.window_.style_panel.weights
        weights.setCurrentIndex(index)
        weights.activated.emit(index)  # "From a file…" asks for the file, in one place
        self._sync_vgg()
        self._save()
