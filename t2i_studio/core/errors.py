"""The one base for errors a user can act on: a message saying what went wrong and a hint."""

from __future__ import annotations


class StudioError(Exception):
    """``str(err)`` says what went wrong; ``hint`` what to try; ``details`` more for the curious."""

    def __init__(self, message: str, hint: str = "", details: str = "") -> None:
        super().__init__(message)
        self.hint = hint
        self.details = details

    def user_message(self) -> str:
        return f"{self} {self.hint}".strip()
