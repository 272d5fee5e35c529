"""The upscale dialog: the request it builds (by factor, for a paper, for a custom size, SD upscale),
the size it previews, the too-large warning, the choices it remembers, and opening it from the
gallery and the Image menu so the job runs through the window's runner into the gallery."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_engine import FakeEngine
from gallery_helpers import add_generated
from PIL import Image
from PySide6.QtWidgets import QApplication
from request_builder import gen_request
from ui_helpers import studio_window

from t2i_studio.core.engine import Result
from t2i_studio.core.requests import LANCZOS, GenerationRequest, RunOptions, Upscale, UpscaleRequest
from t2i_studio.core.settings import Settings
from t2i_studio.ui import window_entries
from t2i_studio.ui.dialogs.upscale_dialog import UpscaleDialog, UpscaleSource
from t2i_studio.worker.jobs import Job

GB = 1024**3
MODELS = [("tiny sd", "/models/tiny-sd", "diffusers")]


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    """A home of this test's own: its upscaler library and settings start empty."""
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def picture(tmp_path: Path, size=(640, 480), name="photo.png") -> str:
    path = tmp_path / name
    Image.new("RGB", size, (90, 120, 200)).save(path)
    return str(path)


def make(qtbot, path: str, size=(640, 480), submitted=None, **kwargs) -> UpscaleDialog:
    sink = submitted if submitted is not None else []
    dialog = UpscaleDialog(UpscaleSource(path, size, kwargs.pop("entry_id", None), kwargs.pop("own", None)),
                           submit=lambda request: sink.append(request) or len(sink),
                           memory_bytes=kwargs.pop("memory_bytes", 64 * GB), **kwargs)
    qtbot.addWidget(dialog)
    return dialog


def for_paper(dialog: UpscaleDialog, paper: str) -> None:
    dialog.size_picker.for_print.setChecked(True)
    dialog.size_picker.paper.setCurrentIndex(dialog.size_picker.paper.findData(paper))


def test_by_factor_builds_an_upscale_request_and_previews_its_size(qtbot, tmp_path):
    dialog = make(qtbot, picture(tmp_path), entry_id=7, run=RunOptions(device="cpu"))
    dialog.size_picker.factor.setValue(3)
    request = dialog.request()
    assert request == UpscaleRequest(str(tmp_path / "photo.png"), Upscale(scale=3.0, upscaler=LANCZOS, dpi=300),
                                     source_entry_id=7, run=RunOptions(device="cpu"))
    assert dialog.result_text.text() == "1,920 × 1,440 px (2.8 megapixels)"
    assert dialog.print_text.text() == "Prints at 16.3 × 12.2 cm at 300 dpi"
    assert dialog.memory_text.text().startswith("Needs about ") and "64.0 GB free" in dialog.memory_text.text()
    assert "640 × 480 px · prints at 5.4 × 4.1 cm at 300 dpi" in dialog.source_text.text()
    assert dialog.ok.isEnabled() and not dialog.warning.isVisibleTo(dialog)
    assert not dialog.tile.isEnabled()  # Lanczos does not tile


def test_a4_at_300_dpi_fits_the_paper_turned_to_the_picture(qtbot, tmp_path):
    landscape = make(qtbot, picture(tmp_path))
    for_paper(landscape, "A4")
    upscale = landscape.request().upscale
    assert (upscale.width, upscale.height, upscale.dpi) == (3307, 2480, 300)  # A4 is 3508 × 2480 at 300 dpi
    assert upscale.scale == 5.17
    assert landscape.result_text.text().startswith("3,307 × 2,480 px")
    assert landscape.print_text.text() == "Prints at 280 × 210 mm at 300 dpi"
    portrait = make(qtbot, picture(tmp_path, (480, 640), "tall.png"), size=(480, 640))
    for_paper(portrait, "A4")
    assert (portrait.request().upscale.width, portrait.request().upscale.height) == (2480, 3307)


def test_a_custom_size_in_cm_at_another_dpi(qtbot, tmp_path):
    dialog = make(qtbot, picture(tmp_path))
    picker = dialog.size_picker
    for_paper(dialog, "custom")
    assert picker.custom.isVisibleTo(picker) and not picker.factor.isEnabled()
    picker.custom_width.setValue(20)
    picker.custom_height.setValue(30)
    picker.unit.setCurrentText("cm")
    picker.dpi.setValue(150)
    upscale = dialog.request().upscale
    assert (upscale.width, upscale.height, upscale.dpi) == (1575, 1181, 150)  # 30 × 20 cm across: height fills
    assert dialog.print_text.text() == "Prints at 26.7 × 20.0 cm at 150 dpi"
    for_paper(dialog, "Letter")
    assert not picker.custom.isVisibleTo(picker) and dialog.print_text.text().endswith(" in at 150 dpi")


