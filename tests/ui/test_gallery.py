"""The gallery over a real temp project (no torch): filters, sort, actions, undo, drop, drag."""

from __future__ import annotations

from pathlib import Path

import pytest
from gallery_helpers import a1111_png, add_generated, populate
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from t2i_studio.core.project import Project
from t2i_studio.ui.gallery import GalleryWidget


@pytest.fixture
def project(tmp_path):
    with Project.create(tmp_path / "project") as proj:
        proj.entries = populate(proj, tmp_path)  # type: ignore[attr-defined]
        yield proj


@pytest.fixture
def gallery(qtbot, project):
    widget = GalleryWidget()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.set_project(project)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def shown_ids(gallery: GalleryWidget) -> list[int]:
    return [gallery.model.entry_id(r) for r in range(gallery.model.rowCount())]


def select_row(gallery: GalleryWidget, row: int) -> int:
    gallery.view.setCurrentIndex(gallery.model.index(row))
    return gallery.current_id()


def press(qtbot, gallery: GalleryWidget, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    gallery.activateWindow()
    gallery.view.setFocus()
    qtbot.waitUntil(lambda: gallery.view.hasFocus())
    qtbot.keyClick(gallery.view, key, modifier)


def test_shows_newest_first_with_count(gallery, project):
    e = project.entries
    assert shown_ids(gallery) == [e["styled"].id, e["cat"].id, e["barn"].id, e["whale"].id, e["fox"].id]
    assert gallery.count_label.text() == "5 images"
    assert gallery.view.viewMode() == gallery.view.ViewMode.IconMode


def test_search_filters_the_grid(gallery, project, qtbot):
    qtbot.keyClicks(gallery.search, "red")
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 2)  # debounced full-text search
    assert set(shown_ids(gallery)) == {project.entries["fox"].id, project.entries["barn"].id}
    assert "match" in gallery.count_label.text()
    gallery.search.clear()
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 5)


def test_favourite_kind_and_model_filters(gallery, project, qtbot):
    e = project.entries
    select_row(gallery, shown_ids(gallery).index(e["whale"].id))
    press(qtbot, gallery, Qt.Key.Key_F)  # favourite by keyboard
    assert project.get(e["whale"].id).favorite
    gallery.favorites.setChecked(True)
    assert shown_ids(gallery) == [e["whale"].id]
    gallery.favorites.setChecked(False)

    gallery.kind.setCurrentIndex(gallery.kind.findData("stylize"))
    assert shown_ids(gallery) == [e["styled"].id]
    gallery.kind.setCurrentIndex(gallery.kind.findData("generate"))
    gallery.model_filter.setCurrentIndex(gallery.model_filter.findData("org/model-b"))
    assert shown_ids(gallery) == [e["cat"].id, e["barn"].id]
    assert gallery.model_filter.findData("vgg19") > 0  # every model of the project is offered


def test_sort_orders(gallery, project):
    e = project.entries
    gallery.sort.setCurrentIndex(gallery.sort.findData("oldest"))
    assert shown_ids(gallery)[0] == e["fox"].id
    project.set_rating(e["whale"].id, 5)
    project.set_rating(e["barn"].id, 3)
    gallery.sort.setCurrentIndex(gallery.sort.findData("rating"))
    assert shown_ids(gallery)[:2] == [e["whale"].id, e["barn"].id]
    gallery.sort.setCurrentIndex(gallery.sort.findData("model"))
    assert [gallery.model.entry(r).model for r in range(5)] == sorted(
        gallery.model.entry(r).model for r in range(5))


def test_rating_by_keyboard_and_menu_state(gallery, project, qtbot):
    entry_id = select_row(gallery, 0)
    press(qtbot, gallery, Qt.Key.Key_4)
    assert project.get(entry_id).rating == 4
    gallery._update_actions()
    assert gallery.item_actions.rating_actions[4].isChecked()
    menu = gallery.item_actions.build_menu(gallery)
    assert [a.text() for a in menu.actions() if a.text()][:3] == ["&Open", "&Reuse all settings", "Reuse &seed"]
    menu.deleteLater()


