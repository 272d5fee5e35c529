"""The one base for errors a user can act on, and the one function that turns any exception into
what the user is told: the CLI, the worker, the dialogs and the window all use ``describe``."""

from __future__ import annotations

import errno
import sqlite3
import traceback
from dataclasses import dataclass


class StudioError(Exception):
    """``str(err)`` says what went wrong; ``hint`` what to try; ``details`` more for the curious."""

    def __init__(self, message: str, hint: str = "", details: str = "") -> None:
        super().__init__(message)
        self.hint = hint
        self.details = details

    def user_message(self) -> str:
        return f"{self} {self.hint}".strip()


@dataclass(frozen=True)
class UserMessage:
    """What went wrong and what to do (``text``), and more for the curious (``details``)."""

    text: str
    details: str = ""
    expected: bool = True  # False: a bug or an unforeseen failure (logged with its traceback)


def describe(exc: BaseException) -> UserMessage:
    """The user's message for any failure: a StudioError's own words, else plain words by type."""
    if isinstance(exc, StudioError):
        return UserMessage(exc.user_message(), exc.details or "")
    if isinstance(exc, ValueError):
        return UserMessage(str(exc) or type(exc).__name__)
    if isinstance(exc, MemoryError):
        return UserMessage("Out of memory. Try a smaller size, fewer images per batch, or turn on CPU "
                           "offload and VAE tiling under Advanced.", _trace(exc))
    if isinstance(exc, sqlite3.Error):
        return UserMessage(f"The project index could not be used ({exc}). Close other windows on the "
                           "project and try again, or repair it with `t2i-studio project check DIR "
                           "--repair`.", _trace(exc))
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return UserMessage("The disk is full: the image could not be saved. Free some space or move "
                           "the project to another disk.", str(exc))
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return UserMessage(f"{exc.strerror or exc}{where}. Check that the file exists and is readable.",
                           str(exc))
    return UserMessage(f"Unexpected error: {exc or type(exc).__name__}", _trace(exc), expected=False)


def _trace(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))
