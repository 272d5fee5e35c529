"""Style images as checkable thumbnails (bundled samples + the user's own) with blend weights."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QFormLayout, QHBoxLayout, QLabel, QListView, QListWidget, QListWidgetItem, QScrollArea, QStyle, QVBoxLayout,
    QWidget,
)

from t2i_studio.ui.controls import FloatSlider, icon_button, local_image_paths, pick_image, scaled_pixmap
from t2i_studio.ui.thumb_delegate import ThumbnailDelegate

WEIGHT_ROWS_SHOWN = 2  # blend weights visible without scrolling
PATH_ROLE = Qt.ItemDataRole.UserRole
USER_ROLE = Qt.ItemDataRole.UserRole + 1


def sample_styles() -> list[Path]:
    """The style images bundled with the app (file stem = display name)."""
    try:
        folder = resources.files("t2i_studio") / "resources" / "styles"
        return sorted(Path(str(p)) for p in folder.iterdir() if p.name.lower().endswith(".png"))
    except (FileNotFoundError, NotADirectoryError, ModuleNotFoundError):
        return []


def display_name(path: str) -> str:
    return Path(path).stem.replace("-", " ").replace("_", " ")


class _StyleGrid(QListWidget):
    files_dropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(64, 64))
        self.setGridSize(QSize(84, 96))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(False)
        self.setItemDelegate(ThumbnailDelegate(self))
        self.setAccessibleName("Style images")
        self.setToolTip("Click styles to use them (one or more); drop your own images here")
        # a click anywhere on a style (or Space) ticks it, not just on its small check box
        self.itemClicked.connect(self.toggle)

    def toggle(self, item: QListWidgetItem) -> None:
        checked = item.checkState() == Qt.CheckState.Checked
        item.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)

    def keyPressEvent(self, event) -> None:  # noqa: ANN001, N802
        if event.key() == Qt.Key.Key_Space and self.currentItem() is not None:
            self.toggle(self.currentItem())
            event.accept()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event) -> None:  # noqa: ANN001, N802
        if local_image_paths(event.mimeData()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: ANN001, N802
        if local_image_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: ANN001, N802
        paths = local_image_paths(event.mimeData())
        if paths:
            self.files_dropped.emit(paths)
            event.acceptProposedAction()


class StyleList(QWidget):
    """Checkable style thumbnails; ``chosen()`` gives (path, weight) for the ticked ones."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = _StyleGrid(self)
        self.grid.setMinimumHeight(110)
        self.add_button = icon_button(self, "Add style image", "Add your own style image…", text="+")
        self.remove_button = icon_button(self, "Remove style image",
                                         "Remove the selected style image of yours from the list",
                                         icon=QStyle.StandardPixmap.SP_TrashIcon)
        # the blend weights live in a box of fixed height, so ticking a style never moves what is below
        self.weights_box = QWidget()
        self.weights_form = QFormLayout(self.weights_box)
        self.weights_form.setContentsMargins(0, 0, 0, 0)
        self.weights_area = QScrollArea(self)
        self.weights_area.setWidget(self.weights_box)
        self.weights_area.setWidgetResizable(True)
        self.weights_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.weights_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        row_height = self.fontMetrics().height() + 16  # a spin box's height, about
        self.weights_area.setFixedHeight(WEIGHT_ROWS_SHOWN * row_height)
        self._weights: dict[str, float] = {}
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.grid, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.weights_area)
        for path in sample_styles():
            self.add_style(str(path), user=False)
        self.grid.itemChanged.connect(lambda _item: self._rebuild_weights())
        self.grid.files_dropped.connect(self._add_dropped)
        self.add_button.clicked.connect(self._pick)
        self.remove_button.clicked.connect(self._remove_selected)
        self._rebuild_weights()

    def _items(self) -> list[QListWidgetItem]:
        return [self.grid.item(i) for i in range(self.grid.count())]

    def find(self, path: str) -> QListWidgetItem | None:
        key = str(Path(path))
        return next((it for it in self._items() if it.data(PATH_ROLE) == key), None)

    def add_style(self, path: str, *, user: bool = True, checked: bool = False) -> QListWidgetItem:
        item = self.find(path)
        if item is None:
            item = QListWidgetItem(QIcon(scaled_pixmap(path, 64)), display_name(path))
            item.setData(PATH_ROLE, str(Path(path)))
            item.setData(USER_ROLE, user)
            item.setToolTip(path)
            # the grid toggles on a click anywhere (user-checkable would toggle twice on the box)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.grid.addItem(item)
        if checked:
            item.setCheckState(Qt.CheckState.Checked)
        return item

    def _add_dropped(self, paths: list[str]) -> None:
        for path in paths:
            self.add_style(path, checked=True)

    def _pick(self) -> None:
        path = pick_image(self, "Choose a style image")
        if path:
            self.add_style(path, checked=True)

    def _remove_selected(self) -> None:
        for item in self.grid.selectedItems():
            if item.data(USER_ROLE):
                self.grid.takeItem(self.grid.row(item))
        self._rebuild_weights()

    def user_styles(self) -> list[str]:
        return [it.data(PATH_ROLE) for it in self._items() if it.data(USER_ROLE)]

    def checked_paths(self) -> list[str]:
        return [it.data(PATH_ROLE) for it in self._items() if it.checkState() == Qt.CheckState.Checked]

    def chosen(self) -> list[tuple[str, float]]:
        return [(p, self._weights.get(p, 1.0)) for p in self.checked_paths()]

    def set_chosen(self, paths: list[str], weights: list[float] | tuple[float, ...] = ()) -> None:
        """Tick exactly ``paths`` (added as the user's own where not listed) with their weights."""
        self.grid.blockSignals(True)
        for item in self._items():
            item.setCheckState(Qt.CheckState.Unchecked)
        for i, path in enumerate(paths):
            self.add_style(path, user=self.find(path) is None or bool(self.find(path).data(USER_ROLE)),
                           checked=True)
            self._weights[str(Path(path))] = float(weights[i]) if i < len(weights) else 1.0
        self.grid.blockSignals(False)
        self._rebuild_weights()

    def _rebuild_weights(self) -> None:
        while self.weights_form.rowCount():
            self.weights_form.removeRow(0)
        chosen = self.checked_paths()
        if len(chosen) < 2:
            hint = QLabel("Tick two or more styles to blend them by weight.", self.weights_box)
            hint.setWordWrap(True)
            hint.setEnabled(False)
            self.weights_form.addRow(hint)
            self.changed.emit()
            return
        for path in chosen:
            slider = FloatSlider(f"Weight of {display_name(path)}", 0.0, 1.0, self._weights.get(path, 1.0),
                                 parent=self.weights_box, tooltip="How much of this style goes into the blend")
            slider.valueChanged.connect(lambda v, p=path: self._set_weight(p, v))
            self.weights_form.addRow(display_name(path), slider)
        self.changed.emit()

    def _set_weight(self, path: str, value: float) -> None:
        self._weights[path] = value
        self.changed.emit()
