"""Review findings in the project store: each test failed before its fix."""

from __future__ import annotations

from PIL import Image

from project_testkit import Project, gen_request, gen_result
from t2i_studio.core.project import ProjectError
from t2i_studio.core.scan import now_local


def test_import_never_deletes_a_file_that_already_has_its_name(project, tmp_path):
    # A file dropped into images/ by hand (not indexed yet) holds the name the next import would get.
    next_id = project.index.max_id() + 1
    day = now_local()[:10]
    dropped = project.folder / "images" / day / f"{next_id:06d}-import.png"
    dropped.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), "red").save(dropped)
    before = dropped.read_bytes()
    outside = tmp_path / "outside.png"
    Image.new("RGB", (10, 6), "blue").save(outside)

    entry = project.import_image(outside)

    assert dropped.read_bytes() == before  # the user's file is untouched
    assert entry.path != dropped and entry.path.is_file() and (entry.width, entry.height) == (10, 6)


def test_a_mark_after_a_torn_line_survives_a_rebuild(project):
    entries = project.save_result(gen_request(), gen_result(gen_request(), 2))
    first, second = entries
    project.set_favorite(first.id, True)
    log = project.annotations().path
    with open(log, "ab") as handle:  # a crash in the middle of an append, inside a character
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

    try:
        Project.open(folder, read_only=True).close()
    except ProjectError as exc:
        assert "rebuild" in exc.user_message()
    else:
        raise AssertionError("a damaged index opened read-only without an error")
