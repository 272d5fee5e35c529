"""Under the prompt: its tokens as A1111 counts them ("81/150 (2 chunks)", the negative's too), the
embeddings the prompts name, and the ``<lora:…>`` tags naming no known LoRA ("Unknown: foo").

Counting needs the chosen model's tokenizer (``transformers``, which the UI never imports): the
composition root hands in the counting function (``set_counter``). It runs off the GUI thread after
a pause in the typing, the newest prompt only (``LatestOnly``; the first count loads the tokenizer);
the embeddings and LoRA folders are read there too. Without a counter only the names are shown.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QLabel, QWidget

from t2i_studio.core import lora_library, lora_syntax
from t2i_studio.core.embeddings import EMBEDDING, embedding_name, with_embeddings
from t2i_studio.core.prompt_syntax import TokenCount
from t2i_studio.core.requests import GenerationRequest
from t2i_studio.core.settings import embeddings_dir
from t2i_studio.worker.latest import LatestOnly

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
        self._counts = LatestOnly(DELAY_MS, self)
        self._counts.succeeded.connect(self._show)
        self._counts.failed.connect(lambda _text: self._show(""))
        self.hide()

    def set_counter(self, count: Counter | None) -> None:
        self._count = count

    @property
    def counting(self) -> bool:
        """A count is waiting for the pause in the typing, or running."""
        return self._counts.busy

    def show_for(self, request: GenerationRequest) -> None:
        """The request the panel would submit: described after a pause in the typing."""
        count = self._count
        self._counts.submit(lambda: describe(request, count))

    def stop(self) -> None:
        """Wait for a count in progress (its result is dropped)."""
        self._counts.stop()

    def _show(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))
