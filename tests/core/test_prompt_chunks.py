"""A1111's prompt syntax as text: weights, escapes, BREAK, extra-network tags, and the 75-token chunks
(a comma near a full chunk's end breaks it, an embedding never straddles two), counted as A1111 does."""

from __future__ import annotations

import pytest

from t2i_studio.core.prompt_syntax import CHUNK, Fragment, TokenCount, chunks, is_plain, parse


def _tokens(text: str) -> list[int]:
    """One token a letter, as if each were a word: enough to count with."""
    return [ord(c) for c in text if not c.isspace()]


@pytest.mark.parametrize("text, parsed", [
    ("a cat", [[Fragment("a cat")]]),
    ("a (cat:1.5)", [[Fragment("a "), Fragment("cat", 1.5)]]),
    ("(cat)", [[Fragment("cat", 1.1)]]),
    ("((cat))", [[Fragment("cat", 1.1 * 1.1)]]),
    ("[cat]", [[Fragment("cat", 1 / 1.1)]]),
    ("(a (b:2) c)", [[Fragment("a ", 1.1), Fragment("b", 2.2), Fragment(" c", 1.1)]]),
    (r"\(cat\) \[x\]", [[Fragment("(cat) [x]")]]),
    ("(unclosed", [[Fragment("unclosed", 1.1)]]),
    ("a:b, 1:2)", [[Fragment("a:b, 1:2)")]]),
    ("a cat BREAK the moon", [[Fragment("a cat")], [Fragment("the moon")]]),
    ("(a BREAK b:1.3)", [[Fragment("a", 1.3)], [Fragment("b", 1.3)]]),
    ("a <lora:ink:0.8> cat", [[Fragment("a  cat")]]),
    ("", [[Fragment("")]]),
])
def test_the_syntax_parses_as_a1111_does(text, parsed):
    assert parse(text) == parsed


def test_only_text_without_syntax_is_plain():
    assert is_plain("a cat, the moon: at night") and is_plain("")
    assert not any(map(is_plain, ["a (cat)", r"a \(cat\)", "a BREAK b", "a <lora:x:1>", "[a]"]))


def test_chunks_hold_75_tokens_and_count_as_a1111_does():
    parts, count = chunks("a" * 81, _tokens)
    assert [len(c.tokens) for c in parts] == [75, 6] and count == TokenCount(81, 2)
    assert count.label == "81/150 (2 chunks)" and TokenCount(12, 1).label == "12/75"
    parts, count = chunks("(a:1.5) b", _tokens)
    assert parts[0].weights == [1.5, 1.0] and count == TokenCount(2, 1)
    assert chunks("", _tokens)[1] == TokenCount(0, 1)


def test_break_ends_a_chunk_and_counts_it_whole():
    parts, count = chunks("a BREAK b", _tokens)
    assert [c.tokens for c in parts] == [[ord("a")], [ord("b")]] and count.label == "76/150 (2 chunks)"


def test_a_full_chunk_breaks_at_a_comma_near_its_end():
    parts, _count = chunks("a" * 70 + "," + "b" * 10, _tokens, comma=ord(","))
    assert [len(c.tokens) for c in parts] == [71, 10] and parts[0].tokens[-1] == ord(",")
    far, _count = chunks("a" * 40 + "," + "b" * 45, _tokens, comma=ord(","))
    assert [len(c.tokens) for c in far] == [CHUNK, 11]  # the comma is too far back: cut at 75


def test_an_embedding_stays_in_one_chunk_with_its_weight():
    parts, count = chunks("a" * 70 + " (Foo:1.2) b", _tokens, embeddings={"foo": [1, 2, 3, 4, 5, 6]})
    assert [len(c.tokens) for c in parts] == [70, 7] and parts[1].tokens[:6] == [1, 2, 3, 4, 5, 6]
    assert parts[1].weights[:7] == [1.2] * 6 + [1.0] and count == TokenCount(82, 2)
    assert chunks("food foo", _tokens, embeddings={"foo": [9]})[0][0].tokens == [*map(ord, "food"), 9]
