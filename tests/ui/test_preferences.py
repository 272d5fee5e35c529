"""Edit ▸ Preferences: each change applies at once and is saved; the window is the one source."""

from __future__ import annotations

import json

from fake_engine import FakeEngine
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from ui_helpers import studio_window

from t2i_studio.core.catalog import ModelInfo
from t2i_studio.core.settings import Settings, default_project_dir
from t2i_studio.ui.dialogs.preferences import PreferencesDialog

MODEL = ModelInfo(id="fake/model", name="fake model", source="hub", family="sd", size_bytes=1)


def test_preferences_apply_at_once_and_are_saved(qtbot, tmp_path, app_home):
    with studio_window(qtbot, tmp_path / "p", {"generate": FakeEngine}, models=[MODEL]) as win:
        win.actions_by_id["preferences"].trigger()
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, PreferencesDialog))
        dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
        assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 80
        dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
        dialog.dtype.setCurrentIndex(dialog.dtype.findData("fp32"))
        dialog.preview_every.setValue(7)
        dialog.thumbs.setValue(192)
        dialog.vgg.setCurrentIndex(dialog.vgg.findData("random"))
        dialog.vgg.activated.emit(dialog.vgg.findData("random"))
        folder = tmp_path / "my pictures"
        dialog.project_folder.setText(str(folder))
        dialog.project_folder.editingFinished.emit()
        request = win.prompt_panel.request()
        assert (request.run.device, request.run.dtype, request.run.preview_every) == ("cpu", "fp32", 7)
        assert win.gallery.view.iconSize().width() == 192
        assert win.style_panel.request().vgg_weights == "random"
        saved = json.loads(Settings.path().read_text(encoding="utf-8"))  # written already, not at quit
        assert saved["theme"] == "dark" and saved["thumbnail_size"] == 192
        assert saved["last_generation"]["run"]["device"] == "cpu"
        assert default_project_dir() == folder  # the CLI's default project follows
        dialog.theme.setCurrentIndex(dialog.theme.findData("system"))
        dialog.project_folder.setText("")
        dialog.project_folder.editingFinished.emit()
        dialog.close()
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 150
