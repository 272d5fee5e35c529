"""Edit ▸ Preferences: the upscaler folder, typed or chosen, is saved at once and the library follows."""

from __future__ import annotations

import json

import pytest
from fake_engine import FakeEngine
from PySide6.QtWidgets import QApplication, QFileDialog, QToolButton
from ui_helpers import studio_window

from t2i_studio.core.settings import Settings, standard_upscalers_dir, upscalers_dir
from t2i_studio.core.upscaler_library import list_upscalers
from t2i_studio.ui.dialogs.preferences import PreferencesDialog


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))


def open_preferences(win) -> PreferencesDialog:
    win.actions_by_id["preferences"].trigger()
    return next(w for w in QApplication.topLevelWidgets() if isinstance(w, PreferencesDialog) and w.isVisible())


def test_the_upscaler_folder_is_saved_and_the_library_follows(qtbot, tmp_path, monkeypatch):
    mine = tmp_path / "my upscalers"
    mine.mkdir()
    (mine / "4x-Ultra.safetensors").write_bytes(b"u")
    with studio_window(qtbot, tmp_path / "p", {"generate": FakeEngine}) as win:
        dialog = open_preferences(win)
        assert dialog.upscaler_folder.text() == "" and dialog.upscaler_folder.placeholderText() == str(
            standard_upscalers_dir())
        dialog.upscaler_folder.setText(str(mine))
        dialog.upscaler_folder.editingFinished.emit()
        assert json.loads(Settings.path().read_text(encoding="utf-8"))["upscaler_folder"] == str(mine)
        assert upscalers_dir() == mine and [f.name for f in list_upscalers()] == ["4x-Ultra"]
        other = tmp_path / "other"
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: str(other))
        [browse] = [b for b in dialog.findChildren(QToolButton) if b.accessibleName() == "Choose the upscaler folder"]
        browse.click()
        assert dialog.upscaler_folder.text() == str(other) and upscalers_dir() == other
        dialog.upscaler_folder.setText("")
        dialog.upscaler_folder.editingFinished.emit()
        assert upscalers_dir() == standard_upscalers_dir()
        assert dialog.project_folder.accessibleName() == "Default project folder"  # its row is the same kind
        dialog.close()
