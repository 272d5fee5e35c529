"""Dynamic prompts (the dynamicprompts library): ``{a|b|c}`` choices and ``__name__`` wildcard files.

A wildcard ``__colors/warm__`` is the file ``colors/warm.txt`` in the wildcards folder
(``settings.wildcards_dir()``), one choice a line. A request whose prompt or negative prompt has such
syntax is a template: ``runs`` gives each image its own prompt, drawn at random with the image's seed
(so it reproduces) or, in "combinatorial" mode, every combination in turn, and splits the job into
engine runs of consecutive images that share their prompts. Each run carries ``template`` (what it was
drawn from) and prompts with no syntax left, so every saved image reproduces on its own.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from random import Random
from typing import Any, Callable, Iterator

from dynamicprompts.commands import LiteralCommand, SequenceCommand, WildcardCommand
from dynamicprompts.enums import SamplingMethod
from dynamicprompts.parser.parse import parse
from dynamicprompts.sampling_context import SamplingContext
from dynamicprompts.wildcards import WildcardManager
from dynamicprompts.wildcards.values import WildcardValues
from pyparsing import ParseBaseException

from t2i_studio.core import settings
from t2i_studio.core.requests import MAX_SEED, GenerationRequest

MAX_IMAGES = 1000  # a combinatorial job past this is refused, not cut short
_MARKERS = ("{", "__")  # no dynamic syntax without one of them: plain prompts are never parsed


def has_syntax(text: str) -> bool:
    """Whether ``text`` has choices, wildcards or variables (text that does not parse counts: the
    submission check says what is wrong with it)."""
    if not any(marker in text for marker in _MARKERS):
        return False
    try:
        command = parse(text)
    except ParseBaseException:
        return True
    return any(not isinstance(node, (LiteralCommand, SequenceCommand)) for node in _nodes(command))


def is_dynamic(request: GenerationRequest) -> bool:
    return has_syntax(request.prompt) or has_syntax(request.negative_prompt)


def with_template(request: GenerationRequest) -> GenerationRequest:
    """What a submitter sends: a prompt with dynamic syntax is also the template it is drawn from."""
    return request.replace(template=request.prompt) if has_syntax(request.prompt) else request


def check(request: GenerationRequest, folder: Path | None = None) -> None:
    """At submission: the syntax reads, every wildcard named (in the prompts, or in the files they use)
    has a file, and a combinatorial job is not too large. ``ValueError`` says what to change."""
    if not is_dynamic(request):
        return
    manager = _Wildcards(folder)
    seen: set[str] = set()
    for what, text in (("prompt", request.prompt), ("negative prompt", request.negative_prompt)):
        if has_syntax(text):
            _check_names(_parse(text, f"The {what}"), manager, seen)
    image_count(request, folder)


def image_count(request: GenerationRequest, folder: Path | None = None) -> int:
    """How many images the request makes: in combinatorial mode every combination of the prompt, as
    many times as the batch has images."""
    if request.template_mode != "combinatorial" or not has_syntax(request.prompt):
        return request.image_count
    return len(_combinations(request, _Wildcards(folder))) * request.image_count


def variations(text: str, folder: Path | None = None) -> int:
    """How many different prompts ``text`` gives (MAX_IMAGES + 1 stands for "more than MAX_IMAGES")."""
    if not has_syntax(text):
        return 1
    context = _context(_Wildcards(folder), SamplingMethod.COMBINATORIAL)
    return sum(1 for _ in context.sample_prompts(_parse(text, "The prompt"), MAX_IMAGES + 1))


def runs(request: GenerationRequest, folder: Path | None = None) -> list[GenerationRequest]:
    """The engine runs of a dynamic request: each image its own drawn prompts, a run per batch or
    part of one whose images share them, each run with ``template`` and the seed of its first image."""
    manager = _Wildcards(folder)
    sampling = request.sampling
    if request.template_mode == "combinatorial" and has_syntax(request.prompt):
        combos = _combinations(request, manager)
        count = len(combos) * request.image_count
        prompts = [combos[k % len(combos)] for k in range(count)]  # the whole set, then again
        seeds = [(sampling.seed + k) % (MAX_SEED + 1) for k in range(count)]
    else:
        seeds = sampling.seeds()
        prompts = list(map(_drawer(request.prompt, "The prompt", manager), seeds))
    negative = _drawer(request.negative_prompt, "The negative prompt", manager)
    # a seed of its own for the negative's draw, so its choices do not mirror the prompt's
    drawn = [(seed, prompt, negative(seed ^ 0x5EED)) for seed, prompt in zip(seeds, prompts)]
    template = request.prompt if has_syntax(request.prompt) else request.template
    out: list[GenerationRequest] = []
    for start in range(0, len(drawn), sampling.batch_size):  # consecutive images of a batch that drew alike
        batch = drawn[start:start + sampling.batch_size]
        first = 0
        for k in range(1, len(batch) + 1):
            if k == len(batch) or batch[k][1:] != batch[first][1:]:
                seed, prompt, negative_prompt = batch[first]
                out.append(request.replace(
                    prompt=prompt, negative_prompt=negative_prompt, template=template,
                    sampling=sampling.replace(seed=seed, batch_size=k - first, batch_count=1)))
                first = k
    return out


def _drawer(text: str, what: str, manager: WildcardManager) -> Callable[[int], str]:
    """``text``'s random draw for a seed (parsed once)."""
    if not has_syntax(text):
        return lambda _seed: text
    command = _parse(text, what)
    return lambda seed: str(next(iter(_context(manager, SamplingMethod.RANDOM, Random(seed))
                                      .sample_prompts(command, 1))))


