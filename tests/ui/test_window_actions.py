"""The window's actions, made from one table: its menus, its keys (Ctrl+E exports from the gallery
although both the window and the gallery offer it), the recent-projects menu, and the shortcut
help, which lists the gallery's keys too and is the README's key table."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_engine import FakeEngine
from gallery_helpers import add_generated
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from ui_helpers import studio_window

from t2i_studio.core.project import Project
from t2i_studio.ui.dialogs.export_dialog import ExportDialog
from t2i_studio.ui.window_actions import shortcuts_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def window(qtbot, tmp_path):
    with studio_window(qtbot, tmp_path / "proj", {"generate": lambda: FakeEngine("generate")}) as win:
        yield win


def menu_of(window, title: str):
    [action] = [a for a in window.menuBar().actions() if a.text() == title]
    return action.menu()


def entries(menu) -> list[str]:
    """Each entry as the menu shows it: text and keys, "--" for a separator."""
    return ["--" if a.isSeparator() else f"{a.text()} {a.shortcut().toString()}".strip() for a in menu.actions()]


def test_the_menus_list_their_actions_with_their_keys(window):
    assert [a.text() for a in window.menuBar().actions()] == ["&Project", "&Edit", "&Image", "&Models", "&View",
                                                              "&Help"]
    assert entries(menu_of(window, "&Edit")) == ["&Preferences… Ctrl+,"]
    assert entries(menu_of(window, "&Image")) == ["&Upscale… Ctrl+U", "Upscale a &file…", "--", "&X/Y/Z plot…"]
    assert entries(menu_of(window, "&Project")) == [
        "&New project… Ctrl+N", "&Open project… Ctrl+O", "Open &recent", "--", "&Export selected… Ctrl+E",
        "--", "&Quit Ctrl+Q"]
    assert entries(menu_of(window, "&Models")) == ["&Manage models… Ctrl+M", "&Upscalers…", "ComfyUI &servers…",
                                                   "&Reload model list"]
    assert entries(menu_of(window, "&View")) == [
        "Generate", "Style transfer", "Gallery", "Jobs and details", "--", "&Fit image Ctrl+0",
        "&Actual size Ctrl+1"]
    assert entries(menu_of(window, "&Help")) == ["&Keyboard shortcuts", "&About T2I Studio"]


def test_view_keys_zoom_the_viewer_and_the_dock_entries_toggle_docks(qtbot, window):
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert not window.viewer.view.fit_mode
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert window.viewer.view.fit_mode
    jobs = next(a for a in menu_of(window, "&View").actions() if a.text() == "Jobs and details")
    jobs.trigger()
    assert not window.jobs_dock.isVisible()
    jobs.trigger()
    assert window.jobs_dock.isVisible()


def test_open_recent_lists_remembered_projects_and_opens_one(qtbot, window, tmp_path):
    other = tmp_path / "other"
    Project.create(other).close()
    window.settings.remember_project(str(other))
    window.settings.remember_project(str(window.project.folder))
    recent = next(a for a in menu_of(window, "&Project").actions() if a.text() == "Open &recent").menu()
    recent.aboutToShow.emit()
    assert [a.text() for a in recent.actions()] == [str(window.project.folder), str(other)]
    recent.actions()[1].trigger()
    assert window.project.folder == other and window.windowTitle().startswith("other")
    window.settings.recent_projects = []
    recent.aboutToShow.emit()  # refilled each time it opens
    assert [(a.text(), a.isEnabled()) for a in recent.actions()] == [("(none)", False)]


def test_ctrl_e_in_the_gallery_opens_the_export_dialog(qtbot, window):
    entry = add_generated(window.project, "a red fox")
    window.gallery.refresh()
    window.gallery.select_ids([entry.id], current_id=entry.id)
    window.activateWindow()
    window.gallery.view.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.gallery.view, timeout=2000)
    qtbot.keyClick(window.gallery.view, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialogs = [d for d in window.findChildren(ExportDialog) if d.isVisible()]
    assert len(dialogs) == 1 and [e.id for e in dialogs[0].entries] == [entry.id]
    dialogs[0].reject()
    assert window.gallery.item_actions.actions["export"].text() == "&Export…\tCtrl+E"  # the image menu says so


def test_the_shortcut_help_lists_the_window_and_gallery_keys(qtbot, window):
    next(a for a in menu_of(window, "&Help").actions() if a.text() == "&Keyboard shortcuts").trigger()
    [box] = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    text = box.text()
    for keys, what in (("Ctrl+Enter", "Generate from the prompt panel"), ("Esc", "Cancel the running job"),
                       ("Ctrl+Shift+C", "Gallery: copy the prompt text"), ("0–5", "Gallery: rate"),
                       ("Ctrl+Shift+Z / Ctrl+Y", "Gallery: redo")):
        assert f"<b>{keys}</b></td><td>{what}" in text, keys
    assert text.count("<b>Ctrl+E</b>") == 1  # the gallery's Export is the window's
    box.close()


def test_the_readme_key_table_is_the_shortcut_help(qtbot):
    assert shortcuts_markdown() in README.read_text(encoding="utf-8")
