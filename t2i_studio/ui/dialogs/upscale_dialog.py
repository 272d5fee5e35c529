"""Upscale dialog: enlarge one picture (a gallery image or a file) by a factor or for a print size,
with Lanczos or a model of the upscaler library, optionally followed by SD upscale (a text-to-image
model redraws the enlarged picture tile by tile, adding detail).

The final size, its print size and the memory it needs show as you choose; a size this computer
cannot hold says so and cannot be started. Upscale checks the request as submission will (``check``,
the engine registry's) and hands it to ``submit``, the window's job path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import psutil
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit, QSpinBox,
    QVBoxLayout, QWidget,
)

from t2i_studio.core.print_sizes import estimate_upscale_bytes, print_size_text
from t2i_studio.core.requests import (
    LANCZOS, MAX_UPSCALE_SIDE, GenerationRequest, ImageInputs, ModelRef, Request, RunOptions, Sampling, Upscale,
    UpscaleRequest, random_seed,
)
from t2i_studio.core.upscaler_library import list_upscalers
from t2i_studio.ui.controls import FloatSlider, scaled_pixmap
from t2i_studio.ui.dialogs.model_manager import human_bytes
from t2i_studio.ui.dialogs.upscale_size import UpscaleSizePicker
from t2i_studio.ui.dialogs.upscalers_dialog import is_pickle

MAX_OVERLAP = 32  # tile overlap, source pixels (at most a quarter of the tile)
_ENGINE_ROLE = Qt.ItemDataRole.UserRole + 1  # the model list's items: which engine runs the model


@dataclass(frozen=True)
class UpscaleSource:
    """The picture to upscale: its file and size, its gallery entry (None for a file from disk) and
    the request that made it (its prompt, model and sampling start SD upscale)."""

    path: str
    size: tuple[int, int]
    entry_id: int | None = None
    own: GenerationRequest | None = None


class UpscaleDialog(QDialog):
    def __init__(self, source: UpscaleSource, *, submit: Callable[[Request], int | None],
                 check: Callable[[Request], object] = lambda request: request.validate(),
                 models: list[tuple[str, str, str]] | None = None, model_id: str = "",
                 run: RunOptions | None = None, memory_bytes: int | None = None,
                 parent: QWidget | None = None) -> None:
        """``models``: (name, id, engine) of the models that can SD-upscale; ``model_id`` the one to
        offer when the picture's own model is not among them; ``run`` the window's run options."""
        super().__init__(parent)
        self.source = source
        self._submit, self._check = submit, check
        self._run = run or RunOptions()
        self.memory_bytes = memory_bytes or psutil.virtual_memory().available  # as the engine's check counts
        self.setWindowTitle(f"Upscale {Path(source.path).name}")
        self._build(models or [])
        own_model = source.own.model.id if source.own else ""
        self._own_model_listed = self.model.findData(own_model) >= 0
        offered = own_model if self._own_model_listed else model_id
        self.model.setCurrentIndex(max(0, self.model.findData(offered)))
        self.prompt.setPlainText(source.own.prompt if source.own else "")
        self._update()

    def _build(self, models: list[tuple[str, str, str]]) -> None:
        thumb = QLabel(self)
        thumb.setPixmap(scaled_pixmap(self.source.path, 96))
        thumb.setFixedSize(100, 100)
        thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.source_text = QLabel(self)
        self.source_text.setWordWrap(True)
        self.source_text.setAccessibleName("The picture to upscale")
        top = QHBoxLayout()
        top.addWidget(thumb)
        top.addWidget(self.source_text, 1)

        self.size_picker = UpscaleSizePicker(self)
        size_box = QGroupBox("Size", self)
        QVBoxLayout(size_box).addWidget(self.size_picker)

        self.upscaler = QComboBox(self)
        self.upscaler.setAccessibleName("Upscaler")
        self.upscaler.addItem("Lanczos (fast, adds no detail)", LANCZOS)
        try:
            library = list_upscalers()
        except OSError:  # an unreadable folder: Lanczos still works
            library = []
        self._library = {found.name: found.path for found in library}  # requests name them, as A1111 does
        for found in library:
            self.upscaler.addItem(found.name, found.name)
            self.upscaler.setItemData(self.upscaler.count() - 1, str(found.path), Qt.ItemDataRole.ToolTipRole)
        self.upscaler.setToolTip("Lanczos resamples; an upscaler model (ESRGAN and the like) draws sharper "
                                 "detail")
        self.tile = QSpinBox(self)
        self.tile.setRange(0, 4096)
        self.tile.setSingleStep(64)
        self.tile.setValue(Upscale.tile)
        self.tile.setSuffix(" px")
        self.tile.setSpecialValueText("Whole image")
        self.tile.setAccessibleName("Upscaler tile")
        self.tile.setToolTip("The model enlarges the picture in tiles of this many source pixels: smaller "
                             "needs less memory")
        upscaler_box = QGroupBox("Upscaler", self)
        upscaler_form = QFormLayout(upscaler_box)
        upscaler_form.addRow("Method", self.upscaler)
        upscaler_form.addRow("Tile", self.tile)
        if not library:
            hint = QLabel("Add upscaler models with Models ▸ Upscalers…", self)
            hint.setEnabled(False)
            upscaler_form.addRow("", hint)

        self.sd = QGroupBox("SD upscale (adds detail)", self)
        self.sd.setCheckable(True)
        self.sd.setChecked(False)
        self.sd.setToolTip("After enlarging, a text-to-image model redraws the picture tile by tile (slower)")
        self.model = QComboBox(self.sd)
        self.model.setAccessibleName("SD upscale model")
        for name, model_id, engine in models:
            self.model.addItem(name, model_id)
            self.model.setItemData(self.model.count() - 1, engine, _ENGINE_ROLE)
        if not models:
            self.sd.setEnabled(False)
            self.sd.setToolTip("No installed model can SD-upscale: add one with Models ▸ Manage models…")
        self.prompt = QPlainTextEdit(self.sd)
        self.prompt.setAccessibleName("SD upscale prompt")
        self.prompt.setPlaceholderText("What the picture shows (its own prompt, when it has one)")
        self.prompt.setTabChangesFocus(True)
        self.prompt.setMinimumHeight(self.prompt.fontMetrics().lineSpacing() * 4 + 12)
        self.strength = FloatSlider("Denoising strength", 0.0, 1.0, 0.3, parent=self.sd,
                                    tooltip="How much each tile is redrawn: 0.2–0.4 adds detail, more changes "
                                            "what it shows")
        self.steps = QSpinBox(self.sd)
        self.steps.setRange(1, 150)
        self.steps.setValue(20)
        self.steps.setAccessibleName("SD upscale steps")
        self.sd_tile = QSpinBox(self.sd)
        self.sd_tile.setRange(64, 2048)
        self.sd_tile.setSingleStep(64)
        self.sd_tile.setValue(512)
        self.sd_tile.setSuffix(" px")
        self.sd_tile.setAccessibleName("SD upscale tile")
        self.sd_tile.setToolTip("The size the model redraws at once: its native size (512 for SD 1.x, 1024 "
                                "for SDXL)")
        sd_form = QFormLayout(self.sd)
        sd_form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        sd_form.addRow("Model", self.model)
        sd_form.addRow("Prompt", self.prompt)
        sd_form.addRow("Denoising", self.strength)
        sd_form.addRow("Steps", self.steps)
        sd_form.addRow("Tiles", self.sd_tile)

        self.result_text, self.print_text, self.memory_text = QLabel(self), QLabel(self), QLabel(self)
        self.result_text.setAccessibleName("Result size")
        self.print_text.setAccessibleName("Print size")
        self.memory_text.setAccessibleName("Memory needed")
        font = self.result_text.font()
        font.setBold(True)
        self.result_text.setFont(font)
        self.warning = QLabel(self)
        self.warning.setWordWrap(True)
        self.warning.setAccessibleName("Why the upscale cannot start")
        self.warning.setStyleSheet("color: #c0392b;")
        result_box = QGroupBox("Result", self)
        result_layout = QVBoxLayout(result_box)
        for label in (self.result_text, self.print_text, self.memory_text, self.warning):
            result_layout.addWidget(label)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.ok = self.buttons.addButton("&Upscale", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setDefault(True)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        # Two columns, so the dialog fits a laptop's screen: how large and how on the left, SD on the right.
        left = QVBoxLayout()
        for box in (size_box, upscaler_box, result_box):
            left.addWidget(box)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.sd, 1)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(columns, 1)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(820)

        self.size_picker.changed.connect(self._update)
        self.upscaler.currentIndexChanged.connect(self._update)
        self.sd.toggled.connect(self._update)
        self.prompt.textChanged.connect(self._update)
        for spin in (self.tile, self.steps, self.sd_tile):
            spin.valueChanged.connect(self._update)

    # -- the request ------------------------------------------------------------------------------
    def _model_upscaler(self) -> bool:
        return self.upscaler.currentData() != LANCZOS

    def upscale(self) -> Upscale:
        """The enlargement chosen; ``ValueError`` for a paper that cannot be."""
        tile = self.tile.value()
        common: dict[str, Any] = {"upscaler": self.upscaler.currentData(), "tile": tile,
                                  "overlap": min(MAX_OVERLAP, tile // 4), "dpi": self.size_picker.dpi.value()}
        if self.size_picker.paper_choice() is None:
            return Upscale(scale=self.size_picker.factor.value(), **common)
        width, height = self.size_picker.target(self.source.size)
        w, h = self.source.size
        scale = min(8.0, max(1.0, round(max(width / w, height / h), 2)))  # the factor it amounts to, on record
        return Upscale(scale=scale, width=width, height=height, **common)

    def request(self) -> Request:
        """What the dialog describes (not validated)."""
        source, upscale = self.source, self.upscale()
        # a pickle in the library was allowed when it was added
        trusted = is_pickle(self._library.get(upscale.upscaler, ""))
        run = self._run.replace(allow_unsafe_checkpoint=self._run.allow_unsafe_checkpoint or trusted)
        if not self.sd.isChecked():
            return UpscaleRequest(source.path, upscale, source.entry_id, run)
        own, model_id = source.own, str(self.model.currentData() or "")
        sampling = (own.sampling if own else Sampling(seed=random_seed())).replace(
            steps=self.steps.value(), batch_size=1, batch_count=1, variation_seed=None, variation_strength=0.0)
        tile = self.sd_tile.value()
        return GenerationRequest(
            prompt=self.prompt.toPlainText(), negative_prompt=own.negative_prompt if own else "",
            mode="sd_upscale", width=tile, height=tile,
            model=own.model if own and own.model.id == model_id else ModelRef(model_id), sampling=sampling,
            images=ImageInputs(init_image=source.path, strength=self.strength.value()), upscale=upscale,
            run=run, engine=str(self.model.currentData(_ENGINE_ROLE) or ""))

    def _update(self) -> None:
        w, h = self.source.size
        dpi, unit = self.size_picker.dpi.value(), self.size_picker.unit_shown()
        self.source_text.setText(f"<b>{Path(self.source.path).name}</b><br>{w:,} × {h:,} px · prints at "
                                 f"{print_size_text((w, h), dpi, unit)}")
        self.tile.setEnabled(self._model_upscaler())
        texts = ("", "", "")
        try:
            request = self.request()
            upscale = request.upscale
            target = upscale.target(w, h)
            needs = estimate_upscale_bytes((w, h), target, model=self._model_upscaler(), tile=upscale.tile,
                                           overlap=upscale.overlap)
            texts = (f"{target[0]:,} × {target[1]:,} px ({target[0] * target[1] / 1e6:.1f} megapixels)",
                     f"Prints at {print_size_text(target, dpi, unit)}",
                     f"Needs about {human_bytes(needs)} of memory ({human_bytes(self.memory_bytes)} free)")
            problem = self._size_problem(target, needs)
            if not problem:
                request.validate()
        except ValueError as exc:
            problem = str(exc)
        for label, text in zip((self.result_text, self.print_text, self.memory_text), texts):
            label.setText(text)
        self.warning.setText(problem)
        self.warning.setVisible(bool(problem))
        self.ok.setEnabled(not problem)

    def _size_problem(self, target: tuple[int, int], needs: int) -> str:
        w, h = self.source.size
        if max(target) > MAX_UPSCALE_SIDE:
            return (f"Too large: an upscale makes at most {MAX_UPSCALE_SIDE:,} pixels a side. Choose a smaller "
                    "factor or paper, or a lower dpi.")
        if target[0] < w or target[1] < h:
            return ("The picture is already larger than that: choose a larger paper or a higher dpi (Export "
                    "makes it smaller).")
        if target == (w, h) and not self.sd.isChecked():
            return "That is the picture's own size: choose a larger size, or SD upscale to add detail."
        if needs > self.memory_bytes:
            smaller = ", or a smaller tile" if self._model_upscaler() and self.tile.value() != 64 else ""
            return (f"Too large for this computer: it needs about {human_bytes(needs)} of memory, more than the "
                    f"{human_bytes(self.memory_bytes)} free. Choose a smaller size{smaller}.")
        return ""

    def start(self) -> None:
        """Check the request as submission will, then submit it; the dialog stays open if it cannot."""
        try:
            request = self.request()
            self._check(request)
        except ValueError as exc:
            self.warning.setText(str(exc))
            self.warning.setVisible(True)
            return
        if self._submit(request) is not None:
            self.accept()

    # -- remembered between upscales ---------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The choices to offer next time (not the prompt: that belongs to the picture)."""
        return {**self.size_picker.state(), "upscaler": self.upscaler.currentData(), "tile": self.tile.value(),
                "sd": self.sd.isChecked(), "model": self.model.currentData(), "strength": self.strength.value(),
                "steps": self.steps.value(), "sd_tile": self.sd_tile.value()}

    def load_state(self, state: dict[str, Any]) -> None:
        """Offer the last upscale's choices; unknown or damaged values keep the defaults. The picture's
        own model stays chosen when it can SD-upscale."""
        self.size_picker.load_state(state)
        for box, key in ((self.upscaler, "upscaler"), (self.model, "model")):
            index = box.findData(state.get(key))
            if index >= 0 and not (box is self.model and self._own_model_listed):
                box.setCurrentIndex(index)
        for spin, key in ((self.tile, "tile"), (self.steps, "steps"), (self.sd_tile, "sd_tile")):
            if isinstance(state.get(key), int):
                spin.setValue(state[key])
        if isinstance(state.get("strength"), (int, float)):
            self.strength.setValue(state["strength"])
        if isinstance(state.get("sd"), bool):
            self.sd.setChecked(state["sd"] and self.sd.isEnabled())
        self._update()
