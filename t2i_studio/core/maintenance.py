"""Project upkeep: trash moves, crash recovery, ``rebuild`` from the files, ``check`` and repair.

Functions here take the Project and work under its save lock; the Project's public methods are
the way in (they check that the project is writable first).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from t2i_studio.core import thumbnails
from t2i_studio.core.atomic import is_temp_name, remove_stale_temps
from t2i_studio.core.image_io import read_raw, sniff_format
from t2i_studio.core.project_errors import ProjectError, os_error_message
from t2i_studio.core.scan import id_from_name, row_for_file, walk_images

if TYPE_CHECKING:
    from t2i_studio.core.project import Project

log = logging.getLogger(__name__)
TRASH = "trash/"


def _complete(path: Path) -> bool:
    raw = read_raw(path)
    return bool(raw.format) and not any("truncated" in note for note in raw.notes)


def _is_image(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return bool(sniff_format(handle.read(16)))
    except OSError:
        return False


def recover_pending(project: Project) -> int:
    """Settle rows left pending by a crash: keep those whose file was fully written."""
    index = project.index
    with project._save_lock:
        rows = index.rows("WHERE pending = 1")
        for row in rows:
            with index.write() as conn:
                if _complete(project.folder / row["path"]):
                    conn.execute("UPDATE entries SET pending = 0 WHERE id = ?", (row["id"],))
                else:
                    conn.execute("DELETE FROM entries WHERE id = ?", (row["id"],))
    return len(rows)


def move_entries(project: Project, ids: Iterable[int], *, to_trash: bool) -> None:
    """Move entries' files into trash/ (or back) and flag them; undoable both ways."""
    index = project.index
    with project._save_lock:
        for entry_id in ids:
            row = index.get(entry_id)
            if row is None or bool(row["deleted"]) == to_trash or row["pending"]:
                continue
            rel = row["path"]
            inside, trashed = project.folder / rel, project.folder / (TRASH + rel)
            src, dst = (inside, trashed) if to_trash else (trashed, inside)
            try:
                if src.exists():
                    project.move_file(src, dst)
            except FileExistsError:
                raise ProjectError(f"Cannot {'delete' if to_trash else 'restore'} entry {entry_id}: "
                                   f"{dst} already exists.", "Move that file away and try again.") from None
            except OSError as exc:
                raise os_error_message(exc, "move the image") from exc
            with index.write() as conn:
                conn.execute("UPDATE entries SET deleted = ? WHERE id = ?", (int(to_trash), entry_id))


def empty_trash(project: Project) -> int:
    """Delete the trashed entries for good; returns how many."""
    index = project.index
    removed = 0
    with project._save_lock:
        for row in index.rows("WHERE deleted = 1"):
            path = project.folder / (TRASH + row["path"])
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise os_error_message(exc, "empty the trash") from exc
            with index.write() as conn:
                conn.execute("DELETE FROM entries WHERE id = ?", (row["id"],))
            thumbnails.remove_thumbnails(project.folder / "thumbs", row["id"])
            removed += 1
        for base, dirs, _files in os.walk(project.folder / "trash", topdown=False):
            for name in dirs:
                try:
                    os.rmdir(os.path.join(base, name))  # only empty folders go
                except OSError:
                    pass
    return removed


def _scan(project: Project) -> list[tuple[Path, str, bool]]:
    """(file, path inside the project as if not deleted, deleted) for every image file present."""
    found = []
    for root, deleted in ((project.folder / "images", False), (project.folder / "trash" / "images", True)):
        base = project.folder / "trash" if deleted else project.folder
        for path in walk_images(root):
            found.append((path, path.relative_to(base).as_posix(), deleted))
    return found


def rows_for_files(project: Project, files: list[tuple[Path, str, bool]], used: set[int],
                   last_id: int) -> tuple[list[dict[str, Any]], int]:
    """Index rows for files: ids from NNNNNN- names where free, new ids (after ``last_id`` and
    every used one) otherwise. Returns the rows and the next free id."""
    rows, later = [], []
    for path, rel, deleted in files:
        wanted = id_from_name(path.name)
        if wanted is not None and wanted not in used and wanted > 0:
            used.add(wanted)
            row = row_for_file(path, rel, wanted, deleted=deleted)
            if row is not None:
                rows.append(row)
            else:
                used.discard(wanted)
        else:
            later.append((path, rel, deleted))
    next_id = max([last_id, *used]) + 1
    for path, rel, deleted in later:
        row = row_for_file(path, rel, next_id, deleted=deleted)
        if row is not None:
            rows.append(row)
            used.add(next_id)
            next_id += 1
    return rows, next_id


