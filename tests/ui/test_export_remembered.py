"""Exporting from the window: the dialog offers the last choices again, and a finished export says
where the files went with a way to open the folder."""

from __future__ import annotations

from fake_engine import FakeEngine
from gallery_helpers import add_generated
from PySide6.QtWidgets import QApplication
from ui_helpers import studio_window

from t2i_studio.ui.dialogs.export_dialog import ExportDialog


def _dialog() -> ExportDialog:
    return next(w for w in QApplication.topLevelWidgets() if isinstance(w, ExportDialog) and w.isVisible())


def test_the_export_dialog_remembers_and_the_window_confirms(qtbot, tmp_path):
    with studio_window(qtbot, tmp_path / "p", {"generate": FakeEngine}) as win:
        opened = []
        win.gallery.ops.open_url = opened.append
        entry = add_generated(win.project, "a koi pond")
        win.entries.export_entries([entry.id])
        dialog = _dialog()
        dialog.format.setCurrentIndex(dialog.format.findData("webp"))
        assert not dialog.dpi.isEnabled()  # WebP records no print resolution
        dialog.format.setCurrentIndex(dialog.format.findData("jpeg"))
        dialog.dpi.setValue(300)
        dialog.quality.setValue(70)
        out = tmp_path / "for the client"
        dialog.folder.setText(str(out))
        with qtbot.waitSignal(dialog.exported, timeout=10_000):
            dialog.export_button.click()
        bar = win.message_bar
        assert bar.isVisible() and f"Exported 1 image to {out}." == bar.text.text()
        [written] = out.glob("*.jpg")
        from PIL import Image

        with Image.open(written) as image:
            assert tuple(round(float(v)) for v in image.info["dpi"]) == (300, 300)
        bar.action_button.click()
        assert [url.toLocalFile() for url in opened] == [str(out)]
        win.entries.export_entries([entry.id])
        again = _dialog()
        assert again.format.currentData() == "jpeg" and again.quality.value() == 70 and again.dpi.value() == 300
        assert again.folder.text() == str(out)
        again.reject()
