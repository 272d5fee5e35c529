"""Inpainting in the window: the gallery's Inpaint action puts the image under the viewer's mask
tools with the panel inpainting, a painted mask goes into the project with the job, and the panel
keeps its width with the new sections open."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_engine import FakeEngine
from gallery_helpers import add_generated
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QScrollArea
from ui_helpers import studio_window

from t2i_studio.core import schedulers
from t2i_studio.core.catalog import ModelInfo
from t2i_studio.core.engine_registry import EngineEntry, EngineRegistry
from t2i_studio.core.requests import DEFAULT_ENGINE, MODES

MODEL = ModelInfo(id="fake/model", name="fake model", source="hub", family="sd", size_bytes=1)


@pytest.fixture
def engine():
    return FakeEngine("generate", step_s=0.002)


@pytest.fixture
def window(qtbot, tmp_path, engine):
    registry = EngineRegistry([EngineEntry(DEFAULT_ENGINE, "test editing", "generate", MODES, lambda: engine,
                                           schedulers=schedulers.NAMES)])
    with studio_window(qtbot, tmp_path / "proj", registry, models=[MODEL]) as win:
        yield win


def _settle(qtbot) -> None:
    for _ in range(5):
        QApplication.processEvents()
        qtbot.wait(10)


def test_the_gallerys_inpaint_action_paints_and_generates(qtbot, window, engine):
    entry = add_generated(window.project, "a red barn", size=64)
    window.gallery.refresh()
    window.gallery.select_ids([entry.id], current_id=entry.id)
    window.gallery.item_actions.actions["inpaint"].trigger()
    panel, tools = window.prompt_panel, window.viewer.mask_tools
    assert window.viewer.current_path == str(entry.path) and tools.target == str(entry.path)
    assert tools.active and panel.edit.edit_mode() == "inpaint" and tools.tool_bar.isVisible()
    _settle(qtbot)
    view = window.viewer.view
    point = view.mapFromScene(QPointF(32, 32))
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    panel.size.set_size(64, 64)
    panel.steps.setValue(2)
    panel.prompt.setPlainText("a blue barn")
    assert panel.generate.isEnabled(), panel.footer.error.text()
    with qtbot.waitSignal(window.runner.job_finished, timeout=10_000) as finished:
        panel.generate.click()
    request = engine.runs[0]
    assert request.mode == "inpaint" and request.images.init_image == str(entry.path)
    assert Path(request.images.mask).parent == window.project.folder / "inputs"
    result = window.project.get(finished.args[1][0])
    qtbot.waitUntil(lambda: window.viewer.current_path == str(result.path), timeout=5000)
    assert tools.target == str(result.path) and not tools.canvas.is_empty()  # inpaint it again, same mask


def test_the_panel_keeps_its_width_with_the_sections_open(qtbot, window):
    entry = add_generated(window.project, "a red barn", size=64)
    _settle(qtbot)
    area = next(w for w in window.generate_dock.findChildren(QScrollArea))
    widths = (window.generate_dock.width(), window.viewer.width())
    window.entries.inpaint_entry(entry.id)
    panel = window.prompt_panel
    panel.edit.area.setCurrentIndex(panel.edit.area.findData("masked"))
    panel.edit.picture.setText("a-very-long-file-name-" * 10 + ".png: 64×64")
    panel.hires.set_upscalers(["4x-a-remarkably-long-upscaler-model-name-that-goes-on-and-on"])
    panel.hires.on.setChecked(True)
    _settle(qtbot)
    assert (window.generate_dock.width(), window.viewer.width()) == widths
    assert not area.horizontalScrollBar().isVisible() and panel.width() <= area.viewport().width()
    panel.edit.set_edit_mode("outpaint")
    _settle(qtbot)
    assert (window.generate_dock.width(), window.viewer.width()) == widths
