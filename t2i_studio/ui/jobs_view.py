"""The queue: waiting and running jobs, with cancel, remove and "cancel after current image".

Each row says what the job makes (kind, prompt start, size, seed, model) and how far it is."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from t2i_studio.worker.jobs import RUNNING, JobInfo
from t2i_studio.worker.runner import JobRunner

ID_ROLE = Qt.ItemDataRole.UserRole
_ICONS = {"generate": "✦", "stylize": "✎", "upscale": "⤢", "grid": "▦"}


class JobsView(QWidget):
    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.list = QListWidget(self)
        self.list.setAccessibleName("Jobs")
        self.list.setToolTip("Running and waiting jobs, in the order they run")
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self._progress: tuple[int, int, int] | None = None  # (job id, step, total) of the running job
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Cancel the selected job (a waiting job is removed)")
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setToolTip("Remove the selected waiting job from the queue")
        self.after_button = QPushButton("Cancel after current image", self)
        self.after_button.setToolTip("Finish and keep the image being made, then stop this batch")
        # two rows: in a narrow dock "Cancel after current image" keeps its whole text
        buttons = QGridLayout()
        buttons.addWidget(self.cancel_button, 0, 0)
        buttons.addWidget(self.remove_button, 0, 1)
        buttons.addWidget(self.after_button, 1, 0, 1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.cancel_button.clicked.connect(lambda: self._act(self.runner.cancel))
        self.remove_button.clicked.connect(lambda: self._act(self.runner.remove))
        self.after_button.clicked.connect(lambda: self._act(self.runner.stop_after_current))
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        runner.queue_changed.connect(self.refresh)
        runner.progress.connect(self._on_progress)
        self.refresh()

    def jobs(self) -> list[JobInfo]:
        return self.runner.jobs()

    def refresh(self) -> None:
        selected = self.selected_id()
        self.list.clear()
        for info in self.jobs():
            item = QListWidgetItem(self._text(info))
            item.setData(ID_ROLE, info.id)
            item.setToolTip(f"Job {info.id}: {info.kind}, {info.images} image(s)\n{info.label}\n{info.detail}")
            self.list.addItem(item)
            if info.id == selected:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self._update_buttons()

    def _text(self, info: JobInfo) -> str:
        icon = _ICONS.get(info.kind, "✎")
        if info.state != RUNNING:
            state = "waiting"
        elif self._progress is not None and self._progress[0] == info.id and self._progress[2]:
            state = f"▶ running, {100 * self._progress[1] // self._progress[2]}%"
        else:
            state = "▶ running"
        extra = " · stops after this image" if info.stop_after_current else ""
        return f"{icon} {info.label}\n{state} · {info.detail}{extra}"

    def _on_progress(self, job_id: int, step: int, total: int, _preview: object) -> None:
        self._progress = (job_id, step, total)
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(ID_ROLE) == job_id:
                info = self._info(job_id)
                if info is not None:
                    item.setText(self._text(info))

    def selected_id(self) -> int | None:
        item = self.list.currentItem()
        return int(item.data(ID_ROLE)) if item is not None else None

    def _info(self, job_id: int | None) -> JobInfo | None:
        return next((j for j in self.jobs() if j.id == job_id), None)

    def _act(self, action) -> None:  # noqa: ANN001
        job_id = self.selected_id()
        if job_id is not None:
            action(job_id)

    def _update_buttons(self) -> None:
        info = self._info(self.selected_id())
        self.cancel_button.setEnabled(info is not None)
        self.remove_button.setEnabled(info is not None and info.state != RUNNING)
        self.after_button.setEnabled(info is not None and info.state == RUNNING and info.images > 1
                                     and not info.stop_after_current)
