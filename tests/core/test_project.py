"""The project store: saving, naming, the index queries, marks, trash, thumbnails, lock, threads."""

from __future__ import annotations

import json
import re
import threading
from datetime import date, timedelta

import pytest
from project_testkit import FINGERPRINT, gen_request, gen_result, images, style_request
from PIL import Image

from t2i_studio.core.engine import Result
from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.project import Entry, Project, ProjectError, ProjectLockedError
from t2i_studio.core.scan import now_local


def test_create_layout_and_project_json(project):
    for name in ("images", "styles", "thumbs", "trash", "exports"):
        assert (project.folder / name).is_dir()
    meta = json.loads((project.folder / "project.json").read_text())
    assert meta["schema"] == 1 and meta["name"] == "proj" and meta["created"]
    assert (project.folder / "index.sqlite").is_file()
    with pytest.raises(ProjectError, match="already a project"):
        Project.create(project.folder)


def test_open_missing_project_and_migration(tmp_path):
    with pytest.raises(ProjectError, match="not a T2I Studio project"):
        Project.open(tmp_path / "nothing")
    old = tmp_path / "old"
    old.mkdir()
    (old / "project.json").write_text(json.dumps({"name": "Old one"}))  # schema 0
    with Project.open(old) as proj:
        assert proj.name == "Old one"
    assert json.loads((old / "project.json").read_text())["schema"] == 1
    (old / "project.json").write_text(json.dumps({"name": "x", "schema": 99}))
    with pytest.raises(ProjectError, match="newer T2I Studio"):
        Project.open(old)


def test_save_result_names_seeds_and_metadata(project):
    request = gen_request(batch_size=3)
    entries = project.save_result(request, gen_result(request))
    assert [e.seed for e in entries] == [1234, 1235, 1236]
    for entry in entries:
        assert isinstance(entry, Entry) and entry.kind == "generate" and not entry.deleted
        assert re.fullmatch(rf"\d{{4}}-\d\d-\d\d/{entry.id:06d}-{entry.seed}\.png",
                            entry.path.relative_to(project.folder / "images").as_posix())
        assert entry.params["request"] == request.to_dict() and entry.params["seed"] == entry.seed
        assert entry.params["fingerprint"] == FINGERPRINT and entry.prompt == request.prompt
        assert (entry.width, entry.height) == (64, 48) and entry.model == "runwayml/sd-tiny"
        meta = read_metadata(entry.path)
        assert meta.source == "t2i_studio" and meta.request == request and meta.seed == entry.seed
        assert project.get(entry.id) == entry
    # the next result never reuses a name
    more = project.save_result(request, gen_result(request))
    assert {e.id for e in more}.isdisjoint({e.id for e in entries})
    assert project.get(99999) is None


def test_save_result_checks_seed_count(project):
    with pytest.raises(ValueError, match="seeds"):
        project.save_result(gen_request(), Result(images=images(2), seeds=[1]))


def test_style_result_stores_style_copies(project, tmp_path):
    request, result = style_request(tmp_path)
    [entry] = project.save_result(request, result)
    assert entry.kind == "stylize" and entry.model == "vgg19" and "content.png" in entry.prompt
    style = entry.params["lineage"]["styles"][0]
    assert style["stored"] == f"styles/{style['sha256'][:12]}.png"
    stored = project.folder / style["stored"]
    assert Image.open(stored).format == "PNG" and Image.open(stored).size == (30, 30)
    assert read_metadata(entry.path).request == request
    project.save_result(request, result)  # the same style again: one copy
    assert len(list((project.folder / "styles").iterdir())) == 1


