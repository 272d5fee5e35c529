"""The prompt panel's ControlNet section: the model picker never offers a ControlNet, each control input
offers the ControlNets of the chosen model's engine and family (and says when there is none), the request carries
every input as shown, a reused request shows its inputs again, the preview shows the control map
the engine will get, the sketch pad is a picture source, and only engines with ControlNets show it."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from t2i_studio.core import schedulers
from t2i_studio.core.catalog import CONTROLNET, ModelInfo
from t2i_studio.core.engine_registry import EngineEntry
from t2i_studio.core.requests import MODES, Control
from t2i_studio.ui import control_row
from t2i_studio.ui.control_row import EMPTY_SKETCH
from t2i_studio.ui.prompt_panel import PromptPanel

LOCAL = EngineEntry("diffusers", "Local", "generate", MODES, lambda: None, schedulers=schedulers.NAMES,
                    hires=True, controls=True)
REMOTE = EngineEntry("remote", "Remote", "generate", ("txt2img", "img2img"), lambda: None)
SD = ModelInfo("org/sd", "sd", "hub", "sd", 1)
SDXL = ModelInfo("org/sdxl", "sdxl", "hub", "sdxl", 1)
SERVER = ModelInfo("server/sd", "sd (server)", "server", "sd", 1, engine="remote")
SD_CANNY = ModelInfo("/nets/sd-canny", "sd canny", "folder", "sd", 1, "/nets/sd-canny", kind=CONTROLNET)
SD_LINES = ModelInfo("org/sd-lineart", "sd lineart", "hub", "sd", 1, kind=CONTROLNET)
SDXL_CANNY = ModelInfo("/nets/xl.safetensors", "xl canny", "file", "sdxl", 1, kind=CONTROLNET)


def _panel(qtbot, models=(SD, SDXL, SERVER, SD_CANNY, SD_LINES, SDXL_CANNY)) -> PromptPanel:
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.set_engines([LOCAL, REMOTE])
    panel.set_models(list(models))
    panel.set_model(SD.id, "diffusers")
    panel.prompt.setPlainText("a lighthouse")
    return panel


@pytest.fixture
def picture(tmp_path):
    """Black on the left, dark grey on the right: canny finds the edge between them at the default
    thresholds (a step of 60 grey levels), not at 250/255."""
    path = tmp_path / "halves.png"
    image = Image.new("RGB", (144, 144), "black")
    ImageDraw.Draw(image).rectangle((72, 0, 143, 143), fill=(60, 60, 60))
    image.save(path)
    return str(path)


def _choose_model(panel: PromptPanel, model: ModelInfo) -> None:
    """Pick ``model`` in the model picker as a user does."""
    panel.model.setCurrentIndex(panel.model.findData(model.id))


def _offered(row) -> list[str]:
    return [row.model.itemText(i) for i in range(row.model.count())]


def test_the_picker_lists_no_controlnet_and_each_input_the_models_family(qtbot):
    panel = _panel(qtbot)
    assert [panel.model.itemText(i) for i in range(panel.model.count())] == ["sd", "sdxl", "sd (server)"]
    row = panel.control.add_row()
    assert _offered(row) == ["sd canny", "sd lineart"] and panel.control.none_fits.isHidden()
    _choose_model(panel, SDXL)
    assert _offered(row) == ["xl canny"]
    assert row.control().model == SDXL_CANNY.id


def test_a_servers_model_is_offered_that_servers_controlnets(qtbot):
    steering = EngineEntry("farm", "Farm", "generate", ("txt2img",), lambda: None, controls=True)
    farm_model = ModelInfo("v1-5.safetensors", "sd (farm)", "server", "sd", 1, engine="farm")
    farm_net = ModelInfo("control_canny.pth", "canny (farm)", "server", "sd", 1, engine="farm", kind=CONTROLNET)
    panel = _panel(qtbot, models=(SD, farm_model, SD_CANNY, farm_net))
    panel.set_engines([LOCAL, steering])
    row = panel.control.add_row()
    assert _offered(row) == ["sd canny"]
    _choose_model(panel, farm_model)
    assert _offered(row) == ["canny (farm)"]  # a local file means nothing to the server


def test_no_controlnet_for_the_family_is_said_and_stops_generating(qtbot, picture):
    panel = _panel(qtbot, models=(SD, SDXL, SD_CANNY))
    _choose_model(panel, SDXL)
    said = "No ControlNet for SDXL models: add one in Models ▸ Manage models…"
    assert panel.control.none_fits.text() == said
    row = panel.control.add_row()
    row.picture.set_path(picture)
    assert panel.error.text() == said and not panel.generate.isEnabled()
    _choose_model(panel, SD)
    assert panel.error.text() == "" and panel.generate.isEnabled()
    qtbot.waitUntil(lambda: not row.preview.busy)


def test_the_request_carries_every_control_input_as_shown(qtbot, picture, tmp_path, monkeypatch):
    lines = tmp_path / "lines.png"
    Image.new("RGB", (64, 64), "white").save(lines)
    panel = _panel(qtbot)
    first, second = panel.control.add_row(), panel.control.add_row()
    first.picture.set_path(picture)
    first.low.setValue(40)
    first.high.setValue(120)
    first.weight.setValue(0.6)
    first.end.setValue(0.8)
    monkeypatch.setattr(control_row, "pick_image", lambda *_args: str(lines))
    second.pick.click()
    second.preprocessor.setCurrentIndex(second.preprocessor.findData("lineart"))
    second.model.setCurrentIndex(second.model.findData(SD_LINES.id))
    second.start.setValue(0.2)
    assert not second.form.isRowVisible(second.thresholds)  # canny's thresholds only for canny
    assert panel.request().images.controls == (
        Control(picture, SD_CANNY.id, "canny", 0.6, 0.0, 0.8, canny_low=40, canny_high=120),
        Control(str(lines), SD_LINES.id, "lineart", 1.0, 0.2, 1.0))
    assert panel.error.text() == ""
    first.remove.click()
    assert panel.request().images.controls == (Control(str(lines), SD_LINES.id, "lineart", 1.0, 0.2, 1.0),)
    first.high.setValue(30)  # the removed row no longer counts
    second.end.setValue(0.1)
    assert "start (0.2) must come before its end (0.1)" in panel.error.text()
    qtbot.waitUntil(lambda: not second.preview.busy)


def test_a_reused_request_shows_its_control_inputs(qtbot, picture):
    panel = _panel(qtbot)
    panel.control.add_row()  # a row of the user's: replaced by the reused request's
    controls = (Control(picture, SD_LINES.id, "lineart", 1.5, 0.1, 0.7),
                Control(picture, "/elsewhere/old-net", "canny", 0.5, canny_low=20, canny_high=60))
    reused = panel.request().replace(images=panel.request().images.replace(controls=controls))
    panel.set_request(reused)
    assert panel.request().images.controls == controls  # even a ControlNet not in the catalog now
    assert len(panel.control.rows) == 2
    qtbot.waitUntil(lambda: not any(row.preview.busy for row in panel.control.rows))


def _preview_pixels(qtbot, row):
    qtbot.waitUntil(lambda: not row.preview.busy and not row.preview.pixmap().isNull())
    image = row.preview.pixmap().toImage()
    return image.width(), lambda x, y: image.pixelColor(x, y).red()


def test_the_preview_shows_the_control_map_the_engine_gets(qtbot, picture):
    panel = _panel(qtbot)
    row = panel.control.add_row()
    assert row.preview.text() == "No picture"
    row.picture.set_path(picture)
    width, red = _preview_pixels(qtbot, row)
    assert width == 72 and red(10, 36) == 0 and red(60, 36) == 0  # canny: black on both sides
    assert max(red(x, 36) for x in range(33, 40)) > 60  # and white along the edge
    row.low.setValue(250)
    row.high.setValue(255)  # no step of 60 grey levels is that strong an edge
    qtbot.waitUntil(lambda: not row.preview.busy)
    _, red = _preview_pixels(qtbot, row)
    assert max(red(x, y) for x in range(72) for y in range(72)) == 0
    row.preprocessor.setCurrentIndex(row.preprocessor.findData("none"))  # the picture is the map
    qtbot.waitUntil(lambda: not row.preview.busy)
    _, red = _preview_pixels(qtbot, row)
    assert red(60, 36) == 60 and red(10, 36) == 0
    row.picture.set_path(picture + ".missing")
    qtbot.waitUntil(lambda: not row.preview.busy and row.preview.text() == "Cannot read")


def test_the_sketch_pad_is_a_picture_source_when_the_window_has_one(qtbot, tmp_path):
    panel = _panel(qtbot)
    row = panel.control.add_row()
    assert row.source.isHidden()  # no sketch pad handed in: pictures are files
    sketch = tmp_path / "sketch.png"
    drawn = Image.new("RGB", (64, 64), "black")
    ImageDraw.Draw(drawn).line((8, 8, 56, 56), fill="white", width=3)
    drawn.save(sketch)
    saved = {"path": str(sketch)}
    panel.control.sketch_source = lambda: saved["path"]
    assert not row.source.isHidden()
    row.source.setCurrentIndex(row.source.findData(control_row.SKETCH))
    assert panel.request().images.controls[0].image == str(sketch)
    assert panel.request().images.controls[0].preprocessor == "scribble"  # what a sketch is drawn for
    assert not row.pick.isEnabled()
    saved["path"] = None  # the pad was cleared
    panel.control.refresh_sketch()
    qtbot.waitUntil(lambda: panel.error.text() == EMPTY_SKETCH)
    saved["path"] = str(sketch)
    assert panel.submit() is not None  # the drawing is taken at once when generating
    assert panel.request().images.controls[0].image == str(sketch)
    panel.control.sketch_source = None
    assert row.source.isHidden() and row.control().image == ""  # back to a file, none chosen yet
    qtbot.waitUntil(lambda: not row.preview.busy)


def test_only_engines_with_controlnets_show_the_section(qtbot, picture):
    panel = _panel(qtbot)
    row = panel.control.add_row()
    row.picture.set_path(picture)
    assert len(panel.request().images.controls) == 1
    _choose_model(panel, SERVER)
    assert panel.control.isHidden() and panel.request().images.controls == ()
    _choose_model(panel, SD)
    assert not panel.control.isHidden() and len(panel.request().images.controls) == 1
    qtbot.waitUntil(lambda: not row.preview.busy)
