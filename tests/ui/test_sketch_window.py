"""The sketch pad in the window: a tab beside the picture whose drawing, chosen as a control input's
picture, reaches the job as a project file with the drawn pixels; a started job shows the picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fake_engine import FakeEngine
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from ui_helpers import studio_window

from t2i_studio.core import schedulers
from t2i_studio.core.catalog import ModelInfo
from t2i_studio.core.engine_registry import EngineEntry, EngineRegistry
from t2i_studio.core.requests import DEFAULT_ENGINE, MODES
from t2i_studio.ui import control_row

MODEL = ModelInfo(id="fake/model", name="fake model", source="hub", family="sd", size_bytes=1)
SCRIBBLE = ModelInfo(id="/nets/scribble", name="scribble", source="folder", family="sd", size_bytes=1,
                     kind="controlnet")


@pytest.fixture
def engine():
    return FakeEngine("generate", step_s=0.002)


@pytest.fixture
def window(qtbot, tmp_path, engine):
    registry = EngineRegistry([EngineEntry(DEFAULT_ENGINE, "test sketching", "generate", MODES, lambda: engine,
                                           schedulers=schedulers.NAMES, controls=True)])
    with studio_window(qtbot, tmp_path / "proj", registry, models=[MODEL, SCRIBBLE]) as win:
        yield win


def _draw(canvas, points) -> None:
    at = [canvas.from_canvas(QPointF(*p)).toPoint() for p in points]
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at[0])
    for point in at[1:]:
        QTest.mouseMove(canvas, point)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at[-1])


def test_a_sketch_on_the_pad_is_the_scribble_control_of_the_job(qtbot, window, engine):
    panel, pad, tabs = window.prompt_panel, window.sketch_pad, window.centre_tabs
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Picture", "Sketch"]
    panel.size.set_size(64, 64)
    assert (pad.canvas_size().width(), pad.canvas_size().height()) == (64, 64)  # it follows the size
    tabs.setCurrentWidget(pad)
    qtbot.waitExposed(pad)
    _draw(pad.canvas, [(8, 32), (56, 32)])
    row = panel.control.add_row()
    row.source.setCurrentIndex(row.source.findData(control_row.SKETCH))
    assert row.preprocessor.currentData() == "scribble" and row.model.currentData() == SCRIBBLE.id
    panel.prompt.setPlainText("a long low house")
    panel.steps.setValue(2)
    assert panel.generate.isEnabled(), panel.footer.error.text()
    with qtbot.waitSignal(window.runner.job_finished, timeout=10_000):
        panel.generate.click()
    [control] = engine.runs[0].images.controls
    assert Path(control.image).parent == window.project.folder / "inputs"  # kept, named by its pixels
    sent = np.asarray(Image.open(control.image).convert("L"))
    assert sent.shape == (64, 64) and sent[32, 10:54].min() == 255 and sent[5].max() == 0  # the stroke
    assert np.array_equal(sent, np.asarray(pad.canvas.scribble().convert("L")))
    assert tabs.currentWidget() is window.viewer  # the job's progress and result are shown
