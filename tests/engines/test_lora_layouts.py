"""LoRA files in both layouts people have, for the tiny SD model, loaded through the path a user's file
takes: kohya/A1111 (``lora_unet_…``/``lora_te_…``, ``lora_down``/``lora_up``, ``alpha``), which diffusers
converts, and diffusers/peft (``unet.….lora_A``). The set in use is fused, changing it never reloads
the base model, and removing every LoRA leaves the base model's exact weights and pixels."""

from __future__ import annotations

import numpy as np
import pytest
from request_builder import gen_request

from t2i_studio.core.engine import CancelToken
from t2i_studio.core.requests import Adapter
from t2i_studio.engines.text2image import Text2ImageEngine

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RANK = 4
UNET_TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "ff.net.0.proj", "ff.net.2")
TEXT_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2")


def _pairs(model, targets, seed: int) -> dict[str, tuple]:
    """Random (down, up) matrices of rank RANK for each target Linear of ``model``, by module path."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    return {name: (torch.randn(RANK, module.in_features, generator=generator) * 0.1,
                   torch.randn(module.out_features, RANK, generator=generator) * 0.1)
            for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and name.endswith(targets)}


def _kohya(pairs: dict[str, tuple], prefix: str, alpha: float) -> dict:
    import torch

    out = {}
    for name, (down, up) in pairs.items():
        key = prefix + name.replace(".", "_")
        out |= {f"{key}.lora_down.weight": down, f"{key}.lora_up.weight": up,
                f"{key}.alpha": torch.tensor(alpha)}
    return out


@pytest.fixture(scope="module")
def layouts(tiny_sd_path, tmp_path_factory):
    """One LoRA (UNet and text encoder) as a kohya file with alpha 2x its rank, and the same weights as
    a diffusers file (no alpha: scale 1); and a kohya file of the text encoder part alone."""
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPTextModel

    folder = tmp_path_factory.mktemp("layouts")
    unet = _pairs(UNet2DConditionModel.from_pretrained(tiny_sd_path / "unet"), UNET_TARGETS, 1)
    # kohya names the text encoder's modules from CLIPTextModel's "text_model" root, as A1111 files do
    text = {f"text_model.{name}" if not name.startswith("text_model.") else name: pair for name, pair in
            _pairs(CLIPTextModel.from_pretrained(tiny_sd_path / "text_encoder"), TEXT_TARGETS, 2).items()}
    files = {"kohya": folder / "ink-kohya.safetensors", "diffusers": folder / "ink-diffusers.safetensors",
             "text_only": folder / "ink-text.safetensors"}
    kohya = _kohya(unet, "lora_unet_", 2.0 * RANK) | _kohya(text, "lora_te_", 2.0 * RANK)
    save_file(kohya, str(files["kohya"]))
    save_file(_kohya(text, "lora_te_", RANK), str(files["text_only"]))
    diffusers = {}
    for prefix, pairs in (("unet.", unet), ("text_encoder.", text)):
        for name, (down, up) in pairs.items():
            diffusers |= {f"{prefix}{name}.lora_A.weight": down, f"{prefix}{name}.lora_B.weight": up}
    save_file(diffusers, str(files["diffusers"]))
    return files


@pytest.fixture(scope="module")
def engine():
    made = Text2ImageEngine()
    yield made
    made.close()


@pytest.fixture(scope="module")
def base_request(tiny_sd_path):
    return gen_request("a cat", model=str(tiny_sd_path), width=64, height=64, steps=2, seed=5, dtype="fp32",
                       scheduler="Euler")


def _pixels(engine, request, *adapters) -> np.ndarray:
    request = request.replace(model=request.model.replace(adapters=tuple(adapters)))
    return np.asarray(engine.run(request, lambda p: None, CancelToken()).images[0]).astype(np.int16)


def test_kohya_and_diffusers_layouts_give_the_same_picture(engine, base_request, layouts):
    base = _pixels(engine, base_request)
    # kohya's alpha scales by alpha/rank = 2: at weight 0.5 it is the diffusers file at weight 1
    kohya = _pixels(engine, base_request, Adapter(str(layouts["kohya"]), weight=0.5))
    diffusers = _pixels(engine, base_request, Adapter(str(layouts["diffusers"]), weight=1.0))
    assert np.abs(kohya - base).mean() > 1
    assert np.abs(kohya - diffusers).max() <= 2 and np.abs(kohya - diffusers).mean() < 0.2
    text_only = _pixels(engine, base_request, Adapter(str(layouts["text_only"])))
    assert np.abs(text_only - base).mean() > 0.5  # the lora_te_ part reaches the text encoder


def test_the_set_in_use_is_fused_once_and_removing_it_restores_the_exact_base(engine, base_request, layouts,
                                                                             monkeypatch):
    base = _pixels(engine, base_request)
    pipe, loads = engine.pipe, engine.loads
    weights = {key: value.clone() for key, value in pipe.unet.state_dict().items()}
    text_weights = {key: value.clone() for key, value in pipe.text_encoder.state_dict().items()}
    calls = {"fuse": 0, "read": 0}
    fuse, read = pipe.fuse_lora, pipe.load_lora_weights

    def counting(name, call):
        def counted(*args, **kwargs):
            calls[name] += 1
            return call(*args, **kwargs)
        return counted

    monkeypatch.setattr(pipe, "fuse_lora", counting("fuse", fuse))
    monkeypatch.setattr(pipe, "load_lora_weights", counting("read", read))
    ink = Adapter(str(layouts["kohya"]), weight=0.8)
    first = _pixels(engine, base_request, ink)
    assert np.array_equal(_pixels(engine, base_request, ink), first)  # the same set again: nothing redone
    assert calls == {"fuse": 1, "read": 1}
    weaker = _pixels(engine, base_request, ink.replace(weight=0.3))
    assert calls == {"fuse": 2, "read": 1}  # a new weight: fused again, the file not read again
    assert 0 < np.abs(weaker - base).mean() < np.abs(first - base).mean()
    both = _pixels(engine, base_request, ink, Adapter(str(layouts["text_only"]), weight=0.5))
    assert not np.array_equal(both, first)
    assert np.array_equal(_pixels(engine, base_request, ink), first)  # back to one: the same picture
    assert np.array_equal(_pixels(engine, base_request), base)  # none: the base model's exact pixels
    unet, text = pipe.unet.state_dict(), pipe.text_encoder.state_dict()
    assert unet.keys() == weights.keys() and all(unet[k].equal(v) for k, v in weights.items())
    assert text.keys() == text_weights.keys() and all(text[k].equal(v) for k, v in text_weights.items())
    assert engine.loads == loads  # no change of LoRAs or weights reloaded the base model


def test_a_tag_in_the_prompt_is_never_text_for_the_encoder(engine, base_request, layouts):
    ink = Adapter(str(layouts["kohya"]), weight=0.5)
    plain = _pixels(engine, base_request, ink)
    tagged = _pixels(engine, base_request.replace(prompt="a cat <lora:ink-kohya:0.5>"), ink)
    assert np.array_equal(tagged, plain)