def test_too_large_or_too_small_cannot_start(qtbot, tmp_path):
    dialog = make(qtbot, picture(tmp_path), memory_bytes=50 * 1024**2)
    dialog.size_picker.factor.setValue(8)
    assert not dialog.ok.isEnabled() and dialog.warning.isVisibleTo(dialog)
    assert dialog.warning.text().startswith("Too large for this computer: it needs about ")
    assert "more than the 50.0 MB free" in dialog.warning.text()
    dialog.size_picker.factor.setValue(2)
    assert dialog.ok.isEnabled() and not dialog.warning.isVisibleTo(dialog)
    for_paper(dialog, "A3")
    dialog.size_picker.dpi.setValue(4800)  # over the largest side an upscale may have
    assert not dialog.ok.isEnabled() and dialog.warning.text().startswith("Too large: an upscale makes at most "
                                                                          "16,384 pixels a side.")
    dialog.size_picker.dpi.setValue(10)  # A5 at 10 dpi is smaller than the picture
    for_paper(dialog, "A5")
    assert not dialog.ok.isEnabled() and dialog.warning.text().startswith("The picture is already larger")
    dialog.size_picker.by_factor.setChecked(True)
    dialog.size_picker.factor.setValue(1)
    assert not dialog.ok.isEnabled() and "own size" in dialog.warning.text()


def test_sd_upscale_starts_from_the_pictures_own_prompt_model_and_seed(qtbot, tmp_path):
    own = gen_request(prompt="a lighthouse at dawn", negative_prompt="fog", model="/models/tiny-sd", seed=42,
                      guidance=5.5)
    dialog = make(qtbot, picture(tmp_path), own=own, models=MODELS)
    assert dialog.prompt.toPlainText() == "a lighthouse at dawn"
    dialog.sd.setChecked(True)
    dialog.strength.setValue(0.25)
    dialog.steps.setValue(12)
    dialog.sd_tile.setValue(448)
    request = dialog.request()
    assert isinstance(request, GenerationRequest) and request.mode == "sd_upscale"
    assert (request.prompt, request.negative_prompt, request.model.id, request.engine) == (
        "a lighthouse at dawn", "fog", "/models/tiny-sd", "diffusers")
    assert (request.width, request.height, request.sampling.steps, request.sampling.seed) == (448, 448, 12, 42)
    assert request.sampling.guidance == 5.5 and request.images.strength == 0.25
    assert request.images.init_image == str(tmp_path / "photo.png") and request.upscale.scale == 2.0
    dialog.prompt.setPlainText("")
    assert not dialog.ok.isEnabled() and "prompt is empty" in dialog.warning.text()
    without_models = make(qtbot, picture(tmp_path))
    assert not without_models.sd.isEnabled()


def test_library_upscalers_are_offered_and_pickles_run_as_allowed(qtbot, tmp_path, own_home):
    library = own_home / "data" / "upscalers"
    library.mkdir(parents=True)
    (library / "4x-Ultra.safetensors").write_bytes(b"x" * 10)
    (library / "2x-Old.pth").write_bytes(b"x" * 10)
    dialog = make(qtbot, picture(tmp_path))
    assert [dialog.upscaler.itemText(i) for i in range(dialog.upscaler.count())] == [
        "Lanczos (fast, adds no detail)", "2x-Old", "4x-Ultra"]
    dialog.upscaler.setCurrentIndex(2)
    dialog.tile.setValue(256)
    request = dialog.request()
    assert request.upscale.upscaler == "4x-Ultra"  # by its library name, as the hires fix and A1111 name it
    assert (request.upscale.tile, request.upscale.overlap) == (256, 32) and dialog.tile.isEnabled()
    assert not request.run.allow_unsafe_checkpoint
    dialog.upscaler.setCurrentIndex(1)
    assert dialog.request().run.allow_unsafe_checkpoint  # allowed when the library took it in


def test_ok_checks_like_submission_and_stays_open_on_a_problem(qtbot, tmp_path):
    submitted: list = []

    def refuse(request):
        raise ValueError("The upscale engine is not here.")

    dialog = make(qtbot, picture(tmp_path), submitted=submitted, check=refuse)
    dialog.show()
    dialog.ok.click()
    assert dialog.isVisible() and not submitted and dialog.warning.text() == "The upscale engine is not here."
    dialog._check = lambda request: request.validate()
    dialog.ok.click()
    assert not dialog.isVisible() and len(submitted) == 1 and dialog.result() == dialog.DialogCode.Accepted


