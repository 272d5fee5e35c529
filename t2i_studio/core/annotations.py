"""The user's marks on images (favourite, rating, tags), kept outside the index too.

The index is a cache that ``rebuild`` recreates from the PNGs; marks are not in the PNGs, so each
change is also appended to ``annotations.jsonl`` (one JSON object per line, keyed by the image's
path inside the project). Appends are small and a torn last line is skipped, so the log survives
crashes; ``rebuild`` replays it and then compacts it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any

from t2i_studio.core.atomic import write_atomic
from t2i_studio.core.project_errors import os_error_message

log = logging.getLogger(__name__)
FILE_NAME = "annotations.jsonl"
FIELDS = ("favorite", "rating", "tags")
_SAFE_REL = re.compile(r"images(/[^/\\\0]+)+")


def safe_rel(rel: object) -> bool:
    """A stored entry path we may act on: ``images/...``, relative, no ``..`` or ``.`` parts."""
    return (isinstance(rel, str) and _SAFE_REL.fullmatch(rel) is not None
            and not any(part in ("..", ".") for part in rel.split("/")))


class Annotations:
    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / FILE_NAME
        self._lock = threading.Lock()

    def append(self, rel_path: str, **changes: Any) -> None:
        record = {"path": rel_path, **{k: v for k, v in changes.items() if k in FIELDS}}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            try:
                with open(self.path, "ab+") as handle:  # bytes: the last one may be half a character
                    if handle.tell() > 0:  # after a torn last line (a crash), start a line of our own
                        handle.seek(-1, os.SEEK_END)
                        if handle.read(1) != b"\n":
                            line = "\n" + line
                    handle.write(line.encode("utf-8"))
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:  # unrecorded, a rebuild would lose the mark: the caller must not keep it
                raise os_error_message(exc, "save the mark (favourite, rating, tags)") from exc

    def load(self) -> dict[str, dict[str, Any]]:
        """``{path: {"favorite": bool, "rating": int, "tags": [..]}}``, last change winning."""
        state: dict[str, dict[str, Any]] = {}
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return state
        except OSError as exc:
            log.warning("Could not read %s: %s", self.path, exc)
            return state
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a torn line from a crash
            if isinstance(record, dict) and safe_rel(record.get("path")):
                state.setdefault(record["path"], {}).update(
                    {k: record[k] for k in FIELDS if k in record})
        return state

    def compact(self, state: dict[str, dict[str, Any]]) -> None:
        """Rewrite the log as one line per image that still has marks (atomically)."""
        lines = []
        for path, marks in sorted(state.items()):
            if marks.get("favorite") or marks.get("rating") or marks.get("tags"):
                lines.append(json.dumps({"path": path, **marks}, ensure_ascii=False))
        with self._lock:
            write_atomic(self.path, ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8"))
