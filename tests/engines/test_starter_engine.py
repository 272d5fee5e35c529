"""The built-in starter model as users meet it: the shipped weights, one engine for the module."""

from __future__ import annotations

import numpy as np
import pytest

from t2i_studio.core.catalog import ModelInfo
from t2i_studio.core.engine import Cancelled, CancelToken
from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.project import Project
from t2i_studio.core.requests import (
    Adapter,
    GenerationRequest,
    ImageInputs,
    ModelRef,
    Sampling,
)
from t2i_studio.core.settings import Settings
from t2i_studio.core.starter_world import RGB
from t2i_studio.engines import models, starter
from t2i_studio.engines.registry import local_registry
from t2i_studio.engines.starter.engine import StarterEngine

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def engine():
    return StarterEngine()


def _request(prompt: str = "a large red circle", **sampling) -> GenerationRequest:
    return GenerationRequest(prompt, width=128, height=128, model=ModelRef(starter.MODEL_ID),
                             sampling=Sampling(**sampling), engine=starter.ENGINE)


def _pixels(engine, request) -> list[np.ndarray]:
    return [np.asarray(im) for im in engine.run(request, lambda p: None, CancelToken()).images]


def test_the_shipped_weights_draw_the_same_pictures_from_the_same_seeds(engine):
    batch = _pixels(engine, _request(seed=40, batch_size=3))
    assert all(p.shape == (128, 128, 3) for p in batch)
    assert all(np.array_equal(a, b) for a, b in zip(batch, _pixels(engine, _request(seed=40, batch_size=3))))
    assert not np.array_equal(batch[0], batch[1])
    # image k of a batch is seed + k's picture (batched arithmetic may round a level differently)
    alone = _pixels(engine, _request(seed=42))[0]
    assert np.abs(alone.astype(int) - batch[2]).max() <= 2


def test_a_red_caption_gives_a_red_object(engine):
    palette = np.array(list(RGB.values()), dtype=float)
    for picture in _pixels(engine, _request("a large red circle", seed=7, batch_size=4)):
        pixels = picture.reshape(-1, 3).astype(float)
        border = np.concatenate([picture[:2].reshape(-1, 3), picture[-2:].reshape(-1, 3)]).astype(float)
        # the object: pixels far from the background, named by their nearest palette colour
        region = pixels[np.linalg.norm(pixels - np.median(border, axis=0), axis=1) > 60]
        assert len(region) > 200
        nearest = ((region[:, None] - palette[None]) ** 2).sum(2).argmin(1)
        assert np.bincount(nearest, minlength=len(RGB)).argmax() == list(RGB).index("red")


def test_variation_strength_zero_is_the_seed_and_one_the_variation_seed(engine):
    base, other = _pixels(engine, _request(seed=3))[0], _pixels(engine, _request(seed=9))[0]
    assert np.array_equal(_pixels(engine, _request(seed=3, variation_seed=9, variation_strength=0.0))[0], base)
    assert np.array_equal(_pixels(engine, _request(seed=3, variation_seed=9, variation_strength=1.0))[0], other)
    halfway = _pixels(engine, _request(seed=3, variation_seed=9, variation_strength=0.5))[0]
    assert not np.array_equal(halfway, base) and not np.array_equal(halfway, other)


def test_a_cancelled_run_makes_nothing(engine):
    token = CancelToken()

    def cancel_on_first_step(progress):
        token.cancel()

    with pytest.raises(Cancelled):
        engine.run(_request(batch_size=4), cancel_on_first_step, token)


def test_what_the_starter_model_cannot_do_is_refused_with_a_reason(tmp_path):
    registry = local_registry()
    registry.check(_request())
    entry = registry.entry(starter.ENGINE)
    assert entry.modes == ("txt2img",) and entry.adapters == () and entry.schedulers == ()
    init = tmp_path / "init.png"
    cases = {
        "cannot do img2img": _request().replace(mode="img2img", images=ImageInputs(str(init))),
        "cannot apply lora adapters": _request().replace(
            model=ModelRef(starter.MODEL_ID, adapters=(Adapter("style.safetensors"),))),
        "draws square pictures": _request().replace(width=256, height=128),
        "runs only the built-in model": _request().replace(model=ModelRef("org/sd")),
    }
    for reason, request in cases.items():
        with pytest.raises(ValueError, match=reason):
            registry.check(request)


def test_the_picker_lists_the_starter_model_first(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "hf_cache_dir", lambda: tmp_path / "no-cache")  # nothing downloaded
    listed = models.HubModelCatalog(Settings()).list()
    assert listed[0] == ModelInfo(starter.MODEL_ID, starter.NAME, "builtin", "starter",
                                  starter.WEIGHTS.stat().st_size, str(starter.WEIGHTS), engine=starter.ENGINE)


def test_results_are_saved_with_the_model_name_and_hash(engine, tmp_path):
    request = _request("two yellow stars", seed=5).replace(width=256, height=256)
    result = engine.run(request, lambda p: None, CancelToken())
    assert result.images[0].size == (256, 256)
    with Project.create(tmp_path / "p") as project:
        [entry] = project.save_result(request, result)
        meta = read_metadata(entry.path)
    assert "Model: Starter (built in)" in meta.parameters
    assert f"Model hash: {result.fingerprint['model']['hash']}" in meta.parameters
    assert len(result.fingerprint["model"]["hash"]) == 10 and meta.request == request
