"""The prompt panel and the request model: images saved by the first release reuse every setting,
the mode follows the init image, and only the chosen model family's schedulers are offered."""

from __future__ import annotations

from pathlib import Path

from t2i_studio.core import schedulers
from t2i_studio.core.catalog import ModelInfo
from t2i_studio.core.engine_registry import EngineEntry
from t2i_studio.core.metadata import read_metadata
from t2i_studio.ui.prompt_panel import PromptPanel

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "schema1"


def _panel(qtbot) -> PromptPanel:
    panel = PromptPanel()
    qtbot.addWidget(panel)
    return panel


def _schedulers(panel: PromptPanel) -> list[str]:
    return [panel.scheduler.itemText(i) for i in range(panel.scheduler.count())]


def test_first_release_images_reuse_every_setting(qtbot):
    panel = _panel(qtbot)
    for name in ("txt2img.png", "variation.png", "img2img.png"):
        saved = read_metadata(FIXTURES / name).request
        panel.set_request(saved)
        shown = panel.request()
        # everything the image was made with comes back; only the panel's preview cadence is its own
        assert shown.replace(run=shown.run.replace(preview_every=saved.run.preview_every)) == saved, name
        assert panel.seed.locked
    assert panel.request().mode == "img2img" and panel.strength.value() == 0.5
    panel.init_image.set_path("")
    assert panel.request().mode == "txt2img"


def test_only_the_model_familys_schedulers_are_offered(qtbot):
    panel = _panel(qtbot)
    sd = ModelInfo(id="org/sd", name="sd", source="hub", family="sd", size_bytes=1, path=None)
    flux = ModelInfo(id="org/flux", name="flux", source="hub", family="flux", size_bytes=1, path=None)
    panel.set_models([sd, flux])
    panel.scheduler.setCurrentText("DPM++ 2M Karras")
    panel.set_model("org/flux")
    assert _schedulers(panel) == ["Euler"] and panel.request().sampling.scheduler == "Euler"
    panel.set_model("org/sd")
    assert "DPM++ 2M Karras" in _schedulers(panel) and len(_schedulers(panel)) == 9


def test_the_panel_offers_only_what_the_chosen_models_engine_can_do(qtbot):
    panel = _panel(qtbot)
    panel.set_engines([EngineEntry("remote", "A remote server", "generate", ("txt2img",), lambda: None,
                                   schedulers=("Euler", "DDIM")),
                       EngineEntry("diffusers", "Local", "generate", ("txt2img", "img2img"), lambda: None,
                                   schedulers=schedulers.NAMES)])
    local = ModelInfo(id="org/sd", name="sd", source="hub", family="sd", size_bytes=1)
    remote = ModelInfo(id="org/sd", name="sd (server)", source="server", family="sd", size_bytes=1,
                       engine="remote")
    panel.set_models([local, remote])
    panel.init_image.set_path(str(FIXTURES / "txt2img.png"))
    assert panel.request().engine == "diffusers" and panel.request().mode == "img2img"
    panel.set_model("org/sd", "remote")
    assert _schedulers(panel) == ["Euler", "DDIM"]
    assert not panel.init_image.isEnabled() and not panel.strength.isEnabled()
    request = panel.request()
    assert (request.engine, request.mode, request.images.init_image) == ("remote", "txt2img", None)
    panel.set_request(request.replace(engine="diffusers"))
    assert panel.engine_name() == "diffusers" and panel.init_image.isEnabled()


def test_loras_are_chosen_weighted_and_reused(qtbot, tmp_path):
    from t2i_studio.core.requests import Adapter

    panel = _panel(qtbot)
    panel.set_engines([EngineEntry("diffusers", "Local", "generate", ("txt2img", "img2img"), lambda: None,
                                   schedulers=schedulers.NAMES, adapters=("lora",)),
                       EngineEntry("remote", "Remote", "generate", ("txt2img",), lambda: None)])
    panel.set_models([ModelInfo(id="org/sd", name="sd", source="hub", family="sd", size_bytes=1),
                      ModelInfo(id="org/sd", name="sd (server)", source="server", family="sd", size_bytes=1,
                                engine="remote")])
    panel.set_model("org/sd", "diffusers")
    (tmp_path / "ink.safetensors").write_bytes(b"l")  # reuse offers the LoRAs that are there
    panel.loras.add(Adapter(str(tmp_path / "ink.safetensors")))
    panel.loras._rows[0].weight.setValue(0.6)
    request = panel.request()
    assert request.model.adapters == (Adapter(str(tmp_path / "ink.safetensors"), weight=0.6),)
    again = _panel(qtbot)
    again.set_request(request)
    assert again.request().model.adapters == request.model.adapters  # reuse brings them back
    panel.set_model("org/sd", "remote")  # an engine without LoRAs: none are sent
    assert not panel.loras.isEnabled() and panel.request().model.adapters == ()


def test_an_engine_without_schedulers_offers_none(qtbot):
    panel = _panel(qtbot)
    panel.set_engines([EngineEntry("starter", "Starter (built in)", "generate", ("txt2img",), lambda: None),
                       EngineEntry("diffusers", "Local", "generate", ("txt2img", "img2img"), lambda: None,
                                   schedulers=schedulers.NAMES)])
    panel.set_models([ModelInfo(id="starter", name="Starter", source="builtin", family="starter", size_bytes=1,
                                engine="starter"),
                      ModelInfo(id="org/sd", name="sd", source="hub", family="sd", size_bytes=1)])
    panel.set_model("starter", "starter")
    assert not panel.scheduler.isEnabled() and "uses no scheduler" in panel.scheduler.toolTip()
    panel.set_model("org/sd", "diffusers")
    assert panel.scheduler.isEnabled()
