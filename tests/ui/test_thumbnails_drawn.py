"""Thumbnails as artists judge them: a selected picture keeps its colours (a frame, not a tint),
favourites and ratings show on the picture, the size can change, and a style is ticked by a click
on its picture without the panel below moving."""

from __future__ import annotations

import pytest
from gallery_helpers import add_generated
from PIL import Image
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QColor, QPalette

from t2i_studio.core.project import Project
from t2i_studio.ui.gallery import GalleryWidget
from t2i_studio.ui.style_list import StyleList
from t2i_studio.ui.thumb_delegate import BADGE_ROLE

RED = (220, 30, 30)


@pytest.fixture
def gallery(qtbot, tmp_path):
    with Project.create(tmp_path / "project") as project:
        entry = add_generated(project, "a red square", color=RED, size=128)
        widget = GalleryWidget()
        qtbot.addWidget(widget)
        widget.resize(600, 400)
        widget.set_project(project)
        widget.show()
        qtbot.waitExposed(widget)
        qtbot.waitUntil(lambda: widget.thumbnails.cached(entry.id) is not None, timeout=10_000)
        yield widget, entry
        widget.shutdown()


def _centre_and_edge(view, index):
    """The colour at the middle of the cell's picture, and the whole grabbed viewport."""
    image = view.viewport().grab().toImage()
    rect = view.visualRect(index)
    centre = image.pixelColor(rect.center().x(), rect.top() + 6 + view.iconSize().height() // 2)
    return centre, image


def _close(color: QColor, rgb: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip((color.red(), color.green(), color.blue()), rgb))


def test_a_selected_thumbnail_keeps_its_colours_and_gets_a_frame(qtbot, gallery):
    widget, entry = gallery
    view = widget.view
    index = widget.model.index(0)
    before, _ = _centre_and_edge(view, index)
    view.selectionModel().select(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    qtbot.wait(20)
    after, image = _centre_and_edge(view, index)
    assert _close(before, RED) and _close(after, RED), (before.getRgb(), after.getRgb())
    highlight = view.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)
    rect = view.visualRect(index)
    frame = [image.pixelColor(x, y) for x in range(rect.left(), rect.right()) for y in range(rect.top(), rect.top() + 6)]
    assert any(_close(c, (highlight.red(), highlight.green(), highlight.blue()), 30) for c in frame)


def test_favourite_and_rating_show_on_the_thumbnail(qtbot, gallery):
    widget, entry = gallery
    project = widget.project
    project.set_favorite(entry.id, True)
    project.set_rating(entry.id, 3)
    widget.model.refresh_entry(entry.id)
    assert widget.model.index(0).data(BADGE_ROLE) == "♥ ★★★"


def test_the_thumbnail_size_changes_the_grid(qtbot, gallery):
    widget, _entry = gallery
    widget.thumb_size.setValue(256)
    assert widget.view.iconSize().width() == 256 and widget.thumbnails.image_size.width() == 256
    widget.set_thumbnail_size(10)
    assert widget.thumb_size.value() == 64 and widget.view.iconSize().width() == 64


def test_a_click_on_a_style_picture_ticks_it_and_nothing_below_moves(qtbot, tmp_path):
    styles = StyleList()
    qtbot.addWidget(styles)
    styles.resize(320, 400)
    styles.show()
    qtbot.waitExposed(styles)
    first, second = styles.grid.item(0), styles.grid.item(1)
    below = styles.weights_area.geometry()
    qtbot.mouseClick(styles.grid.viewport(), Qt.MouseButton.LeftButton,
                     pos=styles.grid.visualItemRect(first).center())
    assert first.checkState() == Qt.CheckState.Checked
    qtbot.mouseClick(styles.grid.viewport(), Qt.MouseButton.LeftButton,
                     pos=styles.grid.visualItemRect(second).center())
    assert len(styles.chosen()) == 2 and styles.weights_area.geometry() == below
    qtbot.mouseClick(styles.grid.viewport(), Qt.MouseButton.LeftButton,
                     pos=styles.grid.visualItemRect(first).center())
    assert first.checkState() == Qt.CheckState.Unchecked and len(styles.chosen()) == 1


def test_a_red_style_is_not_tinted_when_selected(qtbot, tmp_path):
    red = tmp_path / "red.png"
    Image.new("RGB", (64, 64), RED).save(red)
    styles = StyleList()
    qtbot.addWidget(styles)
    styles.resize(320, 400)
    styles.show()
    qtbot.waitExposed(styles)
    item = styles.add_style(str(red))
    styles.grid.setCurrentItem(item)
    item.setSelected(True)
    qtbot.wait(20)
    image = styles.grid.viewport().grab().toImage()
    rect = styles.grid.visualItemRect(item)
    centre = image.pixelColor(rect.center().x(), rect.top() + 8 + 32)
    assert _close(centre, RED), centre.getRgb()
