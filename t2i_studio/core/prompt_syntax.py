"""AUTOMATIC1111's prompt syntax, as text: attention weights, ``BREAK``, extra-network tags, and how a
prompt falls into the text encoder's 75-token chunks.

``(word:1.2)`` weighs by 1.2, ``(word)`` by 1.1, ``((word))`` by 1.21, ``[word]`` by 1/1.1; ``\\(``
``\\)`` ``\\[`` ``\\]`` are the brackets themselves; an unclosed bracket closes at the end of the prompt
(A1111's ``parse_prompt_attention``). ``BREAK`` ends the current chunk, wherever it stands (A1111 keeps
a ``BREAK`` inside brackets as the plain word; here it is always a break). Tags such as
``<lora:name:0.8>`` are never text for the encoder. ``chunks`` cuts tokens into chunks as A1111's
``tokenize_line`` does; the tokenizer is the caller's (core stays free of ``transformers``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

CHUNK = 75  # tokens per chunk, between its start and end tokens
COMMA_BACKTRACK = 20  # A1111's default: a chunk that fills up within this many tokens of a comma breaks there
ROUND, SQUARE = 1.1, 1 / 1.1
_ATTENTION = re.compile(r"""
\\\(|\\\)|\\\[|\\]|\\\\|\\|   # escapes
\(|\[|
:\s*([+-]?[.\d]+)\s*\)|       # the close of (text:weight)
\)|]|
[^\\()\[\]:]+|
:
""", re.X)
_BREAK = re.compile(r"\s*\bBREAK\b\s*", re.S)
_NETWORK = re.compile(r"<(\w+):([^>]+)>")  # A1111's extra networks: <lora:name:weight>, <hypernet:...>


@dataclass(frozen=True)
class Fragment:
    text: str
    weight: float = 1.0


def strip_networks(text: str) -> str:
    """``text`` as the text encoder reads it: without its extra-network tags."""
    return _NETWORK.sub("", text)


def parse(text: str) -> list[list[Fragment]]:
    """The prompt as sections (split at ``BREAK``) of weighted fragments; adjacent fragments of the
    same weight are merged, so a prompt without syntax is one section of one fragment, itself."""
    parts: list[list] = []  # [text, weight]; None: a BREAK
    round_open: list[int] = []
    square_open: list[int] = []

    def multiply(start: int, factor: float) -> None:
        for part in parts[start:]:
            if part is not None:
                part[1] *= factor

    for match in _ATTENTION.finditer(strip_networks(text)):
        token, weight = match.group(0), match.group(1)
        if token.startswith("\\"):
            parts.append([token[1:], 1.0])
        elif token == "(":
            round_open.append(len(parts))
        elif token == "[":
            square_open.append(len(parts))
        elif weight is not None and round_open and _is_number(weight):
            multiply(round_open.pop(), float(weight))
        elif token == ")" and round_open:
            multiply(round_open.pop(), ROUND)
        elif token == "]" and square_open:
            multiply(square_open.pop(), SQUARE)
        else:
            for i, piece in enumerate(_BREAK.split(token)):
                if i:
                    parts.append(None)
                parts.append([piece, 1.0])
    for start in round_open:
        multiply(start, ROUND)
    for start in square_open:
        multiply(start, SQUARE)
    sections: list[list[Fragment]] = [[]]
    for part in parts:
        if part is None:
            sections.append([])
        elif sections[-1] and sections[-1][-1].weight == part[1]:
            sections[-1][-1] = Fragment(sections[-1][-1].text + part[0], part[1])
        else:
            sections[-1].append(Fragment(part[0], part[1]))
    return [section or [Fragment("")] for section in sections]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def is_plain(text: str) -> bool:
    """No syntax at all: the text encoder would read ``text`` exactly as it is."""
    return parse(text) == [[Fragment(text)]]


def name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """Whole-word, case-insensitive matches of any of ``names`` (the longest first), or None."""
    ordered = sorted({n for n in names if n}, key=len, reverse=True)
    if not ordered:
        return None
    return re.compile(r"(?<!\w)(" + "|".join(map(re.escape, ordered)) + r")(?!\w)", re.IGNORECASE)


@dataclass
class Chunk:
    tokens: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class TokenCount:
    tokens: int  # as A1111 counts them: every chunk but the last counts whole
    chunks: int

    @property
    def label(self) -> str:
        text = f"{self.tokens}/{self.chunks * CHUNK}"
        return f"{text} ({self.chunks} chunks)" if self.chunks > 1 else text


class _Chunker:
    def __init__(self, comma: int | None) -> None:
        self.comma = comma
        self.chunks: list[Chunk] = []
        self.chunk = Chunk()
        self.count = 0
        self.last_comma = -1

    def close(self, last: bool = False) -> None:
        self.count += len(self.chunk.tokens) if last else CHUNK
        self.chunks.append(self.chunk)
        self.chunk = Chunk()
        self.last_comma = -1

    def make_room(self, token: int | None) -> None:
        """Before the next token (None: an embedding): move past a full chunk, breaking it at a comma
        near its end when there is one."""
        chunk = self.chunk
        if token is not None and token == self.comma:
            self.last_comma = len(chunk.tokens)
        elif len(chunk.tokens) == CHUNK and self.last_comma != -1 \
                and len(chunk.tokens) - self.last_comma <= COMMA_BACKTRACK:
            cut = self.last_comma + 1
            moved = Chunk(chunk.tokens[cut:], chunk.weights[cut:])
            del chunk.tokens[cut:], chunk.weights[cut:]
            self.close()
            self.chunk = moved
        if len(self.chunk.tokens) == CHUNK:
            self.close()

    def add(self, tokens: Sequence[int], weight: float) -> None:
        self.chunk.tokens += tokens
        self.chunk.weights += [weight] * len(tokens)


def chunks(text: str, tokenize: Callable[[str], list[int]], comma: int | None = None,
           embeddings: Mapping[str, Sequence[int]] | None = None) -> tuple[list[Chunk], TokenCount]:
    """``text`` in chunks of at most CHUNK weighted tokens (start and end tokens not included), and
    its count. ``tokenize`` gives a piece of text's token ids; ``comma`` is the id of ``,``;
    ``embeddings`` maps a name (lower case) to the token ids standing for its vectors, kept within one
    chunk."""
    embeddings = {name.lower(): ids for name, ids in (embeddings or {}).items()}
    pattern = name_pattern(embeddings)
    chunker = _Chunker(comma)
    for i, section in enumerate(parse(text)):
        if i:
            chunker.close()
        for fragment in section:
            pieces = pattern.split(fragment.text) if pattern else [fragment.text]
            for k, piece in enumerate(pieces):
                if k % 2 == 0:  # text between names (re.split puts each matched name at an odd index)
                    for token in tokenize(piece) if piece else ():
                        chunker.make_room(token)
                        chunker.add([token], fragment.weight)
                    continue
                ids = embeddings[piece.lower()]
                chunker.make_room(None)
                if len(chunker.chunk.tokens) + len(ids) > CHUNK:
                    chunker.close()
                chunker.add(ids, fragment.weight)
    if chunker.chunk.tokens or not chunker.chunks:
        chunker.close(last=True)
    return chunker.chunks, TokenCount(chunker.count, len(chunker.chunks))