def test_import_image_keeps_bytes_and_reads_metadata(project, tmp_path):
    outside = tmp_path / "a1111.png"
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a castle\nNegative prompt: fog\nSteps: 30, Sampler: Euler a, CFG scale: 5, "
                                "Seed: 77, Size: 512x512, Model: dreamy")
    Image.new("RGB", (32, 32), "blue").save(outside, pnginfo=info)
    entry = project.import_image(outside)
    assert entry.kind == "import" and entry.seed == 77 and entry.prompt == "a castle"
    assert entry.path.read_bytes() == outside.read_bytes() and entry.path.name.endswith("-import.png")
    assert entry.params["source"] == "a1111" and entry.params["request"]["sampling"]["steps"] == 30
    jpeg = tmp_path / "photo.png"  # a JPEG with a wrong extension: kept as .jpg
    Image.new("RGB", (20, 10), "red").save(jpeg, format="JPEG")
    other = project.import_image(jpeg)
    assert other.path.suffix == ".jpg" and other.params["source"] == "none"
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image at all")
    from t2i_studio.core.project import ImageReadError

    with pytest.raises(ImageReadError):
        project.import_image(bad)


def test_import_never_deletes_a_file_that_already_has_its_name(project, tmp_path):
    # A file dropped into images/ by hand (not indexed yet) holds the name the next import would get.
    day = now_local()[:10]
    dropped = project.folder / "images" / day / f"{project.store.next_id:06d}-import.png"
    dropped.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), "red").save(dropped)
    before = dropped.read_bytes()
    outside = tmp_path / "outside.png"
    Image.new("RGB", (10, 6), "blue").save(outside)

    entry = project.import_image(outside)

    assert dropped.read_bytes() == before  # the user's file is untouched
    assert entry.path != dropped and entry.path.is_file() and (entry.width, entry.height) == (10, 6)
    assert project.get(entry.id) == entry


def test_tags_from_the_marks_log_are_shown_and_searched(project):
    fox1, fox2, _whale, _tokyo = _fill(project)
    rel = fox2.path.relative_to(project.folder).as_posix()
    project.store.annotations.append(rel, tags=["Sketch ideas", "client A"])
    project.rebuild()
    assert project.get(fox2.id).tags == ("Sketch ideas", "client A")
    assert [e.id for e in project.query("client")] == [fox2.id]  # tags are searched
    assert project.get(fox1.id).tags == ()


def _fill(project):
    a = project.save_result(gen_request("a red fox, winter", seed=1, batch_size=2),
                            gen_result(gen_request(seed=1, batch_size=2)))
    b = project.save_result(gen_request("blue whale in deep ocean", model="other/model", seed=5),
                            gen_result(gen_request(seed=5)))
    c = project.save_result(gen_request("東京の夜景 neon city", seed=9), gen_result(gen_request(seed=9)))
    return a + b + c


def test_queries_search_filters_sorting(project):
    fox1, fox2, whale, tokyo = _fill(project)
    assert [e.id for e in project.query()] == [tokyo.id, whale.id, fox2.id, fox1.id]  # newest first
    assert [e.id for e in project.query(sort="oldest")][0] == fox1.id
    assert {e.id for e in project.query("fox")} == {fox1.id, fox2.id}
    assert {e.id for e in project.query("wint")} == {fox1.id, fox2.id}  # prefix match
    assert [e.id for e in project.query("blurry")] != []  # negative prompt is searched
    assert [e.id for e in project.query("東京")] == [tokyo.id]  # CJK substring
    assert project.query("fox whale") == []
    assert project.count("fox") == 2 and project.count() == 4
    assert [e.id for e in project.query(model="other/model")] == [whale.id]
    assert project.models() == ["other/model", "runwayml/sd-tiny"]
    assert project.query(kind="stylize") == [] and project.count(kind="generate") == 4
    today = date.today()
    assert project.count(date_from=today, date_to=today) == 4
    assert project.count(date_from=today + timedelta(days=1)) == 0
    assert project.count(date_to=str(today - timedelta(days=1))) == 0
    assert [e.id for e in project.query(limit=2, offset=1)] == [whale.id, fox2.id]
    project.set_rating(whale.id, 5)
    project.set_rating(fox1.id, 3)
    assert [e.id for e in project.query(sort="rating")][:2] == [whale.id, fox1.id]
    assert [e.model for e in project.query(sort="model")][0] == "other/model"
    with pytest.raises(ValueError, match="Sort"):
        project.query(sort="random")
    assert project.query('"; DROP TABLE entries; --') == []  # search text is never SQL
    assert project.count() == 4


