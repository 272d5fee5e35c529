"""Textual-inversion embeddings on a loaded SD 1.x/2.x or SDXL pipeline, through diffusers'
``load_textual_inversion``/``unload_textual_inversion``.

Files are A1111's (``emb_params``; its pickle ``.pt`` with ``string_to_param``, only where pickle is
allowed), diffusers' (one tensor under its token) or SDXL's (``clip_l`` and ``clip_g``, one per text
encoder). Each loaded file gets a token of its own that no prompt contains (``<ti-N>``, ``<ti-N>_1``
... one per vector): ``engines.prompt_encoding`` puts those token ids where the prompt names the
embedding, so the tokenizer never has to find a name in the text. A pipeline holds exactly the
embeddings of the request it runs: the others are unloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from t2i_studio.core.embeddings import EMBEDDING
from t2i_studio.core.engine import EngineError
from t2i_studio.core.prompt_syntax import CHUNK
from t2i_studio.core.requests import Adapter
from t2i_studio.engines import checkpoints

SDXL_KEYS = ("clip_l", "clip_g")  # the vectors for text_encoder and text_encoder_2
_FAMILY_NAMES = {"sd": "SD 1.x/2.x", "sdxl": "SDXL"}


@dataclass(frozen=True)
class EmbeddingFile:
    path: Path
    name: str  # the word prompts use: the file's stem

    @property
    def hash(self) -> str:
        """What A1111's "TI hashes" writes: the first 12 hex digits of the file's SHA-256."""
        return checkpoints.sha256_file(self.path)[:12]


def locate(adapter: Adapter, allow_unsafe: bool = False) -> EmbeddingFile:
    """The file of an embedding adapter; EngineError when it is not there or not safe to read."""
    path = Path(adapter.source).expanduser()
    if not path.is_file():
        raise EngineError(f"Embedding not found: {adapter.source}",
                          hint="Put the file in the embeddings folder, or remove its name from the prompt.")
    checkpoints.check_checkpoint(path, allow_unsafe)
    return EmbeddingFile(path.resolve(), path.stem)


def family(embedding: EmbeddingFile) -> str | None:
    """"sdxl" (vectors for both text encoders), "sd" (one set), None: cannot tell without unpickling."""
    if checkpoints.sniff(embedding.path) != "safetensors":
        return None
    keys = set(checkpoints.safetensors_keys(embedding.path))
    return "sdxl" if set(SDXL_KEYS) <= keys else "sd"


def vector_count(embedding: EmbeddingFile) -> int:
    """How many tokens the embedding takes in a prompt, from the safetensors header (1 if unknown)."""
    if checkpoints.sniff(embedding.path) != "safetensors":
        return 1
    shapes = [entry.get("shape") for key, entry in checkpoints.safetensors_header(embedding.path).items()
              if key != "__metadata__" and isinstance(entry, dict)]
    return max([int(s[0]) for s in shapes if isinstance(s, list) and len(s) == 2] or [1])


def check_family(embedding: EmbeddingFile, model_family: str | None) -> None:
    """ValueError when the embedding is for another model family than the model's (both known)."""
    if model_family not in (None, "unknown") and model_family not in _FAMILY_NAMES:
        raise ValueError(f"Embeddings work with SD 1.x/2.x and SDXL models only; {embedding.name} cannot be "
                         "used with the chosen model: remove its name from the prompt.")
    made_for = family(embedding)
    if made_for and model_family in _FAMILY_NAMES and made_for != model_family:
        raise ValueError(f"{embedding.name} is an embedding for {_FAMILY_NAMES[made_for]} models, and the "
                         f"chosen model is {_FAMILY_NAMES[model_family]}: use one made for it, or another "
                         "model.")


