"""Nothing lost, nothing let through: a good index is never set aside for a disk error, a batch on a
filling disk names what it saved, a mark that could not be recorded is not shown, stored paths stay
inside the project, thumbnails of read-only projects stay private, name templates stay names, and
read-only opens work (a project held by another window, a folder the user cannot write)."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from fake_engine import FakeEngine, registry_of
from project_testkit import gen_request, gen_result

from t2i_studio.core import atomic, jobs
from t2i_studio.core.export import export_file, render_name, sanitize_filename
from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.project import Project, ProjectError
from t2i_studio.core.project_errors import PartlySavedError
from t2i_studio.core.settings import cache_dir


def _filled(folder: Path, n: int = 3) -> list[int]:
    with Project.create(folder) as project:
        request = gen_request(batch_size=n)
        return [e.id for e in project.save_result(request, gen_result(request))]


# ---------------------------------------------------------------- the index

def test_a_disk_error_on_open_never_sets_the_index_aside(tmp_path, monkeypatch):
    folder = tmp_path / "p"
    ids = _filled(folder)
    real_connect = sqlite3.connect

    def full_disk(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(sqlite3, "connect", full_disk)
    with pytest.raises(ProjectError) as err:
        Project.open(folder)
    assert "disk may be full" in err.value.user_message()
    monkeypatch.setattr(sqlite3, "connect", real_connect)
    assert not list(folder.glob("index.sqlite.broken-*"))
    with Project.open(folder) as project:  # the disk has room again: every entry is there
        assert sorted(e.id for e in project.query()) == ids


def _immutable(folder: Path) -> bool:
    """Make ``folder`` unwritable even for root (chattr +i), where the system allows it."""
    if os.name != "posix" or os.geteuid() != 0:
        folder.chmod(0o555)
        return True
    return subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0


def _writable(folder: Path) -> None:
    if os.name == "posix" and os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    folder.chmod(0o755)


def test_a_folder_sqlite_cannot_write_in_is_no_corruption(tmp_path):
    folder = tmp_path / "p"
    ids = _filled(folder)
    if not _immutable(folder):
        pytest.skip("cannot make a folder unwritable here (chattr)")
    try:
        with Project.open_or_browse(folder) as project:  # writing is impossible: opened read-only
            assert project.read_only and sorted(e.id for e in project.query()) == ids
            assert [e.id for e in project.query("fox")] == sorted(ids, reverse=True)
            thumb = project.thumbnail(ids[0])
            assert thumb.is_file() and thumb.is_relative_to(cache_dir())
            out = export_file(project.get(ids[0]).path, tmp_path / "out", fmt="jpeg")
            assert read_metadata(out.output).seed == project.get(ids[0]).seed
    finally:
        _writable(folder)
    assert not list(folder.glob("index.sqlite.broken-*"))


def test_a_damaged_index_is_set_aside_under_a_new_name_each_time(tmp_path):
    folder = tmp_path / "p"
    ids = _filled(folder)
    for _ in range(2):  # twice within the same second
        for suffix in ("-wal", "-shm"):
            (folder / f"index.sqlite{suffix}").unlink(missing_ok=True)
        (folder / "index.sqlite").write_bytes(b"not a database" * 200)
        with Project.open(folder) as project:  # rebuilt at once from the images
            assert sorted(e.id for e in project.query()) == ids
    assert len(list(folder.glob("index.sqlite.broken-*"))) == 2


# ---------------------------------------------------------------- saving and marks

def _fail_fsync_after(monkeypatch, calls: int) -> None:
    real, count = atomic.os.fsync, [0]

    def fsync(fd):
        count[0] += 1
        if count[0] > calls:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)


def test_a_disk_filling_mid_batch_names_what_was_saved(project, monkeypatch):
    from t2i_studio.cli.common import Batch

    request = gen_request(model="m", seed=40, steps=1, batch_size=3)
    printed: list[Path] = []
    batch = Batch(request, str(project.folder), progress=type("P", (), {"on_event": print, "close": lambda s: None})(),
                  on_saved=lambda entry: printed.append(entry.path))
    batch._registry = registry_of({"generate": lambda: FakeEngine(step_s=0.0)})
    batch._project = project
    events: list[jobs.JobEvent] = []
    _fail_fsync_after(monkeypatch, 2)  # file + folder of the first image, then the disk is full
    outcome = jobs.run_job(request, batch._registry, lambda run, result: batch._save(run, result, []),
                           on_event=events.append)
    monkeypatch.undo()
    assert outcome.state == jobs.FAILED and "disk is full" in outcome.message.text
    assert "1 of 3 images were saved first" in outcome.message.text
    [saved] = printed
    assert saved.is_file() and [e.path for e in outcome.entries] == [saved]
    assert [e.path for ev in events if ev.kind == jobs.SAVED for e in ev.entries] == [saved]
    assert [e.path for e in project.query()] == [saved]


def test_partly_saved_is_raised_by_the_store_itself(project, monkeypatch):
    request = gen_request(batch_size=2)
    _fail_fsync_after(monkeypatch, 2)
    with pytest.raises(PartlySavedError) as err:
        project.save_result(request, gen_result(request))
    monkeypatch.undo()
    assert len(err.value.entries) == 1 and err.value.entries[0].path.is_file()


def test_a_mark_the_log_could_not_record_is_not_kept(project):
    [entry] = project.save_result(gen_request(), gen_result(gen_request(), 1))
    log = project.store.annotations.path
    log.unlink(missing_ok=True)
    log.mkdir()  # appending fails, as on a full or read-only disk
    with pytest.raises(ProjectError, match="Could not save the mark"):
        project.set_favorite(entry.id, True)
    assert not project.get(entry.id).favorite
    log.rmdir()
    project.set_favorite(entry.id, True)
    project.rebuild()
    assert project.get(entry.id).favorite


# ---------------------------------------------------------------- stored paths

def test_crafted_index_paths_never_reach_outside_the_project(tmp_path):
    folder = tmp_path / "p"
    _filled(folder, 1)
    outside = tmp_path / "precious"
    outside.mkdir()
    victims = [outside / name for name in ("a.png", "b.png", "c.png")]
    for victim in victims:
        victim.write_bytes(b"the user's own file")
    (folder / "images" / "link").symlink_to(outside)
    (folder / "trash" / "images").mkdir(parents=True)
    (folder / "trash" / "images" / "link").symlink_to(outside)
    rows = [(900, str(victims[0]), 1), (901, "../../precious/b.png", 1), (902, "images/link/c.png", 1),
            (903, "images/link/a.png", 0), (904, "images/../../precious/b.png", 0)]
    conn = sqlite3.connect(folder / "index.sqlite")
    conn.executemany("INSERT INTO entries(id, path, created, kind, deleted) VALUES (?, ?, '2026-01-01', 'import', ?)",
                     rows)
    conn.commit()
    conn.close()
    with Project.open(folder) as project:
        with pytest.raises(ProjectError, match="outside the project"):
            project.empty_trash()
        with pytest.raises(ProjectError, match="outside the project|link to outside"):
            project.restore([902])
        with pytest.raises(ProjectError, match="outside the project|link to outside"):
            project.delete([903])
        with pytest.raises(ProjectError):
            project.delete([904])
        assert all(not e.path.is_relative_to(outside) for e in project.query(include_deleted=True))
        report = project.check()
        assert not report["ok"] and sorted(report["unsafe_paths"]) == [900, 901, 902, 903, 904]
        assert project.check(repair=True)["repaired"] and project.check()["ok"]
    assert all(v.read_bytes() == b"the user's own file" for v in victims)
    assert sorted(p.name for p in outside.iterdir()) == ["a.png", "b.png", "c.png"]


def test_marks_log_paths_outside_the_project_are_ignored(project):
    project.store.annotations.append("../../etc/passwd", favorite=True)
    project.store.annotations.append("images/ok.png", favorite=True)
    assert list(project.store.annotations.load()) == ["images/ok.png"]


# ---------------------------------------------------------------- thumbnails

def test_thumbnails_of_a_read_only_project_go_to_a_private_cache(tmp_path):
    folder = tmp_path / "p"
    [entry_id] = _filled(folder, 1)
    shared = Path(tempfile.gettempdir()) / "t2i-studio-thumbs"
    with Project.open(folder, read_only=True) as project:
        thumb = project.thumbnail(entry_id)
    assert thumb.is_relative_to(cache_dir()) and not thumb.is_relative_to(shared)
    if os.name == "posix":
        assert (thumb.parent.parent.stat().st_mode & 0o777) == 0o700
    assert not (folder / "thumbs" / f"{entry_id}.webp").exists()


# ---------------------------------------------------------------- name templates

@pytest.mark.parametrize("template, says", [
    ("{seed:x>2000000}", "wider than a file name"),
    ("{prompt:0=99999999}", "wider than a file name"),
    ("{seed.__class__.__mro__}", "take no attribute or index access"),
    ("{prompt[0]}", "take no attribute or index access"),
])
def test_name_templates_are_names_not_programs(template, says):
    fields = {"seed": 5, "prompt": "a fox"}
    started = time.monotonic()
    with pytest.raises(ValueError, match=says):
        render_name(template, fields)
    assert time.monotonic() - started < 1


def test_sanitising_a_huge_name_is_quick():
    started = time.monotonic()
    name = sanitize_filename("狐/" * 2_000_000)
    assert time.monotonic() - started < 2 and len(name.encode()) <= 120


# ---------------------------------------------------------------- read-only open

def test_a_project_held_elsewhere_opens_read_only_for_browsing(tmp_path):
    folder = tmp_path / "p"
    ids = _filled(folder)
    with Project.open(folder) as writer:
        with Project.open_or_browse(folder) as reader:
            assert reader.read_only and not writer.read_only
            assert reader.count() == 3 and [e.id for e in reader.query("fox")] == sorted(ids, reverse=True)
            out = export_file(reader.get(ids[0]).path, tmp_path / "out", fmt="webp")
            assert read_metadata(out.output).source == "t2i_studio"
            with pytest.raises(ProjectError):
                reader.set_favorite(ids[0], True)
