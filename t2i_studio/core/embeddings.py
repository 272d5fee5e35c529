"""Textual-inversion embeddings by name: the files of the embeddings folder, and which of them a
prompt uses.

As in A1111, an embedding is used by writing its file name (without the extension) as a word of the
prompt or the negative prompt, alone or weighted (``(name:1.2)``), in any letter case. The UI and the
CLI record the ones used as ``Adapter(path, kind="embedding")`` in the request, so the image says
which files made it and the engine loads exactly those.
"""

from __future__ import annotations

import os
from pathlib import Path

from t2i_studio.core.prompt_syntax import name_pattern, strip_networks
from t2i_studio.core.requests import Adapter, GenerationRequest

EMBEDDING = "embedding"  # the Adapter kind
SUFFIXES = (".safetensors", ".pt", ".bin")  # pickle ones (.pt, .bin) load only where allowed


def available(folder: Path | str | None) -> dict[str, Path]:
    """The embeddings in ``folder`` and its subfolders, by lower-case name; of two with one name, the
    one nearer the top (then first by name)."""
    found: dict[str, Path] = {}
    if folder is None or not Path(folder).is_dir():
        return found
    for root, dirs, files in os.walk(Path(folder).expanduser()):
        dirs.sort()
        for name in sorted(files):
            path = Path(root, name)
            if path.suffix.lower() in SUFFIXES:
                found.setdefault(path.stem.lower(), path)
    return found


def names_in(text: str, names: dict[str, Path]) -> list[str]:
    """The names of ``names`` that ``text`` uses, in order of first use, lower case."""
    pattern = name_pattern(names)
    if pattern is None:
        return []
    return list(dict.fromkeys(m.group(0).lower() for m in pattern.finditer(strip_networks(text))))


def embeddings_in(prompt: str, negative: str, folder: Path | str | None) -> tuple[Adapter, ...]:
    """The embeddings of ``folder`` the two prompts use, as request adapters."""
    names = available(folder)
    used = dict.fromkeys(names_in(prompt, names) + names_in(negative, names))
    return tuple(Adapter(str(names[name]), kind=EMBEDDING) for name in used)


def with_embeddings(request: GenerationRequest, folder: Path | str | None) -> GenerationRequest:
    """``request`` with the embeddings of ``folder`` its prompts use as its embedding adapters."""
    others = tuple(a for a in request.model.adapters if a.kind != EMBEDDING)
    found = embeddings_in(request.prompt, request.negative_prompt, folder)
    return request.replace(model=request.model.replace(adapters=others + found))


def embedding_name(adapter: Adapter) -> str:
    """The word prompts use for ``adapter``: its file's name without the extension."""
    return Path(adapter.source).stem
