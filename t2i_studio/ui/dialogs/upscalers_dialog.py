"""Models ▸ Upscalers: the upscaler library (``core.upscaler_library``), adding a model file and
removing one.

What a file holds (architecture, scale) is the engine's to say: the composition root hands in
``describe(path, allow_unsafe) -> {"architecture", "scale", ...}``, which loads the file, so it runs on
a ``BackgroundTask``, never on the GUI thread. Pickle files (.pth, .ckpt, .pt) can run code when
loaded: adding one asks first, and the listing opens only .safetensors files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel, QMessageBox, QPushButton, QTableWidgetItem,
    QVBoxLayout, QWidget,
)

from t2i_studio.core.engine import CancelToken
from t2i_studio.core.errors import describe as user_message
from t2i_studio.core.settings import upscalers_dir
from t2i_studio.core.upscaler_library import (
    EXTENSIONS, UpscalerFile, add_upscaler, list_upscalers, remove_upscaler,
)
from t2i_studio.ui.controls import list_table
from t2i_studio.ui.dialogs.model_manager import human_bytes
from t2i_studio.worker.tasks import BackgroundTask, Work

Describe = Callable[[Path, bool], dict[str, Any]]
_FILTER = f"Upscaler models ({' '.join('*' + ext for ext in EXTENSIONS)})"


def is_pickle(path: str | Path) -> bool:
    """Named as a pickle file (the library takes .safetensors and pickles); its bytes decide when loaded."""
    return Path(path).suffix.lower() in EXTENSIONS and Path(path).suffix.lower() != ".safetensors"


class UpscalersDialog(QDialog):
    upscalers_changed = Signal()

    def __init__(self, describe: Describe | None, folder: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._describe = describe
        self.folder = folder or upscalers_dir()
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl  # tests pass a recorder
        self._files: list[UpscalerFile] = []
        self._known: dict[str, dict[str, Any] | str] = {}  # path -> what describe said, or why it could not
        self._tasks: dict[BackgroundTask, str] = {}  # running -> what its failure message starts with
        self._adding: BackgroundTask | None = None
        self.setWindowTitle("Upscalers")
        self.resize(680, 400)

        where = QLabel(f"Folder: {self.folder}  (Edit ▸ Preferences chooses another)", self)
        where.setWordWrap(True)
        open_folder = QPushButton("Open &folder", self)
        open_folder.setToolTip("Show the upscaler folder in the file manager")
        open_folder.clicked.connect(self._open_folder)
        top = QHBoxLayout()
        top.addWidget(where, 1)
        top.addWidget(open_folder)
        self.table = list_table(self, ["Name", "Architecture", "Scale", "Size"], "Upscaler models", 0,
                                single=True, fit=True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.add_button = QPushButton("&Add file…", self)
        self.add_button.setToolTip("Copy an upscaler model (ESRGAN, Real-ESRGAN, SwinIR, …) into the folder")
        self.add_button.clicked.connect(self._pick_file)
        if describe is None:
            self.add_button.setToolTip("Adding needs the engines, which this session does not have")
        self.remove_button = QPushButton("&Remove…", self)
        self.remove_button.setToolTip("Delete the selected upscaler from the folder")
        self.remove_button.clicked.connect(self.remove_selected)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(self.add_button)
        buttons_row.addStretch(1)
        buttons_row.addWidget(self.remove_button)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Upscaler status")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons_row)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.reload()
        self._inspect_listed()

    # -- the list ---------------------------------------------------------------------------------
    def reload(self) -> list[UpscalerFile]:
        try:
            self._files = list_upscalers(self.folder)
        except OSError as exc:
            self._files = []
            self.status.setText(f"Could not read {self.folder}: {user_message(exc).text}")
        self.table.setRowCount(len(self._files))
        for row, found in enumerate(self._files):
            known = self._known.get(str(found.path))
            if isinstance(known, dict):
                architecture, scale, tip = str(known.get("architecture", "?")), f"{known.get('scale', '?')}×", ""
            elif known is not None:  # why it could not be read
                architecture, scale, tip = "not an upscaler", "", known
            else:
                architecture, scale, tip = ("pickle: not opened" if is_pickle(found.path) else "…"), "", ""
            for col, text in enumerate((found.name, architecture, scale, human_bytes(found.size_bytes))):
                item = QTableWidgetItem(text)
                item.setToolTip(str(found.path) if col == 0 else tip or text)
                self.table.setItem(row, col, item)
        if not self._files and not self.status.text():
            self.status.setText("No upscalers yet: add a model file (OpenModelDB and the Real-ESRGAN releases "
                                "have many). Lanczos needs none.")
        self._update_buttons()
        return self._files

    def selected(self) -> UpscalerFile | None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        return self._files[rows.pop()] if len(rows) == 1 else None

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(self.selected() is not None and not self._adding)
        self.add_button.setEnabled(self._describe is not None and not self._adding)

    def _inspect_listed(self) -> None:
        """Ask what each .safetensors file is, in the background (pickles are not opened unasked)."""
        describe, paths = self._describe, [f.path for f in self._files if not is_pickle(f.path)]
        if describe is None or not paths:
            return

        def inspect(report: Callable[[Any], None], cancel: CancelToken) -> dict[str, dict[str, Any] | str]:
            found: dict[str, dict[str, Any] | str] = {}
            for path in paths:
                cancel.raise_if_cancelled()
                try:
                    found[str(path)] = describe(path, False)
                except Exception as exc:  # noqa: BLE001 - one bad file says so in its row
                    found[str(path)] = user_message(exc).text
                report(dict(found))
            return found

        self._run(inspect, self._inspected, "Could not look into the upscalers: ", self._inspected)

    def _inspected(self, found: dict[str, dict[str, Any] | str]) -> None:
        self._known.update(found)
        self.reload()

    def _open_folder(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.open_url(QUrl.fromLocalFile(str(self.folder)))

    # -- adding and removing ----------------------------------------------------------------------
    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add an upscaler model", "", _FILTER)
        if path:
            self.add_file(Path(path))

    def add_file(self, path: Path) -> None:
        """Copy ``path`` into the library once ``describe`` says it is an upscaler (on a background
        task); a pickle file only after the user allows it."""
        describe = self._describe
        if describe is None or self._adding:
            return
        unsafe = is_pickle(path)
        if unsafe and not self.confirm(
                "Add a pickle upscaler?", f"{path.name} is a pickle file: loading one can run code hidden in it. "
                "Add it only if you trust where it came from (.safetensors files cannot).\n\nAdd it?"):
            self.status.setText(f"{path.name} was not added.")
            return

        def add(_report: Callable[[Any], None], _cancel: CancelToken) -> tuple[UpscalerFile, dict[str, Any]]:
            info: dict[str, Any] = {}
            added = add_upscaler(path, self.folder, validate=lambda p: info.update(describe(p, unsafe)))
            return added, info

        self.status.setText(f"Checking and copying {path.name}…")
        self._adding = self._run(add, self._added, f"Could not add {path.name}: ")
        self._update_buttons()

    def _added(self, outcome: tuple[UpscalerFile, dict[str, Any]]) -> None:
        added, info = outcome
        self._known[str(added.path)] = info
        self.status.setText(f"Added {added.name} ({info.get('architecture', '?')}, {info.get('scale', '?')}×).")
        self.reload()
        self.upscalers_changed.emit()

    def remove_selected(self) -> None:
        found = self.selected()
        if found is None or not self.confirm(
                "Remove upscaler?", f"Delete {found.name} ({human_bytes(found.size_bytes)}) from {self.folder}?"):
            return
        try:
            remove_upscaler(found.path.name, self.folder)
            self.status.setText(f"Removed {found.name}.")
        except (OSError, ValueError) as exc:
            self.status.setText(f"Could not remove {found.name}: {user_message(exc).text}")
        self.reload()
        self.upscalers_changed.emit()

    def confirm(self, title: str, text: str) -> bool:
        """Ask a yes/no question (tests replace this)."""
        buttons = QMessageBox.StandardButton
        return QMessageBox.question(self, title, text, buttons.Yes | buttons.No, buttons.No) == buttons.Yes

    # -- background work --------------------------------------------------------------------------
    def _run(self, fn: Work, on_success: Callable[[Any], None], failure: str,
             on_progress: Callable[[Any], None] | None = None) -> BackgroundTask:
        # Bound methods only: Qt drops their calls once the dialog is gone.
        task = BackgroundTask(fn, self)
        if on_progress is not None:
            task.progress.connect(on_progress)
        task.succeeded.connect(on_success)
        task.failed.connect(self._failed)
        task.done.connect(self._task_done)
        self._tasks[task] = failure
        task.start()
        return task

    def _failed(self, message: str, details: str) -> None:
        self.status.setText(self._tasks.get(self.sender(), "") + message)  # type: ignore[call-overload]
        self.status.setToolTip(details)

    def _task_done(self) -> None:
        task = self.sender()  # not a lambda holding the task: PySide would keep it alive
        assert isinstance(task, BackgroundTask)
        self._tasks.pop(task, None)
        task.setParent(None)  # Python owns it now: freed once the last reference goes
        if task is self._adding:
            self._adding = None
        self._update_buttons()

    def is_busy(self) -> bool:
        return bool(self._tasks)

    def done(self, result: int) -> None:  # every way of closing ends here: stop the work, wait for it
        for task in list(self._tasks):
            task.cancel()
            task.wait()
        super().done(result)
