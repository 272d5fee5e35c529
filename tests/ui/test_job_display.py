"""What the window shows about jobs: loading as its own phase, no stale preview or caption, and
error banners that go once a later job succeeds."""

from __future__ import annotations

from fake_engine import FakeEngine
from PIL import Image
from PySide6.QtGui import QColor, QImage
from ui_helpers import studio_window

from t2i_studio.core.catalog import ModelInfo
from t2i_studio.ui.viewer import Viewer

MODEL = ModelInfo(id="fake/model", name="fake model", source="hub", family="sd", size_bytes=1)


def test_loading_the_model_is_a_phase_of_its_own(qtbot):
    viewer = Viewer()
    qtbot.addWidget(viewer)
    viewer.job_started("a cat")
    viewer.job_message("Loading tiny-sd")
    viewer.job_progress(0, 8)  # the engine's "step 0" while it loads
    assert viewer.progress.maximum() == 0 and viewer.progress.format() == "Loading tiny-sd"
    viewer.job_progress(1, 8)
    assert viewer.progress.maximum() == 8 and viewer.progress.format().startswith("Step 1/8")


def test_a_cancelled_jobs_preview_does_not_stay(qtbot, tmp_path):
    red = tmp_path / "red.png"
    Image.new("RGB", (32, 32), (230, 20, 20)).save(red)
    viewer = Viewer()
    qtbot.addWidget(viewer)
    viewer.show_file(str(red), "#1 · the red one")
    viewer.job_started("a cat")
    assert viewer.caption.text() == "Making: a cat"  # not the previous image's info
    noise = QImage(32, 32, QImage.Format.Format_RGB32)
    noise.fill(QColor(20, 200, 20))
    viewer.show_preview(noise)
    viewer.job_ended(cancelled=True)
    assert viewer.current_path == str(red) and viewer.caption.text() == "#1 · the red one"
    shown = viewer.view.grab().toImage()
    centre = shown.pixelColor(shown.width() // 2, shown.height() // 2)
    assert centre.red() > 200 and centre.green() < 60


def test_an_error_banner_goes_when_a_later_job_succeeds(qtbot, tmp_path):
    engines = {"generate": FakeEngine(step_s=0.001)}
    with studio_window(qtbot, tmp_path / "p", {k: (lambda e=e: e) for k, e in engines.items()},
                       models=[MODEL]) as win:
        panel, bar = win.prompt_panel, win.message_bar
        panel.size.set_size(64, 64)
        panel.steps.setValue(2)
        panel.prompt.setPlainText("this will fail")
        with qtbot.waitSignal(win.runner.job_failed, timeout=10_000):
            win.generate()
        assert bar.isVisible() and bar.kind == "error" and "not a diffusers pipeline" in bar.text.text()
        panel.prompt.setPlainText("a cat")
        with qtbot.waitSignal(win.runner.job_finished, timeout=10_000):
            win.generate()
        assert not bar.isVisible()


def test_before_and_after_shows_the_source_left_of_the_split(qtbot, tmp_path):
    source, result = tmp_path / "source.png", tmp_path / "result.png"
    Image.new("RGB", (40, 40), (230, 20, 20)).save(source)
    Image.new("RGB", (40, 40), (20, 20, 230)).save(result)
    viewer = Viewer()
    qtbot.addWidget(viewer)
    viewer.resize(400, 400)
    viewer.show()
    viewer.show_file(str(result))
    assert not viewer.compare_button.isVisible()
    viewer.set_source(str(source))
    assert viewer.compare_button.isVisible()
    viewer.compare_button.setChecked(True)
    viewer.split_slider.setValue(50)
    shot = viewer.view.viewport().grab().toImage()
    y = shot.height() // 2
    left, right = shot.pixelColor(shot.width() // 2 - 40, y), shot.pixelColor(shot.width() // 2 + 40, y)
    assert left.red() > 200 and right.blue() > 200  # source on the left, result on the right
    viewer.show_file(str(result))  # another image: no stale source
    assert not viewer.compare_button.isVisible() and not viewer.compare_button.isChecked()
