"""The prompt panel's "Reference pictures" section: IP-Adapter references (``core.requests.Reference``)
that steer the picture by all they show, their style or their composition, several at once.

Each picture is a row with its scale and mode. The IP-Adapter and its image encoder are chosen once
for the section (``AdapterChooser``, which the style panel's "by diffusion" uses too): a model holds
one image encoder, so the references of one request share it; a reused request whose references
name several adapters shows the first one's.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog, QFormLayout, QFrame, QGroupBox, QHBoxLayout, QLineEdit, QPushButton, QStyle, QVBoxLayout, QWidget,
)

from t2i_studio.core.requests import MAX_REFERENCE_SCALE, Reference
from t2i_studio.ui.controls import FloatSlider, ImageDrop, choose, combo, icon_button, pick_image

MODES = (("Everything it shows", "full"), ("Its style", "style"), ("Its composition", "composition"))
ADAPTER_FILES = "IP-Adapter weights (*.safetensors *.bin)"


class AdapterChooser(QWidget):
    """The IP-Adapter (its file, the folder holding it, or a hub file) and its image encoder folder
    (empty: the ``image_encoder/`` folder beside the adapter)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = QLineEdit(self)
        self.model.setPlaceholderText("ip-adapter file, its folder, or owner/repo/file.safetensors")
        self.model.setAccessibleName("IP-Adapter")
        self.model.setToolTip("The IP-Adapter that reads the reference pictures, such as h94/IP-Adapter's "
                              "models/ip-adapter_sd15.safetensors (SD 1.5) or sdxl_models/ip-adapter_sdxl"
                              ".safetensors (SDXL)")
        self.encoder = QLineEdit(self)
        self.encoder.setPlaceholderText("image_encoder/ beside the adapter")
        self.encoder.setAccessibleName("Image encoder")
        self.encoder.setToolTip("The CLIP image encoder folder the IP-Adapter was made with")
        pick_model = icon_button(self, "Choose IP-Adapter", "Choose the IP-Adapter's weights file…",
                                 icon=QStyle.StandardPixmap.SP_DirOpenIcon)
        pick_encoder = icon_button(self, "Choose image encoder", "Choose the image encoder's folder…",
                                   icon=QStyle.StandardPixmap.SP_DirOpenIcon)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for label, edit, button in (("IP-Adapter", self.model, pick_model),
                                    ("Image encoder", self.encoder, pick_encoder)):
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(button)
            form.addRow(label, row)
            edit.textChanged.connect(self.changed)
        pick_model.clicked.connect(self._pick_model)
        pick_encoder.clicked.connect(self._pick_encoder)

    def adapter(self) -> tuple[str, str | None]:
        """(the IP-Adapter, its encoder folder or None)."""
        return self.model.text().strip(), self.encoder.text().strip() or None

    def set_adapter(self, model: str, encoder: str | None) -> None:
        self.model.setText(model)
        self.encoder.setText(encoder or "")

    def _pick_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose an IP-Adapter", "", ADAPTER_FILES)
        if path:
            self.model.setText(path)

    def _pick_encoder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose the image encoder folder")
        if path:
            self.encoder.setText(path)


class ReferenceRow(QFrame):
    """One reference picture, its scale and what of it steers."""

    changed = Signal()
    remove_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.picture = ImageDrop("Reference picture", "Drop a picture here", edge=64, parent=self)
        pick = icon_button(self, "Choose reference picture", "Choose the reference picture…",
                           icon=QStyle.StandardPixmap.SP_DirOpenIcon)
        remove = icon_button(self, "Remove reference picture", "Remove this reference picture",
                             icon=QStyle.StandardPixmap.SP_DialogDiscardButton)
        self.scale = FloatSlider("IP-Adapter scale", 0.0, MAX_REFERENCE_SCALE, Reference.scale, parent=self,
                                 tooltip="How strongly the picture steers (0: not at all; about 1 for style)")
        self.mode = combo(self, "Reference mode", "What of the picture steers: everything it shows, only its "
                          "style (colours, strokes, texture) or only its composition (layout)", MODES)
        top = QHBoxLayout()
        top.addWidget(self.picture, 1)
        top.addWidget(pick)
        top.addWidget(remove)
        form = QFormLayout(self)
        form.addRow(top)
        form.addRow("Scale", self.scale)
        form.addRow("Takes", self.mode)
        pick.clicked.connect(self._pick)
        remove.clicked.connect(self.remove_requested)
        for signal in (self.picture.changed, self.scale.valueChanged, self.mode.currentIndexChanged):
            signal.connect(lambda *_: self.changed.emit())

    def reference(self, model: str, encoder: str | None) -> Reference:
        return Reference(self.picture.path, model, self.scale.value(), str(self.mode.currentData()), encoder)

    def set_reference(self, reference: Reference) -> None:
        self.picture.set_path(reference.image)
        self.scale.setValue(reference.scale)
        choose(self.mode, reference.mode)

    def _pick(self) -> None:
        path = pick_image(self, "Choose a reference picture")
        if path:
            self.picture.set_path(path)


class ReferenceSection(QGroupBox):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Reference pictures (IP-Adapter)", parent)
        self.rows: list[ReferenceRow] = []
        self.adapter = AdapterChooser(self)
        self.add = QPushButton("Add reference picture", self)
        self.add.setToolTip("Steer the picture by another picture: all it shows, its style or its composition")
        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self.adapter)
        self._layout.addWidget(self.add)
        self.adapter.changed.connect(self.changed)
        self.add.clicked.connect(lambda: self.add_row())
        self._show_adapter()

    def add_row(self, reference: Reference | None = None) -> ReferenceRow:
        row = ReferenceRow(self)
        if reference is not None:
            row.set_reference(reference)
        row.changed.connect(self.changed)
        row.remove_requested.connect(lambda: self.remove_row(row))
        self._layout.insertWidget(self._layout.indexOf(self.add), row)
        self.rows.append(row)
        self._show_adapter()
        self.changed.emit()
        return row

    def remove_row(self, row: ReferenceRow) -> None:
        self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self._show_adapter()
        self.changed.emit()

    def _show_adapter(self) -> None:
        self.adapter.setVisible(bool(self.rows))  # asked for once there is a picture for it to read

    def references(self) -> tuple[Reference, ...]:
        model, encoder = self.adapter.adapter()
        return tuple(row.reference(model, encoder) for row in self.rows)

    def set_references(self, references: tuple[Reference, ...]) -> None:
        """Show a reused request's references (its adapter stays when it names none)."""
        for row in list(self.rows):
            self.remove_row(row)
        if references:
            self.adapter.set_adapter(references[0].model, references[0].encoder)
        for reference in references:
            self.add_row(reference)
