"""Viewer zoom and progress, the jobs view, the style panel's content and weights."""

from __future__ import annotations

from fake_engine import FakeEngine, FakeProject, registry_of
from PIL import Image
from PySide6.QtCore import Qt
from request_builder import gen_request, with_

from t2i_studio.core.requests import StyleRequest
from t2i_studio.ui.jobs_view import JobsView
from t2i_studio.ui.style_panel import StylePanel
from t2i_studio.ui.viewer import Viewer, format_seconds
from t2i_studio.worker.runner import JobRunner


def test_viewer_fit_actual_and_wheel_zoom(qtbot, tmp_path):
    path = tmp_path / "img.png"
    Image.new("RGB", (800, 400), (10, 200, 30)).save(path)
    viewer = Viewer()
    qtbot.addWidget(viewer)
    viewer.resize(400, 300)
    viewer.show()
    assert viewer.show_file(str(path), "caption")
    assert viewer.view.zoom() < 1.0 and viewer.view.fit_mode
    viewer.actual_button.click()
    assert viewer.view.zoom() == 1.0 and viewer.zoom_label.text() == "100%"
    viewer.view.zoom_by(1.25)
    assert abs(viewer.view.zoom() - 1.25) < 1e-6
    viewer.fit_button.click()
    assert viewer.view.fit_mode
    assert not viewer.show_file(str(tmp_path / "missing.png"))


def test_viewer_progress_text(qtbot):
    viewer = Viewer()
    qtbot.addWidget(viewer)
    viewer.job_started("x")
    viewer.job_progress(5, 20)
    assert viewer.progress.format().startswith("Step 5/20") and "left" in viewer.progress.format()
    viewer.job_ended()
    assert viewer.progress.isHidden()
    assert format_seconds(75) == "1:15" and format_seconds(3725) == "1:02:05"


def test_jobs_view_cancel_and_remove(qtbot):
    engine = FakeEngine()
    runner = JobRunner(registry_of({"generate": lambda: engine}), FakeProject())
    view = JobsView(runner)
    qtbot.addWidget(view)
    try:
        req = gen_request(prompt="block", model="m", width=64, height=64, steps=2)
        running = runner.submit(req)
        waiting = runner.submit(with_(req, prompt="second"))
        assert engine.started.wait(5)
        qtbot.waitUntil(lambda: "▶ running" in view.list.item(0).text(), timeout=3000)
        runner.progress.emit(running, 3, 4, None)  # as the worker reports a step
        assert "▶ running, 75%" in view.list.item(0).text()  # each job shows its own progress
        assert view.list.count() == 2
        assert view.list.item(1).text() == "✦ second\nwaiting · 64×64 · seed 0 · m"
        view.list.setCurrentRow(1)
        assert view.remove_button.isEnabled()
        with qtbot.waitSignal(runner.job_cancelled):
            view.remove_button.click()
        assert view.list.count() == 1
        view.list.setCurrentRow(0)
        assert not view.remove_button.isEnabled() and view.cancel_button.isEnabled()
        with qtbot.waitSignal(runner.job_cancelled, timeout=5000):
            view.cancel_button.click()
        qtbot.waitUntil(lambda: view.list.count() == 0, timeout=3000)
        assert waiting != running
    finally:
        assert runner.shutdown()


def test_style_panel_follows_the_gallery_until_a_file_is_chosen(qtbot, tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    for p in (a, b):
        Image.new("RGB", (32, 32)).save(p)
    panel = StylePanel(vgg_weights="random")
    qtbot.addWidget(panel)
    assert not panel.stylize.isEnabled() and "gallery" in panel.error.text()
    panel.set_gallery_content(3, str(a))
    assert panel.content_entry_id == 3 and panel.content.path == str(a)
    panel.set_content_file(str(b))
    panel.set_gallery_content(4, str(a))
    assert panel.content_entry_id is None and panel.content.path == str(b)
    panel.use_gallery.click()
    assert panel.content_entry_id == 4
    assert "style" in panel.error.text().lower()
    styles = [panel.styles.grid.item(i).data(Qt.ItemDataRole.UserRole) for i in range(2)]
    panel.styles.set_chosen(styles, [0.3, 0.7])
    assert panel.styles.weights_box.isVisibleTo(panel)
    request = panel.submit()
    assert request is not None and request.style_weights == (0.3, 0.7) and request.vgg_weights == "random"


def test_style_panel_reuse_round_trip(qtbot, tmp_path):
    own = tmp_path / "own-style.png"
    Image.new("RGB", (32, 32), (1, 2, 3)).save(own)
    panel = StylePanel(vgg_weights="random")
    qtbot.addWidget(panel)
    request = StyleRequest(content=str(tmp_path / "c.png"), styles=(str(own),), style_strength=0.9,
                           content_fidelity=0.2, smoothness=0.3, preserve_colors=True, style_scale=2.5,
                           size=256, quality="high", iterations=40, vgg_weights="random",
                           content_entry_id=12)
    panel.set_request(request)
    assert panel.request() == request
    assert str(own) in panel.styles.user_styles()
    state = panel.state()
    other = StylePanel()
    qtbot.addWidget(other)
    other.load_state(state)
    assert other.request().style_scale == 2.5 and other.styles.checked_paths() == [str(own)]


def test_style_weights_are_chosen_in_the_panel_and_remembered(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    panel = StylePanel()
    qtbot.addWidget(panel)
    assert panel.request().vgg_weights == "imagenet"
    panel.weights.setCurrentIndex(panel.weights.findData("random"))
    assert panel.request().vgg_weights == "random" and "offline" in panel.weights.currentText()
    own = tmp_path / "vgg19-dcbb9e9d.pth"
    own.write_bytes(b"weights")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(own), ""))
    pick = panel.weights.findData("\0pick")
    panel.weights.setCurrentIndex(pick)
    panel.weights.activated.emit(pick)
    assert panel.request().vgg_weights == str(own) and panel.weights.currentText() == own.name
    again = StylePanel()
    qtbot.addWidget(again)
    again.load_state(panel.state())
    assert again.request().vgg_weights == str(own)
