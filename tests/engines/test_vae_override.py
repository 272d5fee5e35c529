"""A VAE in place of the tiny SD model's own: a diffusers folder, or a single file in the original
layout A1111 users have (converted here from diffusers' names, loaded back by diffusers), swapped in
without reloading the model, written as A1111's ``VAE``/``VAE hash`` and read back; bad VAEs are
refused before anything loads."""

from __future__ import annotations

import re

import numpy as np
import pytest
from request_builder import gen_request

from t2i_studio.core.a1111 import parameters_to_request, parse_parameters
from t2i_studio.core.engine import CancelToken
from t2i_studio.core.metadata import image_data, parameters_for
from t2i_studio.engines.registry import local_registry
from t2i_studio.engines.text2image import Text2ImageEngine

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# diffusers' VAE names -> the original (LDM) ones; up blocks count the other way there
_LDM = [(r"^(encoder|decoder)\.mid_block\.resnets\.(\d)\.", lambda m: f"{m[1]}.mid.block_{int(m[2]) + 1}."),
        (r"^(encoder|decoder)\.mid_block\.attentions\.0\.", r"\1.mid.attn_1."),
        (r"attn_1\.group_norm", "attn_1.norm"), (r"attn_1\.to_([qkv])\.", r"attn_1.\1."),
        (r"attn_1\.to_out\.0\.", "attn_1.proj_out."),
        (r"^encoder\.down_blocks\.(\d)\.resnets\.", r"encoder.down.\1.block."),
        (r"^encoder\.down_blocks\.(\d)\.downsamplers\.0\.", r"encoder.down.\1.downsample."),
        (r"^decoder\.up_blocks\.(\d)\.resnets\.", lambda m: f"decoder.up.{1 - int(m[1])}.block."),
        (r"^decoder\.up_blocks\.(\d)\.upsamplers\.0\.", lambda m: f"decoder.up.{1 - int(m[1])}.upsample."),
        (r"conv_shortcut", "nin_shortcut"), (r"conv_norm_out", "norm_out")]


def _ldm_state(vae) -> dict:
    """The tiny VAE's weights as an original-layout file names them (its two blocks: up 1 - i)."""
    state = {}
    for key, value in vae.state_dict().items():
        for pattern, replacement in _LDM:
            key = re.sub(pattern, replacement, key)
        if ".attn_1." in key and key.endswith(".weight") and value.dim() == 2:
            value = value[:, :, None, None]  # the original attention projections are 1x1 convolutions
        state[key] = value.contiguous()
    return state


@pytest.fixture(scope="module")
def other_vae(tiny_sd_path, tmp_path_factory):
    """Another VAE of the tiny model's architecture (other weights), as a folder and as one file."""
    import torch
    from diffusers import AutoencoderKL
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("vaes")
    torch.manual_seed(7)
    vae = AutoencoderKL.from_config(AutoencoderKL.load_config(tiny_sd_path / "vae"))
    vae.save_pretrained(folder / "other-vae", safe_serialization=True)
    save_file(_ldm_state(vae), str(folder / "other-vae.safetensors"))
    return folder / "other-vae", folder / "other-vae.safetensors"


@pytest.fixture(scope="module")
def engine():
    made = Text2ImageEngine()
    yield made
    made.close()


def _run(engine, request, vae=None):
    request = request.replace(model=request.model.replace(vae=str(vae) if vae else None))
    result = engine.run(request, lambda p: None, CancelToken())
    return request, result, np.asarray(result.images[0]).astype(np.int16)


def test_a_vae_folder_or_file_replaces_the_models_own_without_a_reload(engine, tiny_sd_path, other_vae):
    base_request = gen_request("a cat", model=str(tiny_sd_path), width=64, height=64, steps=2, seed=3,
                               dtype="fp32", scheduler="Euler")
    _r, _res, base = _run(engine, base_request)
    loads, unet = engine.loads, engine.pipe.unet
    _r, _res, from_folder = _run(engine, base_request, other_vae[0])
    assert np.abs(from_folder - base).mean() > 1
    request, result, from_file = _run(engine, base_request, other_vae[1])
    assert np.abs(from_file - from_folder).max() <= 1  # the original layout converts to the same VAE
    vae = result.fingerprint["vae"]
    assert vae["name"] == "other-vae.safetensors" and len(vae["hash"]) == 10
    text = parameters_for(image_data(request, 3, fingerprint=result.fingerprint))
    params = parse_parameters(text)["params"]
    assert (params["VAE hash"], params["VAE"]) == (vae["hash"], "other-vae.safetensors")
    assert parameters_to_request(text)[0].model.vae == "other-vae.safetensors"  # looked up again on reuse
    _r, _res, again = _run(engine, base_request)
    assert np.array_equal(again, base)  # the model's own VAE back, exactly
    assert engine.loads == loads and engine.pipe.unet is unet


def test_bad_vaes_are_refused_before_anything_loads(tiny_sd_path, tmp_path):
    import torch
    from safetensors.torch import save_file

    wide = tmp_path / "flux-ae.safetensors"  # 16 latent channels: the encoder's last conv gives 2 x 16
    save_file({"encoder.conv_out.weight": torch.zeros(32, 8, 3, 3)}, str(wide))
    lora = tmp_path / "ink.safetensors"
    save_file({"lora_unet_mid_block_attentions_0_proj_in.lora_down.weight": torch.zeros(4, 32)}, str(lora))
    pickle = tmp_path / "vae.pt"
    pickle.write_bytes(b"\x80\x04K\x01.")
    (tmp_path / "empty").mkdir()
    cases = [("gone.safetensors", "VAE not found"),
             (wide, "flux-ae.safetensors is a VAE for SD3 and FLUX models, and the chosen model needs one "
                    "for SD 1.x/2.x and SDXL"),
             (lora, "ink.safetensors is not a VAE"), (pickle, "pickle"),
             (tmp_path / "empty", "not a diffusers VAE folder")]
    request = gen_request("a cat", model=str(tiny_sd_path), width=64, height=64, steps=1)
    for vae, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            local_registry().check(request.replace(model=request.model.replace(vae=str(vae))))


def test_the_cli_takes_a_vae_by_file_or_by_its_name_in_the_vae_folder(tmp_path, app_home):
    from t2i_studio.cli import build_parser
    from t2i_studio.cli.generate import build_request
    from t2i_studio.core.settings import vae_dir

    vae_dir().mkdir(parents=True, exist_ok=True)
    (vae_dir() / "vae-ft-mse.safetensors").write_bytes(b"v")
    parse = build_parser().parse_args
    named = build_request(parse(["generate", "a cat", "--model", "m", "--vae", "vae-ft-mse"]))
    assert named.model.vae == str(vae_dir() / "vae-ft-mse.safetensors")
    elsewhere = str(tmp_path / "x.safetensors")
    given = build_request(parse(["generate", "a cat", "--model", "m", "--vae", elsewhere]))
    assert given.model.vae == elsewhere  # a path as it is: the check says if nothing is there
    assert build_request(parse(["generate", "a cat", "--model", "m"])).model.vae is None
