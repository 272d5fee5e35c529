"""Atomic file writes: a temp file in the same folder, fsync, then ``os.replace`` (or a hard link
when the target must never be overwritten), then an fsync of the folder on POSIX.

A crash at any moment leaves either no file or the whole file, never a half one. Leftover temp
files are named ``.<name>.<random>.tmp`` and are removed by :func:`remove_stale_temps`.
"""

from __future__ import annotations

import errno
import os
import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"
_RETRIES = 5
_RETRY_DELAY_S = 0.05
# Windows (virus scanners, indexers) may briefly hold a file open: these errors are retried.
_TRANSIENT = (errno.EACCES, errno.EBUSY, errno.EAGAIN)


def temp_path_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _retry(action: Callable[[], None]) -> None:
    for attempt in range(_RETRIES):
        try:
            action()
            return
        except PermissionError:
            if os.name != "nt" or attempt == _RETRIES - 1:
                raise
        except OSError as exc:
            if exc.errno not in _TRANSIENT or os.name != "nt" or attempt == _RETRIES - 1:
                raise
        time.sleep(_RETRY_DELAY_S * (attempt + 1))


def _publish_no_overwrite(tmp: Path, path: Path) -> None:
    """Move ``tmp`` to ``path``, failing with FileExistsError if ``path`` exists (race-free)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:  # file systems without hard links (FAT, some network shares)
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK,
                             errno.ENOSYS) and not isinstance(exc, NotImplementedError):
            raise
        if path.exists():
            raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
        _retry(lambda: os.replace(tmp, path))
        return
    try:
        tmp.unlink()
    except OSError:
        pass


def write_atomic(path: Path | str, data: bytes | Callable[[BinaryIO], None], *,
                 overwrite: bool = True) -> Path:
    """Write ``data`` (bytes, or a function writing to a binary file) to ``path`` atomically.

    With ``overwrite=False`` an existing ``path`` raises FileExistsError and is left untouched.
    Any error removes the temp file and is re-raised (ENOSPC, EACCES, EROFS ...).
    """
    path = Path(path)
    tmp = temp_path_for(path)
    try:
        with open(tmp, "xb") as handle:
            if isinstance(data, (bytes, bytearray, memoryview)):
                handle.write(data)
            else:
                data(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            _retry(lambda: os.replace(tmp, path))
        else:
            _publish_no_overwrite(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    fsync_dir(path.parent)
    return path


def move_no_overwrite(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst`` (same file system), refusing to replace an existing ``dst``."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        raise FileExistsError(errno.EEXIST, "File exists", str(dst))
    _retry(lambda: os.replace(src, dst))
    fsync_dir(dst.parent)
    fsync_dir(src.parent)


def remove_stale_temps(folders: Iterable[Path]) -> int:
    """Delete temp files left by a crash (call only while holding the project lock)."""
    removed = 0
    for folder in folders:
        if not folder.is_dir():
            continue
        for root, _dirs, files in os.walk(folder):
            for name in files:
                if is_temp_name(name):
                    try:
                        os.unlink(os.path.join(root, name))
                        removed += 1
                    except OSError:
                        pass
    return removed
