"""A1111's LoRA syntax in prompts: ``<lora:name:weight>`` (``<lyco:…>`` the same), found, edited,
stripped and turned into the request's adapters.

The tags stay in the prompt a request stores, as A1111 and Forge keep them in theirs: the
``parameters`` text other tools read names the LoRAs, and reusing an image brings them back. The
text encoder reads the prompt without them (``core.prompt_syntax.strip_networks``), removed the way
A1111 removes them and nothing more, so one prompt encodes to the same tokens here and there. The
request's ``model.adapters`` carry the LoRAs by path: ``resolve`` finds each tag's file in a table of
known names (the LoRA folders' files, files added by hand).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from t2i_studio.core.requests import Adapter

TAG = re.compile(r"<(lora|lyco):([^>]+)>")  # A1111's extra-network pattern, its two LoRA kinds
DEFAULT_WEIGHT = 1.0  # A1111's "extra networks default multiplier"
SEPARATOR = " "  # what A1111 puts before a tag it adds to a prompt
T = TypeVar("T")


@dataclass(frozen=True)
class LoraTag:
    kind: str  # "lora" or "lyco"
    name: str
    weight: float
    start: int  # the tag's span in the prompt
    end: int
    problem: str = ""  # a weight that is no number


def find_tags(prompt: str) -> list[LoraTag]:
    """The LoRA tags of ``prompt`` in order. Like A1111, the first number is the weight; what follows
    (a separate UNet weight, ``dyn``) is not read: the one weight applies to the whole LoRA."""
    tags = []
    for match in TAG.finditer(prompt):
        name, *args = match.group(2).split(":")
        weight, problem = DEFAULT_WEIGHT, ""
        if args:
            try:
                weight = float(args[0])
            except ValueError:
                problem = f"{match.group(0)}: its weight must be a number, as in <lora:{name.strip()}:0.8>."
        tags.append(LoraTag(match.group(1), name.strip(), weight, match.start(), match.end(), problem))
    return tags


def format_weight(weight: float) -> str:
    return f"{float(weight):g}"


def tag_text(name: str, weight: float, kind: str = "lora") -> str:
    return f"<{kind}:{name}:{format_weight(weight)}>"


def set_weight(prompt: str, tag: LoraTag, weight: float) -> str:
    return prompt[:tag.start] + tag_text(tag.name, weight, tag.kind) + prompt[tag.end:]


def append_tag(prompt: str, name: str, weight: float = DEFAULT_WEIGHT) -> str:
    """``prompt`` with a tag added at its end, as A1111 adds one when a LoRA is picked."""
    return (prompt + SEPARATOR if prompt.strip() else prompt) + tag_text(name, weight)


def remove_tag(prompt: str, tag: LoraTag) -> str:
    """``prompt`` without ``tag`` and the separator before it (after it, for a tag that opens the prompt)."""
    start, end = tag.start, tag.end
    if start > 0 and prompt[start - 1].isspace():
        start -= 1
    elif end < len(prompt) and prompt[end].isspace():
        end += 1
    return prompt[:start] + prompt[end:]


def lora_name(source: str) -> str:
    """The name a tag calls a LoRA by: a file's name without its extension, a folder's name, the last
    part of a hub id."""
    path = Path(source)
    return path.name if path.is_dir() else path.stem or source.rsplit("/", 1)[-1]


def lookup(name: str, known: Mapping[str, T]) -> T | None:
    """``known[name]``, else the one known name that differs only in case."""
    if name in known:
        return known[name]
    folded = [path for key, path in known.items() if key.lower() == name.lower()]
    return folded[0] if folded else None


def with_tags(prompt: str, adapters: tuple[Adapter, ...]) -> str:
    """``prompt`` with a tag added for each LoRA no tag names (a CLI ``--lora``, an image made before
    tags were read), so the prompt alone says which LoRAs made the picture."""
    named = {tag.name.lower() for tag in find_tags(prompt)}
    for adapter in adapters:
        name = lora_name(adapter.source)
        if adapter.kind == "lora" and name.lower() not in named:
            prompt = append_tag(prompt, name, adapter.weight)
            named.add(name.lower())
    return prompt


@dataclass(frozen=True)
class Resolved:
    adapters: tuple[Adapter, ...]
    unknown: list[str] = field(default_factory=list)  # names of tags no known file has
    problems: list[str] = field(default_factory=list)  # bad weights, a LoRA named twice


def resolve(prompt: str, known: Mapping[str, str], given: tuple[Adapter, ...] = ()) -> Resolved:
    """The adapters of ``prompt``'s tags (each file from ``known``, or from a ``given`` LoRA of that
    name, whose weight the tag overrides), then the ``given`` adapters no tag names."""
    given_by_name = {lora_name(a.source): a.source for a in given if a.kind == "lora"}
    adapters: list[Adapter] = []
    unknown: list[str] = []
    problems: list[str] = []
    seen: set[str] = set()
    for tag in find_tags(prompt):
        if tag.problem:
            problems.append(tag.problem)
            continue
        if tag.name.lower() in seen:
            problems.append(f"The LoRA {tag.name} is named twice in the prompt: keep one of its tags.")
            continue
        seen.add(tag.name.lower())
        source = lookup(tag.name, given_by_name) or lookup(tag.name, known)
        if source is None:
            unknown.append(tag.name)
        else:
            adapters.append(Adapter(source, weight=tag.weight))
    adapters += [a for a in given if a.kind != "lora" or lora_name(a.source).lower() not in seen]
    return Resolved(tuple(adapters), unknown, problems)
