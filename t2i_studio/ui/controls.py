"""Small input widgets shared by the panels: float sliders, seed fields, a collapsible section,
an image drop target, the submit footer, read-only list tables, combo boxes of (label, value)
items, and icon-only buttons that always carry an accessible name and a tooltip."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon, QImageReader, QPixmap, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDoubleSpinBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QPushButton, QSizePolicy, QSlider, QStyle, QTableWidget, QToolButton, QVBoxLayout, QWidget,
)

from t2i_studio.core import wildcards
from t2i_studio.core.requests import MAX_SEED, Request, random_seed

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp)"


def icon_button(parent: QWidget, name: str, tooltip: str, *, text: str = "",
                icon: QIcon | QStyle.StandardPixmap | None = None, checkable: bool = False) -> QToolButton:
    """A tool button showing an icon (or a short glyph) with an accessible name and a tooltip."""
    button = QToolButton(parent)
    if isinstance(icon, QStyle.StandardPixmap):
        icon = parent.style().standardIcon(icon)
    if icon is not None and not icon.isNull():
        button.setIcon(icon)
    else:
        button.setText(text or name)
    button.setAccessibleName(name)
    button.setToolTip(tooltip)
    button.setCheckable(checkable)
    button.setAutoRaise(True)
    return button


def combo(parent: QWidget, name: str, tip: str, items: tuple[tuple[str, Any], ...]) -> QComboBox:
    """A combo box of (label, value) items with an accessible name and a tooltip."""
    box = QComboBox(parent)
    for label, value in items:
        box.addItem(label, value)
    box.setAccessibleName(name)
    box.setToolTip(tip)
    # long names elide in a narrow panel rather than widen it
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(6)
    return box


def choose(box: QComboBox, value: Any) -> None:
    """Select the item holding ``value`` (the first item when none does)."""
    box.setCurrentIndex(max(0, box.findData(value)))


def list_table(parent: QWidget, headers: list[str], name: str, stretch: int, *, rows: int = 0,
               single: bool = False, fit: bool = False) -> QTableWidget:
    """A read-only table of whole-row items (the dialogs' lists of models, servers, upscalers):
    column ``stretch`` takes the spare width; ``single``: one row at a time; ``fit``: the other
    columns as wide as their contents."""
    table = QTableWidget(rows, len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    if single:
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    if fit:
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


def pick_image(parent: QWidget, title: str = "Choose an image") -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, title, "", IMAGE_FILTER)
    return path or None


def local_image_paths(mime) -> list[str]:  # noqa: ANN001 - QMimeData
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []


def scaled_pixmap(path: str, edge: int) -> QPixmap:
    """Read an image file scaled down while decoding (cheap even for large files)."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > edge:
        reader.setScaledSize(size.scaled(edge, edge, Qt.AspectRatioMode.KeepAspectRatio))
    return QPixmap.fromImage(reader.read())


class FloatSlider(QWidget):
    """A slider and a spin box editing one float in [minimum, maximum]."""

    valueChanged = Signal(float)

    def __init__(self, name: str, minimum: float, maximum: float, value: float, *, decimals: int = 2,
                 tooltip: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scale = 10 ** decimals
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(round(minimum * self._scale), round(maximum * self._scale))
        self.spin = QDoubleSpinBox(self)
        self.spin.setRange(minimum, maximum)
        self.spin.setDecimals(decimals)
        self.spin.setSingleStep(1 / self._scale * (10 if decimals > 1 else 1))
        for widget in (self.slider, self.spin):
            widget.setAccessibleName(name)
            widget.setToolTip(tooltip or name)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self.slider.valueChanged.connect(lambda v: self.spin.setValue(v / self._scale))
        self.spin.valueChanged.connect(self._spin_changed)
        self.setValue(value)

    def _spin_changed(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(value * self._scale))
        self.slider.blockSignals(False)
        self.valueChanged.emit(value)

    def value(self) -> float:
        return round(self.spin.value(), 6)

    def setValue(self, value: float) -> None:  # noqa: N802 - Qt naming
        self.spin.setValue(float(value))


class SeedEdit(QWidget):
    """A seed: digits (0..2^64-1, validated by the request), a dice button and an optional lock.

    Unlocked, the field says "random" and ``seed_for_submit()`` rolls a new seed for each job;
    typing a seed, rolling the dice or reusing one locks it. An empty field reads as None (allowed
    where ``allow_empty``).
    """

    changed = Signal()

    def __init__(self, name: str, *, lockable: bool = True, allow_empty: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.allow_empty = allow_empty
        self.edit = QLineEdit(self)
        self.edit.setValidator(QRegularExpressionValidator(r"\d{0,20}", self.edit))
        self.edit.setAccessibleName(name)
        self.edit.setPlaceholderText("none" if allow_empty else "random")
        self.edit.setToolTip(f"{name}: a whole number from 0 to {MAX_SEED}")
        self.dice = icon_button(self, f"New random {name.lower()}", f"Roll a new random {name.lower()}",
                                text="⚄")
        self.dice.clicked.connect(self._roll)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.dice)
        self.lock: QToolButton | None = None
        if lockable:
            self.lock = icon_button(self, f"Lock {name.lower()}",
                                    f"Keep this {name.lower()} (unlocked: a new random one per image)",
                                    text="Lock", checkable=True)
            self.lock.setAutoRaise(False)
            self.lock.toggled.connect(self._locked_changed)
            layout.addWidget(self.lock)
            self.edit.textEdited.connect(lambda text: self.set_locked(True) if text else None)
        self.edit.textChanged.connect(lambda _t: self.changed.emit())

    def _roll(self) -> None:
        self.set_seed(random_seed())
        self.set_locked(True)

    def _locked_changed(self, locked: bool) -> None:
        assert self.lock is not None
        self.lock.setText("Locked" if locked else "Lock")
        if not locked:
            self.edit.clear()  # unlocked, every job gets a new seed: show "random", not the last one
        elif self.seed() is None:
            self.set_seed(random_seed())
        self.changed.emit()

    def seed(self) -> int | None:
        text = self.edit.text().strip()
        return int(text) if text else None

    def set_seed(self, seed: int | None) -> None:
        self.edit.setText("" if seed is None else str(int(seed)))

    @property
    def locked(self) -> bool:
        return self.lock is None or self.lock.isChecked()

    def set_locked(self, locked: bool) -> None:
        if self.lock is not None:
            self.lock.setChecked(locked)
            if not locked:
                self.edit.clear()

    def seed_for_submit(self) -> int | None:
        """The seed of the next job: a new random one unless locked."""
        if not self.locked:
            return random_seed()
        if self.seed() is None and not self.allow_empty:
            self.set_seed(random_seed())
        return self.seed()


class Collapsible(QWidget):
    """A titled section whose body shows or hides with a click on the title."""

    def __init__(self, title: str, body: QWidget, *, expanded: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.toggle = QToolButton(self)
        self.toggle.setText(title)
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setAccessibleName(f"Show {title.lower()}")
        self.toggle.setToolTip(f"Show or hide {title.lower()}")
        self.body = body
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle)
        layout.addWidget(body)
        self.toggle.toggled.connect(self.set_expanded)
        self.set_expanded(expanded)

    def set_expanded(self, expanded: bool) -> None:
        self.toggle.blockSignals(True)
        self.toggle.setChecked(expanded)
        self.toggle.blockSignals(False)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.body.setVisible(expanded)

    @property
    def expanded(self) -> bool:
        return self.toggle.isChecked()


class ImageDrop(QLabel):
    """A thumbnail of an image file that accepts a dropped file and can pick one."""

    changed = Signal(str)  # the path, "" when cleared

    def __init__(self, name: str, placeholder: str, *, edge: int = 96, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._edge = edge
        self._placeholder = placeholder
        self.path = ""
        self.setAcceptDrops(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(edge, edge)
        self.setWordWrap(True)
        self.setFrameShape(QLabel.Shape.StyledPanel)
        self.setAccessibleName(name)
        self.setToolTip(f"{name}: drop an image here")
        self.set_path("")

    def set_path(self, path: str | None) -> None:
        self.path = str(path or "")
        pixmap = scaled_pixmap(self.path, self._edge) if self.path else QPixmap()
        if pixmap.isNull():
            self.setPixmap(QPixmap())
            self.setText(Path(self.path).name if self.path else self._placeholder)
        else:
            self.setPixmap(pixmap)
        self.setToolTip(self.path or self.accessibleName())
        self.changed.emit(self.path)

    def dragEnterEvent(self, event) -> None:  # noqa: ANN001, N802
        if local_image_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: ANN001, N802
        paths = local_image_paths(event.mimeData())
        if paths:
            self.set_path(paths[0])
            event.acceptProposedAction()


class ElidedLabel(QLabel):
    """One line of text that elides (…) to the width it is given instead of asking for more; the
    whole text is its tooltip and what ``text()`` returns."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = text
        self.setToolTip(text)
        self._elide()

    def text(self) -> str:
        return self._full

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, max(0, self.width()))
        super().setText(shown)


class SubmitFooter(QWidget):
    """Why a panel's request cannot be submitted, above its submit and Cancel buttons.

    A widget of its own so the window can keep it visible below the panel's scroll area.
    """

    def __init__(self, submit_text: str, submit_tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        # a long message wraps in the width the panel has; it never widens the panel
        self.error.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.error.setAccessibleName("Why the request cannot be submitted")
        self.error.setStyleSheet("color: #c0392b;")
        self.submit = QPushButton(submit_text, self)
        self.submit.setToolTip(submit_tooltip)
        self.cancel = QPushButton("Cancel", self)
        self.cancel.setToolTip("Cancel the running job (Esc)")
        self.cancel.setEnabled(False)
        # what submission will check (the window sets its engine registry's check): as you type
        self.checker: Callable[[Request], object] = lambda request: request.validate()
        self._checked: tuple[Request | None, str] = (None, "")  # the last request checked, without its texts
        buttons = QHBoxLayout()
        buttons.addWidget(self.submit, 1)
        buttons.addWidget(self.cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

    def _checker_error(self, request: Request) -> str:
        """What ``checker`` says of ``request``. Its deeper checks read files (the model's configs,
        the input images' headers) and look at the prompts only for their wildcards, so typing plain
        text does not rerun them."""
        plain = hasattr(request, "prompt") and not wildcards.is_dynamic(request)
        key = request.replace(prompt="", negative_prompt="") if plain else request
        if key != self._checked[0]:
            try:
                self.checker(request)
                self._checked = (key, "")
            except ValueError as exc:
                self._checked = (key, str(exc))
        return self._checked[1]

    def check(self, request: Request, missing: str = "") -> str:
        """Show and return why ``request`` cannot be submitted ("" when it can): ``missing`` (what the
        panel still lacks, e.g. a model) when given, else what ``checker`` finds wrong."""
        try:
            request.validate()
            error = self._checker_error(request)
        except ValueError as exc:
            error = str(exc)
        error = missing or error
        self.error.setText(error)
        self.error.setToolTip(error)
        self.error.setVisible(bool(error))
        self.submit.setEnabled(not error)
        return error
