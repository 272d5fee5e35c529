"""The X/Y/Z plot dialog: the axes it offers for the Generate panel's request, the plot it builds and
its size as you type, why it cannot start, what it remembers, and the Image menu's entry running the
plot through the window's runner into the gallery (each cell, then the grid)."""

from __future__ import annotations

from fake_engine import FakeEngine
from PySide6.QtWidgets import QApplication
from request_builder import gen_request, with_
from ui_helpers import studio_window

from t2i_studio.core.catalog import ModelInfo
from t2i_studio.core.requests import Adapter, ModelRef
from t2i_studio.core.settings import Settings
from t2i_studio.core.xyz import Plot
from t2i_studio.core.xyz_axes import Axis
from t2i_studio.ui.dialogs.xyz_dialog import XYZDialog

BASE = gen_request("a cat in a hat", model="/models/tiny.safetensors", steps=20, guidance=7.0, seed=42,
                   batch_count=3)
FAKE_MODEL = ModelInfo(id="fake/model", name="fake model", source="hub", family="sd", size_bytes=1)


def make(qtbot, base=BASE, submitted=None, **kwargs) -> XYZDialog:
    sink = submitted if submitted is not None else []
    dialog = XYZDialog(base, submit=lambda plot: sink.append(plot) or len(sink), **kwargs)
    qtbot.addWidget(dialog)
    return dialog


def choose(dialog: XYZDialog, row: int, key: str, values: str | None = None) -> None:
    dialog.kinds[row].setCurrentIndex(dialog.kinds[row].findData(key))
    if values is not None:
        dialog.values[row].setText(values)


def offered(dialog: XYZDialog) -> list[str]:
    return [dialog.kinds[0].itemText(i) for i in range(dialog.kinds[0].count())]


def test_two_axes_make_a_plot_of_the_panels_request_with_its_size_shown(qtbot):
    submitted: list[Plot] = []
    dialog = make(qtbot, submitted=submitted)
    assert not dialog.ok.isEnabled() and "Choose the setting to sweep along X" in dialog.warning.text()
    assert not dialog.kinds[1].isEnabled() and not dialog.kinds[2].isEnabled()  # Y after X, Z after Y
    choose(dialog, 0, "steps", "10, 20, 30")
    choose(dialog, 1, "cfg", "4-8 [3]")
    assert dialog.count.text() == "3 × 3 = 9 images and a grid"
    assert dialog.ok.isEnabled() and not dialog.warning.isVisibleTo(dialog)
    assert not dialog.z_layout.isEnabled()  # only a Z axis has grids to lay out
    dialog.ok.click()
    [plot] = submitted
    # one image per cell: the panel's batch count is not the plot's
    assert plot == Plot(with_(BASE, batch_count=1), (Axis("steps", (10, 20, 30)), Axis("cfg", (4.0, 6.0, 8.0))))


def test_a_wrong_value_says_why_and_the_plot_cannot_start(qtbot):
    dialog = make(qtbot)
    choose(dialog, 0, "steps", "10, ten")
    assert dialog.warning.text() == "Steps values must be whole numbers from 1 to 500: got 'ten'."
    assert not dialog.ok.isEnabled() and dialog.count.text() == ""
    choose(dialog, 0, "steps", "10")
    choose(dialog, 1, "steps", "20")
    assert "Steps is on two axes" in dialog.warning.text()


def test_the_engines_check_runs_before_submitting_and_keeps_the_dialog_open(qtbot):
    def refuse(plot):
        raise ValueError("The Local engine has no scheduler 'DDIM'.")

    submitted: list[Plot] = []
    dialog = make(qtbot, submitted=submitted, check=refuse)
    choose(dialog, 0, "scheduler", "DDIM")
    dialog.ok.click()
    assert submitted == [] and "no scheduler 'DDIM'" in dialog.warning.text()


