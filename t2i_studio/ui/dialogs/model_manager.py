"""Model manager: the models the app can use (generation models and ControlNets, told apart by
their kind), adding local ones, downloading from the hub.

Everything goes through the ``ModelCatalog`` protocol (the composition root hands in
``engines.models.HubModelCatalog``; tests a fake). Size checks and downloads each run on a
``worker.tasks.BackgroundTask``, which brings their byte counts and outcome back to the GUI thread;
closing the dialog cancels and waits for them.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QInputDialog, QLabel,
    QLineEdit, QMessageBox, QProgressBar, QPushButton, QTableWidgetItem, QVBoxLayout, QWidget,
)

from t2i_studio.core.catalog import CONTROLNET, RECOMMENDED, ModelCatalog, ModelInfo
from t2i_studio.core.engine import CancelToken
from t2i_studio.core.errors import describe
from t2i_studio.ui.controls import list_table
from t2i_studio.worker.tasks import BackgroundTask, Work

log = logging.getLogger(__name__)

KIND_NAMES = {CONTROLNET: "ControlNet"}  # any other kind makes pictures: "Text-to-image"
LARGE_DOWNLOAD_BYTES = 4 * 1024**3  # ask before downloading more than this
DISK_MARGIN_BYTES = 2 * 1024**3  # and when less than this would be left free afterwards


def human_bytes(n: int | None) -> str:
    if n is None:
        return "unknown size"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit in ("B", "KB") else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


class ModelManagerDialog(QDialog):
    models_changed = Signal()

    def __init__(self, catalog: ModelCatalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self._task: BackgroundTask | None = None  # the current step (size check or download)
        self._tasks: set[BackgroundTask] = set()  # every task not yet done: a size check ends as its download starts
        self._downloading = False  # the current step is a download (it can be cancelled)
        self._closing = False  # set by stop(): late results start nothing new
        self._pending: tuple[str, str | None] = ("", None)  # the repo id and revision being fetched
        self.setWindowTitle("Models")
        self.resize(760, 480)

        self._models: list[ModelInfo] = []
        self.table = list_table(self, ["Name", "Source", "Family", "Size", "Kind", "Location"], "Installed models", 5)
        self.summary = QLabel(self)

        self.add_folder_button = QPushButton("Add &folder…", self)
        self.add_folder_button.setToolTip("Add a diffusers model folder (with model_index.json) or a ControlNet "
                                          "folder")
        self.add_folder_button.clicked.connect(self._pick_folder)
        self.add_file_button = QPushButton("Add &.safetensors file…", self)
        self.add_file_button.setToolTip("Add a single-file checkpoint or ControlNet (.safetensors)")
        self.add_file_button.clicked.connect(self._pick_file)
        self.rename_button = QPushButton("Re&name…", self)
        self.rename_button.setToolTip("Show the selected model under another name")
        self.rename_button.clicked.connect(self._rename_selected)
        self.remove_button = QPushButton("&Remove…", self)
        self.remove_button.setToolTip("Take the selected model off the list (hub models: delete their files)")
        self.remove_button.clicked.connect(self._remove_selected)
        self.table.itemSelectionChanged.connect(self._update_selection_buttons)
        local = QHBoxLayout()
        local.addWidget(self.add_folder_button)
        local.addWidget(self.add_file_button)
        local.addStretch(1)
        local.addWidget(self.rename_button)
        local.addWidget(self.remove_button)

        self.recommended = list_table(self, ["Model", "Good for", "Licence"], "Recommended models", 1,
                                      rows=len(RECOMMENDED))
        self.recommended.setToolTip("Double-click one to download it")
        for row, rec in enumerate(RECOMMENDED):
            for col, text in enumerate((rec.id, rec.good_for, rec.licence)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.recommended.setItem(row, col, item)
        self.recommended.setMaximumHeight(self.recommended.verticalHeader().length()
                                          + self.recommended.horizontalHeader().height() + 4)
        self.recommended.cellDoubleClicked.connect(lambda row, _col: self.download_recommended(row))

        self.repo_edit = QLineEdit(self)
        self.repo_edit.setPlaceholderText("e.g. stabilityai/sd-turbo")
        self.repo_edit.setAccessibleName("Hugging Face model id")
        self.repo_edit.setToolTip("The id of a diffusers model or ControlNet on the Hugging Face hub")
        self.revision_edit = QLineEdit(self)
        self.revision_edit.setPlaceholderText("main")
        self.revision_edit.setAccessibleName("Revision")
        self.revision_edit.setToolTip("Branch, tag or commit (optional)")
        self.download_button = QPushButton("&Download", self)
        self.download_button.setToolTip("Download into the Hugging Face cache shared with other tools")
        self.download_button.clicked.connect(self.start_download)
        self.repo_edit.returnPressed.connect(self.start_download)
        self.cancel_button = QPushButton("&Cancel download", self)
        self.cancel_button.setToolTip("Stop the download (it resumes next time)")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Download progress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Download status")
        hub = QGroupBox("Download from the Hugging Face hub", self)
        form = QFormLayout(hub)
        form.addRow(self.recommended)
        form.addRow("Model id:", self.repo_edit)
        form.addRow("Revision:", self.revision_edit)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.download_button)
        row.addWidget(self.cancel_button)
        form.addRow(row)
        form.addRow(self.status)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addLayout(local)
        layout.addWidget(hub)
        layout.addWidget(buttons)
        self.reload()

    # -- the list ---------------------------------------------------------------------------------
    def reload(self) -> list[ModelInfo]:
        try:
            models = list(self.catalog.list())
        except Exception as exc:  # noqa: BLE001
            log.warning("listing models failed: %s", exc)
            self.summary.setText(f"Could not list models: {describe(exc).text}")
            return []
        self._models = models
        self.table.setRowCount(len(models))
        for row, m in enumerate(models):
            cells = (m.name, m.source, m.family, human_bytes(m.size_bytes), KIND_NAMES.get(m.kind, "Text-to-image"),
                     m.path or m.id)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(m.id if col == 0 else text)
                self.table.setItem(row, col, item)
        total = sum(m.size_bytes for m in models)
        self.summary.setText(
            f"{len(models)} model{'s' if len(models) != 1 else ''}, {human_bytes(total)} on disk."
            if models else "No models yet: download one from the hub below, or add a local folder or file.")
        self._update_selection_buttons()
        return models

    def selected_model(self) -> ModelInfo | None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        return self._models[rows.pop()] if len(rows) == 1 else None

    def _update_selection_buttons(self) -> None:
        model = self.selected_model()
        self.rename_button.setEnabled(model is not None)
        self.remove_button.setEnabled(model is not None and model.source != "builtin")

    def _rename_selected(self) -> None:
        model = self.selected_model()
        if model is None:
            return
        name, ok = self.ask_text("Rename model", f"Name for {model.id} (empty: its own name):", model.name)
        if ok:
            self.catalog.rename(model.id, name)
            self.reload()
            self.models_changed.emit()

    def _remove_selected(self) -> None:
        model = self.selected_model()
        if model is None or model.source == "builtin":
            return
        question = (f"Delete {model.name} from the Hugging Face cache ({human_bytes(model.size_bytes)})? Other "
                    "tools that use the cache lose it too." if model.source == "hub" else
                    f"Take {model.name} off the list? Its files stay where they are.")
        if not self.confirm("Remove model?", question):
            return
        try:
            self.status.setText(self.catalog.remove(model.id))
        except Exception as exc:  # noqa: BLE001 - shown, the dialog stays usable
            self.status.setText(f"Could not remove {model.name}: {describe(exc).text}")
        self.reload()
        self.models_changed.emit()

    def download_recommended(self, row: int) -> None:
        self.repo_edit.setText(RECOMMENDED[row].id)
        self.revision_edit.clear()
        self.start_download()

    def ask_text(self, title: str, label: str, text: str) -> tuple[str, bool]:
        """Ask for a line of text (tests replace this)."""
        return QInputDialog.getText(self, title, label, text=text)

    def add_path(self, path: str) -> ModelInfo | None:
        try:
            info = self.catalog.add(path)
        except Exception as exc:  # noqa: BLE001 - shown, dialog stays usable
            self.status.setText(f"Could not add {path}: {describe(exc).text}")
            return None
        self.status.setText(f"Added {info.name}.")
        self.reload()
        self.models_changed.emit()
        return info

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a diffusers model folder")
        if folder:
            self.add_path(folder)

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a checkpoint", "", "Safetensors (*.safetensors)")
        if path:
            self.add_path(path)

    # -- downloads --------------------------------------------------------------------------------
    def is_busy(self) -> bool:
        return self._task is not None

    def start_download(self) -> None:
        """Ask the hub for the size (background), check it with the user, then download."""
        repo = self.repo_edit.text().strip()
        if self.is_busy():
            return
        self._closing = False
        if not repo or " " in repo:
            self.status.setText("Type a model id such as stabilityai/sd-turbo.")
            return
        revision = self.revision_edit.text().strip() or None
        self.status.setText(f"Asking the hub about {repo}…")
        self.status.setToolTip("")
        self.progress.setRange(0, 0)
        self._pending = (repo, revision)
        self._run(lambda _report, _cancel: (self.catalog.download_size(repo, revision),
                                            self.catalog.free_disk_bytes()), self._after_size)

    def _after_size(self, sizes: tuple[int | None, int]) -> None:
        if self._closing:
            return
        (repo, revision), (size, free) = self._pending, sizes
        warning = download_warning(size, free)
        if warning and not self.confirm("Download model?", warning + "\n\nDownload anyway?"):
            self.status.setText("Download not started.")
            self._reset_progress()
            return
        self.status.setText(f"Downloading {repo} ({human_bytes(size)})…")
        self._downloading = True

        def download(report: Callable[[Any], None], cancel: CancelToken) -> ModelInfo:
            return self.catalog.download(repo, revision, lambda done, total: report((done, total)), cancel)

        self._run(download, self._downloaded, self._show_progress)

    def cancel_download(self) -> None:
        if self._downloading and self._task is not None:
            self._task.cancel()
            self.status.setText("Cancelling…")

    def _run(self, fn: Work, on_success: Callable[[Any], None],
             on_progress: Callable[[Any], None] | None = None) -> None:
        # Bound methods only: Qt drops their calls once the dialog is gone.
        task = BackgroundTask(fn, self)
        if on_progress is not None:
            task.progress.connect(on_progress)
        task.succeeded.connect(on_success)
        task.failed.connect(self._failed)
        task.cancelled.connect(self._cancelled)
        task.done.connect(self._task_done)
        self._task = task
        self._tasks.add(task)
        self._set_busy(True)
        task.start()

    def _failed(self, message: str, details: str) -> None:
        self.status.setText(f"Failed: {message}")
        self.status.setToolTip(details)
        self._reset_progress()

    def _cancelled(self) -> None:
        self.status.setText("Download cancelled.")
        self._reset_progress()

    def _task_done(self) -> None:
        task = self.sender()  # not a lambda holding the task: PySide would keep it alive forever
        assert isinstance(task, BackgroundTask)
        self._tasks.discard(task)
        if self._task is task:
            self._task = None
            self._set_busy(False)
        task.setParent(None)  # Python owns it now: freed once the last reference goes

    def _show_progress(self, latest: tuple[int, int]) -> None:
        done, total = latest
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(min(1000, int(done * 1000 / total)))
            self.progress.setFormat(f"{human_bytes(done)} of {human_bytes(total)}")
        else:
            self.progress.setRange(0, 0)
            self.progress.setFormat(human_bytes(done))

    def _downloaded(self, info: ModelInfo) -> None:
        self._downloading = False
        self.progress.setRange(0, 1000)
        self.progress.setValue(1000)
        self.progress.setFormat("Done")
        self.status.setText(f"Downloaded {info.name} ({human_bytes(info.size_bytes)}).")
        self.reload()
        self.models_changed.emit()

    def _reset_progress(self) -> None:
        self._downloading = False
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("")

    def _set_busy(self, busy: bool) -> None:
        self.download_button.setEnabled(not busy)
        self.repo_edit.setEnabled(not busy)
        self.revision_edit.setEnabled(not busy)
        self.cancel_button.setEnabled(busy and self._downloading)

    def confirm(self, title: str, text: str) -> bool:
        """Ask a yes/no question (tests replace this)."""
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def stop(self) -> None:
        """Cancel a running download and wait for its thread (closing calls this)."""
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
            task.wait()

    def done(self, result: int) -> None:  # every way of closing (Close, Esc, the title bar) ends here
        if self._downloading and self._task is not None and not self.confirm(
                "Cancel the download?", "A model is downloading. Cancel it and close?"):
            return
        self.stop()
        super().done(result)


def download_warning(size: int | None, free: int) -> str:
    """Why to think twice before a download of ``size`` bytes with ``free`` bytes on disk ('' if none)."""
    if size is None:
        if free < DISK_MARGIN_BYTES * 4:
            return (f"The hub did not say how large this model is, and only {human_bytes(free)} is free "
                    "on the disk that holds the model cache.")
        return ""
    if size + DISK_MARGIN_BYTES > free:
        return (f"This model needs {human_bytes(size)}, but only {human_bytes(free)} is free on the disk "
                "that holds the model cache.")
    if size > LARGE_DOWNLOAD_BYTES:
        return f"This model is large: {human_bytes(size)} to download."
    return ""
