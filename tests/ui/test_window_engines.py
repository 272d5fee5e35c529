"""The window over the real engines with tiny models: generate, stylize, bad model, close."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from ui_helpers import model_info, studio_window

from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.requests import GenerationRequest
from t2i_studio.core.settings import Settings
from t2i_studio.engines.registry import local_registry


@pytest.fixture
def window(qtbot, tmp_path, tiny_sd_path):
    settings = Settings()
    with studio_window(qtbot, tmp_path / "proj", local_registry(),
                       models=[model_info(tiny_sd_path)], settings=settings) as win:
        win.style_panel.vgg_weights = "random"
        p = win.prompt_panel
        p.size.set_size(64, 64)
        p.steps.setValue(2)
        p.scheduler.setCurrentText("Euler")
        yield win


def test_ctrl_enter_makes_a_gallery_item_with_metadata(qtbot, window, tiny_sd_path):
    p = window.prompt_panel
    assert p.model_id() == str(tiny_sd_path)
    p.prompt.setFocus()
    qtbot.keyClicks(p.prompt, "a cat and the moon")
    with qtbot.waitSignal(window.runner.job_finished, timeout=120_000) as finished:
        qtbot.keyClick(p.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    (entry_id,) = finished.args[1]
    qtbot.waitUntil(lambda: window.gallery.model.rowCount() == 1, timeout=5000)
    entry = window.project.get(entry_id)
    assert Path(entry.path).is_file()
    meta = read_metadata(entry.path)
    assert meta.source == "t2i_studio"
    assert isinstance(meta.request, GenerationRequest)
    assert meta.request.prompt == "a cat and the moon" and meta.request.sampling.steps == 2
    assert f"seed {meta.seed}" in window.viewer.caption.text()  # the seed used is shown with the image
    assert p.seed.seed() is None and p.seed.edit.placeholderText() == "random"  # the next one is new
    assert "device" in window.device_label.text().lower() and "not loaded" not in window.device_label.text()


def test_stylize_a_gallery_item_gives_a_linked_result(qtbot, window):
    p = window.prompt_panel
    p.prompt.setPlainText("content image")
    with qtbot.waitSignal(window.runner.job_finished, timeout=120_000) as made:
        window.generate()
    source = made.args[1][0]
    window.gallery.stylize_requested.emit(source)
    panel = window.style_panel
    assert window.style_dock.isVisible()
    first_style = panel.styles.grid.item(0).data(Qt.ItemDataRole.UserRole)
    panel.styles.set_chosen([first_style])
    panel.size.setValue(48)
    panel.quality.setCurrentText("draft")
    panel.iterations.setValue(2)
    assert panel.stylize.isEnabled(), panel.error.text()
    with qtbot.waitSignal(window.runner.job_finished, timeout=120_000) as styled:
        panel.stylize.click()
    entry = window.project.get(styled.args[1][0])
    assert entry.kind == "stylize" and Path(entry.path).is_file()
    lineage = entry.params["lineage"]
    assert lineage["source_entry"] == source
    assert lineage["styles"][0]["sha256"]


def test_a_bad_model_folder_is_refused_with_the_error_and_the_app_keeps_working(qtbot, window, tmp_path):
    bad = tmp_path / "not-a-model"
    bad.mkdir()
    (bad / "readme.txt").write_text("nothing here")
    p = window.prompt_panel
    good_model = p.model_id()
    p.set_model(str(bad))
    p.prompt.setPlainText("will fail")
    window.generate()  # refused before it is submitted: said as you choose it, nothing loaded to find out
    assert "not a diffusers model folder" in p.error.text() and not p.generate.isEnabled()
    assert window.runner.jobs() == []
    assert p.prompt.toPlainText() == "will fail"  # inputs kept
    assert window.project.count() == 0
    p.set_model(good_model)
    with qtbot.waitSignal(window.runner.job_finished, timeout=120_000):
        window.generate()
    assert window.project.count() == 1


def test_close_during_a_real_job_exits_cleanly(qtbot, tmp_path, tiny_sd_path):
    settings = Settings()
    with studio_window(qtbot, tmp_path / "p", local_registry(),
                       models=[model_info(tiny_sd_path)], settings=settings) as win:
        p = win.prompt_panel
        p.size.set_size(64, 64)
        p.steps.setValue(200)
        p.prompt.setPlainText("long job")
        with qtbot.waitSignal(win.runner.progress, timeout=120_000):
            win.generate()
        win.close()
        assert not win.isVisible() and not win.runner._thread.isRunning()
        assert win.project is None
    from t2i_studio.core.project import Project

    with Project.open(tmp_path / "p") as again:
        assert again.count() == 0


def test_what_submission_checks_shows_as_you_type(qtbot, window, tmp_path):
    p = window.prompt_panel
    p.prompt.setPlainText("a cat")
    good = p.model_id()
    p.set_model(str(tmp_path / "gone.safetensors"))
    assert not p.generate.isEnabled() and "Model not found" in p.error.text()  # nothing submitted
    p.set_model(good)
    p.init_image.set_path(str(tmp_path / "missing.png"))
    assert not p.generate.isEnabled() and "Init image not found" in p.error.text()
    p.init_image.set_path("")
    assert p.generate.isEnabled() and not p.error.isVisible()


def test_typing_the_prompt_does_not_rerun_the_file_checks(qtbot, window, monkeypatch):
    from t2i_studio.engines import registry

    p = window.prompt_panel
    calls = []
    real = registry.model_facts
    monkeypatch.setattr(registry, "model_facts", lambda request: calls.append(1) or real(request))
    p.prompt.setPlainText("a")
    calls.clear()
    p.steps.setValue(p.steps.value() + 1)  # a setting: the model's files are read again
    assert len(calls) == 1
    qtbot.keyClicks(p.prompt, "a quiet harbour")  # fifteen keystrokes: nothing re-read
    assert len(calls) == 1 and p.generate.isEnabled()
