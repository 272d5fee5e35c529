"""Jobs as the window shows them: submitting a panel's request, cancelling, and following the
runner's signals (plain data) into the viewer's progress and previews, the gallery, the panels'
running state, the jobs dock's title, the status bar and error messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStatusBar

    from t2i_studio.core.requests import Request
    from t2i_studio.ui.gallery import GalleryWidget
    from t2i_studio.ui.message_bar import MessageBar
    from t2i_studio.ui.prompt_panel import PromptPanel
    from t2i_studio.ui.style_panel import StylePanel
    from t2i_studio.ui.viewer import Viewer
    from t2i_studio.worker.runner import JobRunner


class JobDisplay:
    def __init__(self, *, runner: JobRunner, viewer: Viewer, gallery: GalleryWidget,
                 show_entry: Callable[[int], None], panels: tuple[PromptPanel, StylePanel],
                 jobs_title: Callable[[str], None], status_bar: QStatusBar, messages: MessageBar) -> None:
        self.runner = runner
        self.viewer = viewer
        self.gallery = gallery
        self.show_entry = show_entry
        self.panels = panels
        self.jobs_title = jobs_title
        self.status_bar = status_bar
        self.messages = messages
        self._submitted: set[int] = set()  # jobs submitted here that have not ended
        runner.job_started.connect(self._on_started)
        runner.progress.connect(self._on_progress)
        runner.job_message.connect(lambda _job, text: viewer.job_message(text))
        runner.images_saved.connect(self._on_images_saved)
        runner.job_finished.connect(self._on_finished)
        runner.job_failed.connect(self._on_failed)
        runner.job_cancelled.connect(self._on_cancelled)
        runner.queue_changed.connect(self._on_queue_changed)

    def submit(self, request: Request) -> int | None:
        try:
            job_id = self.runner.submit(request)
        except ValueError as exc:
            self.messages.show_message(str(exc), kind="error", source="input")
            return None
        self.messages.clear("input")
        self._submitted.add(job_id)
        if self.runner.current_job() not in (None, job_id):
            self.status_bar.showMessage("Queued: it starts when the running job is done.", 4000)
        return job_id

    def cancel_current(self) -> None:
        if self.runner.cancel_current():
            self.status_bar.showMessage("Cancelling…", 3000)

    def _on_started(self, job_id: int) -> None:
        info = next((j for j in self.runner.jobs() if j.id == job_id), None)
        self.viewer.job_started(info.label if info is not None else "")

    def _on_progress(self, job_id: int, step: int, total: int, preview: object) -> None:
        if job_id != self.runner.current_job():
            return
        self.viewer.job_progress(step, total)
        if preview is not None:
            self.viewer.show_preview(preview)  # type: ignore[arg-type]

    def _on_images_saved(self, _job_id: int, ids: list) -> None:
        self.gallery.refresh()
        if ids:
            self.show_entry(int(ids[-1]))

    def _on_finished(self, job_id: int, ids: list) -> None:
        self._submitted.discard(job_id)
        self.viewer.job_ended()
        self.messages.clear("job")  # an earlier job's failure is old news once one succeeds
        count = len(ids)
        self.status_bar.showMessage(f"Saved {count} image{'s' if count != 1 else ''}.", 5000)

    def _on_failed(self, job_id: int, message: str, details: str) -> None:
        self._submitted.discard(job_id)
        self.viewer.job_ended(cancelled=True)  # its half-made preview is not a result
        self.messages.show_message(message, kind="error", details=details, source="job")

    def _on_cancelled(self, job_id: int) -> None:
        if job_id in self._submitted:
            self._submitted.discard(job_id)
            self.status_bar.showMessage("Job cancelled: the image being made was not saved.", 5000)
        if self.runner.current_job() is None:
            self.viewer.job_ended(cancelled=True)

    def _on_queue_changed(self) -> None:
        running = self.runner.current_job() is not None
        for panel in self.panels:
            panel.set_running(running)
        waiting = max(0, len(self.runner.jobs()) - (1 if running else 0))
        self.jobs_title(f"Jobs ({waiting} waiting)" if waiting else "Jobs")
