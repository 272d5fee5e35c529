"""The window over a scripted fake engine: the worker protocol end to end, without torch."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_engine import FakeEngine
from PySide6.QtCore import Qt
from request_builder import gen_request
from ui_helpers import studio_window

from t2i_studio.core.catalog import ModelInfo

FAKE_MODEL = ModelInfo(id="fake/model", name="fake model", source="hub", family="sd", size_bytes=1)


@pytest.fixture
def engines():
    return {"generate": FakeEngine("generate", step_s=0.01), "stylize": FakeEngine("stylize", steps=3)}


@pytest.fixture
def window(qtbot, tmp_path, engines):
    factories = {k: (lambda e=e: e) for k, e in engines.items()}
    with studio_window(qtbot, tmp_path / "proj", factories, models=[FAKE_MODEL]) as win:
        yield win


def type_prompt(qtbot, window, text: str) -> None:
    window.prompt_panel.prompt.setFocus()
    window.prompt_panel.prompt.setPlainText("")
    qtbot.keyClicks(window.prompt_panel.prompt, text)


def small(window, steps=2) -> None:
    p = window.prompt_panel
    p.size.set_size(64, 64)
    p.steps.setValue(steps)


def gallery_count(window) -> int:
    return window.gallery.model.rowCount()


def test_ctrl_enter_generates_into_the_gallery(qtbot, window, engines):
    small(window)
    type_prompt(qtbot, window, "a red fox")
    assert window.prompt_panel.generate.isEnabled()
    with qtbot.waitSignal(window.runner.job_finished, timeout=10_000) as finished:
        qtbot.keyClick(window.prompt_panel.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    ids = finished.args[1]
    assert len(ids) == 1
    qtbot.waitUntil(lambda: gallery_count(window) == 1, timeout=5000)
    entry = window.project.get(ids[0])
    assert entry.prompt == "a red fox" and Path(entry.path).is_file()
    assert window.viewer.current_path == str(entry.path)
    assert window.prompt_panel.prompt.toPlainText() == "a red fox"  # inputs kept
    assert engines["generate"].runs[0].model.id == "fake/model"


def test_the_seed_is_random_unless_locked(qtbot, window, engines):
    small(window)
    type_prompt(qtbot, window, "seeds")
    p = window.prompt_panel
    for _ in range(2):
        with qtbot.waitSignal(window.runner.job_finished, timeout=10_000):
            window.generate()
    seeds = [r.sampling.seed for r in engines["generate"].runs]
    assert seeds[0] != seeds[1]
    # unlocked, the field says "random" rather than the last seed: the next job gets a new one
    assert p.seed.seed() is None and p.seed.edit.placeholderText() == "random"
    assert f"seed {seeds[1]}" in window.viewer.caption.text()  # the seed used shows with its image
    qtbot.keyClicks(p.seed.edit, "1234")  # typing a seed locks it
    assert p.seed.locked
    with qtbot.waitSignal(window.runner.job_finished, timeout=10_000):
        window.generate()
    assert engines["generate"].runs[-1].sampling.seed == 1234


def test_three_submissions_queue_and_finish_in_order(qtbot, window, engines):
    small(window, steps=5)
    done = []
    window.runner.job_finished.connect(lambda job, ids: done.append(job))
    jobs = []
    for i in range(3):
        type_prompt(qtbot, window, f"picture {i}")
        jobs.append(window.jobs.submit(window.prompt_panel.request()))
    assert len(window.jobs_view.list.findItems("waiting", Qt.MatchFlag.MatchContains)) >= 1
    qtbot.waitUntil(lambda: len(done) == 3, timeout=15_000)
    assert done == jobs
    assert [r.prompt for r in engines["generate"].runs] == ["picture 0", "picture 1", "picture 2"]
    qtbot.waitUntil(lambda: gallery_count(window) == 3, timeout=5000)
    assert window.jobs_view.list.count() == 0


def test_escape_cancels_and_the_next_job_works(qtbot, window, engines):
    small(window)
    engine = engines["generate"]
    type_prompt(qtbot, window, "block this one")
    with qtbot.waitSignal(window.runner.job_started, timeout=5000):
        window.generate()
    assert engine.started.wait(5)
    qtbot.waitUntil(window.prompt_panel.cancel.isEnabled, timeout=3000)
    with qtbot.waitSignal(window.runner.job_cancelled, timeout=5000):
        qtbot.keyClick(window.prompt_panel.prompt, Qt.Key.Key_Escape)
    assert window.project.count() == 0
    type_prompt(qtbot, window, "this one works")
    with qtbot.waitSignal(window.runner.job_finished, timeout=10_000):
        window.generate()
    assert window.project.count() == 1


def test_errors_are_shown_and_the_app_keeps_working(qtbot, window):
    small(window)
    type_prompt(qtbot, window, "fail now")
    with qtbot.waitSignal(window.runner.job_failed, timeout=5000):
        window.generate()
    bar = window.message_bar
    assert bar.isVisible() and bar.kind == "error"
    assert "not a diffusers pipeline" in bar.text.text() and "model_index.json" in bar.text.text()
    assert bar.details.toPlainText() == "scripted"
    assert window.prompt_panel.prompt.toPlainText() == "fail now"
    type_prompt(qtbot, window, "fine now")
    with qtbot.waitSignal(window.runner.job_finished, timeout=10_000):
        window.generate()


def test_validation_as_you_type(qtbot, window):
    p = window.prompt_panel
    p.prompt.setPlainText("")
    assert not p.generate.isEnabled() and "prompt is empty" in p.error.text()
    type_prompt(qtbot, window, "ok")
    assert p.generate.isEnabled() and not p.error.isVisible()
    p.size.width_spin.setValue(100)
    assert not p.generate.isEnabled() and "multiple of 8" in p.error.text()
    p.size.width_spin.editingFinished.emit()
    assert p.size.size()[0] == 104 and p.generate.isEnabled()
    p.variation_strength.setValue(0.5)
    assert "variation seed" in p.error.text().lower()
    p.variation_seed.set_seed(7)
    assert p.generate.isEnabled()


def test_size_presets(qtbot, window):
    p = window.prompt_panel.size
    p.set_size(512, 512)
    assert p.aspect.currentText().startswith("1:1")
    p.aspect.setCurrentIndex([p.aspect.itemText(i) for i in range(p.aspect.count())].index("16:9 wide"))
    assert p.size() == (512, 288)
    p.set_size(520, 96)
    assert p.aspect.currentText() == "Custom"


def test_reuse_settings_round_trips_every_field(qtbot, window):
    request = gen_request(
        prompt="a lighthouse\nat dusk", negative_prompt="blurry", model="some/other-model",
        revision="abc123", config="/cfg", seed=4_000_000_000, steps=7, guidance=5.5,
        width=640, height=384, scheduler="DPM++ 2M Karras", batch_size=2, batch_count=3,
        variation_seed=99, variation_strength=0.25, init_image="/tmp/init.png", strength=0.6,
        device="cpu", dtype="fp32", cpu_offload=True, vae_tiling=True, attention_slicing=True,
        allow_unsafe_checkpoint=True,
    )
    window.prompt_panel.set_request(request)
    assert window.prompt_panel.request() == request
    assert window.prompt_panel.seed.locked
    # ... and through the saved state (the settings file)
    state = window.prompt_panel.state()
    window.prompt_panel.set_request(gen_request(prompt="x", model="fake/model"))
    window.prompt_panel.load_state(state)
    assert window.prompt_panel.request() == request


def test_reuse_from_a_gallery_entry(qtbot, window, engines):
    small(window, steps=3)
    type_prompt(qtbot, window, "reuse me")
    window.prompt_panel.guidance.setValue(3.25)
    with qtbot.waitSignal(window.runner.job_finished, timeout=10_000) as finished:
        window.generate()
    made = engines["generate"].runs[-1]
    entry_id = finished.args[1][0]
    window.prompt_panel.set_request(gen_request(prompt="other", model="fake/model"))
    window.entries.reuse_settings(entry_id)
    assert window.prompt_panel.request() == made
    window.prompt_panel.seed.set_locked(False)
    window.entries.reuse_seed(entry_id)
    assert window.prompt_panel.seed.locked and window.prompt_panel.seed.seed() == made.sampling.seed
    window.entries.use_as_init(entry_id)
    assert window.prompt_panel.init_image.path == str(window.project.get(entry_id).path)


def test_batches_save_each_and_can_stop_after_the_current_image(qtbot, window, engines):
    small(window, steps=2)
    engine = engines["generate"]
    window.prompt_panel.batch_count.setValue(3)
    type_prompt(qtbot, window, "block batch")
    with qtbot.waitSignal(window.runner.job_started, timeout=5000):
        window.generate()
    assert engine.started.wait(5)
    window.jobs_view.refresh()
    window.jobs_view.list.setCurrentRow(0)
    assert window.jobs_view.after_button.isEnabled()
    window.jobs_view.after_button.click()
    engine.gate.set()
    with qtbot.waitSignal(window.runner.job_finished, timeout=10_000) as finished:
        pass
    assert len(finished.args[1]) == 1 and window.project.count() == 1


def test_stylize_a_gallery_item_links_the_result(qtbot, window, engines):
    small(window)
    type_prompt(qtbot, window, "content")
    with qtbot.waitSignal(window.runner.job_finished, timeout=10_000) as finished:
        window.generate()
    source = finished.args[1][0]
    window.gallery.stylize_requested.emit(source)
    panel = window.style_panel
    assert panel.content_entry_id == source
    panel.styles.set_chosen([panel.styles.checked_paths()[0]] if panel.styles.checked_paths()
                            else [panel.styles.grid.item(0).data(Qt.ItemDataRole.UserRole)])
    panel.size.setValue(64)
    assert panel.stylize.isEnabled(), panel.error.text()
    with qtbot.waitSignal(window.runner.job_finished, timeout=10_000) as styled:
        panel.stylize.click()
    request = engines["stylize"].runs[-1]
    assert request.content_entry_id == source
    entry = window.project.get(styled.args[1][0])
    assert entry.kind == "stylize"


def test_close_during_a_job_asks_cancels_and_exits_cleanly(qtbot, tmp_path, engines):
    factories = {k: (lambda e=e: e) for k, e in engines.items()}
    asked = []
    with studio_window(qtbot, tmp_path / "p2", factories, models=[FAKE_MODEL]) as win:
        small(win)
        type_prompt(qtbot, win, "block forever")
        win.generate()
        assert engines["generate"].started.wait(5)
        win.confirm = lambda *a: asked.append(a) or False
        win.close()
        assert win.isVisible() and win.runner.busy  # "no" keeps the window and the job
        win.confirm = lambda *a: asked.append(a) or True
        waited_visible = []
        stop = win.runner.shutdown
        win.runner.shutdown = lambda *a, **k: (waited_visible.append(win.isVisible()), stop(*a, **k))[1]
        win.close()
        assert waited_visible == [False]  # the window is gone before the app waits for the worker
        assert not win.isVisible()
        assert not win.runner._thread.isRunning()
        assert len(asked) == 2
        project_folder = tmp_path / "p2"
    from t2i_studio.core.project import Project

    with Project.open(project_folder) as again:  # the lock was released
        assert again.count() == 0


def test_dropped_a1111_image_offers_its_settings(qtbot, window, tmp_path):
    from gallery_helpers import a1111_png

    source = a1111_png(tmp_path / "from-a1111.png", prompt="a lighthouse on a cliff", seed=4321)
    window.gallery.import_files([str(source)])  # what a drop onto the gallery calls
    bar = window.message_bar
    qtbot.waitUntil(bar.action_button.isVisible, timeout=5000)  # the import runs in the background
    assert bar.action_button.text() == "Reuse settings"
    bar.action_button.click()
    p = window.prompt_panel
    assert p.prompt.toPlainText() == "a lighthouse on a cliff"
    assert p.negative.toPlainText() == "fog"
    assert p.seed.seed() == 4321
    assert p.steps.value() == 20
    assert p.scheduler.currentText() == "Euler a"