def test_marks_favorites_and_rating(project):
    fox1, fox2, _whale, _tokyo = _fill(project)
    project.set_favorite(fox1.id, True)
    project.set_rating(fox2.id, 2)
    assert project.get(fox1.id).favorite and project.count(favorites_only=True) == 1
    assert project.get(fox2.id).rating == 2
    project.set_favorite(fox1.id, False)
    assert project.count(favorites_only=True) == 0
    with pytest.raises(ValueError, match="Rating"):
        project.set_rating(fox1.id, 6)
    with pytest.raises(ProjectError, match="No entry"):
        project.set_favorite(4242, True)


def test_trash_restore_empty(project):
    fox1, fox2, whale, _tokyo = _fill(project)
    original = fox1.path
    project.delete([fox1.id, whale.id])
    assert not original.exists() and project.get(fox1.id).deleted
    assert project.get(fox1.id).path == project.folder / "trash" / original.relative_to(project.folder)
    assert project.get(fox1.id).path.is_file()
    assert project.count() == 2 and project.count(include_deleted=True) == 4
    assert fox1.id not in {e.id for e in project.query("fox")}
    project.restore([fox1.id])
    assert original.is_file() and not project.get(fox1.id).deleted
    assert project.check()["ok"]
    assert project.empty_trash() == 1
    assert project.get(whale.id) is None and project.count(include_deleted=True) == 3
    assert not any(p.is_file() for p in (project.folder / "trash").rglob("*"))


def test_thumbnails_lazy_sizes(project):
    [entry] = project.save_result(gen_request(), Result(images=[Image.new("RGB", (900, 300), "red")], seeds=[1]))
    thumb = project.thumbnail(entry.id)
    assert thumb == project.folder / "thumbs" / f"{entry.id}.webp"
    with Image.open(thumb) as im:
        assert im.format == "WEBP" and im.size == (256, 85)
    with Image.open(project.thumbnail(entry.id, 512)) as im:
        assert im.size == (512, 171)
    assert project.thumbnail(entry.id) == thumb  # cached
    with pytest.raises(ValueError):
        project.thumbnail(entry.id, 300)
    with pytest.raises(ProjectError):
        project.thumbnail(12345)


def test_lock_in_process_read_only_and_release(tmp_path):
    proj = Project.create(tmp_path / "p")
    with pytest.raises(ProjectLockedError, match=r"already open in another window \(pid \d+\)"):
        Project.open(tmp_path / "p")
    with Project.open(tmp_path / "p", read_only=True) as ro:
        assert ro.read_only and ro.count() == 0
        with pytest.raises(ProjectError, match="read-only"):
            ro.save_result(gen_request(), gen_result(gen_request()))
    proj.save_result(gen_request(), gen_result(gen_request()))
    with Project.open(tmp_path / "p", read_only=True) as ro:
        assert ro.count() == 1  # sees what the writer saved
    proj.close()
    with Project.open(tmp_path / "p") as again:
        assert again.count() == 1


def test_stale_lock_owner_file_is_ignored(tmp_path):
    Project.create(tmp_path / "p").close()
    (tmp_path / "p" / ".lock.owner").write_text(json.dumps({"pid": 999999, "host": "x"}))
    (tmp_path / "p" / ".lock").write_text("")
    with Project.open(tmp_path / "p") as proj:  # the OS lock is free: the stale files don't matter
        assert not proj.read_only


def test_threads_query_while_saving(project):
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader():
        try:
            while not stop.is_set():
                for entry in project.query("fox", limit=20):
                    project.thumbnail(entry.id)
                project.count()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for k in range(10):
            request = gen_request(seed=k * 10, batch_size=2)
            project.save_result(request, gen_result(request))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors
    assert project.count() == 20 and project.check()["ok"]
