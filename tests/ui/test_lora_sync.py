"""The prompt panel's LoRAs and the prompt's ``<lora:name:weight>`` tags stay one thing: picking a LoRA
adds its tag, a slider rewrites it, removing a row removes it, a typed tag adds a row; unknown names
are said as you type; reusing an image brings its LoRAs and VAE back and the window says what is
missing."""

from __future__ import annotations

import pytest
from fake_engine import FakeEngine
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QFileDialog
from ui_helpers import studio_window

from t2i_studio.core import schedulers
from t2i_studio.core.catalog import ModelInfo
from t2i_studio.core.engine import Result
from t2i_studio.core.engine_registry import EngineEntry, EngineRegistry
from t2i_studio.core.requests import Adapter, GenerationRequest, ModelRef
from t2i_studio.core.settings import Settings, loras_dir, vae_dir
from t2i_studio.ui.prompt_panel import PromptPanel

MODEL = ModelInfo(id="org/sd", name="sd", source="hub", family="sd", size_bytes=1)


def _registry() -> EngineRegistry:
    return EngineRegistry([EngineEntry("diffusers", "Local", "generate", ("txt2img",), FakeEngine,
                                       schedulers=schedulers.NAMES, adapters=("lora",))])


@pytest.fixture(autouse=True)
def library(tmp_path, monkeypatch):
    """A private home whose LoRA folder holds ink and neon, and whose VAE folder holds one VAE."""
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))
    for folder, name in ((loras_dir(), "ink.safetensors"), (loras_dir(), "neon.safetensors"),
                         (vae_dir(), "vae-ft-mse.safetensors")):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"w")
    return loras_dir()


def _panel(qtbot) -> PromptPanel:
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.set_engines([EngineEntry("diffusers", "Local", "generate", ("txt2img",), lambda: None,
                                   schedulers=schedulers.NAMES, adapters=("lora",)),
                       EngineEntry("starter", "Starter", "generate", ("txt2img",), lambda: None)])
    panel.set_models([MODEL, ModelInfo(id="starter", name="Starter", source="builtin", family="starter",
                                       size_bytes=1, engine="starter")])
    panel.set_model("org/sd", "diffusers")
    return panel


def _type(panel: PromptPanel, text: str) -> None:
    cursor = panel.prompt.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    panel.prompt.setTextCursor(cursor)
    panel.prompt.insertPlainText(text)


def test_picking_a_lora_adds_its_tag_and_the_rows_follow_the_prompt(qtbot, library):
    panel = _panel(qtbot)
    loras = panel.loras
    assert [loras.picker.itemText(i) for i in range(loras.picker.count())] == ["ink", "neon"]
    panel.prompt.setPlainText("a cat")
    loras.picker.activated.emit(0)  # as A1111 adds a picked LoRA: its tag at the end of the prompt
    assert panel.prompt.toPlainText() == "a cat <lora:ink:1>" and len(loras._rows) == 1
    loras._rows[0].weight.setValue(0.6)
    assert panel.prompt.toPlainText() == "a cat <lora:ink:0.6>"
    assert panel.request().model.adapters == (Adapter(str(library / "ink.safetensors"), weight=0.6),)
    _type(panel, ", <lora:neon:0.3> in snow")
    assert [row.tag_name for row in loras._rows] == ["ink", "neon"] and loras._rows[1].weight.value() == 0.3
    assert panel.request().prompt == "a cat <lora:ink:0.6>, <lora:neon:0.3> in snow"  # stored as typed
    loras._rows[0].remove.click()
    assert panel.prompt.toPlainText() == "a cat, <lora:neon:0.3> in snow"
    assert panel.request().model.adapters == (Adapter(str(library / "neon.safetensors"), weight=0.3),)
    panel.prompt.undo()  # each edit of the panel is one undo step of the prompt
    assert panel.prompt.toPlainText() == "a cat <lora:ink:0.6>, <lora:neon:0.3> in snow"
    loras.pick("neon")  # named already: nothing added
    assert panel.prompt.toPlainText().count("neon") == 1


def test_unknown_names_are_said_as_you_type_and_block_submission(qtbot, library):
    panel = _panel(qtbot)
    panel.prompt.setPlainText("a cat <lora:ghost:0.5>")
    assert panel.error.text().startswith("No LoRA called ghost in the LoRA folders (")
    assert not panel.generate.isEnabled() and panel.submit() is None
    assert loras_row_text(panel) == "ghost (not found)"
    (library / "ghost.safetensors").write_bytes(b"w")
    panel.loras.refresh()  # opening the picker lists the folders again
    assert panel.error.text() == "" and panel.generate.isEnabled()
    assert panel.request().model.adapters == (Adapter(str(library / "ghost.safetensors"), weight=0.5),)
    panel.prompt.setPlainText("a cat <lora:ink:lots>")
    assert "its weight must be a number" in panel.error.text()
    panel.prompt.setPlainText("a cat <lora:ink>")
    panel.set_model("starter", "starter")
    assert "cannot use LoRAs" in panel.error.text() and panel.request().model.adapters == ()


def loras_row_text(panel: PromptPanel) -> str:
    return panel.loras._rows[0].name.text()


def test_reuse_brings_loras_back_as_tags_and_says_what_is_missing(qtbot, tmp_path, library):
    ink = str(library / "ink.safetensors")
    request = GenerationRequest("a fox", width=64, height=64, model=ModelRef(
        MODEL.id, vae="/old/machine/vae-ft-mse.safetensors",
        adapters=(Adapter(ink, weight=0.7), Adapter("/old/machine/ghost.safetensors", weight=0.4))))
    with studio_window(qtbot, tmp_path / "p", _registry(), models=[MODEL]) as win:
        from PIL import Image

        [entry] = win.project.save_result(request, Result(images=[Image.new("RGB", (64, 64))], seeds=[1],
                                                          fingerprint={"loras": []}))
        win.entries.reuse_settings(entry.id)
        panel = win.prompt_panel
        assert panel.prompt.toPlainText() == "a fox <lora:ink:0.7> <lora:ghost:0.4>"  # a tag for each
        assert [row.name.text() for row in panel.loras._rows] == ["ink", "ghost (not found)"]
        assert panel.vae.vae() == str(vae_dir() / "vae-ft-mse.safetensors")  # found in the VAE folder
        assert win.message_bar.text.text().startswith("Not on this computer: LoRA ghost. Put LoRA files in ")
        panel.loras._rows[1].remove.click()
        assert panel.request().model.adapters == (Adapter(ink, weight=0.7),)


def test_a_lora_folder_added_in_the_panel_is_kept_in_the_settings(qtbot, tmp_path, monkeypatch):
    more = tmp_path / "a1111 loras"
    more.mkdir()
    (more / "glow.safetensors").write_bytes(b"w")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: str(more))
    with studio_window(qtbot, tmp_path / "p", _registry(), models=[MODEL]) as win:
        loras = win.prompt_panel.loras
        loras.folder_button.click()
        assert win.settings.lora_folders == [str(more)] and Settings.load().lora_folders == [str(more)]
        assert [loras.picker.itemText(i) for i in range(loras.picker.count())] == ["glow", "ink", "neon"]
