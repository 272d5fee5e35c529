"""Edit ▸ Preferences: the app's defaults in one place, each applied and saved the moment it changes.

The dialog edits what the window already holds (theme, default project, upscaler and wildcard folders in
the settings; device, precision and preview frequency in the generate panel; the VGG weights in the style
panel; the gallery's thumbnail size), so there is one source of truth and nothing to "apply".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QSpinBox,
    QVBoxLayout,
)

from t2i_studio.core.requests import DEVICES, DTYPES
from t2i_studio.core.settings import (
    standard_embeddings_dir, standard_loras_dir, standard_project_dir, standard_upscalers_dir, standard_vae_dir,
    standard_wildcards_dir,
)
from t2i_studio.ui.controls import icon_button
from t2i_studio.ui.theme import THEMES, apply_theme

if TYPE_CHECKING:
    from t2i_studio.ui.main_window import MainWindow

_DEVICE_LABELS = {"auto": "Automatic (CUDA, then Apple MPS, then CPU)", "cpu": "CPU", "cuda": "CUDA (NVIDIA)",
                  "mps": "Apple MPS"}
_DTYPE_LABELS = {"auto": "Automatic (fp16 on GPUs, bf16 or fp32 on CPUs)", "fp32": "fp32 (exact, most memory)",
                 "fp16": "fp16", "bf16": "bf16"}


# (setting, its standard folder, row label, title, tooltip): the folders of the other model files
FOLDERS = (
    ("lora_folder", standard_loras_dir, "LoRAs", "LoRA folder",
     "Where LoRA files are kept: the LoRA picker lists them, <lora:name:0.8> in a prompt finds them"),
    ("embedding_folder", standard_embeddings_dir, "Embeddings", "Embeddings folder",
     "Where textual-inversion embeddings are kept: their file name in a prompt uses them"),
    ("vae_folder", standard_vae_dir, "VAEs", "VAE folder", "Where VAE files are kept: Advanced settings ▸ VAE"),
    ("upscaler_folder", standard_upscalers_dir, "Upscalers", "Upscaler folder",
     "Where upscaler models (ESRGAN and the like) are kept; Models ▸ Upscalers… adds to it"),
    ("wildcard_folder", standard_wildcards_dir, "Wildcards", "Wildcards folder",
     "Where wildcard files are kept: __animal__ in a prompt draws a line of animal.txt there"),
)


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
        self.project_folder, project_row = self._folder(
            "default_project", standard_project_dir(), "Default project folder",
            "Where images go when no other project is open (the CLI uses it too)")
        folder_rows = []
        for setting, standard, label, title, tip in FOLDERS:  # each edit is the attribute of its setting's name
            edit, row = self._folder(setting, standard(), title, tip)
            setattr(self, setting, edit)
            folder_rows.append((label, row))
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
        self.servers = QPushButton("Servers…", self)
        self.servers.setToolTip("The ComfyUI servers jobs can run on (Models ▸ ComfyUI servers…)")
        self.servers.clicked.connect(window.manage_servers)

        form = QFormLayout()
        form.addRow("Theme", self.theme)
        form.addRow("Default project", project_row)
        for label, row in folder_rows:
            form.addRow(label, row)
        form.addRow("Device", self.device)
        form.addRow("Precision", self.dtype)
        form.addRow("Live preview every", self.preview_every)
        form.addRow("Style transfer weights", self.vgg)
        form.addRow("Thumbnail size", self.thumbs)
        form.addRow("ComfyUI servers", self.servers)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

        self.theme.currentIndexChanged.connect(self._theme_changed)
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

    def _folder(self, setting: str, standard: Path, title: str, tooltip: str) -> tuple[QLineEdit, QHBoxLayout]:
        """A folder kept in ``settings.<setting>`` ("": ``standard``), typed or chosen with "…"."""
        edit = QLineEdit(getattr(self.window_.settings, setting), self)
        edit.setPlaceholderText(str(standard))
        edit.setAccessibleName(title)
        edit.setToolTip(tooltip)
        browse = icon_button(self, f"Choose the {title.lower()}", "Choose a folder…", text="…")
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        row.addWidget(browse)
        edit.editingFinished.connect(lambda: self._folder_changed(setting, edit))
        browse.clicked.connect(lambda: self._browse(setting, edit, title))
        return edit, row

    def _folder_changed(self, setting: str, edit: QLineEdit) -> None:
        setattr(self.window_.settings, setting, edit.text().strip())
        self._save()

    def _browse(self, setting: str, edit: QLineEdit, title: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, title, edit.text() or edit.placeholderText())
        if folder:
            edit.setText(folder)
            self._folder_changed(setting, edit)

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