def test_it_offers_what_the_request_can_sweep_and_fills_typical_values(qtbot):
    loras = ModelRef("m", adapters=(Adapter("/loras/ink.safetensors", weight=0.7), Adapter("ti", "embedding")))
    dialog = make(qtbot, base=BASE.replace(model=loras), scheduler_names=["Euler", "Euler a"])
    assert offered(dialog) == ["—", "Seed", "Steps", "CFG scale", "Scheduler", "LoRA weight: ink", "Prompt S/R"]
    assert "Denoising strength" in offered(make(qtbot, base=with_(BASE, init_image="init.png")))
    choose(dialog, 0, "scheduler")  # an empty row is filled when its setting is chosen
    assert dialog.values[0].text() == "Euler, Euler a"
    choose(dialog, 1, "steps")
    assert dialog.values[1].text() == "10, 20, 30"
    choose(dialog, 2, "lora1")
    assert dialog.values[2].text() == "0-1 [5]" and dialog.z_layout.isEnabled()
    assert dialog.count.text() == "2 × 3 × 5 = 30 images in 5 grids"
    dialog.values[2].setText("0.2")
    dialog.fills[2].click()  # Fill puts the typical values back
    assert dialog.values[2].text() == "0-1 [5]"
    choose(dialog, 0, "prompt_sr", "")
    assert "cat, dog, fox" in dialog.values[0].placeholderText()


def test_it_remembers_the_rows_for_next_time(qtbot):
    dialog = make(qtbot)
    choose(dialog, 0, "seed", "1, 2")
    choose(dialog, 1, "prompt_sr", 'cat, "dog, big"')
    choose(dialog, 2, "steps", "5")
    dialog.z_layout.setCurrentIndex(1)
    again = make(qtbot)
    again.load_state(dialog.state())
    assert again.plot() == dialog.plot() and again.plot().z_layout == "stacked"
    lost = make(qtbot)
    lost.load_state({"rows": [{"kind": "lora1", "values": "1"}]})  # this request has no LoRA
    assert lost.kinds[0].currentData() is None
    make(qtbot).load_state({"rows": "damaged"})  # a damaged settings file keeps the defaults


def _dialog() -> XYZDialog:
    return next(w for w in QApplication.topLevelWidgets() if isinstance(w, XYZDialog) and w.isVisible())


def test_the_image_menu_runs_a_plot_into_the_gallery(qtbot, tmp_path):
    engine = FakeEngine("generate", step_s=0.0)
    settings = Settings()
    with studio_window(qtbot, tmp_path / "proj", {"generate": lambda: engine}, models=[FAKE_MODEL],
                       settings=settings) as win:
        panel = win.prompt_panel
        panel.size.set_size(64, 64)
        panel.steps.setValue(2)
        panel.prompt.setPlainText("a red fox")
        win.actions_by_id["xyz_plot"].trigger()
        dialog = _dialog()
        choose(dialog, 0, "steps", "1, 2, 3")
        choose(dialog, 1, "cfg", "4, 6")
        with qtbot.waitSignal(win.runner.job_finished, timeout=10_000) as finished:
            dialog.ok.click()
        ids = finished.args[1]
        assert len(ids) == 7 and len(engine.runs) == 6
        assert [r.prompt for r in engine.runs] == ["a red fox"] * 6
        grid = win.project.get(ids[-1])
        assert grid.kind == "grid" and grid.params["lineage"]["cells"] == ids[:-1]
        qtbot.waitUntil(lambda: win.gallery.model.rowCount() == 7, timeout=5000)
        assert win.viewer.current_path == str(grid.path)  # the grid shows last
        assert settings.last_xyz["rows"][0] == {"kind": "steps", "values": "1, 2, 3"}
        kinds = win.gallery.kind
        kinds.setCurrentIndex(kinds.findData("grid"))
        qtbot.waitUntil(lambda: win.gallery.model.rowCount() == 1)
        win.actions_by_id["xyz_plot"].trigger()
        again = _dialog()
        assert again.values[1].text() == "4, 6"  # the last plot's axes are offered again
        again.reject()


def test_without_a_project_it_says_to_open_one(qtbot, tmp_path):
    with studio_window(qtbot, tmp_path / "proj", {"generate": FakeEngine}) as win:
        win.session.set_project(None)
        win.actions_by_id["xyz_plot"].trigger()
        assert "Open a project first" in win.message_bar.text.text()
