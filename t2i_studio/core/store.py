"""What saving and upkeep work on: the project folder, its index, the write lock, new ids, marks.

A Project owns one ProjectStore and hands it to ``saving`` and ``maintenance``; they need nothing
else of the Project, so neither of them imports it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from t2i_studio.core.annotations import Annotations, safe_rel
from t2i_studio.core.index import Index, seed_from_sql
from t2i_studio.core.project_errors import UnsafePathError

UNSAFE_PLACEHOLDER = "images/refused-path-outside-the-project"


@dataclass(frozen=True)
class Entry:
    id: int
    path: Path  # where the file is now (under trash/ when deleted)
    created: str  # ISO 8601 local time
    kind: str  # "generate" | "stylize" | "import"
    width: int
    height: int
    seed: int | None
    model: str
    prompt: str
    negative_prompt: str
    params: dict  # the image's full t2i_studio JSON
    favorite: bool
    rating: int
    tags: tuple[str, ...]
    deleted: bool


class ProjectStore:
    """``lock`` serialises every change of files and rows (an RLock: upkeep holds it across steps
    that take it again); reads need no lock, the index keeps one connection per thread."""

    def __init__(self, folder: Path, index: Index, *, read_only: bool) -> None:
        self.folder = folder
        self.index = index
        self.read_only = read_only
        self.annotations = Annotations(folder)
        self.lock = threading.RLock()
        self._next = 1  # next_id also looks past the rows in the index, so nothing is read here

    # ------------------------------------------------------------ ids

    @property
    def next_id(self) -> int:
        """The id the next new entry gets: after every row, and after every id handed out."""
        with self.lock:
            return max(self._next, self.index.max_id() + 1)

    def allocate_id(self) -> int:
        with self.lock:
            entry_id = self.next_id
            self._next = entry_id + 1
            return entry_id

    def restart_ids(self, next_id: int) -> None:
        """After a rebuild or repair renumbered rows: new ids go on from ``next_id``."""
        with self.lock:
            self._next = next_id

    # ------------------------------------------------------------ rows to entries

    def file_path(self, rel: str, deleted: bool) -> Path:
        """Where the file of an entry saved at ``rel`` is now (under trash/ when deleted).

        ``rel`` comes from the index, a file anyone may have crafted: it must name a file under
        ``images/`` with no ``..``, and resolve (symlinks followed) inside the project, else
        ``UnsafePathError``: nothing is ever moved, deleted or shown from outside the project."""
        if not safe_rel(rel):
            raise UnsafePathError(f"An entry's stored path {rel!r} points outside the project's images; refused.",
                                  "Run `t2i-studio project check DIR --repair` to drop such entries.")
        path = self.folder / ("trash/" + rel if deleted else rel)
        if not path.resolve().is_relative_to(self.folder.resolve()):
            raise UnsafePathError(f"An entry's file {rel} is a link to outside the project; refused.",
                                  "Run `t2i-studio project check DIR --repair` to drop such entries.")
        return path

    def entry_from_row(self, row: sqlite3.Row | dict[str, Any]) -> Entry:
        """An Entry; ``params`` is {} when the row was read without it (a light query)."""
        deleted = bool(row["deleted"])
        params = row["params"] if "params" in row.keys() else {}
        try:
            path = self.file_path(row["path"], deleted)
        except UnsafePathError:  # listed (project check names it), but never a path outside
            path = self.folder / UNSAFE_PLACEHOLDER
        return Entry(
            id=row["id"], path=path, created=row["created"],
            kind=row["kind"], width=row["width"] or 0, height=row["height"] or 0, seed=seed_from_sql(row["seed"]),
            model=row["model"], prompt=row["prompt"], negative_prompt=row["negative"],
            params=json.loads(params) if isinstance(params, str) else dict(params),
            favorite=bool(row["favorite"]), rating=int(row["rating"]),
            tags=tuple(t for t in str(row["tags"] or "").split("\n") if t), deleted=deleted)
