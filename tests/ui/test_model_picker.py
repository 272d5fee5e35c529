"""The model picker: one entry per catalog model, and requests name the model by its catalog id
(a hub id), never by the cache folder it happens to live in."""

from __future__ import annotations

from t2i_studio.core.catalog import ModelInfo
from t2i_studio.ui.prompt_panel import PromptPanel

# A cached hub model: its id is what requests carry, its path is the snapshot folder on disk.
HUB_MODEL = ModelInfo(id="org/hub-model", name="hub-model", source="hub", family="sd", size_bytes=1,
                      path="/cache/hub/models--org--hub-model/snapshots/0123abcd")


def test_model_picker_requests_the_catalog_id_not_the_cache_path(qtbot):
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.set_models([HUB_MODEL])
    assert panel.model.count() == 1  # one entry per model, none added twice
    assert panel.model_id() == "org/hub-model"
    assert panel.request().model.id == "org/hub-model"
    panel.set_model("org/hub-model")  # reuse settings of an image made with it: no second entry
    assert panel.model.count() == 1
