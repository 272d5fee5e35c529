"""What the window does with gallery entries: show one, reuse its settings or seed, use it as the
init image, inpaint it, stylize it, upscale it (or a file), export a selection, and offer to reuse
the settings of imported files. ``EntryActions`` reads entries on the GUI thread only and fills the
panels it was given; reused LoRAs and VAEs are found again on this computer (``core.lora_library``),
control pictures in the project's copies (``core.stored_inputs``), and what is missing is said.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import Qt, QUrl

from t2i_studio.core.lora_library import find_again, missing_message
from t2i_studio.core.project import Entry, ProjectError
from t2i_studio.core.requests import GenerationRequest, Request, StyleRequest, request_from_dict
from t2i_studio.core.stored_inputs import with_stored_inputs
from t2i_studio.ui.controls import pick_image
from t2i_studio.ui.prompt_panel import ENGINE_ROLE

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDockWidget, QWidget

    from t2i_studio.core.project import Project
    from t2i_studio.core.settings import Settings
    from t2i_studio.ui.details_panel import DetailsPanel
    from t2i_studio.ui.message_bar import MessageBar
    from t2i_studio.ui.prompt_panel import PromptPanel
    from t2i_studio.ui.style_panel import StylePanel
    from t2i_studio.ui.viewer import Viewer
    from t2i_studio.worker.runner import JobRunner


class EntryActions:
    def __init__(self, *, project: Callable[[], Project | None], selected_ids: Callable[[], list[int]],
                 settings: Settings, open_url: Callable[[QUrl], object],
                 prompt_panel: PromptPanel, generate_dock: QDockWidget, style_panel: StylePanel,
                 style_dock: QDockWidget, viewer: Viewer, details: DetailsPanel, runner: JobRunner,
                 submit: Callable[[Request], int | None], messages: MessageBar, dialog_parent: QWidget) -> None:
        self.project = project
        self.selected_ids = selected_ids
        self.settings = settings
        self.open_url = open_url  # "Open folder" after an export
        self.prompt_panel, self.generate_dock = prompt_panel, generate_dock
        self.style_panel, self.style_dock = style_panel, style_dock
        self.viewer = viewer
        self.details = details
        self.runner = runner
        self.submit = submit  # the window's job path (errors in the message bar)
        self.messages = messages
        self.dialog_parent = dialog_parent
        prompt_panel.loras.folder_added.connect(self._add_lora_folder)

    def entry(self, entry_id: int) -> Entry | None:
        project = self.project()
        if project is None or entry_id < 0:
            return None
        try:
            return project.get(entry_id)
        except (ProjectError, OSError) as exc:
            self.messages.show_error(exc)
            return None

    def show_entry(self, entry_id: int) -> None:
        entry = self.entry(entry_id)
        if entry is not None:
            seed = f" · seed {entry.seed}" if entry.seed is not None else ""
            model = f" · {entry.model}" if entry.model else ""
            self.viewer.show_file(str(entry.path), f"#{entry.id} · {entry.width}×{entry.height}{seed}{model}")
            self.viewer.set_source(self._source_path(entry))

    def _source_path(self, entry: Entry) -> str | None:
        """The image ``entry`` was made from, for before/after: its project entry, else its file."""
        lineage = (entry.params or {}).get("lineage") or {}
        source_id = lineage.get("source_entry")
        project = self.project()
        if isinstance(source_id, int) and project is not None:
            source = project.get(source_id)
            if source is not None and Path(source.path).is_file():
                return str(source.path)
        path = lineage.get("source_image")
        return str(path) if path and Path(str(path)).is_file() else None

    def follow_gallery(self, entry_id: int) -> None:
        """The gallery's current image is the style panel's content, and shown while no job runs."""
        entry = self.entry(entry_id)
        self.style_panel.set_gallery_content(entry.id if entry else None, str(entry.path) if entry else "")
        self.details.show_entry(entry)
        if entry is not None and self.runner.current_job() is None:
            self.show_entry(entry_id)

    @staticmethod
    def request_of(entry: Entry) -> Request | None:
        data = (entry.params or {}).get("request")
        if not data:
            from t2i_studio.core.metadata import read_metadata

            return read_metadata(entry.path).request
        try:
            return request_from_dict(data)
        except (TypeError, ValueError):
            return None

    def reuse_settings(self, entry_id: int) -> None:
        entry = self.entry(entry_id)
        request = self.request_of(entry) if entry else None
        if isinstance(request, GenerationRequest):
            from t2i_studio.core.metadata import read_metadata

            project = self.project()
            assert entry is not None and project is not None  # the entry was read from the project
            found = find_again(request, read_metadata(entry.path).parameters)  # its "Lora hashes"
            lineage = (entry.params or {}).get("lineage") or {}
            self.prompt_panel.set_request(with_stored_inputs(found.request, lineage, project.folder))
            self.generate_dock.raise_()
            if found.missing:
                self.messages.show_message(missing_message(found.missing), kind="warning",
                                           details="\n".join(found.notes))
        elif isinstance(request, StyleRequest):
            self.style_panel.set_request(request)
            self.style_dock.raise_()
        else:
            self.messages.show_message("This image carries no settings to reuse.")

    def _add_lora_folder(self, folder: str) -> None:
        """A LoRA folder chosen in the prompt panel: kept in the settings, saved at once."""
        if folder not in self.settings.lora_folders:
            self.settings.lora_folders.append(folder)
            try:
                self.settings.save()
            except OSError as exc:
                self.messages.show_error(exc, "Could not save the LoRA folder: ")

    def reuse_seed(self, entry_id: int) -> None:
        entry = self.entry(entry_id)
        if entry is not None and entry.seed is not None:
            self.prompt_panel.set_seed(entry.seed)
            self.generate_dock.raise_()

    def use_as_init(self, entry_id: int) -> None:
        entry = self.entry(entry_id)
        if entry is not None:
            self.prompt_panel.set_init_image(str(entry.path))
            self.generate_dock.raise_()

    def inpaint_entry(self, entry_id: int) -> None:
        """The image in the viewer, its mask tools on, the panel inpainting."""
        entry = self.entry(entry_id)
        if entry is None:
            return
        self.show_entry(entry.id)
        if self.prompt_panel.start_edit("inpaint"):
            self.generate_dock.raise_()
        else:
            self.messages.show_message("The chosen model's engine cannot inpaint: choose a diffusers model.")

    def stylize_entry(self, entry_id: int) -> None:
        entry = self.entry(entry_id)
        if entry is not None:
            self.style_panel.set_content_entry(entry.id, str(entry.path))
            self.style_dock.raise_()

    def upscale_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            self.messages.show_message("Select an image in the gallery to upscale.")
            return
        self.upscale_entry(ids[0])

    def upscale_entry(self, entry_id: int) -> None:
        entry = self.entry(entry_id)
        if entry is not None:
            own = self.request_of(entry)
            self._open_upscale(str(entry.path), (entry.width, entry.height), entry.id, own)

    def upscale_file(self) -> None:
        """Upscale an image file from disk (the result goes into the project, the file stays)."""
        from t2i_studio.core.metadata import read_metadata

        path = pick_image(self.dialog_parent, "Choose an image to upscale")
        if path:
            meta = read_metadata(path)
            self._open_upscale(path, (meta.width or 0, meta.height or 0), None, meta.request)

    def _open_upscale(self, path: str, size: tuple[int, int], entry_id: int | None, own: Request | None) -> None:
        from t2i_studio.ui.dialogs.upscale_dialog import UpscaleDialog, UpscaleSource

        if self.project() is None:
            self.messages.show_message("Open a project first: the upscaled image is saved into it.")
            return
        if min(size) < 1:
            self.messages.show_message(f"{Path(path).name} is not an image this app can read.", kind="error")
            return
        source = UpscaleSource(path, size, entry_id, own if isinstance(own, GenerationRequest) else None)
        dialog = UpscaleDialog(source, submit=self.submit, check=self.runner.registry.check,
                               models=self._sd_upscale_models(), model_id=self.prompt_panel.model_id(),
                               run=self.prompt_panel.request().run, parent=self.dialog_parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.load_state(self.settings.last_upscale)
        dialog.accepted.connect(lambda d=dialog: setattr(self.settings, "last_upscale", d.state()))
        dialog.open()

    def _sd_upscale_models(self) -> list[tuple[str, str, str]]:
        """The prompt panel's models whose engine can SD-upscale, as (name, id, engine)."""
        engines = {e.name for e in self.runner.registry.entries("generate") if "sd_upscale" in e.modes}
        combo = self.prompt_panel.model
        return [(combo.itemText(i), combo.itemData(i), combo.itemData(i, ENGINE_ROLE))
                for i in range(combo.count()) if combo.itemData(i, ENGINE_ROLE) in engines]

    def offer_reuse(self, ids: list) -> None:
        """After an import: offer the settings of the first imported image that carries some."""
        first = next((e for e in (self.entry(int(i)) for i in ids) if e and self.request_of(e)), None)
        if first is not None:
            self.messages.show_message(f"Imported {len(ids)} image(s); #{first.id} carries its settings.",
                                       action=("Reuse settings", lambda: self.reuse_settings(first.id)))

    def export_selected(self) -> None:
        self.export_entries(self.selected_ids())

    def export_entries(self, ids: list) -> None:
        project = self.project()
        if project is None or not ids:
            self.messages.show_message("Select one or more images in the gallery to export.")
            return
        from t2i_studio.ui.dialogs.export_dialog import ExportDialog

        dialog = ExportDialog(project, [int(i) for i in ids], self.dialog_parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.load_state(self.settings.last_export)
        dialog.exported.connect(lambda paths, d=dialog: self._exported(paths, d.state()))
        dialog.open()

    def _exported(self, paths: list, state: dict) -> None:
        self.settings.last_export = state
        if not paths:
            return
        folder = Path(paths[0]).parent
        count = len(paths)
        self.messages.show_message(f"Exported {count} image{'s' if count != 1 else ''} to {folder}.",
                                   action=("Open folder", lambda: self.open_url(QUrl.fromLocalFile(str(folder)))))
