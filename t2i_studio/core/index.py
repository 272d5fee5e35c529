"""The project's SQLite index (WAL + FTS5): a cache of the PNGs, rebuildable at any time.

One connection per thread (SQLite connections are not shared between threads here); writes are
serialised by a lock. ``pending`` rows mark images being written: a crash between the row and the
file leaves a pending row that ``recover_pending`` settles on the next open.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

INDEX_VERSION = 2  # 2: FTS5 trigram tokenizer (words in any script, anywhere in a prompt)
COLUMNS = ("id", "path", "created", "kind", "width", "height", "seed", "model", "prompt", "negative",
           "params", "favorite", "rating", "tags", "deleted", "pending")
LIGHT_COLUMNS = tuple(c for c in COLUMNS if c != "params")  # what a grid cell shows: no JSON to parse
_INSERT = f"INSERT INTO entries({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
SORTS = {
    "newest": "e.created DESC, e.id DESC",
    "oldest": "e.created ASC, e.id ASC",
    "rating": "e.rating DESC, e.created DESC, e.id DESC",
    "model": "e.model ASC, e.created DESC, e.id DESC",
}
# "Comes after this row" in each sort, and the row's columns it binds: a page that starts from a known
# row (keyset) is an index seek, where OFFSET steps through every earlier entry (100,000 deep at the
# end of a big project). The model sort mixes directions, so it seeks to the model and filters ties.
AFTER = {
    "newest": ("(e.created, e.id) < (?, ?)", ("created", "id")),
    "oldest": ("(e.created, e.id) > (?, ?)", ("created", "id")),
    "rating": ("(e.rating, e.created, e.id) < (?, ?, ?)", ("rating", "created", "id")),
    "model": ("e.model >= ? AND (e.model > ? OR (e.created, e.id) < (?, ?))", ("model", "model", "created", "id")),
}
# The live_* indexes start with every column the gallery always filters on (deleted, pending) and
# end with the optional filters, so counting, deep OFFSET pages and filtered pages are answered from
# the index alone, without reading a row (and its large params JSON) per skipped entry.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS entries(
    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, created TEXT NOT NULL, kind TEXT NOT NULL,
    width INTEGER, height INTEGER, seed INTEGER, model TEXT NOT NULL DEFAULT '',
    prompt TEXT NOT NULL DEFAULT '', negative TEXT NOT NULL DEFAULT '', params TEXT NOT NULL DEFAULT '{}',
    favorite INTEGER NOT NULL DEFAULT 0, rating INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
    tags TEXT NOT NULL DEFAULT '', deleted INTEGER NOT NULL DEFAULT 0, pending INTEGER NOT NULL DEFAULT 0);
DROP INDEX IF EXISTS by_created;
DROP INDEX IF EXISTS by_rating;
DROP INDEX IF EXISTS by_model;
DROP INDEX IF EXISTS by_favorite;
CREATE INDEX IF NOT EXISTS live_created ON entries(deleted, pending, created, id, favorite, kind, model);
CREATE INDEX IF NOT EXISTS live_rating ON entries(deleted, pending, rating, created, id, favorite, kind, model);
CREATE INDEX IF NOT EXISTS live_model ON entries(deleted, pending, model, created DESC, id DESC, favorite, kind);
CREATE INDEX IF NOT EXISTS live_favorite ON entries(deleted, pending, favorite, created, id);
CREATE INDEX IF NOT EXISTS by_pending ON entries(pending) WHERE pending = 1;
CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts USING fts5(
    prompt, negative, tags, content='entries', content_rowid='id', tokenize='trigram');
CREATE TRIGGER IF NOT EXISTS entries_ai AFTER INSERT ON entries BEGIN
  INSERT INTO entries_fts(rowid, prompt, negative, tags) VALUES (new.id, new.prompt, new.negative, new.tags);
END;
CREATE TRIGGER IF NOT EXISTS entries_ad AFTER DELETE ON entries BEGIN
  INSERT INTO entries_fts(entries_fts, rowid, prompt, negative, tags)
  VALUES ('delete', old.id, old.prompt, old.negative, old.tags);
END;
CREATE TRIGGER IF NOT EXISTS entries_au AFTER UPDATE OF prompt, negative, tags ON entries BEGIN
  INSERT INTO entries_fts(entries_fts, rowid, prompt, negative, tags)
  VALUES ('delete', old.id, old.prompt, old.negative, old.tags);
  INSERT INTO entries_fts(rowid, prompt, negative, tags) VALUES (new.id, new.prompt, new.negative, new.tags);
END;
"""
# Version 1 used the unicode61 tokenizer, which keeps a run of CJK (or Thai ...) text as one token,
# so a word inside it was never found; trigram indexes every three characters of any script.
_MIGRATE_TO_TRIGRAM = """
DROP TABLE IF EXISTS entries_fts;
CREATE VIRTUAL TABLE entries_fts USING fts5(
    prompt, negative, tags, content='entries', content_rowid='id', tokenize='trigram');
INSERT INTO entries_fts(entries_fts) VALUES ('rebuild');
UPDATE meta SET value = '2' WHERE key = 'version';
"""
_WORD = re.compile(r"\w+", re.UNICODE)
_SQLITE_READONLY, _SQLITE_CANTOPEN = 8, 14
_TRIGRAM = 3  # shorter words cannot use the trigram index: they are matched with LIKE