class _Wildcards(WildcardManager):
    """The wildcards folder, where a name with no file is an error (the library would leave
    ``__name__`` in the prompt)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder or settings.wildcards_dir()
        super().__init__(self.folder if self.folder.is_dir() else None)  # no folder yet: no wildcards

    def get_values(self, wildcard: str) -> WildcardValues:
        values = super().get_values(wildcard)
        if not values:
            known = sorted(self.get_collection_names())
            listed = ", ".join(f"__{name}__" for name in known[:8]) + (", …" if len(known) > 8 else "")
            raise ValueError(f"No wildcard file for __{wildcard}__ in {self.folder}: add {wildcard}.txt there "
                             f"(one choice a line), or fix the name (it has {listed or 'none'}).")
        return values


def _context(manager: WildcardManager, method: SamplingMethod, rand: Random | None = None) -> SamplingContext:
    return SamplingContext(default_sampling_method=method, wildcard_manager=manager, rand=rand or Random(0))


def _combinations(request: GenerationRequest, manager: WildcardManager) -> list[str]:
    context = _context(manager, SamplingMethod.COMBINATORIAL)
    combos = [str(p) for p in context.sample_prompts(_parse(request.prompt, "The prompt"), MAX_IMAGES + 1)]
    if len(combos) * request.image_count > MAX_IMAGES:
        many = f"more than {MAX_IMAGES:,}" if len(combos) > MAX_IMAGES else f"{len(combos):,}"
        each = f" × {request.image_count} images each" if request.image_count > 1 else ""
        raise ValueError(f"Every combination of this prompt is {many} prompts{each}; at most {MAX_IMAGES:,} "
                         "images are made at once: offer fewer choices, or draw at random.")
    return combos


def _parse(text: str, what: str) -> Any:
    try:
        return parse(text)
    except ParseBaseException as exc:
        near = text[exc.loc:exc.loc + 20]
        raise ValueError(f"{what} has a {{…|…}} choice or __wildcard__ that is not closed, at character "
                         f"{exc.loc + 1} ({near!r}): close it, or leave out the {{ or __.") from None


def _check_names(command: Any, manager: _Wildcards, seen: set[str]) -> None:
    """Every wildcard named in ``command`` has a file, and so do those its files name, in turn."""
    for node in _nodes(command):
        name = node.wildcard if isinstance(node, WildcardCommand) else None
        if not isinstance(name, str) or name in seen:  # a name put together while drawing: checked then
            continue
        seen.add(name)
        for value in manager.get_values(name).string_values:
            if has_syntax(value):
                _check_names(_parse(value, f"A line of __{name}__"), manager, seen)


def _nodes(value: Any) -> Iterator[Any]:
    """Every command (and variant option) in a parsed prompt."""
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _nodes(item)
    elif isinstance(value, dict):
        yield from _nodes(list(value.values()))
    elif dataclasses.is_dataclass(value):
        yield value
        for f in dataclasses.fields(value):
            yield from _nodes(getattr(value, f.name))
