"""The viewer's mask tools: strokes land in the picture's pixels at any zoom, the eraser and the right
button erase, invert and clear, [ and ] size the brush, and the mask a request names is a project
file of the picture's size (white: regenerate), never tinted by the overlay's colour."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from t2i_studio.core.project import Project
from t2i_studio.core.requests import ALPHA_MASK
from t2i_studio.ui.mask_canvas import OVERLAY_OPACITY
from t2i_studio.ui.viewer import Viewer


@pytest.fixture
def project(tmp_path):
    project = Project.open(tmp_path / "p", create=True)
    yield project
    project.close()


@pytest.fixture
def viewer(qtbot, project):
    viewer = Viewer()
    qtbot.addWidget(viewer)
    viewer.resize(700, 500)
    viewer.show()
    qtbot.waitExposed(viewer)
    viewer.mask_tools.project = lambda: project
    return viewer


def picture(tmp_path, name: str = "pic.png", size=(200, 100), mode: str = "RGB", colour="navy") -> str:
    path = tmp_path / name
    Image.new(mode, size, colour).save(path)
    return str(path)


def drag(viewer: Viewer, points, button=Qt.MouseButton.LeftButton) -> None:
    """A stroke through ``points`` (picture pixels), pressed with ``button``."""
    view = viewer.view
    at = [view.mapFromScene(QPointF(*p)) for p in points]
    QTest.mousePress(view.viewport(), button, Qt.KeyboardModifier.NoModifier, at[0])
    for point in at[1:]:
        QTest.mouseMove(view.viewport(), point)
    QTest.mouseRelease(view.viewport(), button, Qt.KeyboardModifier.NoModifier, at[-1])


def painting(viewer: Viewer, path: str):
    viewer.show_file(path)
    tools = viewer.mask_tools
    tools.set_active(True)
    return tools


def test_strokes_land_in_picture_pixels_at_any_zoom(viewer, tmp_path):
    tools = painting(viewer, picture(tmp_path))
    tools.set_brush_size(10)
    viewer.view.zoom_by(3.0)  # zoomed in and scrolled: the stroke still lands where the pointer is
    viewer.view.centerOn(QPointF(60, 30))
    drag(viewer, [(40, 30), (80, 30)])
    mask = tools.canvas.to_pil()
    assert mask.size == (200, 100)
    left, top, right, bottom = mask.getbbox()
    assert abs(left - 35) <= 2 and abs(right - 85) <= 2 and abs(top - 25) <= 2 and abs(bottom - 35) <= 2
    assert mask.getpixel((60, 30)) == 255 and mask.getpixel((60, 60)) == 0


def test_the_eraser_and_the_right_button_erase(viewer, tmp_path):
    tools = painting(viewer, picture(tmp_path))
    tools.set_brush_size(20)
    drag(viewer, [(20, 50), (180, 50)])
    drag(viewer, [(50, 50)], Qt.MouseButton.RightButton)
    mask = tools.canvas.to_pil()
    assert mask.getpixel((50, 50)) == 0 and mask.getpixel((100, 50)) == 255
    tools.use_eraser()
    drag(viewer, [(90, 50), (110, 50)])
    assert tools.canvas.to_pil().getpixel((100, 50)) == 0 and tools.canvas.to_pil().getpixel((150, 50)) == 255


def test_invert_and_clear(viewer, tmp_path):
    tools = painting(viewer, picture(tmp_path))
    tools.set_brush_size(20)
    drag(viewer, [(100, 50)])
    tools.invert()
    mask = tools.canvas.to_pil()
    assert mask.getpixel((100, 50)) == 0 and mask.getpixel((5, 5)) == 255
    tools.clear()
    assert tools.canvas.to_pil().getbbox() is None and tools.mask_value() is None


def test_brackets_size_the_brush_when_the_viewer_has_focus(qtbot, viewer, tmp_path):
    tools = painting(viewer, picture(tmp_path))
    tools.set_brush_size(40)
    viewer.activateWindow()
    viewer.view.setFocus()
    qtbot.waitUntil(viewer.view.hasFocus, timeout=2000)
    qtbot.keyClick(viewer.view, Qt.Key.Key_BracketRight)
    assert tools.brush_size == 50
    qtbot.keyClick(viewer.view, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(viewer.view, Qt.Key.Key_BracketLeft)
    assert tools.brush_size == 32
    assert "32" in tools.size_label.text()


def test_the_mask_file_has_the_pictures_size_and_only_the_painted_pixels(viewer, tmp_path, project):
    tools = painting(viewer, picture(tmp_path, size=(160, 96)))
    tools.set_brush_size(16)
    drag(viewer, [(40, 40), (120, 40)])
    path = tools.mask_value()
    assert path and path.startswith(str(project.folder / "inputs"))
    with Image.open(path) as saved:
        assert saved.size == (160, 96) and saved.mode == "L"
        assert saved.getpixel((80, 40)) == 255 and saved.getpixel((80, 80)) == 0
        assert saved.getextrema() == (0, 255)  # the alpha alone: no trace of the overlay's colour
    assert tools.mask_value() == path  # kept once: nothing is written again until the mask changes
    drag(viewer, [(80, 80)])
    assert tools.mask_value() != path


def test_the_overlay_is_translucent_and_hidden_over_previews_and_when_asked(viewer, tmp_path):
    tools = painting(viewer, picture(tmp_path))
    drag(viewer, [(100, 50)])
    assert tools.canvas.isVisible() and tools.canvas.opacity() == OVERLAY_OPACITY < 0.6
    preview = QImage(QSize(100, 50), QImage.Format.Format_RGB32)
    preview.fill(Qt.GlobalColor.gray)
    viewer.show_preview(preview)
    assert not tools.canvas.isVisible() and not tools.actions["mask_brush"].isEnabled()
    viewer.show_file(tools.target)
    assert tools.canvas.isVisible()
    tools.actions["mask_show"].trigger()  # hide it: the mask stays
    assert not tools.canvas.isVisible() and tools.canvas.to_pil().getbbox() is not None


def test_a_picture_of_the_same_size_keeps_the_mask_another_size_starts_empty(viewer, tmp_path):
    tools = painting(viewer, picture(tmp_path, "a.png"))
    drag(viewer, [(100, 50)])
    viewer.show_file(picture(tmp_path, "b.png", colour="olive"))
    assert tools.target.endswith("b.png") and tools.canvas.to_pil().getbbox() is not None
    viewer.show_file(picture(tmp_path, "c.png", size=(64, 64)))
    assert tools.canvas.size() == QSize(64, 64) and tools.canvas.to_pil().getbbox() is None


def test_a_mask_file_is_loaded_stretched_to_the_picture(viewer, tmp_path):
    tools = painting(viewer, picture(tmp_path))
    mask = Image.new("L", (100, 50), 0)
    mask.paste(255, (0, 0, 50, 50))  # the left half
    mask.save(tmp_path / "mask.png")
    tools.load_file(str(tmp_path / "mask.png"))
    loaded = tools.canvas.to_pil()
    assert loaded.size == (200, 100) and loaded.getpixel((50, 50)) == 255 and loaded.getpixel((150, 50)) == 0
    assert tools.mask_value() != str(tmp_path / "mask.png")  # a copy of it, kept in the project


def test_the_alpha_channel_as_the_mask(viewer, tmp_path):
    clear = Image.new("RGBA", (200, 100), (0, 0, 255, 255))
    clear.paste((0, 0, 0, 0), (100, 0, 200, 100))
    clear.save(tmp_path / "cut.png")
    tools = painting(viewer, str(tmp_path / "cut.png"))
    drag(viewer, [(20, 20)])
    tools.actions["mask_alpha"].trigger()
    assert tools.mask_value() == ALPHA_MASK and tools.problem() == ""
    shown = tools.canvas.to_pil()
    assert shown.getpixel((150, 50)) == 255 and shown.getpixel((20, 20)) == 0  # the transparency, shown
    assert not tools.actions["mask_brush"].isEnabled()  # nothing to paint: the picture says
    tools.actions["mask_alpha"].trigger()
    assert tools.canvas.to_pil().getpixel((20, 20)) == 255  # the painted mask is back
    tools.actions["mask_alpha"].trigger()
    viewer.show_file(picture(tmp_path, "opaque.png", mode="RGBA", colour=(0, 0, 255, 255)))
    assert "no transparent pixels" in tools.problem()


def test_without_a_project_the_painted_mask_says_where_it_goes(viewer, tmp_path):
    tools = painting(viewer, picture(tmp_path))
    tools.project = lambda: None
    drag(viewer, [(100, 50)])
    assert tools.mask_value() is None and "Open a project" in tools.problem()
