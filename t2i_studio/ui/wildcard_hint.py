"""Under the prompt while it has dynamic syntax (``{a|b}``, ``__wildcard__``): how each image draws
its prompt (at random with its seed, or every combination) and what that makes ("3 variations",
"combinatorial: 12 images"), or what is wrong with it (a wildcard with no file).

Counting reads the wildcard files, so it waits for a pause in the typing.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from t2i_studio.core import wildcards
from t2i_studio.core.requests import GenerationRequest

DELAY_MS = 250
MODE_LABELS = (("random", "Random"), ("combinatorial", "Every combination"))
_WARNING = "color: palette(highlight);"


def summary(request: GenerationRequest) -> str:
    """What the request's dynamic prompts make; ``ValueError`` says what is wrong with them."""
    if request.template_mode == "combinatorial" and wildcards.has_syntax(request.prompt):
        return f"combinatorial: {wildcards.image_count(request):,} images"
    text = request.prompt if wildcards.has_syntax(request.prompt) else request.negative_prompt
    count = wildcards.variations(text)
    many = f"over {wildcards.MAX_IMAGES:,}" if count > wildcards.MAX_IMAGES else f"{count:,}"
    return f"{many} variation{'s' if count != 1 else ''}"


class WildcardHint(QWidget):
    changed = Signal()  # the mode was changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = QComboBox(self)
        for value, label in MODE_LABELS:
            self.mode.addItem(label, value)
        self.mode.setAccessibleName("Wildcards")
        self.mode.setToolTip("Random: each image draws its own prompt with its seed (so it reproduces)\n"
                             "Every combination: one image for each, as many times as the batch has images")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Wildcard variations")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.mode)
        layout.addWidget(self.label, 1)
        self._request: GenerationRequest | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DELAY_MS)
        self._timer.timeout.connect(self._update)
        self.mode.currentIndexChanged.connect(self.changed)
        self.hide()

    def template_mode(self) -> str:
        return str(self.mode.currentData())

    def set_template_mode(self, mode: str) -> None:
        self.mode.setCurrentIndex(max(0, self.mode.findData(mode)))

    def show_for(self, request: GenerationRequest) -> None:
        """The request the panel would submit (its style applied): shown after a pause."""
        self._request = request
        self._timer.start()

    def _update(self) -> None:
        request = self._request
        dynamic = request is not None and wildcards.is_dynamic(request)
        self.setVisible(dynamic)
        if not dynamic:
            return
        try:
            text, style = summary(request), ""
        except ValueError as exc:
            text, style = str(exc), _WARNING
        self.label.setText(text)
        self.label.setStyleSheet(style)
