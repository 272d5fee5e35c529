"""The starter model's language: its vocabulary, the scenes captions describe, and varied wording.

Torch-free so the prompt panel can say which words the built-in model understood. A ``Spec`` is
what a caption means (the renderer's ground truth and the training labels); ``caption`` words a
spec one of several ways; ``understood`` splits a prompt into the words the model reads and the
ones it ignores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

SHAPES = ("circle", "square", "triangle", "star", "heart")
COLOURS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "white", "black")
SIZES = ("small", "medium", "large")  # medium when not said
POSITIONS = ("top left", "top", "top right", "left", "centre", "right",
             "bottom left", "bottom", "bottom right")  # a 3 x 3 grid, row by row
ENGINE = "starter"  # the engine name requests for the built-in model carry
RELATIONS = ("and", "left of", "right of", "above", "below")
COUNT_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3}

_SYNONYMS = {"small": ("small", "little"), "large": ("large", "big"),
             "centre": ("centre", "center", "middle"), "top": ("top", "upper"), "bottom": ("bottom", "lower")}
# words that carry meaning (shown to the user) and grammar words the encoder also reads
MEANING = frozenset(
    [*SHAPES, *(s + "s" for s in SHAPES), *COLOURS, "small", "little", "large", "big", "medium",
     "top", "upper", "bottom", "lower", "left", "right", "centre", "center", "middle",
     "one", "two", "three", "and", "above", "below", "background"])
GRAMMAR = frozenset(["a", "an", "the", "in", "at", "on", "of", "to", "there", "is", "are", "with",
                     "picture", "image", "corner", "side", "sized", "size"])
VOCAB = ("<pad>", *sorted(MEANING | GRAMMAR))
TOKEN_IDS = {word: i for i, word in enumerate(VOCAB)}
MAX_TOKENS = 24


@dataclass(frozen=True)
class Thing:
    """One kind of object in a caption: ``count`` of them, at ``position`` (None: anywhere)."""

    shape: str
    colour: str
    size: str = "medium"
    position: str | None = None
    count: int = 1


@dataclass(frozen=True)
class Spec:
    """What a caption says: one kind of thing, or two related by ``relation``, on ``background``."""

    first: Thing
    second: Thing | None = None
    relation: str | None = None
    background: str | None = None  # None: the plain light background

    @property
    def object_count(self) -> int:
        return self.first.count + (self.second.count if self.second else 0)


def words(prompt: str) -> list[str]:
    return re.findall(r"[a-z]+", prompt.lower())


def understood(prompt: str) -> tuple[list[str], list[str]]:
    """(meaningful words the starter model reads, words it ignores), each in prompt order."""
    found = words(prompt)
    return [w for w in found if w in MEANING], [w for w in found if w not in TOKEN_IDS]


def hint(prompt: str) -> str:
    """What the prompt box shows under the prompt while the starter model is chosen."""
    known, ignored = understood(prompt)
    if not known and not ignored:
        return "The starter model knows shapes, colours, sizes, places, counts and backgrounds."
    text = "Starter model understood: " + (" ".join(known) if known else "nothing")
    return text + ("  ·  ignored: " + " ".join(ignored) if ignored else "")


def token_ids(prompt: str) -> list[int]:
    """The encoder's input: known words only (the rest are ignored), at most MAX_TOKENS."""
    ids = [TOKEN_IDS[w] for w in words(prompt) if w in TOKEN_IDS][:MAX_TOKENS]
    return ids or [0]


# --- sampling scenes and wording them ------------------------------------------------------------

def _pick(rng: np.random.Generator, options: tuple | list):
    return options[int(rng.integers(len(options)))]


def sample_spec(rng: np.random.Generator, held_out: frozenset[tuple[str, str]] = frozenset(),
                keep_held_out: bool = False) -> Spec:
    """A random scene. ``held_out`` (colour, shape) pairs are avoided, or required with
    ``keep_held_out`` (the evaluation's unseen combinations)."""
    while True:
        spec = _sample(rng)
        pairs = {(t.colour, t.shape) for t in (spec.first, spec.second) if t}
        if bool(pairs & held_out) == keep_held_out:
            return spec


