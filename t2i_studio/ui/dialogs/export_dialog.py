"""Export dialog over ``core.export``: format (from ``core.export_formats``), long edge, quality,
keep/strip metadata, folder and file-name template, for one or many gallery entries. The export is
checked and its entries resolved on the GUI thread, then ``ExportPlan.run`` writes the files on a
``BackgroundTask`` (cancellable between files); the name preview updates as you type.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
    QLineEdit, QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from t2i_studio.core.errors import StudioError, describe
from t2i_studio.core.export import (
    DEFAULT_QUALITY, DEFAULT_TEMPLATE, DPI_RANGE, LONG_EDGE_RANGE, NAME_FIELDS, ExportRequest, name_fields,
    prepare_export, render_name, sanitize_filename,
)
from t2i_studio.core.export_formats import FORMATS, lossy_labels
from t2i_studio.core.metadata import read_metadata
from t2i_studio.worker.tasks import BackgroundTask

if TYPE_CHECKING:
    from t2i_studio.core.export import Exported
    from t2i_studio.core.project import Project

log = logging.getLogger(__name__)


class ExportDialog(QDialog):
    exported = Signal(list)  # paths written

    def __init__(self, project: Project, entry_ids: list[int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.entries = [e for e in (project.get(i) for i in entry_ids) if e is not None]
        self._task: BackgroundTask | None = None
        self._preview_fields = None
        n = len(self.entries)
        self.setWindowTitle(f"Export {n} image{'s' if n != 1 else ''}")

        self.format = QComboBox(self)
        for spec in FORMATS.values():
            self.format.addItem(spec.label, spec.name)
            self.format.setItemData(self.format.count() - 1, spec.hint, Qt.ItemDataRole.ToolTipRole)
        self.format.setAccessibleName("Format")
        self.format.setToolTip("\n".join(f"{spec.label}: {spec.hint}" for spec in FORMATS.values()))
        self.resize_box = QCheckBox("Resize so the long edge is", self)
        self.resize_box.setToolTip("Off: export at the original size")
        self.long_edge = QSpinBox(self)
        self.long_edge.setRange(*LONG_EDGE_RANGE)
        self.long_edge.setValue(max((max(e.width, e.height) for e in self.entries), default=1024) or 1024)
        self.long_edge.setSuffix(" px")
        self.long_edge.setAccessibleName("Long edge in pixels")
        self.long_edge.setEnabled(False)
        self.resize_box.toggled.connect(self.long_edge.setEnabled)
        self.quality = QSpinBox(self)
        self.quality.setRange(1, 100)
        self.quality.setValue(DEFAULT_QUALITY)
        self.quality.setAccessibleName("Quality")
        self.quality.setToolTip(f"{lossy_labels()} quality (1–100)")
        self.dpi = QSpinBox(self)
        self.dpi.setRange(0, DPI_RANGE[1])
        self.dpi.setSpecialValueText("not recorded")
        self.dpi.setSuffix(" dpi")
        self.dpi.setAccessibleName("Print resolution")
        self.dpi.setToolTip("The print resolution the file records (300 for print; PNG, JPEG and TIFF)")
        self.keep_metadata = QCheckBox("Keep metadata (prompt and settings)", self)
        self.keep_metadata.setChecked(True)
        self.keep_metadata.setToolTip("Off: strip the prompt, settings and XMP (the colour profile stays)")
        self.folder = QLineEdit(str(project.folder / "exports"), self)
        self.folder.setAccessibleName("Export folder")
        self.browse = QPushButton("Browse…", self)
        self.browse.setToolTip("Choose the export folder")
        self.browse.clicked.connect(self._pick_folder)
        self.template = QLineEdit(DEFAULT_TEMPLATE, self)
        self.template.setAccessibleName("File name template")
        self.template.setToolTip("Fields: " + ", ".join("{" + f + "}" for f in NAME_FIELDS)
                                 + ". {prompt:40} keeps the first 40 characters.")
        self.preview = QLabel(self)
        self.preview.setAccessibleName("File name preview")
        self.progress = QProgressBar(self)
        self.progress.setRange(0, max(n, 1))
        self.progress.setValue(0)
        self.progress.setAccessibleName("Export progress")
        self.status = QLabel(self)
        self.status.setWordWrap(True)

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse)
        size_row = QHBoxLayout()
        size_row.addWidget(self.resize_box)
        size_row.addWidget(self.long_edge)
        size_row.addStretch(1)
        form = QFormLayout()
        form.addRow("Format:", self.format)
        form.addRow("Size:", size_row)
        form.addRow("Quality:", self.quality)
        form.addRow("Print resolution:", self.dpi)
        form.addRow("Metadata:", self.keep_metadata)
        form.addRow("Folder:", folder_row)
        form.addRow("File name:", self.template)
        form.addRow("", self.preview)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.export_button = self.buttons.addButton("&Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self._summary(), self))
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        self.format.currentIndexChanged.connect(self._update_state)
        self.template.textChanged.connect(self._update_state)
        self._update_state()

    # -- remembered between exports ------------------------------------------------------------------
    def state(self) -> dict:
        """The choices to offer next time (the folder only when it is not this project's exports/)."""
        folder = self.folder.text().strip()
        return {"format": self.format.currentData(), "resize": self.resize_box.isChecked(),
                "long_edge": self.long_edge.value(), "quality": self.quality.value(), "dpi": self.dpi.value(),
                "keep_metadata": self.keep_metadata.isChecked(), "template": self.template.text(),
                "folder": "" if folder == str(self.project.folder / "exports") else folder}

    def load_state(self, state: dict) -> None:
        """Offer the last export's choices; unknown or damaged values keep the defaults."""
        index = self.format.findData(state.get("format"))
        if index >= 0:
            self.format.setCurrentIndex(index)
        if isinstance(state.get("resize"), bool):
            self.resize_box.setChecked(state["resize"])
        for spin, key in ((self.long_edge, "long_edge"), (self.quality, "quality"), (self.dpi, "dpi")):
            if isinstance(state.get(key), int):
                spin.setValue(state[key])
        if isinstance(state.get("keep_metadata"), bool):
            self.keep_metadata.setChecked(state["keep_metadata"])
        for line, key in ((self.template, "template"), (self.folder, "folder")):
            if isinstance(state.get(key), str) and state[key].strip():
                line.setText(state[key])
        self._update_state()

    def _summary(self) -> str:
        if not self.entries:
            return "Nothing to export: the images are no longer in the project."
        if len(self.entries) == 1:
            e = self.entries[0]
            return f"{e.prompt[:80] or Path(e.path).name} ({e.width}×{e.height})"
        return f"{len(self.entries)} images"

    def request(self) -> ExportRequest:
        """The export the controls describe (validated: ``ValueError`` says what is wrong)."""
        return ExportRequest(
            sources=tuple(f"#{e.id}" for e in self.entries), format=self.format.currentData(),
            out_dir=self.folder.text().strip() or None,
            long_edge=self.long_edge.value() if self.resize_box.isChecked() else None,
            quality=self.quality.value(), strip_metadata=not self.keep_metadata.isChecked(),
            name_template=self.template.text(),
            dpi=self.dpi.value() if self.dpi.isEnabled() and self.dpi.value() else None).validate()

    def _update_state(self) -> None:
        self.quality.setEnabled(FORMATS[self.format.currentData()].lossy)
        self.dpi.setEnabled(FORMATS[self.format.currentData()].dpi)
        problem = ""
        try:
            request = self.request()
            if self.entries:
                if self._preview_fields is None:
                    first = self.entries[0]
                    self._preview_fields = name_fields(Path(first.path), read_metadata(first.path), first)
                stem = sanitize_filename(render_name(request.name_template, self._preview_fields))
                self.preview.setText(f"e.g. {stem}{FORMATS[request.format].extension}")
        except ValueError as exc:
            problem = str(exc)
            self.preview.setText(problem)
        self.export_button.setEnabled(not problem and bool(self.entries) and self._task is None)

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to", self.folder.text())
        if folder:
            self.folder.setText(folder)

    # -- running ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Export every entry on a background thread; the dialog closes when all are written."""
        if self._task is not None:
            return
        try:
            plan = prepare_export(self.request(), self.project)  # reads the index: here, not on the task
        except (ValueError, StudioError) as exc:
            self.status.setText(describe(exc).text)
            return
        task = self._task = BackgroundTask(
            lambda report, cancel: plan.run(lambda done, _total: report(done), cancel), self)
        task.progress.connect(self.progress.setValue)
        task.succeeded.connect(self._finished)
        task.failed.connect(self._failed)
        task.cancelled.connect(self._stopped)
        for widget in (self.format, self.resize_box, self.long_edge, self.quality, self.keep_metadata,
                       self.folder, self.browse, self.template, self.export_button):
            widget.setEnabled(False)
        self.status.setText(f"Exporting to {plan.out_dir}…")
        self.status.setToolTip("")
        task.start()

    def _end_task(self) -> None:
        if self._task is not None:
            self._task.wait()  # the outcome comes as the thread ends: a moment at most
            self._task.setParent(None)
            self._task = None
        for widget in (self.format, self.resize_box, self.quality, self.keep_metadata, self.folder, self.browse,
                       self.template):
            widget.setEnabled(True)
        self.long_edge.setEnabled(self.resize_box.isChecked())
        self._update_state()

    def _finished(self, results: list[Exported]) -> None:
        self._end_task()
        self.exported.emit([r.output for r in results])
        self.accept()

    # The bar counts the files written: the task delivers its last report before the outcome.
    def _failed(self, message: str, details: str) -> None:
        self._end_task()
        self.status.setText(f"Export stopped after {self.progress.value()} of {len(self.entries)}: {message}")
        self.status.setToolTip(details)

    def _stopped(self) -> None:
        self._end_task()
        self.status.setText(f"Cancelled: {self.progress.value()} of {len(self.entries)} exported.")

    def done(self, result: int) -> None:  # Cancel while exporting stops after the current file
        if self._task is not None:
            self._task.cancel()
            self._task.wait()
        super().done(result)
