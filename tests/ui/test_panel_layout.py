"""The window's panels keep their size: long texts wrap or elide instead of widening the layout,
the generate panel never scrolls sideways, and controls say what the next job will do."""

from __future__ import annotations

from fake_engine import FakeEngine
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QScrollArea
from ui_helpers import studio_window

from t2i_studio.core.catalog import ModelInfo

MODEL = ModelInfo(id="fake/model", name="fake model", source="hub", family="sd", size_bytes=1)


def _settle(qtbot) -> None:
    for _ in range(5):
        QApplication.processEvents()
        qtbot.wait(10)


def test_long_messages_and_captions_do_not_widen_the_panels(qtbot, tmp_path):
    with studio_window(qtbot, tmp_path / "p", {"generate": FakeEngine}, models=[MODEL]) as win:
        _settle(qtbot)
        panel = win.prompt_panel
        area = next(w for w in win.generate_dock.findChildren(QScrollArea))
        widths = (win.generate_dock.width(), win.viewer.width())
        panel.footer.error.setText("The model folder /home/artist/" + "very-long-folder-name/" * 20 + " is odd.")
        panel.footer.error.show()
        win.viewer.caption.setText("#12 · 512×512 · seed 1 · " + "/a/really/long/model/path" * 20)
        _settle(qtbot)
        assert (win.generate_dock.width(), win.viewer.width()) == widths
        assert not area.horizontalScrollBar().isVisible()
        assert panel.width() <= area.viewport().width()
        caption = win.viewer.caption
        assert caption.text().endswith("path") and caption.toolTip() == caption.text()  # all of it, on hover
        assert "…" in QLabel.text(caption)  # what is drawn is elided to the width


def test_the_generate_panel_fits_its_dock_without_a_sideways_scrollbar(qtbot, tmp_path):
    with studio_window(qtbot, tmp_path / "p", {"generate": FakeEngine}, models=[MODEL]) as win:
        _settle(qtbot)
        area = next(w for w in win.generate_dock.findChildren(QScrollArea))
        assert area.minimumSizeHint().width() >= win.prompt_panel.minimumSizeHint().width()
        win.resizeDocks([win.generate_dock], [120], Qt.Orientation.Horizontal)
        _settle(qtbot)
        assert win.generate_dock.width() >= win.prompt_panel.minimumSizeHint().width()
        lock = win.prompt_panel.seed.lock
        assert lock.width() >= lock.sizeHint().width()  # "Lock" is not cut


def test_strength_is_live_only_with_an_init_image(qtbot, tmp_path):
    with studio_window(qtbot, tmp_path / "p", {"generate": FakeEngine}, models=[MODEL]) as win:
        panel = win.prompt_panel
        assert not panel.strength.isEnabled()
        image = tmp_path / "init.png"
        from PIL import Image

        Image.new("RGB", (64, 64), "red").save(image)
        panel.set_init_image(str(image))
        assert panel.strength.isEnabled()
        panel.clear_init.click()
        assert not panel.strength.isEnabled()
