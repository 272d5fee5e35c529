"""The project folder: images on disk (the truth), a SQLite index (a cache), a lock, the trash.

```
<project>/project.json  images/YYYY-MM-DD/NNNNNN-SEED.png  styles/<sha12>.png  thumbs/<id>.webp
          index.sqlite  annotations.jsonl  trash/images/...  exports/  inputs/<sha12>.png
```

Every public method may be called from any thread: the index keeps one SQLite connection per
thread and the writes (new ids, files, rows) are serialised by one lock. The Project is the facade:
what saving and upkeep need (folder, index, lock, ids, marks) is its ProjectStore (core/store.py),
which it hands to ``saving`` and ``maintenance``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from t2i_studio import __version__
from t2i_studio.core import maintenance, saving, thumbnails
from t2i_studio.core.atomic import remove_stale_temps, write_atomic
from t2i_studio.core.engine import CancelToken, Result
from t2i_studio.core.index import Index
from t2i_studio.core.lock import ProjectLock
from t2i_studio.core.project_errors import ImageReadError, ProjectError, ProjectLockedError, os_error_message
from t2i_studio.core.requests import Request
from t2i_studio.core.scan import now_local
from t2i_studio.core.settings import cache_dir
from t2i_studio.core.store import Entry, ProjectStore

__all__ = ["Entry", "ImageReadError", "Project", "ProjectError", "ProjectLockedError"]
log = logging.getLogger(__name__)
PROJECT_FILE = "project.json"
INDEX_FILE = "index.sqlite"
PROJECT_SCHEMA = 1
FOLDERS = ("images", "styles", "thumbs", "trash", "exports", "inputs")


def _corrupt(exc: sqlite3.DatabaseError) -> bool:
    """A damaged file (SQLITE_CORRUPT, SQLITE_NOTADB), as opposed to a disk, I/O or permission error."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (11, 26)
    return any(text in str(exc) for text in ("malformed", "not a database"))


def _migrate(meta: dict[str, Any]) -> dict[str, Any]:
    """Bring project.json up to PROJECT_SCHEMA (add a step here for every new schema)."""
    schema = meta.get("schema", 0)
    if not isinstance(schema, int) or schema > PROJECT_SCHEMA:
        raise ProjectError(f"This project was made by a newer T2I Studio (schema {schema}).",
                           "Update T2I Studio to open it.")
    if schema == 0:  # before versioning: only a name, maybe
        meta = {"name": meta.get("name"), "created": meta.get("created") or now_local(), "schema": 1}
    return meta


