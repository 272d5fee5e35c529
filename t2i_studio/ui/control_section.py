"""The prompt panel's "ControlNet" section: control inputs that steer the picture by another
picture's edges, lines or sketch (``core.requests.Control``), several at once.

Each input (``control_row.ControlRow``) offers only the ControlNets of the generation model's
engine and family, from the model catalog (``ModelInfo.kind == CONTROLNET``); when none fits the
section says where to add one. The sketch pad is a picture source when the window hands in ``sketch_source``,
a callable that saves the pad's drawing and returns its PNG's path (None while it is empty);
connect the pad's ``changed`` to ``refresh_sketch`` so the rows follow the drawing.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QGroupBox, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from t2i_studio.core.catalog import CONTROLNET, ModelInfo, family_name
from t2i_studio.core.requests import DEFAULT_ENGINE, Control
from t2i_studio.ui.control_row import ControlRow

SKETCH_DELAY_MS = 300  # a pause in the drawing before the sketch is saved again
ANY_FAMILY = (None, "", "unknown")  # the generation model's family is not known: every ControlNet fits


class ControlSection(QGroupBox):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("ControlNet", parent)
        self.rows: list[ControlRow] = []
        self._nets: list[ModelInfo] = []
        self._family: str | None = None
        self._engine = DEFAULT_ENGINE
        self._sketch_source: Callable[[], str | None] | None = None
        self.none_fits = QLabel(self)
        self.none_fits.setWordWrap(True)
        self.none_fits.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.none_fits.setAccessibleName("No ControlNet fits")
        self.add = QPushButton("Add control input", self)
        self.add.setToolTip("Steer the picture by another picture's edges, lines or sketch")
        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self.none_fits)
        self._layout.addWidget(self.add)
        self._sketch_timer = QTimer(self)
        self._sketch_timer.setSingleShot(True)
        self._sketch_timer.setInterval(SKETCH_DELAY_MS)
        self._sketch_timer.timeout.connect(self.take_sketch)
        self.add.clicked.connect(lambda: self.add_row())
        self.set_usable(True)
        self._offer()

    # --- the sketch pad ------------------------------------------------------------------------------
    @property
    def sketch_source(self) -> Callable[[], str | None] | None:
        return self._sketch_source

    @sketch_source.setter
    def sketch_source(self, source: Callable[[], str | None] | None) -> None:
        self._sketch_source = source
        for row in self.rows:
            row.offer_sketch(source is not None)

    def _sketch(self) -> str | None:
        return self._sketch_source() if self._sketch_source is not None else None

    def refresh_sketch(self) -> None:
        """The sketch pad changed: its rows take the drawing after a pause."""
        if any(row.from_sketch() for row in self.rows):
            self._sketch_timer.start()

    def take_sketch(self) -> None:
        """The rows from the sketch pad take its drawing now (before a request is submitted)."""
        self._sketch_timer.stop()
        for row in self.rows:
            row.take_sketch()

    # --- models --------------------------------------------------------------------------------------
    def set_controlnets(self, models: list[ModelInfo]) -> None:
        """The catalog's models: its ControlNets are offered."""
        self._nets = [m for m in models if m.kind == CONTROLNET]
        self._offer()

    def set_model(self, engine: str, family: str | None) -> None:
        """The generation model's engine and family: only ControlNets it can use and made for the
        family are offered (a server's ControlNets are its own)."""
        if (engine, family) != (self._engine, self._family):
            self._engine, self._family = engine, family
            self._offer()

    def fitting(self) -> list[ModelInfo]:
        return [n for n in self._nets if n.engine == self._engine
                and (self._family in ANY_FAMILY or n.family == self._family)]

    def _offer(self) -> None:
        nets = self.fitting()
        self.none_fits.setText("" if nets else f"No ControlNet for {family_name(self._family)} models: add one "
                               "in Models ▸ Manage models…")
        self.none_fits.setVisible(not nets)
        for row in self.rows:
            row.set_controlnets(nets)

    # --- rows ----------------------------------------------------------------------------------------
    def add_row(self, control: Control | None = None) -> ControlRow:
        row = ControlRow(self._sketch, self)
        row.offer_sketch(self._sketch_source is not None)
        row.set_controlnets(self.fitting())
        if control is not None:
            row.set_control(control)
        row.changed.connect(self.changed)
        row.remove_requested.connect(self._remove_sender)
        self._layout.insertWidget(self._layout.indexOf(self.add), row)
        self.rows.append(row)
        self.changed.emit()
        return row

    def remove_row(self, row: ControlRow) -> None:
        self.rows.remove(row)
        row.preview.stop()
        row.setParent(None)
        row.deleteLater()
        self.changed.emit()

    def _remove_sender(self) -> None:
        row = self.sender()
        if isinstance(row, ControlRow) and row in self.rows:
            self.remove_row(row)

    def stop(self) -> None:
        """Wait for the previews being made."""
        for row in self.rows:
            row.preview.stop()

    # --- requests ------------------------------------------------------------------------------------
    def set_usable(self, usable: bool) -> None:
        """ControlNets steer text-to-image, image-to-image and inpainting (not outpainting)."""
        self.setEnabled(usable)
        self.setToolTip("" if usable else "ControlNets steer text-to-image, image-to-image and inpainting: turn "
                        "outpainting off to use them")

    def controls(self) -> tuple[Control, ...]:
        return tuple(row.control() for row in self.rows)

    def set_controls(self, controls: tuple[Control, ...]) -> None:
        """Show a reused request's control inputs."""
        for row in list(self.rows):
            self.remove_row(row)
        for control in controls:
            self.add_row(control)

    def problem(self) -> str:
        """What stops the request that the request itself cannot say ("" while the section is off)."""
        if self.isHidden() or not self.isEnabled():
            return ""
        if self.rows and not self.fitting() and not all(row.control().model for row in self.rows):
            return self.none_fits.text()
        return next((p for p in (row.problem() for row in self.rows) if p), "")
