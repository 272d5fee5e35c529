"""LoRAs on the tiny SD pipeline: LoRA files written with peft in the diffusers layout and loaded
through the same code a user's file takes. Weight 0 and no LoRA are the base model exactly; the
effect grows with the weight; changing LoRAs never reloads the base model."""

from __future__ import annotations

import numpy as np
import pytest
from request_builder import gen_request

from t2i_studio.core.a1111 import parse_parameters
from t2i_studio.core.engine import CancelToken
from t2i_studio.core.metadata import image_data, parameters_for
from t2i_studio.core.requests import Adapter, ModelRef
from t2i_studio.engines.registry import local_registry
from t2i_studio.engines.text2image import Text2ImageEngine

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _write_lora(tiny_sd_path, folder, seed: int):
    """A random LoRA on the tiny UNet's attention (peft), saved as diffusers saves LoRAs."""
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from peft import LoraConfig, get_peft_model_state_dict

    torch.manual_seed(seed)
    unet = UNet2DConditionModel.from_pretrained(tiny_sd_path / "unet")
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights=False,
                                target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    StableDiffusionPipeline.save_lora_weights(folder, unet_lora_layers=get_peft_model_state_dict(unet),
                                              safe_serialization=True)
    return folder / "pytorch_lora_weights.safetensors"


@pytest.fixture(scope="module")
def loras(tiny_sd_path, tmp_path_factory):
    base = tmp_path_factory.mktemp("loras")
    return _write_lora(tiny_sd_path, base / "ink", 1), _write_lora(tiny_sd_path, base / "neon", 2)


@pytest.fixture(scope="module")
def engine():
    made = Text2ImageEngine()
    yield made
    made.close()


def _pixels(engine, request) -> np.ndarray:
    return np.asarray(engine.run(request, lambda p: None, CancelToken()).images[0]).astype(np.int16)


def _with(request, *adapters):
    return request.replace(model=request.model.replace(adapters=tuple(adapters)))


def test_weight_zero_and_no_lora_are_the_base_model_and_the_effect_grows(engine, tiny_sd_path, loras):
    base_request = gen_request("a cat", model=str(tiny_sd_path), width=64, height=64, steps=2, seed=3,
                               dtype="fp32", scheduler="Euler")
    base = _pixels(engine, base_request)
    loads = engine.loads
    zero = _pixels(engine, _with(base_request, Adapter(str(loras[0]), weight=0.0)))
    half = _pixels(engine, _with(base_request, Adapter(str(loras[0]), weight=0.5)))
    full = _pixels(engine, _with(base_request, Adapter(str(loras[0]), weight=2.0)))
    assert np.array_equal(zero, base)
    assert 0 < np.abs(half - base).mean() < np.abs(full - base).mean()
    both = _pixels(engine, _with(base_request, Adapter(str(loras[0])), Adapter(str(loras[1]))))
    alone = _pixels(engine, _with(base_request, Adapter(str(loras[0]))))
    assert not np.array_equal(both, alone)
    assert np.array_equal(_pixels(engine, base_request), base)  # all removed: the base model exactly
    assert engine.loads == loads  # no LoRA change reloaded the base weights


def test_lora_hashes_are_written_as_a1111_does(engine, tiny_sd_path, loras):
    request = _with(gen_request("a cat", model=str(tiny_sd_path), width=64, height=64, steps=1, dtype="fp32"),
                    Adapter(str(loras[0].parent), weight=0.8))  # a folder, as diffusers saves them
    result = engine.run(request, lambda p: None, CancelToken())
    [lora] = result.fingerprint["loras"]
    # named as a tag names it (a folder by its name); A1111's hash: 12 hex of the SHA-256 past the header
    assert lora["name"] == "ink" and lora["weight"] == 0.8 and len(lora["hash"]) == 12
    text = parameters_for(image_data(request, 1, fingerprint=result.fingerprint))
    assert parse_parameters(text)["params"]["Lora hashes"] == f"ink: {lora['hash']}"
    assert parse_parameters(text)["prompt"] == "a cat <lora:ink:0.8>"  # a LoRA given without a tag gets one


def test_bad_loras_are_refused_before_anything_loads(tiny_sd_path, tmp_path, loras):
    import torch
    from safetensors.torch import save_file

    request = gen_request("a cat", model=str(tiny_sd_path), width=64, height=64, steps=1)
    cases = [(Adapter(str(tmp_path / "gone.safetensors")), "LoRA not found"),
             (Adapter(str(loras[0]), weight=9.0), "must be from -4 to 4")]
    sdxl = tmp_path / "sdxl-detail.safetensors"
    save_file({"unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight":
               torch.zeros(4, 2048)}, str(sdxl))
    cases.append((Adapter(str(sdxl)), "sdxl-detail is a LoRA for SDXL models, and the chosen model is SD 1.x/2.x"))
    pickle = tmp_path / "old.safetensors"
    pickle.write_bytes(b"\x80\x04K\x01.")
    cases.append((Adapter(str(pickle)), "pickle"))
    for adapter, message in cases:
        with pytest.raises(ValueError, match=message):
            local_registry().check(request.replace(model=ModelRef(str(tiny_sd_path), adapters=(adapter,))))


def test_the_cli_takes_loras_with_weights(tmp_path):
    from t2i_studio.cli import build_parser
    from t2i_studio.cli.generate import build_request

    args = build_parser().parse_args(["generate", "a cat", "--model", "m", "--lora", "ink.safetensors:0.6",
                                      "--lora", "C:/loras/neon.safetensors"])
    adapters = build_request(args).model.adapters
    assert adapters == (Adapter("ink.safetensors", weight=0.6), Adapter("C:/loras/neon.safetensors"))
