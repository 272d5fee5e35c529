"""Training the starter model is deterministic from its seed, and writes weights the engine loads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from t2i_studio.core.engine import CancelToken
from t2i_studio.core.requests import GenerationRequest, ModelRef, Sampling
from t2i_studio.engines import starter
from t2i_studio.engines.starter.engine import StarterEngine
from t2i_studio.core import starter_world
from t2i_studio.core.starter_words import SHAPES
from t2i_studio.engines.starter.data import silhouettes
from t2i_studio.engines.starter.model import OUTSIDE, SPAN, Config, _place
from t2i_studio.engines.starter.training import TrainConfig, train
from t2i_studio.engines.starter.weights import load

TINY = Config(words=8, sentence=16, cond=8, z=8, thing=8, hidden=16, glyph=8, glyph_width=8, d_base=8, low=16,
              high=32)
# warmup 1: the discriminators have their say from the second iteration
RUN = TrainConfig(seed=3, batch=4, text_steps=3, text_batch=8, iterations=3, eval_every=3, eval_captions=4,
                  warmup=1)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # determinism is per thread count


def _train(folder):
    logged: list[dict] = []
    train(TINY, RUN, folder, logged.append)
    return load(folder / "last.safetensors"), logged


def test_a_tiny_training_run_is_deterministic_from_its_seed(tmp_path):
    first, log_a = _train(tmp_path / "a")
    second, log_b = _train(tmp_path / "b")
    strip = [{k: v for k, v in r.items() if k != "s"} for r in log_a]  # wall time differs
    assert strip == [{k: v for k, v in r.items() if k != "s"} for r in log_b]
    assert [r["phase"] for r in log_a][-1] == "eval" and (tmp_path / "a" / "samples-00003.png").is_file()
    a, b = first.generator.state_dict(), second.generator.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    other = TrainConfig(**{**RUN.__dict__, "seed": 4})
    train(TINY, other, tmp_path / "c", lambda r: None)
    c = load(tmp_path / "c" / "last.safetensors").generator.state_dict()
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_trained_weights_run_in_the_engine(tmp_path):
    train(TINY, RUN, tmp_path, lambda r: None)
    request = GenerationRequest("a red circle", width=64, height=64, model=ModelRef(starter.MODEL_ID),
                                sampling=Sampling(seed=1, batch_size=2), engine=starter.ENGINE)
    result = StarterEngine(tmp_path / "best.safetensors").run(request, lambda p: None, CancelToken())
    assert [im.size for im in result.images] == [(64, 64)] * 2 and result.seeds == [1, 2]
    assert np.asarray(result.images[0]).std() > 0


@pytest.mark.parametrize("shape", SHAPES)
def test_silhouette_targets_placed_like_the_generator_cover_what_the_renderer_draws(shape):
    """The glyph targets and the generator's warp agree with the renderer on where a shape is."""
    glyph = silhouettes(32, SPAN)[SHAPES.index(shape)]
    logits = torch.where(glyph > 0.5, OUTSIDE, -OUTSIDE)[None, None]
    placed = starter_world.Placed(shape, "red", 0.3, 0.6, 0.2)
    drawn = _place(logits, torch.tensor([[placed.x, placed.y, placed.radius, 1.0]]), 128)[0, 0] > 0
    rendered = starter_world.draw([placed], (255, 255, 255), 128)[..., 1] < 128
    assert (drawn.numpy() & rendered).sum() / (drawn.numpy() | rendered).sum() > 0.9
