"""The prompt box tells the user which words the starter model understood, only while it is chosen,
and offers nothing the starter engine cannot do."""

from __future__ import annotations

from t2i_studio.core.catalog import ModelInfo
from t2i_studio.core.engine_registry import EngineEntry
from t2i_studio.ui.prompt_panel import PromptPanel

STARTER = ModelInfo(id="starter", name="Starter (built in)", source="builtin", family="starter",
                    size_bytes=1, engine="starter")
SD = ModelInfo(id="org/sd", name="sd", source="hub", family="sd", size_bytes=1)


def test_the_understood_words_show_under_the_prompt_for_the_starter_model(qtbot):
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.set_engines([EngineEntry("starter", "Starter (built in)", "generate", ("txt2img",), lambda: None),
                       EngineEntry("diffusers", "Local", "generate", ("txt2img", "img2img"), lambda: None)])
    panel.set_models([STARTER, SD])
    panel.show()
    assert panel.model_id() == "starter"  # the first listed is chosen when nothing else was
    panel.prompt.setPlainText("a fluffy red star in the top left")
    assert panel.understood.isVisible()
    assert panel.understood.text() == "Starter model understood: red star top left  ·  ignored: fluffy"
    assert not panel.init_image.isEnabled()
    request = panel.request()
    assert (request.engine, request.model.id, request.mode) == ("starter", "starter", "txt2img")
    panel.set_model("org/sd")
    assert not panel.understood.isVisible() and panel.init_image.isEnabled()
