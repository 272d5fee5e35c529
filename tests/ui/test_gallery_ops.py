"""GalleryOps over a real temp project, with no widget at all: marks, trash with undo, background
imports, clipboard, show in folder and export requests, told through signals and messages."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from gallery_helpers import a1111_png, add_generated
from PySide6.QtGui import QGuiApplication

from t2i_studio.core.project import Project
from t2i_studio.ui.gallery_ops import GalleryOps


@pytest.fixture
def project(tmp_path):
    with Project.create(tmp_path / "project") as proj:
        yield proj


@pytest.fixture
def ops(qtbot, project):
    ops = GalleryOps()
    ops.set_project(project)
    yield ops
    ops.set_project(None)  # stops any import still running


class Recorder:
    """Every signal of a GalleryOps, in the order it came."""

    def __init__(self, ops: GalleryOps) -> None:
        self.events: list[tuple[str, object]] = []
        for name in ("message", "progress", "marks_changed", "removed", "added", "imported", "export_requested"):
            getattr(ops, name).connect(lambda value, n=name: self.events.append((n, value)))

    def of(self, name: str) -> list:
        return [value for n, value in self.events if n == name]


def test_favourite_and_rating_change_the_project_and_name_the_entries(ops, project):
    a, b = add_generated(project, "a"), add_generated(project, "b")
    seen = Recorder(ops)
    ops.set_favorite([a.id, b.id], True)
    ops.rate([b.id], 4)
    assert project.get(a.id).favorite and project.get(b.id).favorite and project.get(b.id).rating == 4
    assert seen.of("marks_changed") == [[a.id, b.id], [b.id]]
    ops.rate([b.id], 9)  # refused by the project: a message, nothing changed
    assert project.get(b.id).rating == 4 and seen.of("marks_changed") == [[a.id, b.id], [b.id]]
    assert seen.of("message")[-1].startswith("Could not rate: Rating must be a whole number from 0 to 5")


def test_delete_moves_to_the_trash_and_undo_redo_follow(ops, project):
    entry = add_generated(project, "to the bin")
    seen = Recorder(ops)
    assert ops.delete([entry.id])
    assert project.get(entry.id).deleted and not entry.path.exists()
    assert seen.events == [("removed", [entry.id]), ("message", "Moved 1 image to the trash (Ctrl+Z restores).")]
    ops.undo_stack.undo()
    assert not project.get(entry.id).deleted and entry.path.is_file()
    assert seen.events[-2:] == [("added", [entry.id]), ("message", "Restored 1 image from the trash.")]
    ops.undo_stack.redo()
    assert project.get(entry.id).deleted and seen.of("removed") == [[entry.id], [entry.id]]
    ops.set_project(project)  # a project (re)opened starts with nothing to undo
    assert not ops.undo_stack.canUndo()


def test_a_read_only_project_refuses_changes_with_a_message(qtbot, tmp_path):
    folder = tmp_path / "shared"
    with Project.create(folder) as proj:
        entry = add_generated(proj, "look, don't touch")
    with Project.open(folder, read_only=True) as read_only:
        ops = GalleryOps()
        ops.set_project(read_only)
        seen = Recorder(ops)
        ops.set_favorite([entry.id], True)
        assert not ops.delete([entry.id])
        assert ops.import_files([str(entry.path)]) is None
        assert not read_only.get(entry.id).favorite and entry.path.is_file()
        assert seen.of("marks_changed") == [] and seen.of("removed") == [] and not ops.undo_stack.canUndo()
        messages = seen.of("message")
        assert messages[0].startswith("Could not mark as favourite") and messages[1].startswith("Could not delete")
        assert messages[2] == "This project is open read-only: images cannot be imported."


def test_no_project_asks_for_one_before_importing(qtbot, tmp_path):
    ops = GalleryOps()
    seen = Recorder(ops)
    assert ops.import_files([str(tmp_path)]) is None
    ops.request_export([1])
    assert seen.events == [("message", "Open a project before importing images.")]


def test_import_runs_off_the_gui_thread_and_reports_each_outcome(qtbot, ops, project, tmp_path):
    good = [a1111_png(tmp_path / f"good{k}.png", seed=k) for k in range(3)]
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    gate, threads = threading.Event(), []
    real_import = project.import_image

    def import_image(path):
        threads.append(threading.get_ident())
        if len(threads) > 1:  # the second file waits: the GUI thread hears of the first meanwhile
            assert gate.wait(10)
        return real_import(path)

    project.import_image = import_image  # type: ignore[method-assign]
    seen = Recorder(ops)
    task = ops.import_files([str(p) for p in good] + [str(bad)])
    assert task is not None and task.running and seen.events == []  # the drop returned at once
    qtbot.waitUntil(lambda: bool(seen.events), timeout=10_000)
    assert seen.events == [("progress", "Importing 1 of 4 files…")]
    gate.set()
    qtbot.waitUntil(lambda: bool(seen.of("imported")), timeout=10_000)
    assert threads and threading.get_ident() not in threads
    [ids] = seen.of("imported")
    assert len(ids) == 3 and [project.get(i).seed for i in ids] == [0, 1, 2]
    names = [n for n, _ in seen.events if n != "progress"]
    assert names == ["added", "message", "imported"]  # the window's offer comes last, over the message
    assert seen.of("added") == [ids]
    message = seen.of("message")[0]
    assert message.startswith("Imported 3 images. Could not import 1 file: broken.png: ")


def test_switching_projects_stops_an_import_and_drops_its_result(qtbot, ops, project, tmp_path):
    files = [a1111_png(tmp_path / f"f{k}.png", seed=k) for k in range(3)]
    started, gate = threading.Event(), threading.Event()
    real_import = project.import_image

    def import_image(path):
        started.set()
        assert gate.wait(10)
        return real_import(path)

    project.import_image = import_image  # type: ignore[method-assign]
    seen = Recorder(ops)
    task = ops.import_files([str(p) for p in files])
    assert started.wait(5)
    opener = threading.Timer(0.2, gate.set)  # lets the file in hand finish once the switch has cancelled
    opener.start()
    ops.set_project(None)  # cancels and waits
    opener.join()
    assert not task.running
    qtbot.wait(100)  # the stopped task's last signals arrive: ignored
    assert seen.events == [] and project.count() == 1  # the file in hand was done; the rest never started


def test_copy_show_in_folder_and_export_requests(qtbot, project, tmp_path):
    opened = []
    ops = GalleryOps(open_url=opened.append)
    ops.set_project(project)
    entry = add_generated(project, "a grey cat on a mat")
    seen = Recorder(ops)
    ops.copy_prompt(entry.id)
    assert QGuiApplication.clipboard().text() == "a grey cat on a mat"
    ops.copy_image(entry.id)
    mime = QGuiApplication.clipboard().mimeData()
    assert not QGuiApplication.clipboard().image().isNull()
    assert [Path(u.toLocalFile()) for u in mime.urls()] == [entry.path]
    ops.show_in_folder(entry.id)
    assert [Path(u.toLocalFile()) for u in opened] == [entry.path.parent]
    ops.request_export([entry.id])
    assert seen.events == [("message", "Prompt copied."), ("message", "Image copied."),
                           ("export_requested", [entry.id])]
    entry.path.write_bytes(b"not an image any more")
    ops.copy_image(entry.id)
    assert seen.of("message")[-1] == f"Could not copy: {entry.path.name} cannot be read."
