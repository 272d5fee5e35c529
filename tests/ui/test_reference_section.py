"""The Generate panel's reference pictures (IP-Adapter) round-trip through its request and are offered
only for engines that take them; the style panel's "by diffusion" makes a GenerationRequest whose
style pictures are style-mode references, with the Generate panel's model and settings."""

from __future__ import annotations

from PIL import Image
from request_builder import gen_request

from t2i_studio.core.engine_registry import EngineEntry
from t2i_studio.core.requests import GenerationRequest, Reference, StyleRequest
from t2i_studio.ui.controls import choose
from t2i_studio.ui.prompt_panel import PromptPanel
from t2i_studio.ui.style_panel import DIFFUSION, StylePanel


def _pictures(tmp_path):
    for name, colour in (("red.png", (220, 30, 30)), ("blue.png", (30, 30, 220))):
        Image.new("RGB", (32, 32), colour).save(tmp_path / name)
    return str(tmp_path / "red.png"), str(tmp_path / "blue.png")


def test_a_reused_requests_references_show_and_come_back(qtbot, tmp_path):
    panel = PromptPanel()
    qtbot.addWidget(panel)
    red, blue = _pictures(tmp_path)
    references = (Reference(red, "/ipa/ip-adapter_sd15.safetensors", 0.8, "style", "/ipa/encoder"),
                  Reference(blue, "/ipa/ip-adapter_sd15.safetensors", 1.3, "composition", "/ipa/encoder"))
    request = gen_request("a lighthouse", model="org/sd", references=references)
    panel.set_request(request)
    assert len(panel.references.rows) == 2 and not panel.references.adapter.isHidden()
    assert panel.request().images.references == references
    panel.references.remove_row(panel.references.rows[0])
    assert panel.request().images.references == references[1:]
    panel.set_request(gen_request("a lighthouse", model="org/sd"))
    assert panel.references.rows == [] and panel.request().images.references == ()


def test_a_new_reference_needs_its_adapter_and_engines_without_ip_adapter_get_none(qtbot, tmp_path):
    panel = PromptPanel()
    qtbot.addWidget(panel)
    red, _blue = _pictures(tmp_path)
    panel.set_model("org/sd")
    panel.prompt.setPlainText("a lighthouse")
    panel.references.add_row().picture.set_path(red)
    assert "Choose an IP-Adapter model for the reference picture" in panel.error.text()
    panel.references.adapter.model.setText("/ipa/ip-adapter.safetensors")
    assert panel.request().images.references == (Reference(red, "/ipa/ip-adapter.safetensors"),)
    gan = EngineEntry("starter", "Starter", "generate", ("txt2img",), lambda: None)
    panel.set_engines([gan, EngineEntry("diffusers", "diffusers", "generate", ("txt2img",), lambda: None,
                                        references=True)])
    panel.set_model("starter", "starter")
    assert panel.references.isHidden() and panel.request().images.references == ()


def test_style_transfer_by_diffusion_makes_a_generation_request_with_style_references(qtbot, tmp_path):
    panel = StylePanel()
    qtbot.addWidget(panel)
    red, blue = _pictures(tmp_path)
    base = gen_request("the Generate panel's prompt", model="org/sdxl", negative_prompt="blurry", width=768,
                       height=512, steps=12, guidance=5.0, seed=7)
    panel.generation_base = lambda: base
    panel.styles.set_chosen([red, blue], [2.0, 1.0])
    assert isinstance(panel.request(), StyleRequest)
    choose(panel.method, DIFFUSION)
    assert panel.classic_form.isHidden() and not panel.diffusion.isHidden()
    panel.diffusion.prompt.setPlainText("a fox in the snow")
    assert "Choose an IP-Adapter model" in panel.error.text()
    panel.diffusion.adapter.set_adapter("/ipa/ip-adapter_sdxl.safetensors", None)
    with qtbot.waitSignal(panel.stylize_requested) as emitted:
        assert panel.submit() is not None
    made = emitted.args[0]
    assert isinstance(made, GenerationRequest) and made.mode == "txt2img"
    assert (made.prompt, made.negative_prompt, made.model, made.width, made.height) == (
        "a fox in the snow", "blurry", base.model, 768, 512)
    assert made.sampling.replace(seed=7) == base.sampling  # the Generate panel's sampling, a new seed
    assert made.images.references == (Reference(red, "/ipa/ip-adapter_sdxl.safetensors", 1.0, "style"),
                                      Reference(blue, "/ipa/ip-adapter_sdxl.safetensors", 0.5, "style"))
    again = StylePanel()
    qtbot.addWidget(again)
    again.generation_base = lambda: base
    again.load_state(panel.state())  # the method and its settings are remembered
    assert again.by_diffusion() and again.request().replace(sampling=base.sampling) == made.replace(
        sampling=base.sampling)
