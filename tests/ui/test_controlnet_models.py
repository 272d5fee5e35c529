"""ControlNets through the window's own paths: a tiny ControlNet added in the model manager (the real
catalog, as a user's folder) is listed with its kind and offered to the ControlNet section, never as a
generation model; reusing an image's settings brings its control inputs back with the picture the
project stored, after the original is gone."""

from __future__ import annotations

import pytest
import tiny_models
from fake_engine import FakeEngine
from PIL import Image
from ui_helpers import studio_window

from t2i_studio.core import schedulers
from t2i_studio.core.catalog import ModelInfo
from t2i_studio.core.engine import Result
from t2i_studio.core.engine_registry import EngineEntry, EngineRegistry
from t2i_studio.core.requests import MODES, Control, GenerationRequest, ImageInputs, ModelRef
from t2i_studio.core.settings import Settings
from t2i_studio.ui.dialogs.model_manager import ModelManagerDialog
from t2i_studio.ui.prompt_panel import PromptPanel

LOCAL = EngineEntry("diffusers", "Local", "generate", MODES, FakeEngine, schedulers=schedulers.NAMES,
                    controls=True)


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    """Added models are saved in the settings: a home of each test's own."""
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))


def test_an_added_controlnet_shows_its_kind_and_is_offered_only_as_a_controlnet(qtbot, tmp_path, tiny_sd_path):
    from t2i_studio.engines.models import HubModelCatalog

    net = tiny_models.build_controlnet(tiny_sd_path, tmp_path / "sd-scribble")
    dialog = ModelManagerDialog(HubModelCatalog(Settings()))
    qtbot.addWidget(dialog)
    dialog.add_path(str(tiny_sd_path))
    assert dialog.add_path(str(net)) is not None and dialog.status.text() == "Added sd-scribble."
    rows = {dialog.table.item(r, 0).text(): [dialog.table.item(r, c).text() for c in range(1, 5)]
            for r in range(dialog.table.rowCount())}
    assert dialog.table.horizontalHeaderItem(4).text() == "Kind"
    assert rows["sd-scribble"][:2] == ["folder", "sd"] and rows["sd-scribble"][3] == "ControlNet"
    assert rows[tiny_sd_path.name][3] == "Text-to-image"

    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.set_engines([LOCAL])
    panel.set_models(dialog.catalog.list())
    picker = [panel.model.itemText(i) for i in range(panel.model.count())]
    assert tiny_sd_path.name in picker and "sd-scribble" not in picker
    panel.model.setCurrentIndex(picker.index(tiny_sd_path.name))
    row = panel.control.add_row()
    assert [row.model.itemText(i) for i in range(row.model.count())] == ["sd-scribble"]
    assert row.control().model == str(net.resolve())


def test_reuse_brings_the_control_inputs_back_with_the_stored_picture(qtbot, tmp_path):
    sketch = tmp_path / "sketch.png"
    Image.new("RGB", (64, 64), (255, 255, 255)).save(sketch)
    model = ModelInfo("org/sd", "sd", "hub", "sd", 1)
    control = Control(str(sketch), "/nets/sd-scribble", "scribble", 0.8, 0.0, 0.6)
    request = GenerationRequest("a fox", width=64, height=64, model=ModelRef(model.id),
                                images=ImageInputs(controls=(control,)))
    with studio_window(qtbot, tmp_path / "p", EngineRegistry([LOCAL]), models=[model]) as win:
        [entry] = win.project.save_result(request, Result([Image.new("RGB", (64, 64))], [1],
                                                          lineage={"control_images": [str(sketch)]}))
        sketch.unlink()  # the sketch pad's picture was drawn over
        win.entries.reuse_settings(entry.id)
        [reused] = win.prompt_panel.request().images.controls
        assert reused.replace(image=control.image) == control
        assert reused.image.startswith(str(tmp_path / "p" / "inputs")) and Image.open(reused.image).size == (64, 64)
        [row] = win.prompt_panel.control.rows
        qtbot.waitUntil(lambda: not row.preview.busy and not row.preview.pixmap().isNull())
