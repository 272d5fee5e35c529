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
import threading
from pathlib import Path
from typing import Any

from t2i_studio.core.atomic import write_atomic

log = logging.getLogger(__name__)
FILE_NAME = "annotations.jsonl"
FIELDS = ("favorite", "rating", "tags")


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
            except OSError as exc:  # the index still has the change; only a rebuild would lose it
                log.warning("Could not record a change in %s: %s", self.path, exc)

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
            if isinstance(record, dict) and isinstance(record.get("path"), str):
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
