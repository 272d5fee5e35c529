"""The text-to-image engine on the tiny SD and SDXL pipelines: reproducible seeds, batches, variation
seeds, img2img, schedulers without reload, previews, cancel, simulated OOM, fp16/bf16 VAE fallback."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from PIL import Image
from request_builder import gen_request, with_

from t2i_studio.core import jobs
from t2i_studio.core.engine import Cancelled, CancelToken, Engine, EngineError, Progress, Result
from t2i_studio.core.engine_registry import EngineEntry, EngineRegistry
from t2i_studio.core.requests import DEFAULT_ENGINE, MODES
from t2i_studio.engines.registry import local_registry
from t2i_studio.engines.text2image import Text2ImageEngine

FAMILIES = ["sd", "sdxl"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(params=FAMILIES)
def setup(request, engines, tiny_sd_path, tiny_sdxl_path):
    """(engine kept warm for this family, a 64x64 3-step request on its model)."""
    family = request.param
    path = tiny_sd_path if family == "sd" else tiny_sdxl_path
    engine = engines.setdefault(family, Text2ImageEngine())
    req = gen_request(prompt="a cat and the moon", model=str(path), width=64, height=64, steps=3,
                            seed=7, scheduler="Euler", dtype="fp32")
    return engine, req


def run(engine, req, progress=None, cancel=None):
    return engine.run(req, progress or (lambda p: None), cancel or CancelToken())


def run_batches(engine, req) -> Result:
    """A request of several batches through the job loop (one engine run per batch)."""
    registry = EngineRegistry([EngineEntry(DEFAULT_ENGINE, "tiny", "generate", MODES, lambda: engine)])
    made: list[Result] = []
    outcome = jobs.run_job(req, registry, lambda _run, result: made.append(result) or [])
    assert outcome.state == jobs.FINISHED, outcome.message
    return Result([i for r in made for i in r.images], [s for r in made for s in r.seeds])


def px(image) -> np.ndarray:
    return np.asarray(image).astype(np.int16)


def test_engine_protocol_and_status(setup):
    engine, req = setup
    assert isinstance(engine, Engine)
    run(engine, req)
    status = engine.status()
    assert status["device"] == "cpu" and status["model"] == "model" and status["memory_mb"] > 0


def test_identical_requests_give_identical_pixels(setup):
    engine, req = setup
    req = with_(req, scheduler="Euler a")  # ancestral: step noise must be seeded too
    first, second = run(engine, req), run(engine, req)
    assert first.images[0].size == (64, 64)
    assert np.array_equal(px(first.images[0]), px(second.images[0]))
    other = run(engine, with_(req, seed=8))
    assert not np.array_equal(px(first.images[0]), px(other.images[0]))


def test_batch_image_k_equals_single_run_with_seed_plus_k(setup):
    engine, req = setup
    req = with_(req, scheduler="Euler a", batch_size=2, batch_count=2)
    result = run_batches(engine, req)
    assert result.seeds == [7, 8, 9, 10] and len(result.images) == 4
    for k in (1, 3):
        alone = run(engine, with_(req, seed=7 + k, batch_size=1, batch_count=1))
        # equal up to the float rounding of batched vs single matrix products (a 1-level step at most)
        diff = np.abs(px(alone.images[0]) - px(result.images[k]))
        assert diff.max() <= 2 and diff.mean() < 0.05, (k, diff.max(), diff.mean())


def test_variation_strength_zero_is_base_and_grows_smoothly(setup):
    engine, req = setup
    base = px(run(engine, req).images[0])
    diffs = []
    for strength in (0.0, 0.1, 0.4, 1.0):
        image = px(run(engine, with_(req, variation_seed=99, variation_strength=strength)).images[0])
        diffs.append(float(np.abs(image - base).mean()))
    assert diffs[0] == 0.0
    assert 0 < diffs[1] < diffs[2] < diffs[3]
    assert diffs[1] < 0.3 * diffs[3]  # small strengths are close neighbours
    # strength 1 is exactly the variation seed's own noise
    assert np.array_equal(px(run(engine, with_(req, seed=99)).images[0]),
                          px(run(engine, with_(req, variation_seed=99, variation_strength=1.0)).images[0]))


def _vae_roundtrip(engine, image):
    import torch

    pipe = engine.pipe
    pixels = pipe.image_processor.preprocess(image).to(pipe.vae.dtype)
    with torch.inference_mode():
        latents = pipe.vae.encode(pixels).latent_dist.mode()
        out = pipe.vae.decode(latents).sample
    return px(pipe.image_processor.postprocess(out.float(), output_type="pil")[0])


def test_img2img_strength_and_weight_reuse(setup, tmp_path):
    engine, req = setup
    run(engine, req)
    loads, unet = engine.loads, engine.pipe.unet
    noise_img = tmp_path / "noise.png"
    red_img = tmp_path / "red.png"
    Image.fromarray(np.random.RandomState(0).randint(0, 255, (64, 64, 3), dtype=np.uint8)).save(noise_img)
    Image.new("RGB", (64, 64), (240, 30, 30)).save(red_img)
    i2i = with_(req, steps=4)

    kept = run(engine, with_(i2i, init_image=str(red_img), strength=0.0))
    expected = _vae_roundtrip(engine, Image.open(red_img).convert("RGB"))
    assert np.abs(px(kept.images[0]) - expected).max() <= 2  # the init image, through the VAE only
    assert kept.lineage["source_image"] == str(red_img) and len(kept.lineage["source_sha256"]) == 64

    def gap(strength):
        a = run(engine, with_(i2i, init_image=str(noise_img), strength=strength)).images[0]
        b = run(engine, with_(i2i, init_image=str(red_img), strength=strength)).images[0]
        return float(np.abs(px(a) - px(b)).mean())

    low, full = gap(0.5), gap(1.0)
    assert full < 0.2 * low  # strength 1: the init image hardly matters any more
    assert engine.loads == loads and engine.pipe.unet is unet
    assert engine._pipeline("img2img").unet is unet  # from_pipe: same weights, no second load
    result = run(engine, with_(i2i, init_image=str(red_img), strength=0.5))
    assert "Img2Img" in result.fingerprint["pipeline"]


def test_scheduler_switch_does_not_reload(setup):
    engine, req = setup
    run(engine, req)
    loads, unet = engine.loads, engine.pipe.unet
    classes = set()
    for name in ("DPM++ 2M Karras", "DDIM", "UniPC", "Heun", "Euler a", "DPM++ SDE Karras", "LCM"):
        result = run(engine, with_(req, scheduler=name))
        classes.add(result.fingerprint["scheduler"]["class"])
        assert result.fingerprint["scheduler"]["name"] == name
    assert engine.loads == loads and engine.pipe.unet is unet
    assert len(classes) == 6


def test_fingerprint_matches_contract(setup):
    engine, req = setup
    fp = run(engine, req).fingerprint
    assert set(fp) == {"app", "torch", "diffusers", "transformers", "device", "dtype", "pipeline",
                       "family", "scheduler", "model"}
    assert fp["device"] == "cpu" and fp["dtype"] == "float32"
    assert fp["family"] in ("sd", "sdxl") and fp["pipeline"].startswith("StableDiffusion")
    assert fp["scheduler"]["class"] == "EulerDiscreteScheduler"
    assert fp["model"] == {"id": req.model.id, "name": "model", "revision": None, "hash": None}


def test_progress_every_step_with_previews(setup):
    engine, req = setup
    seen: list[Progress] = []
    run(engine, with_(req, steps=8, preview_every=2), seen.append)
    steps = [p for p in seen if p.step > 0]
    assert [p.step for p in steps] == list(range(1, 9)) and steps[-1].total == 8
    previews = [p.preview for p in steps if p.preview is not None]
    assert len(previews) == 4 and all(isinstance(p, Image.Image) for p in previews)
    seen.clear()
    run(engine, with_(req, steps=4, preview_every=0), seen.append)
    assert [p.step for p in seen if p.step > 0] == [1, 2, 3, 4] and not any(p.preview for p in seen)


def test_cancel_stops_within_one_step_and_next_request_runs(setup):
    engine, req = setup
    run(engine, req)
    calls = {"n": 0}
    unet = engine.pipe.unet
    original = unet.forward

    def counting(*args, **kwargs):
        calls["n"] += 1
        return original(*args, **kwargs)

    unet.forward = counting
    cancel = CancelToken()

    def on_progress(p: Progress):
        if p.step == 2:
            cancel.cancel()

    try:
        with pytest.raises(Cancelled):
            run(engine, with_(req, steps=10), on_progress, cancel)
    finally:
        del unet.forward
    assert calls["n"] == 2  # no denoising step after the one during which cancel came
    assert len(run(engine, req).images) == 1


def test_simulated_oom_leaves_engine_usable(setup, monkeypatch):
    import torch

    engine, req = setup
    run(engine, req)
    loads = engine.loads

    def boom(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(engine.pipe.unet, "forward", boom)
    with pytest.raises(EngineError) as err:
        run(engine, req)
    assert "Out of memory" in str(err.value) and "batch size 1" in err.value.hint
    monkeypatch.undo()
    assert len(run(engine, req).images) == 1 and engine.loads == loads


def test_nan_half_precision_vae_is_decoded_again_in_fp32(setup, monkeypatch):
    import torch

    engine, req = setup
    req = with_(req, dtype="bf16")
    run(engine, req)
    vae = engine.pipe.vae
    original = vae.decode
    dtypes = []

    def flaky(latents, *args, **kwargs):
        dtypes.append(latents.dtype)
        out = original(latents, *args, **kwargs)
        if latents.dtype != torch.float32:
            out.sample = torch.full_like(out.sample, float("nan"))
        return out

    monkeypatch.setattr(vae, "decode", flaky)
    image = px(run(engine, req).images[0])
    assert dtypes == [torch.bfloat16, torch.float32]
    assert image.max() > 0 and vae.dtype == torch.bfloat16


def test_model_change_frees_the_old_model(engines, tiny_sd_path, tiny_sdxl_path):
    engine = Text2ImageEngine()
    req = gen_request(prompt="cat", model=str(tiny_sd_path), width=64, height=64, steps=2,
                            dtype="fp32")
    run(engine, req)
    old_unet = weakref.ref(engine.pipe.unet)
    old_bytes = _tensor_bytes()
    run(engine, with_(req, model=str(tiny_sdxl_path)))
    gc.collect()
    assert old_unet() is None  # nothing holds the old weights any more
    run(engine, req)  # back to SD: a fresh load, then drop everything
    engine.close()
    gc.collect()
    assert engine.pipe is None and engine.status()["model"] is None
    assert _tensor_bytes() < old_bytes - 100_000  # the weights' memory went back


def _tensor_bytes() -> int:
    import torch

    seen, total = set(), 0
    for obj in gc.get_objects():
        try:
            if isinstance(obj, torch.Tensor) and not obj.is_meta:
                storage = obj.untyped_storage()
                if storage.data_ptr() not in seen:
                    seen.add(storage.data_ptr())
                    total += storage.nbytes()
        except Exception:  # noqa: BLE001 - some objects refuse inspection
            continue
    return total


@pytest.mark.parametrize("change, message", [
    ({"width": 65}, "multiple of 8"),
    ({"steps": 0}, "Steps must be"),
    ({"model": "/no/such/model.safetensors"}, "Model not found"),
    ({"model": ""}, "No model chosen"),
    ({"init_image": "/no/such/init.png"}, "Init image not found"),
])
def test_bad_inputs_are_refused_at_submission_with_one_line(setup, change, message):
    engine, req = setup
    loads = engine.loads
    with pytest.raises(ValueError) as err:
        local_registry().check(with_(req, **change))
    assert message in str(err.value) and "\n" not in str(err.value)
    assert engine.loads == loads  # nothing was loaded to find out


def test_non_image_init_and_non_model_folder(setup, tmp_path):
    engine, req = setup
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(EngineError, match="init image cannot be read: notes.png is not a readable image"):
        run(engine, with_(req, init_image=str(text)))
    with pytest.raises(EngineError, match="Init image not found"):
        run(engine, with_(req, init_image=str(tmp_path / "missing.png")))
    with pytest.raises(EngineError, match="not a diffusers model folder"):
        run(engine, with_(req, model=str(tmp_path)))
    assert len(run(engine, req).images) == 1  # still usable