def _vectors(embedding: EmbeddingFile, slots: int) -> list[Any]:
    """The vectors for each of the pipeline's ``slots`` text encoders (a [vectors, width] tensor each)."""
    if checkpoints.sniff(embedding.path) == "safetensors":
        from safetensors.torch import load_file

        state = load_file(str(embedding.path))
    else:  # a pickle, allowed by the request (locate checked)
        import torch

        state = torch.load(str(embedding.path), map_location="cpu", weights_only=False)
    if all(k in state for k in SDXL_KEYS):
        found = [state[k] for k in SDXL_KEYS]
    elif "emb_params" in state:
        found = [state["emb_params"]]
    elif isinstance(state.get("string_to_param"), dict) and "*" in state["string_to_param"]:
        found = [state["string_to_param"]["*"]]
    elif len(state) == 1:
        found = [next(iter(state.values()))]
    else:
        raise EngineError(f"{embedding.name} is not a textual-inversion embedding this app can read.",
                          hint="Use an A1111 or diffusers embedding (.safetensors).")
    if len(found) != slots:
        raise EngineError(f"The embedding {embedding.name} does not fit this model: it has vectors for "
                          f"{len(found)} text encoder(s), the model has {slots}.",
                          hint="Use an embedding made for this model's family.")
    found = [v.detach().float().reshape(-1, v.shape[-1]) for v in found]
    if len({v.shape[0] for v in found}) > 1:
        raise EngineError(f"The embedding {embedding.name} has a different number of vectors for each text "
                          "encoder: it cannot be read.")
    if found[0].shape[0] > CHUNK:
        raise EngineError(f"The embedding {embedding.name} has {found[0].shape[0]} vectors; at most {CHUNK} "
                          "fit in a prompt chunk.")
    return found


def encoders(pipe: Any) -> list[tuple[Any, Any]]:
    """The pipeline's (tokenizer, text encoder) pairs, in order."""
    pairs = [(getattr(pipe, "tokenizer", None), getattr(pipe, "text_encoder", None)),
             (getattr(pipe, "tokenizer_2", None), getattr(pipe, "text_encoder_2", None))]
    return [(tok, enc) for tok, enc in pairs if tok is not None and enc is not None]


class EmbeddingSet:
    """The embeddings loaded into one pipeline, by file, with the tokens standing for them."""

    def __init__(self) -> None:
        self._loaded: dict[Path, tuple[EmbeddingFile, list[str]]] = {}  # file -> its tokens
        self._serial = 0

    def apply(self, pipe: Any, adapters: tuple[Adapter, ...], allow_unsafe: bool) -> None:
        """Make exactly the request's embeddings loaded in ``pipe``."""
        wanted = {e.path: e for e in (locate(a, allow_unsafe) for a in adapters if a.kind == EMBEDDING)}
        gone = [tokens for path, (_e, tokens) in self._loaded.items() if path not in wanted]
        if gone:
            for tokenizer, encoder in encoders(pipe):
                pipe.unload_textual_inversion([t for tokens in gone for t in tokens], tokenizer, encoder)
            self._loaded = {p: v for p, v in self._loaded.items() if p in wanted}
        for path, embedding in wanted.items():
            if path not in self._loaded:
                self._loaded[path] = (embedding, self._load(pipe, embedding))

    def _load(self, pipe: Any, embedding: EmbeddingFile) -> list[str]:
        pairs = encoders(pipe)
        vectors = _vectors(embedding, len(pairs))
        for (_tokenizer, encoder), vecs in zip(pairs, vectors):  # all checked before any is loaded
            width = encoder.get_input_embeddings().weight.shape[-1]
            if vecs.shape[-1] != width:
                raise EngineError(f"The embedding {embedding.name} does not fit this model: its vectors are "
                                  f"{vecs.shape[-1]} wide, the text encoder's {width}.",
                                  hint="Use an embedding made for this model (SD 1.x: 768, SD 2.x: 1024).")
        token = f"<ti-{self._serial}>"
        self._serial += 1
        for (tokenizer, encoder), vecs in zip(pairs, vectors):
            pipe.load_textual_inversion(vecs, token=token, tokenizer=tokenizer, text_encoder=encoder)
        return [token] + [f"{token}_{i}" for i in range(1, vectors[0].shape[0])]

    def token_ids(self, tokenizer: Any) -> dict[str, list[int]]:
        """Each loaded embedding's name (lower case) -> the ids of its tokens in ``tokenizer``."""
        return {e.name.lower(): list(tokenizer.convert_tokens_to_ids(tokens))
                for e, tokens in self._loaded.values()}

    def fingerprint(self) -> list[dict[str, Any]]:
        return [{"name": e.name, "source": str(e.path), "hash": e.hash} for e, _t in self._loaded.values()]

    def __bool__(self) -> bool:
        return bool(self._loaded)

    def forget(self) -> None:
        """The pipeline is gone (unloaded): nothing of it is loaded any more."""
        self._loaded.clear()
