"""Prompts as AUTOMATIC1111 encodes them, for the diffusers engine's SD 1.x/2.x and SDXL pipelines.

``PromptEncoder.arguments`` gives ``Text2ImageEngine.denoise`` a request's ``prompt_embeds`` and
``negative_prompt_embeds`` (SDXL: both text encoders side by side, and the pooled embeddings of the
second's first chunk): A1111's attention syntax and ``BREAK`` (``core.prompt_syntax``), prompts of any
length in 75-token chunks each encoded on its own and concatenated, never truncated (the shorter of
prompt and negative padded with empty chunks), ``Sampling.clip_skip`` and the request's
textual-inversion embeddings (``engines.textual_inversion``, loaded here and unloaded when a request no
longer names them). It gives None for prompts the pipeline's own text path reads the same (no
syntax, one chunk each, no embeddings, no clip skip), which keep exactly today's pixels; so does a
prompt whose weights are all 1, encoded here bit for bit as diffusers does.

Weights are A1111's "Original" emphasis: each token's vectors times its weight, then the chunk rescaled
to its old mean. Clip skip N (A1111's, 1 = off) is diffusers' ``clip_skip`` N-1: SD reads hidden state
-N through the final layer norm, SDXL hidden state -(N+1) as it is (SDXL reads the penultimate layer
already). The negative prompt is read at the same layer, as A1111 does (diffusers leaves it at the last).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from t2i_studio.core.embeddings import EMBEDDING
from t2i_studio.core.engine import EngineError
from t2i_studio.core.prompt_syntax import CHUNK, Chunk, TokenCount, chunks, is_plain
from t2i_studio.core.requests import GenerationRequest, ModelRef
from t2i_studio.engines import checkpoints, models
from t2i_studio.engines.textual_inversion import EmbeddingSet, encoders, locate, vector_count

FAMILIES = ("sd", "sdxl")


class PromptEncoder:
    """The prompt embeddings of requests on one loaded pipeline, and the embeddings loaded into it."""

    def __init__(self) -> None:
        self.embeddings = EmbeddingSet()

    def arguments(self, pipe: Any, request: GenerationRequest, n: int) -> dict[str, Any] | None:
        """The pipeline call's embeddings for ``n`` images of ``request`` (None: pass the text)."""
        family = checkpoints.family_from_class(type(pipe).__name__)
        if family not in FAMILIES:
            return None
        self.embeddings.apply(pipe, request.model.adapters, request.run.allow_unsafe_checkpoint)
        pairs = encoders(pipe)
        texts = (request.prompt, request.negative_prompt)
        if not self.embeddings and request.sampling.clip_skip == 1 \
                and all(_reads_as_text(text, pairs[0][0]) for text in texts):
            return None
        import torch

        with torch.inference_mode():
            return _encode(pipe, family, pairs, request, n, self.embeddings)

    def fingerprint(self) -> dict[str, Any]:
        entries = self.embeddings.fingerprint()
        return {"embeddings": entries} if entries else {}

    def forget(self) -> None:
        self.embeddings.forget()


def _reads_as_text(text: str, tokenizer: Any) -> bool:
    return is_plain(text) and len(_tokenize(tokenizer, text)) <= CHUNK


def _tokenize(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False, verbose=False).input_ids)


def _comma(tokenizer: Any) -> int | None:
    comma = tokenizer.convert_tokens_to_ids(",</w>")
    return None if comma is None or comma == tokenizer.unk_token_id else int(comma)


def _chunks(text: str, tokenizer: Any, embeddings: dict[str, list[int]]) -> list[Chunk]:
    return chunks(text, lambda piece: _tokenize(tokenizer, piece), _comma(tokenizer), embeddings)[0]


def _encode(pipe: Any, family: str, pairs: list[tuple[Any, Any]], request: GenerationRequest, n: int,
            embeddings: EmbeddingSet) -> dict[str, Any]:
    import torch

    prompt = [_chunks(request.prompt, tok, embeddings.token_ids(tok)) for tok, _enc in pairs]
    # SDXL's own text path gives zeros for no negative prompt (force_zeros_for_empty_prompt): so here
    zeros = family == "sdxl" and not request.negative_prompt \
        and bool(pipe.config.get("force_zeros_for_empty_prompt"))
    negative = [] if zeros else [_chunks(request.negative_prompt, tok, embeddings.token_ids(tok))
                                 for tok, _enc in pairs]
    count = max(len(c) for c in prompt + negative)
    encode = _Encoder(pipe, family, request.sampling.clip_skip, n)
    embeds, pooled = encode(pairs, prompt, count)
    if zeros:
        negative_embeds, negative_pooled = torch.zeros_like(embeds), torch.zeros_like(pooled)
    else:
        negative_embeds, negative_pooled = encode(pairs, negative, count)
    out = {"prompt_embeds": embeds, "negative_prompt_embeds": negative_embeds}
    if family == "sdxl":
        out.update(pooled_prompt_embeds=pooled, negative_pooled_prompt_embeds=negative_pooled)
    return out