def _sample(rng: np.random.Generator) -> Spec:
    kind = rng.random()
    background = None if rng.random() < 0.5 else _pick(rng, COLOURS)
    if kind < 0.55:
        size = _pick(rng, SIZES)
        position = None if rng.random() < 0.3 else _pick(rng, POSITIONS)
        first = Thing(_pick(rng, SHAPES), _pick(rng, COLOURS), size, position)
        second = relation = None
    elif kind < 0.72:
        first = Thing(_pick(rng, SHAPES), _pick(rng, COLOURS), _pick(rng, SIZES[:2]),
                      count=int(rng.integers(2, 4)))
        second = relation = None
    else:
        first = Thing(_pick(rng, SHAPES), _pick(rng, COLOURS), _pick(rng, SIZES[:2]))
        while True:
            second = Thing(_pick(rng, SHAPES), _pick(rng, COLOURS), _pick(rng, SIZES[:2]))
            if (second.shape, second.colour) != (first.shape, first.colour):
                break
        relation = _pick(rng, RELATIONS)
    used = {first.colour, second.colour if second else first.colour}
    if background in used:
        background = None
    return Spec(first, second, relation, background)


def _say(rng: np.random.Generator, word: str) -> str:
    return _pick(rng, _SYNONYMS.get(word, (word,)))


def _place_words(rng: np.random.Generator, position: str) -> str:
    parts = position.split()  # "upper"/"lower" only in corners: "the lower" alone is not English
    return " ".join(_say(rng, w) if len(parts) == 2 or w == "centre" else w for w in parts)


def _position(rng: np.random.Generator, position: str) -> str:
    said = _place_words(rng, position)
    if position == "centre":
        return _pick(rng, ("in the ", "at the ", "")) + said
    if " " in position and rng.random() < 0.3:
        said += " corner"
    return _pick(rng, ("in the ", "at the ", "on the ", "")) + said


def _thing(rng: np.random.Generator, thing: Thing, with_position: bool) -> str:
    det = {1: _pick(rng, ("a", "one")), 2: "two", 3: "three"}[thing.count]
    size = "" if thing.size == "medium" and rng.random() < 0.8 else _say(rng, thing.size) + " "
    shape = thing.shape + ("s" if thing.count > 1 else "")
    text = f"{det} {size}{thing.colour} {shape}"
    if with_position and thing.position:
        text += " " + _position(rng, thing.position)
    return text


def caption(spec: Spec, rng: np.random.Generator) -> str:
    """``spec`` in one of several wordings (order, commas, synonyms, filler words)."""
    first = spec.first
    if spec.second is None and first.count == 1 and rng.random() < 0.3:  # "blue square, large, centre"
        parts = [f"{first.colour} {first.shape}"]
        if first.size != "medium" or rng.random() < 0.2:
            parts.append(_say(rng, first.size))
        if first.position:
            parts.append(_place_words(rng, first.position))
        if spec.background:
            parts.append(f"{spec.background} background")
        order = [parts[0], *(parts[1 + int(i)] for i in rng.permutation(len(parts) - 1))]
        return ", ".join(order)
    text = _thing(rng, first, with_position=True)
    if spec.second is not None:
        assert spec.relation is not None
        relation = spec.relation
        if relation in ("left of", "right of") and rng.random() < 0.4:
            relation = "to the " + relation
        text += f" {relation} {_thing(rng, spec.second, with_position=False)}"
    if spec.background:
        bg = _pick(rng, ("on a {} background", "with a {} background", "{} background"))
        bg = bg.format(spec.background)
        text = f"{bg}, {text}" if rng.random() < 0.15 else f"{text} {bg}"
    if rng.random() < 0.15:
        text = _pick(rng, ("there is ", "there are ", "a picture of ")) + text
    return text
