"""One control input of the ControlNet section: its picture (a file, or the sketch pad's drawing)
beside a preview of its control map, the preprocessor that makes the map (canny with its two
thresholds), the ControlNet that reads it, its weight and the part of the steps it acts on.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QFrame, QHBoxLayout, QLabel, QSpinBox, QStyle, QWidget

from t2i_studio.core.catalog import ModelInfo
from t2i_studio.core.requests import Control
from t2i_studio.ui.control_preview import EDGE, MapPreview
from t2i_studio.ui.controls import FloatSlider, ImageDrop, choose, combo, icon_button, pick_image

FILE, SKETCH = "file", "sketch"
SOURCES = (("Picture file", FILE), ("Sketch pad", SKETCH))
PREPROCESSORS = (("Canny edges", "canny"), ("Line art", "lineart"), ("Scribble", "scribble"),
                 ("None: already a control map", "none"))
EMPTY_SKETCH = "The sketch pad is empty: draw on it, or take a picture file for this control input."


class ControlRow(QFrame):
    changed = Signal()
    remove_requested = Signal()

    def __init__(self, sketch: Callable[[], str | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sketch = sketch  # the sketch pad's picture, saved now (None: nothing drawn)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.source = combo(self, "Control picture from", "Where the control picture comes from", SOURCES)
        self.picture = ImageDrop("Control picture", "Drop a picture here", edge=EDGE, parent=self)
        self.pick = icon_button(self, "Choose control picture", "Choose the control picture…",
                                icon=QStyle.StandardPixmap.SP_DirOpenIcon)
        self.remove = icon_button(self, "Remove control input", "Remove this control input",
                                  icon=QStyle.StandardPixmap.SP_DialogDiscardButton)
        self.preview = MapPreview(self)
        self.preprocessor = combo(self, "Preprocessor", "How the picture becomes the control map the ControlNet "
                                  "follows: its edges, its lines, a sketch's strokes, or as it is", PREPROCESSORS)
        self.thresholds = QWidget(self)
        self.low, self.high = QSpinBox(self.thresholds), QSpinBox(self.thresholds)
        for spin, name, value, tip in (
                (self.low, "Canny low threshold", Control.canny_low, "Weaker edges are dropped unless they touch "
                 "a strong one: lower finds more edges"),
                (self.high, "Canny high threshold", Control.canny_high, "Edges this strong are always kept")):
            spin.setRange(0, 255)
            spin.setValue(value)
            spin.setAccessibleName(name)
            spin.setToolTip(tip)
        self.model = combo(self, "ControlNet", "The ControlNet model that reads the control map", ())
        self.weight = FloatSlider("ControlNet weight", 0.0, 2.0, Control.weight, parent=self,
                                  tooltip="How strongly the control map steers the picture (0: not at all)")
        self.start = FloatSlider("ControlNet start", 0.0, 1.0, Control.start, parent=self,
                                 tooltip="The fraction of the steps after which the ControlNet starts steering")
        self.end = FloatSlider("ControlNet end", 0.0, 1.0, Control.end, parent=self,
                               tooltip="The fraction of the steps after which it stops (the details stay free)")

        pictures = QHBoxLayout()
        pictures.addWidget(self.picture, 1)
        pictures.addWidget(QLabel("→", self))
        pictures.addWidget(self.preview, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.source, 1)
        buttons.addWidget(self.pick)
        buttons.addWidget(self.remove)
        threshold_row = QHBoxLayout(self.thresholds)
        threshold_row.setContentsMargins(0, 0, 0, 0)
        threshold_row.addWidget(self.low, 1)
        threshold_row.addWidget(QLabel("to", self.thresholds))
        threshold_row.addWidget(self.high, 1)
        self.form = QFormLayout(self)
        self.form.addRow(buttons)
        self.form.addRow(pictures)
        self.form.addRow("Map", self.preprocessor)
        self.form.addRow("Thresholds", self.thresholds)
        self.form.addRow("Model", self.model)
        self.form.addRow("Weight", self.weight)
        self.form.addRow("Start", self.start)
        self.form.addRow("End", self.end)

        self.source.currentIndexChanged.connect(self._source_changed)
        self.pick.clicked.connect(self._pick)
        self.remove.clicked.connect(self.remove_requested)
        self.preprocessor.currentIndexChanged.connect(self._map_changed)
        for signal in (self.picture.changed, self.low.valueChanged, self.high.valueChanged):
            signal.connect(self._map_changed)
        for signal in (self.model.currentIndexChanged, self.weight.valueChanged, self.start.valueChanged,
                       self.end.valueChanged):
            signal.connect(lambda *_: self.changed.emit())
        self._map_changed()

    # --- the picture -------------------------------------------------------------------------------
    def from_sketch(self) -> bool:
        return self.source.currentData() == SKETCH

    def offer_sketch(self, offered: bool) -> None:
        """The sketch pad as a source only where the window has one."""
        if not offered and self.from_sketch():
            choose(self.source, FILE)
        self.source.setVisible(offered)

    def take_sketch(self) -> None:
        """The sketch pad's drawing as it is now, when it is this row's picture."""
        if self.from_sketch():
            self.picture.set_path(self._sketch() or "")

    def _source_changed(self) -> None:
        sketch = self.from_sketch()
        self.pick.setEnabled(not sketch)
        self.picture.setAcceptDrops(not sketch)
        if sketch:
            choose(self.preprocessor, "scribble")  # white strokes on black, what scribble ControlNets read
            self.take_sketch()
        else:
            self.picture.set_path("")  # the sketch's file is the pad's, not a picture of the user's

    def _pick(self) -> None:
        path = pick_image(self, "Choose a control picture")
        if path:
            self.picture.set_path(path)

    def _map_changed(self) -> None:
        self.form.setRowVisible(self.thresholds, self.preprocessor.currentData() == "canny")
        self.preview.show_for(self.control())
        self.changed.emit()

    # --- models ------------------------------------------------------------------------------------
    def set_controlnets(self, nets: list[ModelInfo]) -> None:
        """Offer ``nets`` (those of the generation model's family); the choice stays when it is one."""
        current = self.model.currentData()
        self.model.blockSignals(True)
        self.model.clear()
        for net in nets:
            self.model.addItem(net.name, net.id)
            self.model.setItemData(self.model.count() - 1, net.path or net.id, Qt.ItemDataRole.ToolTipRole)
        self.model.setCurrentIndex(max(0, self.model.findData(current)) if nets else -1)
        self.model.blockSignals(False)
        self.changed.emit()

    def _set_model(self, model_id: str) -> None:
        if model_id and self.model.findData(model_id) < 0:  # a reused request's, not in the catalog now
            self.model.addItem(model_id.rstrip("/").rsplit("/", 1)[-1], model_id)
        self.model.setCurrentIndex(self.model.findData(model_id))

    # --- requests ----------------------------------------------------------------------------------
    def control(self) -> Control:
        return Control(image=self.picture.path, model=str(self.model.currentData() or ""),
                       preprocessor=str(self.preprocessor.currentData()), weight=self.weight.value(),
                       start=self.start.value(), end=self.end.value(), canny_low=self.low.value(),
                       canny_high=self.high.value())

    def set_control(self, control: Control) -> None:
        """Show a reused request's control input (its picture as a file)."""
        choose(self.source, FILE)
        self.picture.set_path(control.image)
        choose(self.preprocessor, control.preprocessor)
        self.low.setValue(control.canny_low)
        self.high.setValue(control.canny_high)
        self._set_model(control.model)
        self.weight.setValue(control.weight)
        self.start.setValue(control.start)
        self.end.setValue(control.end)

    def problem(self) -> str:
        """What the request itself cannot say: an empty sketch pad."""
        return EMPTY_SKETCH if self.from_sketch() and not self.picture.path else ""