class Project:
    def __init__(self, folder: Path, meta: dict[str, Any], *, read_only: bool,
                 lock: ProjectLock | None) -> None:
        self.folder = folder
        self.name: str = str(meta.get("name") or folder.name)
        self.meta = meta
        self.read_only = read_only
        self._lock = lock
        self._store: ProjectStore | None = None

    # ------------------------------------------------------------ opening and closing

    @classmethod
    def create(cls, folder: Path | str, name: str | None = None) -> Project:
        folder = Path(folder).expanduser().resolve()
        if (folder / PROJECT_FILE).exists():
            raise ProjectError(f"{folder} is already a project.", "Open it instead.")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            meta = {"name": name or folder.name, "created": now_local(), "schema": PROJECT_SCHEMA,
                    "app": __version__}
            write_atomic(folder / PROJECT_FILE, json.dumps(meta, indent=2).encode(), overwrite=False)
        except FileExistsError:
            raise ProjectError(f"{folder} is already a project.", "Open it instead.") from None
        except OSError as exc:
            raise os_error_message(exc, "create the project") from exc
        return cls.open(folder)

    @classmethod
    def open(cls, folder: Path | str, *, read_only: bool = False, create: bool = False) -> Project:
        folder = Path(folder).expanduser().resolve()
        if not (folder / PROJECT_FILE).is_file():
            if create and not read_only:
                return cls.create(folder)
            raise ProjectError(f"{folder} is not a T2I Studio project (no {PROJECT_FILE}).",
                               "Create one with `t2i-studio project new DIR`.")
        try:
            meta = json.loads((folder / PROJECT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ProjectError(f"The project file {folder / PROJECT_FILE} is unreadable: {exc}") from exc
        meta = _migrate(meta if isinstance(meta, dict) else {})
        lock = None if read_only else ProjectLock(folder)
        if lock is not None:
            lock.acquire()
        project = cls(folder, meta, read_only=read_only, lock=lock)
        try:
            project._start()
        except BaseException:
            project.close()
            raise
        return project

    @classmethod
    def open_or_browse(cls, folder: Path | str, *, create: bool = False) -> Project:
        """Open for writing; when another window or process holds the project, or its folder is not
        writable, open it read-only instead (browse, search, info and export work; ``read_only``
        tells the caller to say so)."""
        try:
            return cls.open(folder, create=create)
        except ProjectLockedError:
            return cls.open(folder, read_only=True)
        except ProjectError as exc:
            cause = exc.__cause__
            denied = (isinstance(cause, OSError) and cause.errno in (errno.EACCES, errno.EPERM, errno.EROFS)) or (
                isinstance(cause, sqlite3.OperationalError)  # SQLITE_READONLY, SQLITE_CANTOPEN
                and getattr(cause, "sqlite_errorcode", 0) & 0xFF in (8, 14))
            if not denied:
                raise
            return cls.open(folder, read_only=True)

    @classmethod
    def default(cls, *, read_only: bool = False) -> Project:
        """The user's default project (under Pictures, or the data folder), made on first use."""
        from t2i_studio.core.settings import default_project_dir

        return cls.open(default_project_dir(), read_only=read_only, create=not read_only)

    def _start(self) -> None:
        index_path = self.folder / INDEX_FILE
        if self.read_only:
            if not index_path.is_file():
                raise ProjectError(f"The project {self.folder} has no index yet.",
                                   "Open it once normally (or run `t2i-studio project rebuild`).")
            self._store = ProjectStore(self.folder, Index(index_path, read_only=True), read_only=True)
            try:
                self._store.index.max_id()  # a damaged cache fails here, not on the first query
            except sqlite3.DatabaseError as exc:
                raise ProjectError(f"The project's index {index_path} is unreadable ({exc}).",
                                   "Open the project normally once (it rebuilds the index), or run "
                                   "`t2i-studio project rebuild`.") from exc
            return
        try:
            if self.meta.get("schema") != PROJECT_SCHEMA or "app" not in self.meta:
                self.meta = {**self.meta, "schema": PROJECT_SCHEMA, "app": __version__}
                write_atomic(self.folder / PROJECT_FILE, json.dumps(self.meta, indent=2).encode())
            for name in FOLDERS:
                (self.folder / name).mkdir(exist_ok=True)
            remove_stale_temps(self.folder / name for name in ("images", "styles", "thumbs", "trash", "inputs"))
        except OSError as exc:
            raise os_error_message(exc, "open the project for writing") from exc
        fresh = not index_path.exists()
        try:
            index = Index(index_path)
        except sqlite3.DatabaseError as exc:
            if not _corrupt(exc):  # full disk, no permission, I/O: the index is fine, the folder is not
                raise ProjectError(f"Could not open the project's index {index_path}: {exc}.",
                                   "The disk may be full or the folder not writable; free some space or "
                                   "check its permissions, or open the project read-only.") from exc
            log.warning("Index %s is damaged (%s); set aside and rebuilt from the images", index_path, exc)
            self._set_index_aside(index_path)
            index = Index(index_path)
            fresh = True
        self._store = ProjectStore(self.folder, index, read_only=False)
        if fresh:
            self.rebuild()
        else:
            maintenance.recover_pending(self._store)

    def _set_index_aside(self, index_path: Path) -> None:
        base = name = f"{index_path.name}.broken-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
        n = 1
        while any(index_path.with_name(name + suffix).exists() for suffix in ("", "-wal", "-shm")):
            n += 1  # a second damaged index within the second: never over the first one set aside
            name = f"{base}-{n}"
        for suffix in ("", "-wal", "-shm"):
            src = index_path.with_name(index_path.name + suffix)
            if src.exists():
                src.replace(index_path.with_name(name + suffix))

    def close(self) -> None:
        if self._store is not None:
            self._store.index.close()
            self._store = None
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def store(self) -> ProjectStore:
        """The folder, index, lock, ids and marks log that saving and upkeep work on."""
        if self._store is None:
            raise ProjectError(f"The project {self.folder} is closed.")
        return self._store

    def _writable(self) -> ProjectStore:
        if self.read_only:
            raise ProjectError(f"The project {self.folder} is open read-only.",
                               "Close the other window that has it open, then open it again.")
        return self.store

    # ------------------------------------------------------------ entries

    def get(self, entry_id: int) -> Entry | None:
        row = self.store.index.get(entry_id)
        return self.store.entry_from_row(row) if row is not None and not row["pending"] else None

    def query(self, text: str = "", *, params: bool = True, **filters: Any) -> list[Entry]:
        """One page of entries; ``params=False`` leaves each ``Entry.params`` empty ({}) instead of
        parsing its JSON: what a grid of thumbnails needs, several times faster per page."""
        store = self.store
        return [store.entry_from_row(r) for r in store.index.query(text, light=not params, **filters)]

    def count(self, text: str = "", **filters: Any) -> int:
        return self.store.index.count(text, **filters)

    def models(self) -> list[str]:
        return self.store.index.models()

    # ------------------------------------------------------------ saving

    def save_result(self, request: Request, result: Result) -> list[Entry]:
        """Write each image once (never overwriting) with its metadata, and index it."""
        return saving.save_result(self._writable(), request, result)

    def keep_input(self, image: Any) -> Path:
        """A picture made in the window (a painted mask) as a file of the project, by content hash."""
        return saving.keep_input(self._writable().folder, image)

    def import_image(self, path: Path | str) -> Entry:
        """Copy an outside image in (its bytes and metadata kept; other formats become PNG)."""
        return saving.import_image(self._writable(), path)

    # ------------------------------------------------------------ marks

    def _mark(self, entry_id: int, column: str, value: Any, note: Any) -> None:
        store = self._writable()
        with store.index.write() as conn:
            row = conn.execute("SELECT path FROM entries WHERE id = ?", (int(entry_id),)).fetchone()
            if row is None:
                raise ProjectError(f"No entry {entry_id} in this project.")
            # the log first: a mark it could not record (disk full) is not shown as saved either
            store.annotations.append(row["path"], **{column: note})
            conn.execute(f"UPDATE entries SET {column} = ? WHERE id = ?", (value, int(entry_id)))

    def set_favorite(self, entry_id: int, value: bool) -> None:
        self._mark(entry_id, "favorite", int(bool(value)), bool(value))

    def set_rating(self, entry_id: int, rating: int) -> None:
        if not isinstance(rating, int) or not 0 <= rating <= 5:
            raise ValueError(f"Rating must be a whole number from 0 to 5, got {rating!r}.")
        self._mark(entry_id, "rating", rating, rating)

    # ------------------------------------------------------------ trash, thumbnails, maintenance

    def delete(self, ids: Iterable[int]) -> None:
        maintenance.move_entries(self._writable(), ids, to_trash=True)

    def restore(self, ids: Iterable[int]) -> None:
        maintenance.move_entries(self._writable(), ids, to_trash=False)

    def empty_trash(self) -> int:
        return maintenance.empty_trash(self._writable())

    def thumbnail(self, entry_id: int, size: int = 256) -> Path:
        store = self.store
        location = store.index.location(entry_id)  # the path only: pool threads, many per second
        if location is None:
            raise ProjectError(f"No entry {entry_id} in this project.")
        image = store.file_path(*location)
        if not self.read_only:
            try:
                return thumbnails.ensure_thumbnail(image, self.folder / "thumbs", entry_id, size)
            except PermissionError:
                pass
        # read-only, or a folder we cannot write: this user's private cache, never a shared temp
        # folder where another user could plant the thumbnails we would show
        key = hashlib.sha256(str(self.folder.resolve()).encode()).hexdigest()[:16]
        return thumbnails.ensure_thumbnail(image, thumbnails.private_folder(cache_dir() / "thumbs") / key,
                                           entry_id, size)

    def rebuild(self, *, on_progress: maintenance.OnProgress | None = None,
                cancel: CancelToken | None = None) -> int:
        """Recreate the index from the image files; ``on_progress(done, total)`` counts files read."""
        return maintenance.rebuild(self._writable(), on_progress=on_progress, cancel=cancel)

    def check(self, repair: bool = False, *, on_progress: maintenance.OnProgress | None = None,
              cancel: CancelToken | None = None) -> dict:
        """Compare the index with the files (and make them agree with ``repair``)."""
        store = self._writable() if repair else self.store
        return maintenance.check(store, repair=repair, on_progress=on_progress, cancel=cancel)