class _Encoder:
    def __init__(self, pipe: Any, family: str, clip_skip: int, n: int) -> None:
        self.device = pipe._execution_device
        self.family, self.clip_skip, self.n = family, clip_skip, n

    def __call__(self, pairs: list[tuple[Any, Any]], per_encoder: list[list[Chunk]],
                 count: int) -> tuple[Any, Any]:
        """The chunks of each encoder (padded with empty ones to ``count``), encoded and concatenated
        along the sequence; and the pooled embedding of the first chunk (SDXL)."""
        import torch

        chunk_embeds, pooled = [], None
        for i in range(count):
            parts = []
            for (tokenizer, encoder), chunked in zip(pairs, per_encoder):
                chunk = chunked[i] if i < len(chunked) else Chunk()
                z, pool = self._hidden(tokenizer, encoder, chunk)
                pooled = pool if pooled is None and i == 0 else pooled
                parts.append(_emphasize(z, chunk.weights))
            chunk_embeds.append(torch.cat(parts, dim=-1))
        return torch.cat(chunk_embeds, dim=1), pooled

    def _hidden(self, tokenizer: Any, encoder: Any, chunk: Chunk) -> tuple[Any, Any]:
        import torch

        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        row = [tokenizer.bos_token_id, *chunk.tokens, tokenizer.eos_token_id]
        row += [pad] * (CHUNK - len(chunk.tokens))
        ids = torch.tensor([row] * self.n, device=self.device)  # the batch diffusers encodes: same numbers
        if self.family == "sdxl":
            out = encoder(ids, output_hidden_states=True)
            pooled = out[0] if out[0].ndim == 2 else None
            return self._layer(out.hidden_states, self.clip_skip + 1), pooled
        mask = None
        if getattr(encoder.config, "use_attention_mask", False):
            mask = torch.tensor([[1] * (len(chunk.tokens) + 2) + [0] * (CHUNK - len(chunk.tokens))] * self.n,
                                device=self.device)
        if self.clip_skip == 1:
            return encoder(ids, attention_mask=mask)[0], None
        out = encoder(ids, attention_mask=mask, output_hidden_states=True)
        norm = getattr(encoder, "text_model", encoder).final_layer_norm  # transformers 5 has no text_model
        return norm(self._layer(out.hidden_states, self.clip_skip)), None

    def _layer(self, states: tuple[Any, ...], back: int) -> Any:
        if back > len(states):
            most = len(states) - (back - self.clip_skip)
            raise EngineError(f"Clip skip {self.clip_skip} is more than this model's text encoder has layers "
                              f"for: use at most {most}.")
        return states[-back]


def _emphasize(z: Any, weights: list[float]) -> Any:
    """A1111's "Original" emphasis: weigh each token's vectors, keep the chunk's mean."""
    if all(w == 1.0 for w in weights):
        return z
    import torch

    padded = [1.0, *weights] + [1.0] * (CHUNK + 1 - len(weights))  # start, end and padding count once
    multipliers = torch.tensor(padded, dtype=z.dtype, device=z.device)
    original = z.mean()
    z = z * multipliers[None, :, None]
    mean = z.mean()
    # a mean that is nothing but rounding (an untrained layer norm centres every vector) gives no scale
    if mean.abs() <= 1e-4 * z.abs().mean():
        return z
    return z * (original / mean)


# --- the window's token counter ---------------------------------------------------------------------

def count_tokens(request: GenerationRequest) -> tuple[TokenCount, TokenCount] | None:
    """The prompt's and the negative prompt's tokens as A1111 counts them, with the request's model's
    own tokenizer (embeddings as their vectors); None when that is not on this computer or the
    model is not SD 1.x/2.x or SDXL. Reads only tokenizer files, once per model (kept)."""
    folder = _tokenizer_folder(request.model)
    if folder is None:
        return None
    tokenizer = _tokenizer(str(folder))
    lengths: dict[str, list[int]] = {}
    for adapter in request.model.adapters:
        if adapter.kind == EMBEDDING and Path(adapter.source).is_file():
            embedding = locate(adapter, allow_unsafe=True)  # a header is read, never a pickle
            lengths[embedding.name.lower()] = [0] * vector_count(embedding)
    tokenize, comma = (lambda piece: _tokenize(tokenizer, piece)), _comma(tokenizer)
    return (chunks(request.prompt, tokenize, comma, lengths)[1],
            chunks(request.negative_prompt, tokenize, comma, lengths)[1])


def _tokenizer_folder(model: ModelRef) -> Path | None:
    try:
        source = models.resolve(model.id, model.revision, model.config, allow_unsafe=True)
    except EngineError:
        return None
    base = {"folder": source.path, "file": source.config}.get(source.kind)
    if source.kind == "hub":
        base = models.cached_snapshot(source.id, model.revision)
    if base is None or checkpoints.family_from_class(checkpoints.folder_class(base)) not in FAMILIES:
        return None
    folder = base / "tokenizer"
    return folder if folder.is_dir() else None


@lru_cache(maxsize=4)
def _tokenizer(folder: str) -> Any:
    from transformers import CLIPTokenizer

    return CLIPTokenizer.from_pretrained(folder, local_files_only=True)
