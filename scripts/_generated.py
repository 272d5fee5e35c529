"""Write generated resource files, or (``check``) report which committed ones a generator would change."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path


def write_or_check(outputs: Iterable[tuple[Path, bytes]], check: bool, script: str,
                   same: Callable[[bytes, bytes], bool] = bytes.__eq__) -> int:
    """Write each ``(path, data)``; with ``check`` write nothing and return 1 if any file differs
    (``same(committed, generated)`` decides what differing means)."""
    stale = []
    for target, data in outputs:
        if check:
            if not target.is_file() or not same(target.read_bytes(), data):
                stale.append(str(target))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        print(f"{target}  {len(data)} bytes")
    if stale:
        print(f"out of date (run scripts/{script}):", *stale, sep="\n  ", file=sys.stderr)
        return 1
    return 0
