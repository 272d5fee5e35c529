"""The Details tab: the selected image's prompt, every setting and its lineage, with copy buttons."""

from __future__ import annotations

from pathlib import Path

from gallery_helpers import add_generated
from PySide6.QtGui import QGuiApplication

from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.project import Project
from t2i_studio.ui.details_panel import DetailsPanel

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "schema1"


def test_details_show_every_setting_and_copy_them(qtbot, tmp_path):
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    assert not panel.copy_all.isEnabled() and panel.table.rowCount() == 0
    with Project.create(tmp_path / "p") as project:
        entry = add_generated(project, "a koi pond, ukiyo-e", seed=77)
        panel.show_entry(entry)
    assert panel.prompt.toPlainText() == "a koi pond, ukiyo-e" and panel.negative.toPlainText() == "blurry"
    assert panel.value("Seed") == "77" and panel.value("Steps") == "4" and panel.value("Size") == "64×64"
    assert panel.value("Model") == "org/model-a" and panel.value("Ran on") == "cpu"
    assert panel.value("Pipeline") == "StableDiffusionPipeline" and panel.value("Init strength") is None
    panel.copy_all.click()
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("a koi pond, ukiyo-e\nNegative prompt: blurry\nSteps: 4") and "Seed: 77" in copied
    panel.copy_prompt.click()
    assert QGuiApplication.clipboard().text() == "a koi pond, ukiyo-e"


def test_details_of_an_image_from_the_first_release(qtbot, tmp_path):
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    meta = read_metadata(FIXTURES / "img2img.png")
    with Project.create(tmp_path / "p") as project:
        entry = project.import_image(FIXTURES / "img2img.png")
        assert entry.params["request"] == meta.data["request"]  # the flat, schema-1 request
        panel.show_entry(project.get(entry.id))
    assert panel.value("Mode") == "img2img" and panel.value("Init strength") == "0.5"
    assert panel.value("Made from") == "000001-42.png" and panel.value("Scheduler") == "DDIM"


def test_details_name_the_controlnets_and_ip_adapters_that_steered_it(qtbot, tmp_path):
    from PIL import Image
    from request_builder import gen_request, with_

    from t2i_studio.core.engine import Result
    from t2i_studio.core.requests import Control, Reference

    request = with_(gen_request("a tent", model="m"),
                    controls=(Control("/sk/tent.png", "/nets/scribble", "scribble", 0.8, 0.0, 0.6),),
                    references=(Reference("/refs/ink.png", "/ip/ip-adapter_sd15.safetensors", 0.5, "style"),))
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    with Project.create(tmp_path / "p") as project:
        [entry] = project.save_result(request, Result([Image.new("RGB", (8, 8))], [3]))
        panel.show_entry(entry)
    assert panel.value("ControlNet 1") == "scribble · scribble of tent.png × 0.8, steps 0–0.6"
    assert panel.value("IP-Adapter 1") == "ip-adapter_sd15.safetensors · style of ink.png × 0.5"
