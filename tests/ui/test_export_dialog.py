"""Export dialog over core.export with a real temp project: formats, size, metadata kept or stripped."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))  # tests/ui is not a package: reach gallery_helpers
from gallery_helpers import add_generated  # noqa: E402
from t2i_studio.core import export  # noqa: E402
from t2i_studio.core.export_formats import FORMAT_NAMES, FORMATS  # noqa: E402
from t2i_studio.core.metadata import read_metadata  # noqa: E402
from t2i_studio.core.project import Project  # noqa: E402
from t2i_studio.ui.dialogs.export_dialog import ExportDialog  # noqa: E402
from t2i_studio.worker.tasks import BackgroundTask  # noqa: E402


@pytest.fixture
def project(tmp_path):
    with Project.create(tmp_path / "project") as proj:
        proj.ids = [add_generated(proj, f"a tiny test image {k}", seed=100 + k).id  # type: ignore[attr-defined]
                    for k in range(2)]
        yield proj


def run(qtbot, dialog: ExportDialog) -> list[Path]:
    with qtbot.waitSignal(dialog.exported, timeout=10000) as blocker:
        dialog.export_button.click()
    return blocker.args[0]


def make(qtbot, project, ids, out: Path, fmt: str) -> ExportDialog:
    dialog = ExportDialog(project, ids)
    qtbot.addWidget(dialog)
    dialog.format.setCurrentIndex(dialog.format.findData(fmt))
    dialog.folder.setText(str(out))
    return dialog


def test_exports_many_as_jpeg_with_metadata_and_resize(qtbot, project, tmp_path):
    dialog = make(qtbot, project, project.ids, tmp_path / "out", "jpeg")
    assert dialog.quality.isEnabled() and dialog.preview.text().startswith("e.g. ")
    assert dialog.preview.text().endswith(".jpg")
    dialog.resize_box.setChecked(True)
    dialog.long_edge.setValue(32)
    paths = run(qtbot, dialog)
    assert len(paths) == 2 and all(Path(p).suffix == ".jpg" and Path(p).parent == tmp_path / "out" for p in paths)
    with Image.open(paths[0]) as image:
        assert image.format == "JPEG" and max(image.size) == 32
    meta = read_metadata(paths[0])
    assert meta.parameters and "a tiny test image" in meta.parameters
    assert dialog.result() == dialog.DialogCode.Accepted


def test_exports_one_webp_stripped(qtbot, project, tmp_path):
    dialog = make(qtbot, project, project.ids[:1], tmp_path / "stripped", "webp")
    dialog.keep_metadata.setChecked(False)
    [path] = run(qtbot, dialog)
    with Image.open(path) as image:
        assert image.format == "WEBP" and image.size == (64, 64)
    meta = read_metadata(path)
    assert meta.source == "none" and not meta.parameters


def test_png_keeps_our_json_and_bad_template_blocks_export(qtbot, project, tmp_path):
    dialog = make(qtbot, project, project.ids[:1], tmp_path / "png", "png")
    assert not dialog.quality.isEnabled()
    dialog.template.setText("{nonsense}")
    assert not dialog.export_button.isEnabled() and "nonsense" in dialog.preview.text()
    dialog.template.setText("{seed}-{id}")
    assert dialog.export_button.isEnabled()
    [path] = run(qtbot, dialog)
    assert Path(path).name == f"100-{project.ids[0]}.png"
    meta = read_metadata(path)
    assert meta.source == "t2i_studio" and meta.seed == 100


def test_format_list_and_quality_come_from_the_format_table(qtbot, project, tmp_path):
    dialog = make(qtbot, project, project.ids[:1], tmp_path, "png")
    assert [dialog.format.itemData(i) for i in range(dialog.format.count())] == list(FORMAT_NAMES)
    for i, spec in enumerate(FORMATS.values()):
        dialog.format.setCurrentIndex(i)
        assert dialog.format.currentText() == spec.label
        assert dialog.quality.isEnabled() == spec.lossy
        assert dialog.preview.text().endswith(spec.extension)


def test_a_missing_file_stops_the_export_and_says_how_far_it_got(qtbot, project, tmp_path):
    dialog = make(qtbot, project, project.ids, tmp_path / "out", "png")
    dialog.entries[1].path.unlink()  # gone from disk after the dialog opened
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Export stopped"), timeout=10000)
    assert dialog.status.text().startswith("Export stopped after 1 of 2: ")
    assert len(list((tmp_path / "out").iterdir())) == 1
    assert dialog.export_button.isEnabled() and dialog.format.isEnabled()
    assert dialog.result() != dialog.DialogCode.Accepted


def test_cancel_stops_between_files_and_keeps_what_was_written(qtbot, project, tmp_path, monkeypatch):
    dialog = make(qtbot, project, project.ids, tmp_path / "out", "png")
    first_written, tokens = threading.Event(), []
    real_export_file = export.export_file

    def first_then_wait_for_cancel(*args, **kwargs):  # on the task's thread
        written = real_export_file(*args, **kwargs)
        first_written.set()
        deadline = time.monotonic() + 10
        while not (tokens and tokens[0].cancelled) and time.monotonic() < deadline:
            time.sleep(0.005)
        return written

    monkeypatch.setattr(export, "export_file", first_then_wait_for_cancel)
    dialog.show()
    dialog.export_button.click()
    tokens.append(dialog.findChild(BackgroundTask).cancel_token)
    assert first_written.wait(10)
    dialog.buttons.button(dialog.buttons.StandardButton.Cancel).click()  # cancels, waits for the thread
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Cancelled"))
    assert dialog.status.text() == "Cancelled: 1 of 2 exported."
    assert len(list((tmp_path / "out").iterdir())) == 1
