"""Review regressions: the model picker hands the catalog's id to requests, and Ctrl+E exports
from the gallery although both the window and the gallery offer it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from fake_engine import FakeEngine
from gallery_helpers import add_generated
from t2i_studio.core.catalog import ModelInfo
from t2i_studio.ui.dialogs.export_dialog import ExportDialog
from t2i_studio.ui.prompt_panel import PromptPanel
from ui_helpers import studio_window

# A cached hub model: its id is what requests carry, its path is the snapshot folder on disk.
HUB_MODEL = ModelInfo(id="org/hub-model", name="hub-model", source="hub", family="sd", size_bytes=1,
                      path="/cache/hub/models--org--hub-model/snapshots/0123abcd")


def test_model_picker_requests_the_catalog_id_not_the_cache_path(qtbot):
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.set_models([HUB_MODEL])
    assert panel.model.count() == 1  # one entry per model, none added twice
    assert panel.model_id() == "org/hub-model"
    assert panel.request().model == "org/hub-model"
    panel.set_model("org/hub-model")  # reuse settings of an image made with it: no second entry
    assert panel.model.count() == 1


@pytest.fixture
def window(qtbot, tmp_path):
    factories = {"generate": lambda: FakeEngine("generate")}
    with studio_window(qtbot, tmp_path / "proj", factories, models=[HUB_MODEL]) as win:
        yield win


def test_ctrl_e_in_the_gallery_opens_the_export_dialog(qtbot, window):
    entry = add_generated(window.project, "a red fox")
    window.gallery.refresh()
    window.gallery.select_ids([entry.id], current_id=entry.id)
    window.activateWindow()
    window.gallery.view.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.gallery.view, timeout=2000)
    qtbot.keyClick(window.gallery.view, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialogs = [d for d in window.findChildren(ExportDialog) if d.isVisible()]
    assert len(dialogs) == 1 and [e.id for e in dialogs[0].entries] == [entry.id]
    dialogs[0].reject()