def _apply_marks(rows: list[dict[str, Any]], marks: dict[str, dict[str, Any]]) -> None:
    for row in rows:
        mark = marks.get(row["path"])
        if mark:
            row["favorite"] = int(bool(mark.get("favorite")))
            rating = mark.get("rating")
            row["rating"] = rating if isinstance(rating, int) and 0 <= rating <= 5 else 0
            tags = mark.get("tags") or []
            row["tags"] = [str(t) for t in tags] if isinstance(tags, list) else []


def rebuild(project: Project) -> int:
    """Recreate the index from the image files alone (plus the marks log); returns the count."""
    index = project.index
    with project._save_lock:
        files = _scan(project)
        rows, next_id = rows_for_files(project, files, set(), 0)
        marks = project.annotations().load()
        _apply_marks(rows, marks)
        with index.write() as conn:
            conn.execute("DELETE FROM entries")
            conn.executemany(
                f"INSERT INTO entries({', '.join(_cols())}) VALUES ({', '.join('?' * len(_cols()))})",
                (index.row_values(r) for r in rows))
        project._next = next_id
        named = {row["id"] for row in rows if id_from_name(Path(row["path"]).name) == row["id"]}
        _clean_thumbs(project, keep=named)
        present = {row["path"] for row in rows}
        try:
            project.annotations().compact({p: m for p, m in marks.items() if p in present})
        except OSError as exc:
            log.warning("Could not compact the marks log: %s", exc)
    return len(rows)


def _cols() -> tuple[str, ...]:
    from t2i_studio.core.index import COLUMNS

    return COLUMNS


def _clean_thumbs(project: Project, keep: set[int]) -> int:
    """Remove thumbnails whose id is not in ``keep`` (ids of dropped-in files may change)."""
    removed = 0
    thumbs = project.folder / "thumbs"
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


def check(project: Project, *, repair: bool = False) -> dict[str, Any]:
    """Compare the index with the files; with ``repair`` make them agree again."""
    index = project.index
    with project._save_lock:
        pending = recover_pending(project) if not project.read_only else 0
        rows = index.rows("WHERE pending = 0")
        by_path = {row["path"]: row for row in rows}
        files = _scan(project)
        on_disk = {rel: (path, deleted) for path, rel, deleted in files}
        missing = [row["id"] for row in rows if row["path"] not in on_disk]
        misplaced = [row["id"] for row in rows
                     if row["path"] in on_disk and on_disk[row["path"]][1] != bool(row["deleted"])]
        unindexed = [(path, rel, deleted) for path, rel, deleted in files
                     if rel not in by_path and _is_image(path)]
        ids = {row["id"] for row in rows}
        orphan_thumbs = [item.name for item in os.scandir(project.folder / "thumbs")
                         if (p := thumbnails.parse_thumb_name(item.name)) and p[0] not in ids] \
            if (project.folder / "thumbs").is_dir() else []
        temps = sum(1 for root in ("images", "styles", "thumbs", "trash")
                    for base, _d, names in os.walk(project.folder / root) for n in names if is_temp_name(n))
        report: dict[str, Any] = {
            "entries": len(rows), "missing_files": missing, "misplaced": misplaced,
            "unindexed_files": [rel for _p, rel, _d in unindexed], "orphan_thumbnails": len(orphan_thumbs),
            "temp_files": temps, "pending_recovered": pending,
        }
        report["ok"] = not (missing or misplaced or unindexed or orphan_thumbs or temps)
        report["repaired"] = False
        if repair and not report["ok"]:
            with index.write() as conn:
                conn.executemany("DELETE FROM entries WHERE id = ?", [(i,) for i in missing])
                for row in rows:
                    if row["id"] in misplaced:
                        conn.execute("UPDATE entries SET deleted = ? WHERE id = ?",
                                     (int(on_disk[row["path"]][1]), row["id"]))
            new_rows, project._next = rows_for_files(project, unindexed, set(ids) - set(missing),
                                                     max(project._next - 1, index.max_id()))
            _apply_marks(new_rows, project.annotations().load())
            if new_rows:
                index.insert_many(new_rows)
            _clean_thumbs(project, keep=ids - set(missing))
            remove_stale_temps(project.folder / root for root in ("images", "styles", "thumbs", "trash"))
            report["repaired"] = True
            report["entries"] = index.count(include_deleted=True)
    return report
