"""Errors of the project store, importable from ``core.project`` (the contract) and its helpers."""

from __future__ import annotations

import errno

from t2i_studio.core.errors import StudioError


class ProjectError(StudioError):
    """Something about the project folder the user can act on (full disk, read-only, broken file)."""


class ProjectLockedError(ProjectError):
    """The project is open in another window (or process); ``pid`` is that process, when known."""

    def __init__(self, message: str, hint: str = "", details: str = "", pid: int | None = None) -> None:
        super().__init__(message, hint, details)
        self.pid = pid


class PartlySavedError(ProjectError):
    """Saving a result failed after some of its images were saved: ``entries`` are those, so the
    caller reports their paths (a batch on a disk that fills up keeps and names what it made)."""

    def __init__(self, message: str, hint: str = "", details: str = "", entries: tuple = ()) -> None:
        super().__init__(message, hint, details)
        self.entries = tuple(entries)


class UnsafePathError(ProjectError):
    """A path stored in the index or marks log that would lead outside the project."""


class ImageReadError(StudioError):
    """An image file that cannot be read safely: broken, truncated, too large or not an image."""


def os_error_message(exc: OSError, action: str) -> ProjectError:
    """Turn a low-level OSError into a ProjectError that says what happened in plain words."""
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    if exc.errno == errno.ENOSPC:
        return ProjectError(f"Could not {action}: the disk is full{where}.",
                            "Free some space (or empty the project's trash) and try again.")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ProjectError(f"Could not {action}: the folder is read-only or not writable{where}.",
                            "Check the folder's permissions, or open the project read-only.")
    return ProjectError(f"Could not {action}: {exc.strerror or exc}{where}.")
