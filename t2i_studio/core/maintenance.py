"""Project upkeep: trash moves, crash recovery, ``rebuild`` from the files, ``check`` and repair.

Functions here work on a ProjectStore under its lock; the Project's public methods are the way in
(they check that the project is writable first). ``rebuild`` and ``check`` read every image file,
so they report ``on_progress(done, total)`` per file and stop at ``cancel`` before they change the
index (a cancelled rebuild leaves the old index as it was).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Callable, TypeVar

from t2i_studio.core import thumbnails
from t2i_studio.core.atomic import is_temp_name, move_no_overwrite, remove_stale_temps
from t2i_studio.core.engine import CancelToken
from t2i_studio.core.image_io import read_raw, sniff_format
from t2i_studio.core.project_errors import ProjectError, UnsafePathError, os_error_message
from t2i_studio.core.scan import id_from_name, row_for_file, walk_images
from t2i_studio.core.store import ProjectStore

log = logging.getLogger(__name__)
OnProgress = Callable[[int, int], None]  # (files done, files in all)
T = TypeVar("T")
TEMP_ROOTS = ("images", "styles", "thumbs", "trash")


def _complete(path: Path) -> bool:
    raw = read_raw(path)
    return bool(raw.format) and not any("truncated" in note for note in raw.notes)


def _is_image(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return bool(sniff_format(handle.read(16)))
    except OSError:
        return False


def _inside(store: ProjectStore, row: Any) -> bool:
    try:
        store.file_path(row["path"], bool(row["deleted"]))
    except UnsafePathError:
        return False
    return True


def recover_pending(store: ProjectStore) -> int:
    """Settle rows left pending by a crash: keep those whose file was fully written."""
    index = store.index
    with store.lock:
        rows = index.rows("WHERE pending = 1")
        for row in rows:
            with index.write() as conn:
                if _inside(store, row) and _complete(store.file_path(row["path"], False)):
                    conn.execute("UPDATE entries SET pending = 0 WHERE id = ?", (row["id"],))
                else:
                    conn.execute("DELETE FROM entries WHERE id = ?", (row["id"],))
    return len(rows)


def move_entries(store: ProjectStore, ids: Iterable[int], *, to_trash: bool) -> None:
    """Move entries' files into trash/ (or back) and flag them; undoable both ways."""
    index = store.index
    with store.lock:
        for entry_id in ids:
            row = index.get(entry_id)
            if row is None or bool(row["deleted"]) == to_trash or row["pending"]:
                continue
            inside, trashed = store.file_path(row["path"], False), store.file_path(row["path"], True)
            src, dst = (inside, trashed) if to_trash else (trashed, inside)
            try:
                if src.exists():
                    move_no_overwrite(src, dst)
            except FileExistsError:
                raise ProjectError(f"Cannot {'delete' if to_trash else 'restore'} entry {entry_id}: "
                                   f"{dst} already exists.", "Move that file away and try again.") from None
            except OSError as exc:
                raise os_error_message(exc, "move the image") from exc
            with index.write() as conn:
                conn.execute("UPDATE entries SET deleted = ? WHERE id = ?", (int(to_trash), entry_id))


def empty_trash(store: ProjectStore) -> int:
    """Delete the trashed entries for good; returns how many."""
    index = store.index
    removed, refused = 0, []
    with store.lock:
        for row in index.rows("WHERE deleted = 1"):
            try:
                store.file_path(row["path"], True).unlink(missing_ok=True)
            except UnsafePathError:  # a crafted row: its file is not ours to delete
                refused.append(row["id"])
                continue
            except OSError as exc:
                raise os_error_message(exc, "empty the trash") from exc
            with index.write() as conn:
                conn.execute("DELETE FROM entries WHERE id = ?", (row["id"],))
            thumbnails.remove_thumbnails(store.folder / "thumbs", row["id"])
            removed += 1
        for base, dirs, _files in os.walk(store.folder / "trash", topdown=False):
            for name in dirs:
                try:
                    os.rmdir(os.path.join(base, name))  # only empty folders go
                except OSError:
                    pass
    if refused:
        raise UnsafePathError(f"Emptied {removed} from the trash, but refused entries "
                              f"{', '.join(map(str, refused))}: their stored paths point outside the project.",
                              "Run `t2i-studio project check DIR --repair` to drop them (no file is touched).")
    return removed


def _scan(store: ProjectStore) -> list[tuple[Path, str, bool]]:
    """(file, path inside the project as if not deleted, deleted) for every image file present."""
    found = []
    for root, deleted in ((store.folder / "images", False), (store.folder / "trash" / "images", True)):
        base = store.folder / "trash" if deleted else store.folder
        for path in walk_images(root):
            found.append((path, path.relative_to(base).as_posix(), deleted))
    return found


def _tracked(items: list[T], on_progress: OnProgress | None, cancel: CancelToken | None) -> Iterator[T]:
    """``items`` one by one: ``cancel`` checked before each, ``on_progress(done, total)`` told after."""
    total = len(items)
    if on_progress is not None:
        on_progress(0, total)
    for done, item in enumerate(items, 1):
        if cancel is not None:
            cancel.raise_if_cancelled()
        yield item
        if on_progress is not None:
            on_progress(done, total)


