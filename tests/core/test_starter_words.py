"""The starter model's language and world: which words it reads, varied captions, and pictures
the evaluator reads back exactly as the captions say."""

from __future__ import annotations

import numpy as np

from t2i_studio.core import starter_eval, starter_world
from t2i_studio.core.starter_words import (
    Spec,
    Thing,
    caption,
    hint,
    sample_spec,
    understood,
)


def test_the_user_is_told_which_words_were_understood_and_which_ignored():
    known, ignored = understood("A cute small red circle in the top-left, on a black background!")
    assert known == ["small", "red", "circle", "top", "left", "black", "background"]
    assert ignored == ["cute"]
    assert hint("fluffy blue star") == "Starter model understood: blue star  ·  ignored: fluffy"
    assert hint("a photo of a cat") == "Starter model understood: nothing  ·  ignored: photo cat"


def test_captions_vary_in_wording_and_use_only_known_words():
    rng = np.random.default_rng(0)
    spec = Spec(Thing("circle", "red", "small", "top left"), background="black")
    wordings = {caption(spec, rng) for _ in range(200)}
    assert len(wordings) > 20
    assert "a small red circle in the top left on a black background" in wordings
    assert any(w.startswith("red circle, ") for w in wordings)
    for _ in range(500):
        assert understood(caption(sample_spec(rng), rng))[1] == []


def test_a_scene_renders_the_same_from_the_same_seed_and_differs_by_seed():
    spec = Spec(Thing("star", "yellow", count=2))
    first = starter_world.render(spec, 5)
    assert np.array_equal(first, starter_world.render(spec, 5))
    assert not np.array_equal(first, starter_world.render(spec, 6))
    assert first.shape == (128, 128, 3) and first.dtype == np.uint8


def test_the_evaluator_reads_rendered_pictures_as_their_captions_say():
    rng = np.random.default_rng(1)
    specs = [sample_spec(rng) for _ in range(150)]
    pictures = [starter_world.render(s, rng) for s in specs]
    assert starter_eval.accuracy(pictures, specs) == {a: 1.0 for a in starter_eval.ATTRIBUTES}


def test_the_evaluator_notices_a_wrong_picture():
    picture = starter_world.render(Spec(Thing("heart", "blue", "large", "left")), 0)
    wrong = starter_eval.score(picture, Spec(Thing("square", "red", position="right"), background="green"))
    assert wrong == {"colour": False, "shape": False, "position": False, "count": True, "background": False}