def fts_query(words: list[str]) -> str | None:
    """Words -> an FTS5 trigram query: each must occur somewhere (any case). None when no words."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in words) or None


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def seed_from_sql(value: Any) -> int | None:
    """A stored seed back as the 64-bit unsigned seed it was (see ``Index.row_values``)."""
    return value + 2**64 if isinstance(value, int) and value < 0 else value


def _day_bound(value: Any, end: bool) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return (value + timedelta(days=1)).isoformat() if end else value.isoformat()
    text = str(value)
    if end and len(text) == 10:  # a bare day: up to the end of it
        return (date.fromisoformat(text) + timedelta(days=1)).isoformat()
    return text


class Index:
    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self.write_lock = threading.RLock()
        self._trigram: bool | None = None  # the full-text index can answer searches (else LIKE)
        if not read_only:
            with self.write_lock:
                conn = self.conn()
                fresh = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is None
                conn.executescript(_SCHEMA)
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('version', ?)",
                             (str(INDEX_VERSION) if fresh else "1",))
                if self.version() < 2:
                    conn.executescript(f"BEGIN IMMEDIATE; {_MIGRATE_TO_TRIGRAM} COMMIT;")

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.read_only:
                conn = self._read_only_connection()
            else:
                conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10,
                                       isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
            with self._guard:
                self._all.append(conn)
        return conn

    def _read_only_connection(self) -> sqlite3.Connection:
        """``mode=ro``; where even that fails because SQLite cannot make its shared-memory file (a
        folder this user cannot write), ``immutable=1``: the file is read as it is, which is all a
        user who cannot write there can see anyway."""
        uri = self.path.resolve().as_uri()
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False, timeout=10,
                               isolation_level=None)
        try:
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in (_SQLITE_READONLY, _SQLITE_CANTOPEN):
                raise
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False, timeout=10,
                               isolation_level=None)

    def version(self) -> int:
        row = self.conn().execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        return int(row[0]) if row else 1

    def close(self) -> None:
        with self._guard:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A transaction, serialised across the threads of this process."""
        with self.write_lock:
            conn = self.conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # ------------------------------------------------------------ rows

    @staticmethod
    def row_values(row: dict[str, Any]) -> tuple:
        values = dict(row)
        if isinstance(values.get("seed"), int) and values["seed"] >= 2**63:  # SQLite integers are signed
            values["seed"] -= 2**64
        values["params"] = json.dumps(values.get("params") or {}, ensure_ascii=False, default=str)
        tags = values.get("tags") or ()
        values["tags"] = tags if isinstance(tags, str) else "\n".join(tags)
        return tuple(values.get(c, 0 if c in ("favorite", "rating", "deleted", "pending") else None)
                     for c in COLUMNS)

    def insert(self, conn: sqlite3.Connection, row: dict[str, Any]) -> None:
        conn.execute(_INSERT, self.row_values(row))

    def insert_many(self, conn: sqlite3.Connection, rows: Iterable[dict[str, Any]]) -> None:
        """Add ``rows`` inside the transaction ``conn`` (from ``write()``)."""
        conn.executemany(_INSERT, (self.row_values(r) for r in rows))

    def replace_all(self, rows: Iterable[dict[str, Any]]) -> None:
        """Every entry replaced by ``rows`` in one transaction: a reader sees the old set or the new."""
        with self.write() as conn:
            conn.execute("DELETE FROM entries")
            self.insert_many(conn, rows)

    def max_id(self) -> int:
        return int(self.conn().execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()[0])

    def get(self, entry_id: int) -> sqlite3.Row | None:
        return self.conn().execute("SELECT * FROM entries WHERE id = ?", (int(entry_id),)).fetchone()

    def location(self, entry_id: int) -> tuple[str, bool] | None:
        """(path inside the project, deleted) of a saved entry: no params read (thumbnail threads)."""
        row = self.conn().execute("SELECT path, deleted FROM entries WHERE id = ? AND pending = 0",
                                  (int(entry_id),)).fetchone()
        return (row["path"], bool(row["deleted"])) if row is not None else None

    def rows(self, sql: str = "", args: tuple = ()) -> list[sqlite3.Row]:
        return self.conn().execute(f"SELECT * FROM entries {sql}", args).fetchall()

    # ------------------------------------------------------------ queries

    def _where(self, text: str, favorites_only: bool, kind: str | None, model: str | None,
               date_from: Any, date_to: Any, include_deleted: bool) -> tuple[str, list[Any]]:
        clauses = ["e.pending = 0"]
        args: list[Any] = []
        if not include_deleted:
            clauses.append("e.deleted = 0")
        if favorites_only:
            clauses.append("e.favorite = 1")
        if kind:
            clauses.append("e.kind = ?")
            args.append(kind)
        if model is not None and model != "":
            clauses.append("e.model = ?")
            args.append(model)
        low, high = _day_bound(date_from, False), _day_bound(date_to, True)
        if low:
            clauses.append("e.created >= ?")
            args.append(low)
        if high:
            clauses.append("e.created < ?" if len(str(high)) == 10 else "e.created <= ?")
            args.append(high)
        words = _WORD.findall(text or "")
        if self._trigram is None:  # an older index opened read-only is not migrated: searched with LIKE
            self._trigram = self.version() >= 2
        indexed = [w for w in words if len(w) >= _TRIGRAM] if self._trigram else []
        match = fts_query(indexed)
        if match:
            clauses.append("e.id IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?)")
            args.append(match)
        for word in (w for w in words if w not in indexed):
            clauses.append("(e.prompt LIKE ? ESCAPE '\\' OR e.negative LIKE ? ESCAPE '\\' "
                           "OR e.tags LIKE ? ESCAPE '\\')")
            args += [_like(word)] * 3
        return " AND ".join(clauses), args

    def query(self, text: str = "", *, favorites_only: bool = False, kind: str | None = None,
              model: str | None = None, date_from: Any = None, date_to: Any = None, sort: str = "newest",
              offset: int = 0, limit: int = 200, include_deleted: bool = False,
              light: bool = False, after: Mapping[str, Any] | None = None) -> list[sqlite3.Row]:
        """Rows of one page; ``light`` leaves out ``params`` (the grid never needs it). ``after`` (the
        sort's columns of a row, see ``AFTER``) starts the page after that row, ``offset`` counting
        from there."""
        if sort not in SORTS:
            raise ValueError(f"Sort must be one of {', '.join(SORTS)}; got {sort!r}.")
        where, args = self._where(text, favorites_only, kind, model, date_from, date_to, include_deleted)
        if after is not None:
            condition, keys = AFTER[sort]
            where += f" AND {condition}"
            args += [after[k] for k in keys]
        columns = ", ".join(f"e.{c}" for c in LIGHT_COLUMNS) if light else "e.*"
        sql = f"SELECT {columns} FROM entries e WHERE {where} ORDER BY {SORTS[sort]} LIMIT ? OFFSET ?"
        return self.conn().execute(sql, (*args, max(int(limit), 0), max(int(offset), 0))).fetchall()

    def count(self, text: str = "", *, favorites_only: bool = False, kind: str | None = None,
              model: str | None = None, date_from: Any = None, date_to: Any = None,
              include_deleted: bool = False, **_ignored: Any) -> int:
        where, args = self._where(text, favorites_only, kind, model, date_from, date_to, include_deleted)
        return int(self.conn().execute(f"SELECT COUNT(*) FROM entries e WHERE {where}", args).fetchone()[0])

    def models(self) -> list[str]:
        rows = self.conn().execute(
            "SELECT DISTINCT model FROM entries WHERE deleted = 0 AND pending = 0 AND model != '' "
            "ORDER BY model").fetchall()
        return [r[0] for r in rows]
