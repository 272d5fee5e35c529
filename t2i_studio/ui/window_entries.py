"""What the main window does with gallery entries: show one, reuse its settings or seed, use it as
the init image, stylize it, export a selection, and offer to reuse the settings of imported files.

``EntryActions`` is mixed into ``MainWindow``; it uses the window's project, panels, docks, viewer
and messages, and reads entries only on the GUI thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from t2i_studio.core.project import Entry, ProjectError
from t2i_studio.core.requests import GenerationRequest, Request, StyleRequest, request_from_dict

if TYPE_CHECKING:
    from t2i_studio.ui.main_window import MainWindow


class EntryActions:
    """Gallery-entry slots of the main window (mixed in before QMainWindow)."""

    def _entry(self: MainWindow, entry_id: int) -> Entry | None:
        if self.project is None or entry_id < 0:
            return None
        try:
            return self.project.get(entry_id)
        except (ProjectError, OSError) as exc:
            self.error(exc)
            return None

    def show_entry(self: MainWindow, entry_id: int) -> None:
        entry = self._entry(entry_id)
        if entry is not None:
            seed = f" · seed {entry.seed}" if entry.seed is not None else ""
            model = f" · {entry.model}" if entry.model else ""
            self.viewer.show_file(str(entry.path), f"#{entry.id} · {entry.width}×{entry.height}{seed}{model}")

    def _on_gallery_current(self: MainWindow, entry_id: int) -> None:
        entry = self._entry(entry_id)
        self.style_panel.set_gallery_content(entry.id if entry else None, str(entry.path) if entry else "")
        if entry is not None and self.runner.current_job() is None:
            self.show_entry(entry_id)

    def request_of(self: MainWindow, entry: Entry) -> Request | None:
        data = (entry.params or {}).get("request")
        if not data:
            from t2i_studio.core.metadata import read_metadata

            return read_metadata(entry.path).request
        try:
            return request_from_dict(data)
        except (TypeError, ValueError):
            return None

    def reuse_settings(self: MainWindow, entry_id: int) -> None:
        entry = self._entry(entry_id)
        request = self.request_of(entry) if entry else None
        if isinstance(request, GenerationRequest):
            self.prompt_panel.set_request(request)
            self.generate_dock.raise_()
        elif isinstance(request, StyleRequest):
            self.style_panel.set_request(request)
            self.style_dock.raise_()
        else:
            self.notify("This image carries no settings to reuse.")

    def reuse_seed(self: MainWindow, entry_id: int) -> None:
        entry = self._entry(entry_id)
        if entry is not None and entry.seed is not None:
            self.prompt_panel.set_seed(entry.seed)
            self.generate_dock.raise_()

    def use_as_init(self: MainWindow, entry_id: int) -> None:
        entry = self._entry(entry_id)
        if entry is not None:
            self.prompt_panel.set_init_image(str(entry.path))
            self.generate_dock.raise_()

    def stylize_entry(self: MainWindow, entry_id: int) -> None:
        entry = self._entry(entry_id)
        if entry is not None:
            self.style_panel.set_content_entry(entry.id, str(entry.path))
            self.style_dock.raise_()

    def _on_imported(self: MainWindow, ids: list) -> None:
        first = next((e for e in (self._entry(int(i)) for i in ids) if e and self.request_of(e)), None)
        if first is not None:
            self.notify(f"Imported {len(ids)} image(s); #{first.id} carries its settings.",
                        action=("Reuse settings", lambda: self.reuse_settings(first.id)))

    def export_selected(self: MainWindow) -> None:
        self.export_entries(self.gallery.selected_ids())

    def export_entries(self: MainWindow, ids: list) -> None:
        if self.project is None or not ids:
            self.notify("Select one or more images in the gallery to export.")
            return
        from t2i_studio.ui.dialogs.export_dialog import ExportDialog

        dialog = ExportDialog(self.project, [int(i) for i in ids], self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
