"""The prompt panel's Inpaint / Outpaint and Hires fix sections: the request built has the mode and
fields they show, a reused request shows them again, problems show as you type, and only engines
that can do a mode are offered it."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from t2i_studio.core import schedulers
from t2i_studio.core.catalog import ModelInfo
from t2i_studio.core.engine_registry import EngineEntry
from t2i_studio.core.masks import sides_for_aspect
from t2i_studio.core.project import Project
from t2i_studio.core.requests import LANCZOS, MODES, Hires, ImageInputs
from t2i_studio.ui.prompt_panel import PromptPanel
from t2i_studio.ui.viewer import Viewer

EDITING = EngineEntry("diffusers", "Local", "generate", MODES, lambda: None, schedulers=schedulers.NAMES,
                      hires=True)
PLAIN = EngineEntry("remote", "Remote", "generate", ("txt2img", "img2img"), lambda: None)
MODEL = ModelInfo(id="org/sd", name="sd", source="hub", family="sd", size_bytes=1)


@pytest.fixture
def studio(qtbot, tmp_path):
    """A prompt panel and a viewer, wired as the window wires them, over a project."""
    project = Project.open(tmp_path / "p", create=True)
    viewer, panel = Viewer(), PromptPanel()
    for widget in (viewer, panel):
        qtbot.addWidget(widget)
    viewer.resize(600, 400)
    viewer.show()
    qtbot.waitExposed(viewer)
    viewer.mask_tools.project = lambda: project
    panel.set_engines([EDITING, PLAIN])
    panel.set_models([MODEL, ModelInfo(id="org/sd", name="sd (server)", source="server", family="sd",
                                       size_bytes=1, engine="remote")])
    panel.set_model("org/sd", "diffusers")
    panel.attach_mask_tools(viewer.mask_tools)
    panel.prompt.setPlainText("a lighthouse at dusk")
    yield panel, viewer
    project.close()


def picture(tmp_path, size=(256, 192)) -> str:
    path = tmp_path / f"pic-{size[0]}x{size[1]}.png"
    Image.new("RGB", size, "teal").save(path)
    return str(path)


def paint(viewer: Viewer, at=(100, 100)) -> None:
    point, left = viewer.view.mapFromScene(QPointF(*at)), Qt.MouseButton.LeftButton
    QTest.mousePress(viewer.view.viewport(), left, Qt.KeyboardModifier.NoModifier, point)
    QTest.mouseRelease(viewer.view.viewport(), left, Qt.KeyboardModifier.NoModifier, point)


def test_inpainting_takes_the_viewers_picture_and_the_painted_mask(studio, tmp_path):
    panel, viewer = studio
    viewer.show_file(picture(tmp_path))
    assert panel.start_edit("inpaint") and viewer.mask_tools.active and viewer.mask_tools.tool_bar.isVisible()
    assert "needs a mask" in panel.footer.error.text() and not panel.generate.isEnabled()  # as you type
    paint(viewer)
    viewer.mask_tools.feather.setValue(9)
    panel.edit.area.setCurrentIndex(panel.edit.area.findData("masked"))
    panel.edit.padding.setValue(48)
    panel.edit.masked_content.setCurrentIndex(panel.edit.masked_content.findData("fill"))
    panel.strength.setValue(0.6)
    request = panel.request()
    images = request.images
    assert request.mode == "inpaint" and images.init_image == viewer.mask_tools.target
    shown = (images.mask_blur, images.inpaint_area, images.padding, images.masked_content, images.strength)
    assert shown == (9, "masked", 48, "fill", 0.6)
    with Image.open(images.mask) as mask:
        assert mask.size == (256, 192) and mask.getpixel((100, 100)) == 255
    assert panel.revalidate() == "" and panel.generate.isEnabled()
    assert not panel.hires.isEnabled() and request.hires is None  # the hires fix is text-to-image's


def test_outpainting_by_pixels_or_to_an_aspect_ratio(studio, tmp_path):
    panel, viewer = studio
    viewer.show_file(picture(tmp_path))
    panel.start_edit("outpaint")
    assert not viewer.mask_tools.tool_bar.isVisible()  # nothing to paint
    assert "adds nothing" in panel.footer.error.text()
    for spin, value in zip(panel.edit.sides, (64, 0, 32, 8)):
        spin.setValue(value)
    panel.edit.fill.setCurrentIndex(panel.edit.fill.findData("noise"))
    request = panel.request()
    assert (request.mode, request.images.outpaint, request.images.outpaint_fill) == \
        ("outpaint", (64, 0, 32, 8), "noise")
    assert request.images.init_image == viewer.mask_tools.target and request.images.mask is None
    panel.edit.ratio.setCurrentIndex(panel.edit.ratio.findData("16:9"))
    assert panel.request().images.outpaint == sides_for_aspect((256, 192), (16, 9))
    assert not panel.edit.sides[0].isEnabled()
    wide = 256 + sum(sides_for_aspect((256, 192), (16, 9))[:2])
    assert panel.edit.picture.text().endswith(f"256×192 → {wide}×192")
    assert panel.revalidate() == ""


def test_hires_fix_by_factor_or_to_a_size(studio):
    panel, _viewer = studio
    hires = panel.hires
    assert not hires.body.isVisible() and panel.request().hires is None
    hires.on.setChecked(True)
    panel.size.set_size(512, 384)
    hires.scale.setValue(1.5)
    assert hires.result.text() == "512×384 → 768×576"
    hires.set_upscalers(["4x-UltraSharp"])
    hires.upscaler.setCurrentIndex(hires.upscaler.findData("4x-UltraSharp"))
    hires.steps.setValue(12)
    hires.strength.setValue(0.35)
    assert panel.request().hires == Hires(scale=1.5, upscaler="4x-UltraSharp", steps=12, strength=0.35)
    hires.by.setCurrentIndex(hires.by.findData("size"))
    hires.target_width.setValue(1024)
    hires.target_height.setValue(768)
    assert panel.request().hires.target(512, 384) == (1024, 768)
    assert hires.result.text() == "512×384 → 1024×768" and panel.revalidate() == ""
    assert [hires.upscaler.itemText(i) for i in range(hires.upscaler.count())] == ["Latent", "Lanczos",
                                                                                    "4x-UltraSharp"]


def test_reused_requests_show_their_mode_and_fields_again(studio, tmp_path):
    panel, viewer = studio
    viewer.show_file(picture(tmp_path))
    panel.start_edit("inpaint")
    paint(viewer)
    viewer.mask_tools.feather.setValue(12)
    panel.edit.masked_content.setCurrentIndex(panel.edit.masked_content.findData("latent_noise"))
    inpaint = panel.request()
    panel.edit.set_edit_mode("")
    panel.hires.on.setChecked(True)
    panel.hires.upscaler.setCurrentIndex(panel.hires.upscaler.findData(LANCZOS))
    txt2img = panel.request()
    other = picture(tmp_path, (128, 128))
    viewer.show_file(other)  # another picture, another size: its own, empty mask

    panel.set_request(inpaint)
    assert panel.request() == inpaint and viewer.current_path == inpaint.images.init_image
    assert viewer.mask_tools.canvas.to_pil().getpixel((100, 100)) == 255  # the mask is shown over it
    outpaint = inpaint.replace(mode="outpaint", images=ImageInputs(
        inpaint.images.init_image, 0.8, masked_content="fill", outpaint=(8, 16, 0, 24),
        outpaint_fill="noise"))
    panel.set_request(outpaint)
    assert panel.request() == outpaint and panel.edit.edit_mode() == "outpaint"
    panel.set_request(txt2img)
    assert panel.request() == txt2img and panel.edit.edit_mode() == "" and not viewer.mask_tools.active
    assert txt2img.hires == Hires(upscaler=LANCZOS)


def test_problems_show_as_you_type(studio, tmp_path):
    panel, viewer = studio
    panel.start_edit("inpaint")
    assert "Show a picture in the viewer" in panel.footer.error.text()
    opaque = tmp_path / "opaque.png"
    Image.new("RGBA", (64, 64), (255, 0, 0, 255)).save(opaque)
    viewer.show_file(str(opaque))
    assert "needs a mask" in panel.footer.error.text()
    viewer.mask_tools.actions["mask_alpha"].trigger()
    assert "no transparent pixels" in panel.footer.error.text() and not panel.generate.isEnabled()
    viewer.mask_tools.actions["mask_alpha"].trigger()
    paint(viewer, (32, 32))
    assert panel.footer.error.text() == "" and panel.generate.isEnabled()


def test_only_engines_that_edit_are_offered_the_modes(studio, tmp_path):
    panel, viewer = studio
    viewer.show_file(picture(tmp_path))
    assert not panel.edit.isHidden() and not panel.hires.isHidden()
    assert viewer.mask_tools.button.isVisibleTo(viewer)
    viewer.mask_tools.toggle.trigger()  # the viewer's Inpaint button turns the section's mode on
    assert panel.edit.edit_mode() == "inpaint"
    panel.set_model("org/sd", "remote")
    assert panel.edit.isHidden() and panel.hires.isHidden()
    assert not viewer.mask_tools.button.isVisibleTo(viewer)
    assert not viewer.mask_tools.active and panel.request().mode == "txt2img"
    assert not panel.start_edit("inpaint")
    panel.set_model("org/sd", "diffusers")
    assert panel.start_edit("outpaint")


def test_use_as_init_ends_editing(studio, tmp_path):
    panel, viewer = studio
    viewer.show_file(picture(tmp_path))
    panel.start_edit("inpaint")
    assert not panel.init_image.isEnabled() and panel.strength.isEnabled()
    panel.set_init_image(picture(tmp_path, (64, 64)))
    assert panel.edit.edit_mode() == "" and panel.request().mode == "img2img" and panel.init_image.isEnabled()