def test_delete_and_ctrl_z_restores_entry_and_file(gallery, project, qtbot):
    entry = project.entries["barn"]
    select_row(gallery, shown_ids(gallery).index(entry.id))
    with qtbot.waitSignal(gallery.ops.message) as notice:
        press(qtbot, gallery, Qt.Key.Key_Delete)
    assert "trash" in notice.args[0]
    assert entry.id not in shown_ids(gallery) and gallery.model.rowCount() == 4
    trashed = project.get(entry.id)
    assert trashed.deleted and trashed.path.is_file() and not entry.path.exists()

    press(qtbot, gallery, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert entry.id in shown_ids(gallery) and gallery.model.rowCount() == 5
    restored = project.get(entry.id)
    assert not restored.deleted and entry.path.is_file()
    assert gallery.selected_ids() == [entry.id]
    gallery.ops.undo_stack.redo()  # and again
    assert project.get(entry.id).deleted


def test_action_signals_carry_the_current_id(gallery, qtbot):
    entry_id = select_row(gallery, 2)
    for name, signal in (("open", gallery.entry_activated), ("reuse_settings", gallery.reuse_settings),
                         ("reuse_seed", gallery.reuse_seed), ("use_as_init", gallery.use_as_init),
                         ("stylize", gallery.stylize_requested)):
        with qtbot.waitSignal(signal, timeout=1000) as blocker:
            gallery.item_actions.actions[name].trigger()
        assert blocker.args == [entry_id], name
    with qtbot.waitSignal(gallery.entry_activated) as blocker:
        press(qtbot, gallery, Qt.Key.Key_Return)
    assert blocker.args == [entry_id]
    received = []
    gallery.ops.export_requested.connect(received.append)
    gallery.view.selectAll()
    gallery.item_actions.actions["export"].trigger()
    assert sorted(received[0]) == sorted(shown_ids(gallery))


def test_keyboard_navigation_moves_current(gallery, qtbot):
    ids = shown_ids(gallery)
    select_row(gallery, 0)
    with qtbot.waitSignal(gallery.current_changed) as blocker:
        press(qtbot, gallery, Qt.Key.Key_Right)
    assert blocker.args == [ids[1]]
    press(qtbot, gallery, Qt.Key.Key_End)
    assert gallery.current_id() == ids[-1]


def test_copy_prompt_image_and_show_in_folder(gallery, project):
    entry = project.entries["cat"]
    select_row(gallery, shown_ids(gallery).index(entry.id))
    gallery.item_actions.actions["copy_prompt"].trigger()
    assert QGuiApplication.clipboard().text() == entry.prompt
    gallery.item_actions.actions["copy_image"].trigger()
    assert not QGuiApplication.clipboard().image().isNull()
    opened = []
    gallery.ops.open_url = opened.append
    gallery.item_actions.actions["show_in_folder"].trigger()
    assert Path(opened[0].toLocalFile()) == entry.path.parent


def test_drag_out_gives_file_urls(gallery, project):
    gallery.view.selectAll()
    mime = gallery.model.mimeData(gallery.view.selectedIndexes())
    paths = {Path(u.toLocalFile()) for u in mime.urls()}
    assert paths == {e.path for e in project.entries.values()}


def drop(gallery: GalleryWidget, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    rest = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    viewport = gallery.view.viewport()
    enter = QDragEnterEvent(QPoint(20, 20), *rest)  # Qt drops only on a widget that took the enter
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(viewport, QDropEvent(QPointF(20.5, 20.5), *rest))


def test_drop_a1111_image_imports_it(gallery, project, qtbot, tmp_path):
    source = a1111_png(tmp_path / "from-a1111.png")
    with qtbot.waitSignal(gallery.ops.imported) as blocker:
        drop(gallery, [source])
    [entry_id] = blocker.args[0]
    entry = project.get(entry_id)
    assert entry.kind == "import" and entry.prompt == "a lighthouse on a cliff, oil painting"
    assert entry.seed == 1234 and entry.params["request"]["sampling"]["steps"] == 20
    assert gallery.model.rowCount() == 6 and gallery.current_id() == entry_id


def test_drop_bad_files_reports_and_keeps_working(gallery, project, qtbot, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    good = a1111_png(tmp_path / "good.png")
    messages = []
    gallery.ops.message.connect(messages.append)
    with qtbot.waitSignal(gallery.ops.imported):
        drop(gallery, [bad, tmp_path, good])
    assert "Imported 1 image" in messages[-1] and "Could not import 2 files" in messages[-1]
    assert "broken.png" in messages[-1]
    assert gallery.model.rowCount() == 6


def test_refresh_keeps_selection_after_new_results(gallery, project):
    entry_id = select_row(gallery, 1)
    add_generated(project, "a brand new image", seed=99)
    gallery.refresh()
    assert gallery.model.rowCount() == 6
    assert gallery.current_id() == entry_id and gallery.selected_ids() == [entry_id]


def test_no_project_and_read_only(qtbot, project, tmp_path):
    widget = GalleryWidget()
    qtbot.addWidget(widget)
    assert widget.count_label.text() == "No project open" and widget.current_id() is None
    messages = []
    widget.ops.message.connect(messages.append)
    assert widget.import_files([str(tmp_path)]) is None and "Open a project" in messages[-1]
    widget.shutdown()