def _number(rows: list[dict[str, Any]], used: set[int], last_id: int) -> int:
    """Give each row an id: the NNNNNN- of its file name where that is free (ids survive a rebuild),
    otherwise a new one after ``last_id`` and every used id. Returns the next free id."""
    later = []
    for row in rows:
        wanted = id_from_name(Path(row["path"]).name)
        if wanted is not None and wanted > 0 and wanted not in used:
            used.add(wanted)
            row["id"] = wanted
        else:
            later.append(row)
    next_id = max([last_id, *used]) + 1
    for row in later:
        row["id"] = next_id
        next_id += 1
    return next_id


def _apply_marks(rows: list[dict[str, Any]], marks: dict[str, dict[str, Any]]) -> None:
    for row in rows:
        mark = marks.get(row["path"])
        if mark:
            row["favorite"] = int(bool(mark.get("favorite")))
            rating = mark.get("rating")
            row["rating"] = rating if isinstance(rating, int) and 0 <= rating <= 5 else 0
            tags = mark.get("tags") or []
            row["tags"] = [str(t) for t in tags] if isinstance(tags, list) else []


def rebuild(store: ProjectStore, *, on_progress: OnProgress | None = None,
            cancel: CancelToken | None = None) -> int:
    """Recreate the index from the image files alone (plus the marks log); returns the count.
    ``on_progress`` counts the files read."""
    with store.lock:
        files = _scan(store)
        rows = [row for path, rel, deleted in _tracked(files, on_progress, cancel)
                if (row := row_for_file(path, rel, 0, deleted=deleted)) is not None]
        next_id = _number(rows, set(), 0)  # ids once every file is read: names first
        marks = store.annotations.load()
        _apply_marks(rows, marks)
        store.index.replace_all(rows)
        store.restart_ids(next_id)
        named = {row["id"] for row in rows if id_from_name(Path(row["path"]).name) == row["id"]}
        _clean_thumbs(store, keep=named)
        present = {row["path"] for row in rows}
        try:
            store.annotations.compact({p: m for p, m in marks.items() if p in present})
        except OSError as exc:
            log.warning("Could not compact the marks log: %s", exc)
    return len(rows)


def _clean_thumbs(store: ProjectStore, keep: set[int]) -> int:
    """Remove thumbnails whose id is not in ``keep`` (ids of dropped-in files may change)."""
    removed = 0
    thumbs = store.folder / "thumbs"
    if not thumbs.is_dir():
        return 0
    for item in os.scandir(thumbs):
        parsed = thumbnails.parse_thumb_name(item.name)
        if (parsed is None and not is_temp_name(item.name)) or (parsed and parsed[0] in keep):
            continue
        try:
            os.unlink(item.path)
            removed += 1
        except OSError:
            pass
    return removed


def check(store: ProjectStore, *, repair: bool = False, on_progress: OnProgress | None = None,
          cancel: CancelToken | None = None) -> dict[str, Any]:
    """Compare the index with the files; with ``repair`` make them agree again. ``on_progress``
    counts the files compared (and, when repairing, the unindexed ones read on the way)."""
    index = store.index
    with store.lock:
        pending = recover_pending(store) if not store.read_only else 0
        rows = index.rows("WHERE pending = 0")
        by_path = {row["path"]: row for row in rows}
        files = _scan(store)
        unindexed, new_rows = [], []
        for path, rel, deleted in _tracked(files, on_progress, cancel):
            if rel not in by_path and _is_image(path):
                unindexed.append(rel)
                if repair and (row := row_for_file(path, rel, 0, deleted=deleted)) is not None:
                    new_rows.append(row)
        on_disk = {rel: deleted for _path, rel, deleted in files}
        unsafe = [row["id"] for row in rows if not _inside(store, row)]
        missing = [row["id"] for row in rows if row["path"] not in on_disk and row["id"] not in unsafe]
        misplaced = [row["id"] for row in rows
                     if row["path"] in on_disk and on_disk[row["path"]] != bool(row["deleted"])]
        ids = {row["id"] for row in rows}
        orphan_thumbs = [item.name for item in os.scandir(store.folder / "thumbs")
                         if (p := thumbnails.parse_thumb_name(item.name)) and p[0] not in ids] \
            if (store.folder / "thumbs").is_dir() else []
        temps = sum(1 for root in TEMP_ROOTS
                    for _base, _d, names in os.walk(store.folder / root) for n in names if is_temp_name(n))
        report: dict[str, Any] = {
            "entries": len(rows), "missing_files": missing, "misplaced": misplaced,
            "unindexed_files": unindexed, "orphan_thumbnails": len(orphan_thumbs),
            "temp_files": temps, "pending_recovered": pending, "unsafe_paths": unsafe,
        }
        report["ok"] = not (missing or misplaced or unindexed or orphan_thumbs or temps or unsafe)
        report["repaired"] = False
        if repair and not report["ok"]:
            missing += unsafe  # rows only: the files they name are never touched
            kept = ids - set(missing)
            store.restart_ids(_number(new_rows, set(kept), store.next_id - 1))
            _apply_marks(new_rows, store.annotations.load())
            with index.write() as conn:
                conn.executemany("DELETE FROM entries WHERE id = ?", [(i,) for i in missing])
                conn.executemany("UPDATE entries SET deleted = ? WHERE id = ?",
                                 [(int(on_disk[row["path"]]), row["id"]) for row in rows
                                  if row["id"] in misplaced])
                index.insert_many(conn, new_rows)
            _clean_thumbs(store, keep=kept)
            remove_stale_temps(store.folder / root for root in TEMP_ROOTS)
            report["repaired"] = True
            report["entries"] = index.count(include_deleted=True)
    return report
