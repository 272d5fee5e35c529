"""The prompt's token counter: "81/150 (2 chunks)" with the chosen model's own tokenizer (counted off
the GUI thread after a pause in the typing), the embeddings the prompts name, and LoRA tags naming no
known LoRA; submitting records the embeddings in the request."""

from __future__ import annotations

from pathlib import Path

from t2i_studio.core.requests import Adapter, GenerationRequest, ModelRef
from t2i_studio.engines.prompt_encoding import count_tokens
from t2i_studio.ui import prompt_tokens
from t2i_studio.ui.prompt_panel import PromptPanel


def _embedding(folder: Path, name: str) -> Path:
    import numpy as np
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file({"emb_params": np.zeros((3, 32), dtype=np.float32)}, str(folder / f"{name}.safetensors"))
    return folder / f"{name}.safetensors"


def test_the_counter_shows_tokens_per_chunk_embeddings_and_unknown_loras(qtbot, tiny_sd_path, tmp_path,
                                                                          monkeypatch):
    path = _embedding(tmp_path / "embeddings", "inkblot")
    monkeypatch.setattr(prompt_tokens, "embeddings_dir", lambda: tmp_path / "embeddings")
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.tokens.set_counter(count_tokens)
    panel.set_model(str(tiny_sd_path))
    panel.prompt.setPlainText(" ".join(["cat"] * 81))  # one token a word with the tiny vocabulary
    qtbot.waitUntil(lambda: panel.tokens.text() == "81/150 (2 chunks)", timeout=15000)
    assert panel.tokens.isVisibleTo(panel)
    panel.prompt.setPlainText("a cat, inkblot <lora:ghost:0.5>")
    panel.negative.setPlainText("blurry")
    # "a", "cat", "," and the embedding's three vectors; the tag is no text
    qtbot.waitUntil(lambda: panel.tokens.text() == "6/75 · negative 6/75 · embeddings: inkblot · Unknown: ghost",
                    timeout=15000)
    qtbot.waitUntil(lambda: not panel.tokens.counting, timeout=5000)
    monkeypatch.setattr("t2i_studio.ui.prompt_panel.embeddings_dir", lambda: tmp_path / "embeddings")
    panel.prompt.setPlainText("a cat, inkblot")  # an unknown LoRA is refused at submission
    submitted = panel.submit()
    qtbot.waitUntil(lambda: not panel.tokens.counting, timeout=5000)
    assert submitted is not None and Adapter(str(path), kind="embedding") in submitted.model.adapters


def test_without_a_counter_or_a_tokenizer_only_the_names_show(tmp_path):
    request = GenerationRequest("a cat <lora:ghost:1>", model=ModelRef("org/not-downloaded"))
    assert prompt_tokens.describe(request, None, tmp_path) == "Unknown: ghost"
    assert count_tokens(request) is None
    assert prompt_tokens.describe(request.replace(prompt="a cat"), count_tokens, tmp_path) == ""
