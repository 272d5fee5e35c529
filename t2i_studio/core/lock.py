"""The project lock: one writer per project folder, across windows and processes.

An OS file lock (``filelock``) on ``<project>/.lock``; the owner's pid, host and start time go in
``.lock.owner`` so a second process can say *who* holds it. The OS drops the lock when a process
dies, so a crashed window never blocks the project; where the file system has no OS locks, filelock
falls back to a lock file and a dead owner (same host, pid gone) is recognised as stale and removed.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path

import filelock

from t2i_studio.core.atomic import write_atomic
from t2i_studio.core.project_errors import ProjectLockedError

log = logging.getLogger(__name__)
LOCK_NAME = ".lock"
OWNER_NAME = ".lock.owner"


def _pid_alive(pid: int) -> bool:
    try:
        import psutil

        return bool(psutil.pid_exists(pid))
    except ImportError:  # pragma: no cover - psutil is a dependency
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


class ProjectLock:
    """``acquire()`` raises ProjectLockedError naming the other process; ``release()`` is idempotent."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.owner_path = self.folder / OWNER_NAME
        self._lock: filelock.BaseFileLock | None = None

    def owner(self) -> dict | None:
        try:
            data = json.loads(self.owner_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _try(self) -> filelock.BaseFileLock | None:
        lock = filelock.FileLock(str(self.path), timeout=0, thread_local=False)
        try:
            lock.acquire(timeout=0, blocking=False)
        except filelock.Timeout:
            return None
        return lock

    def acquire(self) -> None:
        if self._lock is not None:
            return
        lock = self._try()
        if lock is None and self._stale():
            log.warning("Removing stale project lock of a dead process in %s", self.folder)
            try:
                self.path.unlink()
            except OSError:
                pass
            lock = self._try()
        if lock is None:
            owner = self.owner() or {}
            pid = owner.get("pid") if isinstance(owner.get("pid"), int) else None
            who = f"pid {pid}" if pid is not None else "another process"
            if owner.get("host") and owner.get("host") != socket.gethostname():
                who += f" on {owner['host']}"
            raise ProjectLockedError(
                f"The project {self.folder} is already open in another window ({who}).",
                "Close it there first, or open this project read-only.", pid=pid)
        self._lock = lock
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        try:
            write_atomic(self.owner_path, json.dumps(owner).encode())
        except OSError as exc:  # the lock holds anyway; only the message to others is poorer
            log.warning("Could not write %s: %s", self.owner_path, exc)

    def _stale(self) -> bool:
        """A lock file whose recorded owner is a dead process on this host (soft locks only)."""
        owner = self.owner()
        if not owner or owner.get("host") != socket.gethostname():
            return False
        pid = owner.get("pid")
        return isinstance(pid, int) and pid != os.getpid() and not _pid_alive(pid)

    def release(self) -> None:
        lock, self._lock = self._lock, None
        if lock is None:
            return
        try:
            owner = self.owner()
            if owner and owner.get("pid") == os.getpid():
                self.owner_path.unlink()
        except OSError:
            pass
        try:
            lock.release()
        except OSError as exc:  # pragma: no cover - e.g. the folder vanished
            log.warning("Could not release the project lock: %s", exc)

    @property
    def held(self) -> bool:
        return self._lock is not None