def test_the_choices_come_back_next_time(qtbot, tmp_path):
    first = make(qtbot, picture(tmp_path), models=MODELS)
    for_paper(first, "custom")
    first.size_picker.custom_width.setValue(8)
    first.size_picker.custom_height.setValue(10)
    first.size_picker.unit.setCurrentText("in")
    first.size_picker.dpi.setValue(240)
    first.sd.setChecked(True)
    first.prompt.setPlainText("a harbour")
    first.strength.setValue(0.4)
    second = make(qtbot, picture(tmp_path), models=MODELS)
    second.load_state(first.state())
    second.prompt.setPlainText("a harbour")
    chosen = first.request()
    assert second.request().replace(sampling=chosen.sampling) == chosen  # the seed is drawn for each job
    damaged = make(qtbot, picture(tmp_path))
    damaged.load_state({"by": "print", "paper": "A0", "dpi": "many", "tile": None, "custom": [1], "sd": True})
    assert damaged.request().upscale.dpi == 300 and not damaged.sd.isChecked()


def test_job_list_names_an_upscale():
    info = Job(UpscaleRequest("/pics/fox.png", Upscale(width=3508, height=2480, upscaler=LANCZOS, dpi=300)),
               project=None).info()
    assert (info.kind, info.label, info.detail) == ("upscale", "Upscale fox to 3508×2480", "Lanczos · 300 dpi")


def _dialog() -> UpscaleDialog:
    return next(w for w in QApplication.topLevelWidgets() if isinstance(w, UpscaleDialog) and w.isVisible())


def test_the_gallery_opens_it_and_the_job_lands_in_the_gallery(qtbot, tmp_path):
    upscaler = FakeEngine("upscale", steps=2)
    settings = Settings()
    with studio_window(qtbot, tmp_path / "p", {"generate": FakeEngine, "upscale": lambda: upscaler},
                       settings=settings) as win:
        entry = add_generated(win.project, "a red fox in the snow")
        win.gallery.refresh()
        win.gallery.select_ids([entry.id], current_id=entry.id)
        win.gallery.item_actions.actions["upscale"].trigger()
        dialog = _dialog()
        assert dialog.source == UpscaleSource(str(entry.path), (64, 64), entry.id, dialog.source.own)
        assert dialog.prompt.toPlainText() == "a red fox in the snow"
        assert not dialog.sd.isEnabled()  # no engine here can SD-upscale
        dialog.size_picker.factor.setValue(3)
        with qtbot.waitSignal(win.runner.job_finished, timeout=10_000) as finished:
            dialog.ok.click()
        [run] = upscaler.runs
        assert isinstance(run, UpscaleRequest) and run.source_entry_id == entry.id and run.upscale.scale == 3
        made = win.project.get(finished.args[1][0])
        assert (made.kind, made.width, made.height) == ("upscale", 192, 192)
        assert settings.last_upscale["factor"] == 3  # offered again next time
        kinds = win.gallery.kind
        kinds.setCurrentIndex(kinds.findData("upscale"))
        qtbot.waitUntil(lambda: win.gallery.model.rowCount() == 1)
        assert win.gallery.model.entry_id(0) == made.id

        win.gallery.select_ids([made.id], current_id=made.id)
        win.actions_by_id["upscale"].trigger()  # Image ▸ Upscale… (Ctrl+U) on the selection
        again = _dialog()
        assert again.size_picker.factor.value() == 3
        again.reject()


def test_a_file_from_disk_opens_without_an_entry(qtbot, tmp_path, monkeypatch):
    path = picture(tmp_path, (96, 80), "scan.png")
    monkeypatch.setattr(window_entries, "pick_image", lambda *_args: path)
    with studio_window(qtbot, tmp_path / "p", {"generate": FakeEngine}) as win:
        win.actions_by_id["upscale_file"].trigger()
        dialog = _dialog()
        assert dialog.source == UpscaleSource(path, (96, 80), None, None) and dialog.prompt.toPlainText() == ""
        dialog.reject()
        broken = tmp_path / "broken.png"
        broken.write_bytes(b"not a picture")
        monkeypatch.setattr(window_entries, "pick_image", lambda *_args: str(broken))
        win.actions_by_id["upscale_file"].trigger()
        assert "broken.png is not an image" in win.message_bar.text.text()


def test_an_upscaled_image_compares_with_its_source(qtbot, tmp_path):
    with studio_window(qtbot, tmp_path / "p", {"generate": FakeEngine}) as win:
        source = add_generated(win.project, "a koi pond")
        request = UpscaleRequest(str(source.path), Upscale(scale=2.0), source_entry_id=source.id)
        [made] = win.project.save_result(request, Result(
            [Image.new("RGB", (128, 128))], [0], lineage={"source_image": str(source.path),
                                                          "source_entry": source.id}))
        win.show_entry(made.id)
        assert win.viewer.compare_button.isVisibleTo(win.viewer)
