"""X/Y/Z plot dialog (A1111's script): sweep up to three settings over the Generate panel's request.

Each row picks a setting (seed, steps, CFG, scheduler, a LoRA's weight, prompt S/R, denoising
strength) and its values, typed as A1111 takes them (``10, 20, 30``, ``4-8 [3]``, ``1-10 (+2)``);
the plot's size shows as you type, and a wrong value says why. "Make plot" checks the plot as
submission will (``check``, the engine registry's) and hands it to ``submit``, the window's job path:
each cell's image and then the grid arrive in the gallery.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QGridLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget,
)

from t2i_studio.core import schedulers
from t2i_studio.core.requests import GenerationRequest
from t2i_studio.core.xyz import Z_LAYOUTS, Plot
from t2i_studio.core.xyz_axes import Axis, choices, kind_name, stem

if TYPE_CHECKING:
    from t2i_studio.core.settings import Settings
    from t2i_studio.ui.prompt_panel import PromptPanel

ROWS = (("X", "columns"), ("Y", "rows"), ("Z", "one grid each"))
_EXAMPLES = {"seed": "1, 2, 3 or -1 for random ones", "steps": "10, 20, 30 or 10-40 (+10)",
             "cfg": "4-10 (+2) or 3, 5, 7", "scheduler": "Euler, Euler a, DPM++ 2M",
             "lora": "0-1 [5] or 0.2, 0.6, 1", "strength": "0.3-0.9 [4] or 0.4, 0.6",
             "prompt_sr": "a word of the prompt, then what replaces it: cat, dog, fox"}


class XYZDialog(QDialog):
    def __init__(self, base: GenerationRequest, *, submit: Callable[[Plot], int | None],
                 check: Callable[[Plot], object] = lambda plot: plot.validate(),
                 scheduler_names: Sequence[str] = schedulers.NAMES, parent: QWidget | None = None) -> None:
        """``base``: the Generate panel's request (its seed fixed: every cell uses it unless Seed is an
        axis); ``scheduler_names``: what its engine offers (what Fill puts in a Scheduler row)."""
        super().__init__(parent)
        # one image per cell: the panel's batch settings are not the plot's
        self.base = base.replace(sampling=base.sampling.replace(batch_size=1, batch_count=1))
        self._submit, self._check = submit, check
        self._schedulers = list(scheduler_names)
        self.setWindowTitle("X/Y/Z plot")
        self.setMinimumWidth(560)
        prompt = " ".join(base.prompt.split())
        prompt = prompt if len(prompt) <= 90 else prompt[:89] + "…"
        model = html.escape(stem(base.model.id) or "no model")
        about = QLabel(f"<b>{html.escape(prompt) or '(no prompt)'}</b><br>{base.width}×{base.height} · seed "
                       f"{base.sampling.seed} · {model} · one image per cell, every other setting as in the "
                       "Generate panel", self)
        about.setWordWrap(True)
        grid = QGridLayout()
        self.kinds: list[QComboBox] = []
        self.values: list[QLineEdit] = []
        self.fills: list[QPushButton] = []
        for row, (name, role) in enumerate(ROWS):
            kind = QComboBox(self)
            kind.addItem("—", None)
            for key, label in choices(self.base):
                kind.addItem(label, key)
            kind.setAccessibleName(f"{name} axis")
            values = QLineEdit(self)
            values.setAccessibleName(f"{name} values")
            fill = QPushButton("Fill", self)
            fill.setToolTip("Put typical values for this setting in the field")
            fill.setAccessibleName(f"Fill the {name} values")
            kind.currentIndexChanged.connect(lambda _i, r=row: self._kind_changed(r))
            values.textChanged.connect(self._update)
            fill.clicked.connect(lambda _checked=False, r=row: self._fill(r))
            grid.addWidget(QLabel(f"<b>{name}</b> ({role})", self), row, 0)
            grid.addWidget(kind, row, 1)
            grid.addWidget(values, row, 2)
            grid.addWidget(fill, row, 3)
            self.kinds.append(kind)
            self.values.append(values)
            self.fills.append(fill)
        grid.setColumnStretch(2, 1)
        self.z_layout = QComboBox(self)
        self.z_layout.addItem("side by side", Z_LAYOUTS[0])
        self.z_layout.addItem("one under another", Z_LAYOUTS[1])
        self.z_layout.setAccessibleName("Z grids layout")
        self.z_layout.currentIndexChanged.connect(self._update)
        grid.addWidget(QLabel("Z grids", self), len(ROWS), 0)
        grid.addWidget(self.z_layout, len(ROWS), 1)
        self.count = QLabel(self)
        self.count.setAccessibleName("Images the plot makes")
        self.warning = QLabel(self)
        self.warning.setWordWrap(True)
        self.warning.setAccessibleName("Why the plot cannot start")
        self.warning.setStyleSheet("color: #c0392b;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.ok = self.buttons.addButton("&Make plot", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setDefault(True)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addLayout(grid)
        layout.addWidget(self.count)
        layout.addWidget(self.warning)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self._update()

    # -- what the rows say --------------------------------------------------------------------------
    def axes(self) -> tuple[Axis, ...]:
        """The chosen rows' axes, in order; ``ValueError`` names a wrong value."""
        axes = []
        for kind, values in zip(self.kinds, self.values):
            key = kind.currentData()
            if key is None:
                break
            axes.append(Axis.parse(key, values.text()))
        return tuple(axes)

    def plot(self) -> Plot:
        return Plot(self.base, self.axes(), str(self.z_layout.currentData()))

    def _kind_changed(self, row: int) -> None:
        if self.kinds[row].currentData() is not None and not self.values[row].text().strip():
            self._fill(row)
        self._update()

    def _fill(self, row: int) -> None:
        key = self.kinds[row].currentData()
        if key is not None:
            self.values[row].setText(self._typical(kind_name(key)[0]))

    def _typical(self, kind: str) -> str:
        """Values around the panel's own: what most plots of this setting start from."""
        sampling = self.base.sampling
        if kind == "seed":
            return ", ".join(str(sampling.seed + k) for k in range(4))
        if kind == "steps":
            return ", ".join(str(v) for v in sorted({max(1, sampling.steps // 2), sampling.steps,
                                                     min(500, sampling.steps * 3 // 2)}))
        if kind == "cfg":
            return ", ".join(f"{v:g}" for v in sorted({max(0.0, sampling.guidance - 2), sampling.guidance,
                                                      min(50.0, sampling.guidance + 2)}))
        if kind == "scheduler":
            return ", ".join(self._schedulers)
        return {"lora": "0-1 [5]", "strength": "0.3-0.9 [4]"}.get(kind, "")

    def _update(self) -> None:
        chosen = 0
        for row, kind in enumerate(self.kinds):
            on = row == 0 or (self.kinds[row - 1].currentData() is not None and self.kinds[row - 1].isEnabled())
            kind.setEnabled(on)
            active = on and kind.currentData() is not None
            chosen += active
            self.values[row].setEnabled(active)
            self.fills[row].setEnabled(active)
            key = kind.currentData()
            self.values[row].setPlaceholderText(_EXAMPLES[kind_name(key)[0]] if key else "")
        self.z_layout.setEnabled(chosen == 3)
        problem, text = "", ""
        try:
            plot = self.plot()
            if not plot.axes:
                raise ValueError("Choose the setting to sweep along X, and its values.")
            shape = plot.shape
            cells = math.prod(shape)
            grids = f" in {shape[2]} grids" if len(shape) == 3 else " and a grid"
            text = f"{' × '.join(map(str, shape))} = {cells} image{'s' if cells != 1 else ''}{grids}"
            plot.validate()
        except ValueError as exc:
            problem = str(exc)
        self.count.setText(text)
        self.warning.setText(problem)
        self.warning.setVisible(bool(problem))
        self.ok.setEnabled(not problem)

    def start(self) -> None:
        """Check the plot as submission will, then submit it; the dialog stays open if it cannot."""
        try:
            plot = self.plot()
            self._check(plot)
        except ValueError as exc:
            self.warning.setText(str(exc))
            self.warning.setVisible(True)
            return
        if self._submit(plot) is not None:
            self.accept()

    # -- remembered between plots ------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        rows = [{"kind": kind.currentData(), "values": values.text()}
                for kind, values in zip(self.kinds, self.values) if kind.currentData() is not None]
        return {"rows": rows, "z_layout": self.z_layout.currentData()}

    def load_state(self, state: dict[str, Any]) -> None:
        """Offer the last plot's rows; one this request cannot sweep (a LoRA it lacks) ends them."""
        rows = state.get("rows") if isinstance(state, dict) else None
        for row, saved in enumerate(rows if isinstance(rows, list) else []):
            if row >= len(ROWS) or not isinstance(saved, dict):
                break
            index = self.kinds[row].findData(saved.get("kind"))
            if index < 0:
                break
            self.values[row].setText(str(saved.get("values", "")))
            self.kinds[row].setCurrentIndex(index)
        layout = self.z_layout.findData(state.get("z_layout") if isinstance(state, dict) else None)
        if layout >= 0:
            self.z_layout.setCurrentIndex(layout)
        self._update()


def open_xyz_dialog(panel: PromptPanel, settings: Settings, *, submit: Callable[[Plot], int | None],
                    check: Callable[[Plot], object], parent: QWidget) -> XYZDialog:
    """The dialog over ``panel``'s request (with the seed its next job would take), offering the last
    plot's axes; a plot that starts is remembered in ``settings``."""
    names = [panel.scheduler.itemText(i) for i in range(panel.scheduler.count())]
    dialog = XYZDialog(panel.request(panel.seed.seed_for_submit()), submit=submit, check=check,
                       scheduler_names=names, parent=parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.load_state(settings.last_xyz)
    dialog.accepted.connect(lambda: setattr(settings, "last_xyz", dialog.state()))
    dialog.open()
    return dialog
