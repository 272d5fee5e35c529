"""Export dialog over core.export with a real temp project: formats, size, metadata kept or stripped."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))  # tests/ui is not a package: reach gallery_helpers
from gallery_helpers import add_generated  # noqa: E402
from t2i_studio.core.metadata import read_metadata  # noqa: E402
from t2i_studio.core.project import Project  # noqa: E402
from t2i_studio.ui.dialogs.export_dialog import ExportDialog  # noqa: E402


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
