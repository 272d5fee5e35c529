"""Durability: killed mid-save, index deleted or damaged, torn marks log, full or read-only disk, two
processes on one project."""

from __future__ import annotations

import dataclasses
import errno
import os
import random
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from project_testkit import gen_request, gen_result, style_request
from PIL import Image

from t2i_studio.core import atomic
from t2i_studio.core.image_io import load_image, read_raw
from t2i_studio.core.project import Project, ProjectError, ProjectLockedError

ROOT = Path(__file__).resolve().parents[2]
SAVER = textwrap.dedent("""
    import sys
    sys.path[:0] = {paths!r}  # project_testkit, and tests/ for the request_builder it uses
    from project_testkit import gen_request, gen_result
    from t2i_studio.core.project import Project
    project = Project.open(sys.argv[1])
    print("ready", flush=True)
    for k in range(10_000):
        request = gen_request(seed=k * 4, batch_size=4)
        project.save_result(request, gen_result(request))
""")
HOLDER = textwrap.dedent("""
    import sys
    from t2i_studio.core.project import Project
    project = Project.open(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    project.close()
""")


def _spawn(script: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", script, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    assert line.strip() == "ready", proc.stderr.read()
    return proc


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_killed_while_saving_leaves_no_partial_file(tmp_path):
    folder = tmp_path / "p"
    Project.create(folder).close()
    rng = random.Random(1234)
    script = SAVER.format(paths=[str(Path(__file__).parent), str(Path(__file__).parents[1])])
    for _trial in range(5):
        proc = _spawn(script, str(folder))
        time.sleep(rng.uniform(0.05, 0.6))
        proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
        for path in _files(folder / "images"):
            if atomic.is_temp_name(path.name):
                continue  # a crash may leave a hidden temp file; the next open removes it
            raw = read_raw(path)
            assert raw.format == "PNG" and not raw.notes, (path, raw.notes)
            load_image(path)  # every published file decodes completely
        with Project.open(folder) as project:  # the lock of the dead process is free again
            assert not any(atomic.is_temp_name(p.name) for p in _files(folder))
            report = project.check()
            assert report["ok"], report
            pngs = [p for p in _files(folder / "images") if p.suffix == ".png"]
            assert project.count() == len(pngs)


def _snapshot(project: Project) -> dict:
    return {e.id: e for e in project.query(limit=10_000, include_deleted=True)}


def test_delete_index_and_rebuild_recovers_everything(tmp_path):
    folder = tmp_path / "p"
    with Project.create(folder) as project:
        request = gen_request("a fox, 狐\nline two", batch_size=3, variation_seed=3, variation_strength=0.5)
        saved = project.save_result(request, gen_result(request))
        project.save_result(*style_request(tmp_path))
        outside = tmp_path / "outside.jpg"
        Image.new("RGB", (20, 20), "pink").save(outside, format="JPEG")
        project.import_image(outside)
        project.set_favorite(saved[0].id, True)
        project.set_rating(saved[1].id, 4)
        # tags are in the marks log only (the app has no tagging yet): a rebuild brings them in
        tagged = saved[2].path.relative_to(project.folder).as_posix()
        project.store.annotations.append(tagged, tags=["client A"])
        project.delete([saved[1].id])
        before = _snapshot(project)
    before[saved[2].id] = dataclasses.replace(before[saved[2].id], tags=("client A",))
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (folder / name).unlink(missing_ok=True)
    with Project.open(folder) as project:  # no index: rebuilt on open
        assert _snapshot(project) == before
        assert project.rebuild() == len(before)
        assert _snapshot(project) == before
        assert project.check()["ok"]


def test_a_mark_after_a_torn_line_survives_a_rebuild(project):
    first, second = project.save_result(gen_request(), gen_result(gen_request(), 2))
    project.set_favorite(first.id, True)
    with open(project.store.annotations.path, "ab") as handle:  # a crash mid-append, inside a character
        handle.write('{"path": "images/é.png", "fav'.encode()[:-12])
    project.set_favorite(second.id, True)

    project.rebuild()

    assert project.get(first.id).favorite and project.get(second.id).favorite


def test_read_only_open_of_a_damaged_index_is_a_project_error(tmp_path):
    folder = tmp_path / "proj"
    Project.create(folder).close()
    for suffix in ("-wal", "-shm"):
        (folder / f"index.sqlite{suffix}").unlink(missing_ok=True)
    (folder / "index.sqlite").write_bytes(b"this is not a database" * 100)

    with pytest.raises(ProjectError) as err:
        Project.open(folder, read_only=True).close()
    assert "rebuild" in err.value.user_message()


def test_rebuild_indexes_images_dropped_in_by_hand(project, tmp_path):
    [entry] = project.save_result(gen_request(), gen_result(gen_request(), 1))
    dropped_dir = project.folder / "images" / "from-elsewhere"
    dropped_dir.mkdir()
    Image.new("RGB", (10, 10)).save(dropped_dir / "holiday photo.png")
    shutil.copy(entry.path, dropped_dir / "copy-of-mine.png")  # one of ours, renamed
    (dropped_dir / "notes.txt").write_text("not an image")
    report = project.check()
    assert not report["ok"] and len(report["unindexed_files"]) == 2  # the .txt is no image
    assert project.rebuild() == 3
    kinds = sorted(e.kind for e in project.query())
    assert kinds == ["generate", "generate", "import"]
    copy = next(e for e in project.query() if e.path.name == "copy-of-mine.png")
    assert copy.params == entry.params and copy.id != entry.id
    assert project.check()["ok"]


def test_check_finds_and_repairs_mismatches(project):
    request = gen_request(batch_size=3)
    a, b, c = project.save_result(request, gen_result(request))
    project.thumbnail(a.id)
    a.path.unlink()  # missing file
    b.path.rename(b.path.with_name("renamed.png"))  # orphan row + unindexed file
    (project.folder / "thumbs" / "999.webp").write_bytes(b"x")
    report = project.check()
    assert not report["ok"] and report["missing_files"] == [a.id, b.id]
    assert report["orphan_thumbnails"] == 1 and len(report["unindexed_files"]) == 1
    fixed = project.check(repair=True)
    assert fixed["repaired"] and project.check()["ok"]
    assert project.get(a.id) is None and project.count() == 2
    assert any(e.path.name == "renamed.png" for e in project.query())


def _no_new_files(folder: Path, before: set[Path]) -> None:
    assert {p for p in _files(folder) if "images" in p.parts} == before


def test_full_disk_gives_clear_error_and_no_partial_file(project, monkeypatch):
    project.save_result(gen_request(), gen_result(gen_request(), 1))
    before = {p for p in _files(project.folder) if "images" in p.parts}

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(ProjectError, match="disk is full"):
        project.save_result(gen_request(batch_size=2), gen_result(gen_request(batch_size=2)))
    monkeypatch.undo()
    _no_new_files(project.folder, before)
    assert project.count() == 1 and project.check()["ok"]


def test_read_only_folder_gives_clear_error(project, monkeypatch):
    before = {p for p in _files(project.folder) if "images" in p.parts}
    real_open = open

    def read_only_open(path, mode="r", *args, **kwargs):
        if "x" in mode or "w" in mode:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(atomic, "open", read_only_open, raising=False)
    with pytest.raises(ProjectError, match="read-only or not writable"):
        project.save_result(gen_request(), gen_result(gen_request(), 1))
    monkeypatch.undo()
    _no_new_files(project.folder, before)
    assert project.count() == 0 and project.check()["ok"]


def _refuse_writes_under(monkeypatch, folder: Path) -> None:
    """What a folder without write permission does to a normal user, for root too (root ignores the
    permission bits): creating a folder or a file anywhere under ``folder`` fails with EACCES."""

    def refused(path) -> bool:
        return Path(path).resolve().is_relative_to(folder.resolve())

    real_mkdir, real_open = os.mkdir, open

    def mkdir(path, *args, **kwargs):
        if refused(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_mkdir(path, *args, **kwargs)

    def open_for_write(path, mode="r", *args, **kwargs):
        if ("x" in mode or "w" in mode) and refused(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(atomic, "open", open_for_write, raising=False)


@pytest.mark.parametrize("denied_by", ["permissions", "simulated"])
def test_not_writable_images_folder_gives_clear_error(project, monkeypatch, denied_by):
    request = gen_request()
    images = project.folder / "images"
    before = {p for p in _files(project.folder) if "images" in p.parts}
    if denied_by == "permissions":
        if os.name != "posix" or os.geteuid() == 0:
            pytest.skip("needs POSIX permissions and a user they apply to (not root); 'simulated' runs instead")
        images.chmod(0o555)
    else:
        _refuse_writes_under(monkeypatch, images)
    try:
        with pytest.raises(ProjectError, match="read-only or not writable"):
            project.save_result(request, gen_result(request, 1))
    finally:
        images.chmod(0o755)
        monkeypatch.undo()
    _no_new_files(project.folder, before)
    assert project.count() == 0 and project.check()["ok"]


def test_two_processes_get_the_lock_error(tmp_path):
    folder = tmp_path / "p"
    Project.create(folder).close()
    holder = _spawn(HOLDER, str(folder))
    try:
        with pytest.raises(ProjectLockedError, match=rf"already open in another window \(pid {holder.pid}\)") as err:
            Project.open(folder)
        assert err.value.pid == holder.pid
        with Project.open(folder, read_only=True) as ro:
            assert ro.count() == 0
    finally:
        holder.communicate("\n", timeout=30)
    with Project.open(folder) as project:  # released when the other process closed it
        assert not project.read_only
