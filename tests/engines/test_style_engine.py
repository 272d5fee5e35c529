"""The style engine's mechanics: losses fall, determinism, cancel, progress, multi-scale, lineage."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import style_helpers as H

from t2i_studio import __version__
from t2i_studio.core.engine import Cancelled, CancelToken, Engine, EngineError, Progress
from t2i_studio.core.requests import RunOptions, StyleRequest
from t2i_studio.engines.registry import local_registry
from t2i_studio.engines.style import StyleTransferEngine, lbfgs_history, plan_iterations, plan_scales


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("style-engine")
    return (H.save(H.content_image(64), folder / "content.png"),
            H.save(H.style_image(64), folder / "style.png"),
            H.save(H.style_image(64, seed=7).transpose(0), folder / "style2.png"))


@pytest.fixture(scope="module")
def engine():
    return StyleTransferEngine()


def _request(files, **changes):
    base = dict(styles=(files[1],), size=48, iterations=8, vgg_weights="random")
    base.update(changes)
    return StyleRequest(files[0], **base)


def test_is_an_engine(engine):
    assert isinstance(engine, Engine)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_losses_fall(engine, files, optimizer):
    engine.run(_request(files, optimizer=optimizer), lambda p: None, CancelToken())
    trace = engine.last_trace
    assert len(trace) == 8
    assert trace[-1]["loss"] < 0.8 * trace[0]["loss"]
    assert trace[-1]["style"] < trace[0]["style"]


def test_same_seed_same_pixels_and_noise_init_uses_the_seed(engine, files):
    run = lambda **c: np.asarray(engine.run(_request(files, init="noise", iterations=4, **c),  # noqa: E731
                                            lambda p: None, CancelToken()).images[0])
    a, b, c = run(seed=3), run(seed=3), run(seed=4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_progress_every_iteration_with_previews_and_multiscale(engine, files):
    seen: list[Progress] = []
    result = engine.run(_request(files, size=128, iterations=6, styles=(files[1], files[2]),
                                 style_weights=(3.0, 1.0), run=RunOptions(preview_every=3)), seen.append,
                        CancelToken())
    assert [p.step for p in seen] == list(range(1, 7)) and seen[-1].total == 6
    assert [p.step for p in seen if p.preview is not None] == [3, 6]
    assert "random VGG weights, lower quality" in seen[0].message
    assert result.images[0].size == (128, 128) and result.seeds == [0]
    fp = result.fingerprint
    assert set(fp) == {"app", "torch", "device", "dtype", "vgg", "iterations", "scales"}
    assert fp["app"] == __version__ and fp["device"] == "cpu" and fp["dtype"] == "float32"
    assert fp["vgg"] == {"weights": "random", "sha256": None}
    assert fp["scales"] == [64, 128] and fp["iterations"] == 6
    lineage = result.lineage
    sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()  # noqa: E731
    assert lineage["source_image"] == files[0] and lineage["source_entry"] is None
    assert lineage["source_sha256"] == sha(files[0])
    assert lineage["styles"] == [{"path": files[1], "sha256": sha(files[1]), "weight": 0.75},
                                 {"path": files[2], "sha256": sha(files[2]), "weight": 0.25}]


def test_cancel_within_one_iteration(engine, files):
    token = CancelToken()
    steps: list[int] = []

    def on_progress(p: Progress) -> None:
        steps.append(p.step)
        if p.step == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        engine.run(_request(files), on_progress, token)
    assert steps == [1, 2]
    # still usable afterwards
    assert engine.run(_request(files, iterations=2), lambda p: None, CancelToken()).images


def test_user_errors_are_engine_errors(engine, files, tmp_path):
    with pytest.raises(EngineError, match="not found"):
        engine.run(_request(files).replace(content=str(tmp_path / "nope.png")), lambda p: None, CancelToken())
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with pytest.raises(EngineError, match="cannot be read"):
        engine.run(_request(files).replace(styles=(str(bad),)), lambda p: None, CancelToken())
    with pytest.raises(ValueError, match="Style strength"):
        local_registry().check(_request(files, style_strength=2.0))
    with pytest.raises(ValueError, match="Content image not found"):
        local_registry().check(_request(files).replace(content=str(tmp_path / "nope.png")))


def test_plans():
    assert plan_scales(512) == [128, 256, 512]
    assert plan_scales(100) == [100]
    assert plan_iterations("normal", None, 3) == [150, 75, 40]
    assert sum(plan_iterations("normal", 100, 3)) == 100
    import torch

    cpu = torch.device("cpu")
    assert lbfgs_history(256 * 256 * 3, cpu) == 100
    assert 5 <= lbfgs_history(2048 * 2048 * 3, cpu) < 20  # large outputs: a short history
