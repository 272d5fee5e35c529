"""Non-blocking messages above the viewer: what happened, a suggested fix, details on demand,
and optionally one action button (e.g. "Reuse settings" after an import)."""

from __future__ import annotations

import logging
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QStyle, QVBoxLayout, QWidget,
)

from t2i_studio.core.errors import describe
from t2i_studio.ui.controls import icon_button

log = logging.getLogger(__name__)

_COLOURS = {"error": "#fdecea", "warning": "#fff4e5", "info": "#e8f4fd"}


class MessageBar(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Message")
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton(self)
        self.details_button = QPushButton("Details", self)
        self.details_button.setCheckable(True)
        self.close_button = icon_button(self, "Dismiss message", "Dismiss this message",
                                        icon=QStyle.StandardPixmap.SP_TitleBarCloseButton)
        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setAccessibleName("Message details")
        self.details.setMaximumHeight(140)
        row = QHBoxLayout()
        row.addWidget(self.text, 1)
        row.addWidget(self.action_button)
        row.addWidget(self.details_button)
        row.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(row)
        layout.addWidget(self.details)
        self.details_button.toggled.connect(self.details.setVisible)
        self.close_button.clicked.connect(self.hide)
        self.action_button.clicked.connect(self._run_action)
        self.kind = ""
        self.source = ""  # what the message is about ("job", "input"...): it goes when that is fixed
        self._action: Callable[[], None] | None = None
        self.hide()

    def show_message(self, text: str, *, kind: str = "info", details: str = "",
                     action: tuple[str, Callable[[], None]] | None = None, source: str = "") -> None:
        """Show ``text`` until the next message, a dismissal, or ``clear(source)`` (errors are logged)."""
        if kind == "error":
            log.info("Shown to the user: %s", text)
        self.kind, self.source = kind, source
        self.text.setText(text)
        self.setStyleSheet(f"MessageBar {{ background: {_COLOURS.get(kind, _COLOURS['info'])}; }}"
                           " QLabel { color: #202020; }")
        self.details.setPlainText(details)
        self.details_button.setVisible(bool(details))
        self.details_button.setChecked(False)
        self.details.hide()
        self._action = action[1] if action else None
        self.action_button.setText(action[0] if action else "")
        self.action_button.setVisible(action is not None)
        self.show()

    def clear(self, source: str) -> None:
        """Hide the message if it is about ``source`` (a later job succeeded, the input was fixed)."""
        if self.source == source and self.isVisible():
            self.hide()

    def show_error(self, exc: BaseException, what: str = "") -> None:
        """The user's message for ``exc`` (``core.errors.describe``), after ``what`` was being done."""
        message = describe(exc)
        self.show_message(f"{what}{message.text}", kind="error", details=message.details)

    def _run_action(self) -> None:
        action, self._action = self._action, None
        self.hide()
        if action is not None:
            action()
