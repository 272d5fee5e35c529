"""An fp16 VAE marked force_upcast (the SDXL one overflows in fp16) is run in fp32 only for the
call: the engine's own encode and decode upcast it, and it goes back to fp16 after, so diffusers'
img2img still feeds it images in the pipeline's dtype."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from request_builder import gen_request, with_

from t2i_studio.core.engine import CancelToken
from t2i_studio.engines.text2image import Text2ImageEngine

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def run(engine, req):
    return engine.run(req, lambda p: None, CancelToken())


def record(monkeypatch, vae, name, calls):
    """Wrap vae.<name> to note (input dtype, VAE dtype) of every call; its output must be finite."""
    import torch

    original = getattr(vae, name)

    def wrapped(x, *args, **kwargs):
        calls.append((x.dtype, vae.dtype))
        out = original(x, *args, **kwargs)
        result = out.sample if name == "decode" else out.latent_dist.mean
        assert torch.isfinite(result).all()
        return out

    monkeypatch.setattr(vae, name, wrapped)


def test_fp16_force_upcast_vae_runs_in_fp32_and_stays_fp16(tiny_sd_path, tmp_path, monkeypatch):
    import torch

    init = tmp_path / "init.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(init)
    req = gen_request(prompt="a cat", model=str(tiny_sd_path), width=64, height=64, steps=2,
                            seed=3, dtype="fp16")
    engine = Text2ImageEngine()
    try:
        run(engine, req)
        vae = engine.pipe.vae
        assert vae.config.force_upcast and vae.dtype == torch.float16  # loading left it alone
        encodes: list = []
        decodes: list = []
        record(monkeypatch, vae, "encode", encodes)
        record(monkeypatch, vae, "decode", decodes)
        fp32 = (torch.float32, torch.float32)

        image = np.asarray(run(engine, req).images[0])
        assert decodes == [fp32] and vae.dtype == torch.float16 and image.std() > 0

        decodes.clear()
        kept = np.asarray(run(engine, with_(req, init_image=str(init), strength=0.0)).images[0])
        assert encodes == [fp32] and decodes == [fp32] and vae.dtype == torch.float16
        assert kept.std() > 0

        # diffusers' own img2img encodes with the VAE in the pipeline's dtype: it must still be fp16
        encodes.clear()
        decodes.clear()
        out = run(engine, with_(req, init_image=str(init), strength=0.5)).images[0]
        assert encodes == [(torch.float16, torch.float16)] and decodes == [fp32]
        assert vae.dtype == torch.float16 and np.asarray(out).std() > 0
    finally:
        engine.close()
