"""Under the prompt: its tokens as A1111 counts them ("81/150 (2 chunks)", the negative's too), the
embeddings the prompts name, and the ``<lora:…>`` tags naming no known LoRA ("Unknown: foo").

Counting needs the chosen model's tokenizer (``transformers``, which the UI never imports): the
composition root hands in the counting function (``set_counter``). It runs in a BackgroundTask after
a pause in the typing, one count at a time (the first loads the tokenizer); the embeddings and LoRA
folders are read there too. Without a counter only the names are shown, found on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from t2i_studio.core import lora_library, lora_syntax
from t2i_studio.core.embeddings import EMBEDDING, embedding_name, with_embeddings
from t2i_studio.core.prompt_syntax import TokenCount
from t2i_studio.core.requests import GenerationRequest
from t2i_studio.core.settings import embeddings_dir
from t2i_studio.worker.tasks import BackgroundTask

DELAY_MS = 300
Counter = Callable[[GenerationRequest], tuple[TokenCount, TokenCount] | None]


def describe(request: GenerationRequest, count: Counter | None, folder: Path | None = None) -> str:
    """The line shown for ``request`` (its embeddings looked up in ``folder``, default the settings')."""
    request = with_embeddings(request, embeddings_dir() if folder is None else folder)
    parts = []
    counts = count(request) if count is not None else None
    if counts is not None:
        prompt, negative = counts
        parts.append(prompt.label)
        if request.negative_prompt:
            parts.append(f"negative {negative.label}")
    adapters = request.model.adapters
    names = [embedding_name(a) for a in adapters if a.kind == EMBEDDING]
    if names:
        parts.append("embeddings: " + ", ".join(names))
    known = lora_library.known(lora_library.list_loras())
    unknown = lora_syntax.resolve(request.prompt, known, adapters).unknown
    if unknown:
        parts.append("Unknown: " + ", ".join(unknown))
    return " · ".join(parts)


class PromptTokens(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Prompt tokens")
        self.setWordWrap(True)
        self.setToolTip("Tokens per 75-token chunk, as the text encoder reads the prompt")
        self._count: Counter | None = None
        self._request: GenerationRequest | None = None  # the next to count
        self._task: BackgroundTask | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DELAY_MS)
        self._timer.timeout.connect(self._start)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)
        self.hide()

    def set_counter(self, count: Counter | None) -> None:
        self._count = count

    @property
    def counting(self) -> bool:
        """A count is waiting for the pause in the typing, or running."""
        return self._task is not None or self._timer.isActive()

    def show_for(self, request: GenerationRequest) -> None:
        """The request the panel would submit: described after a pause in the typing."""
        self._request = request
        self._timer.start()

    def stop(self) -> None:
        """Wait for a count in progress (its result is dropped)."""
        self._timer.stop()
        self._request = None
        if self._task is not None:
            self._task.wait()

    def _start(self) -> None:
        if self._task is not None or self._request is None:
            return  # a count is running: the newest request is counted when it ends
        request, count = self._request, self._count
        self._request = None
        if count is None:  # names only: no tokenizer to load, nothing slow
            self._show(describe(request, None))
            return
        task = BackgroundTask(lambda _report, _cancel: describe(request, count))
        task.succeeded.connect(self._show)
        task.failed.connect(self._failed)
        task.done.connect(self._ended)
        self._task = task
        task.start()

    def _show(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))

    def _failed(self, _text: str, _details: str) -> None:
        self._show("")

    def _ended(self) -> None:
        self._task = None
        self._start()
