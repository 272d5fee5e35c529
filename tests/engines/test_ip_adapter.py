"""IP-Adapters on the tiny SD and SDXL pipelines (tiny adapters and CLIP image encoders made for their
UNets): scale 0 is no adapter, a reference steers and another reference steers otherwise; the style
and composition modes act in InstantStyle's blocks; img2img and inpainting; bad input refused
before any work; metadata and lineage."""

from __future__ import annotations

import numpy as np
import pytest
import tiny_ip_adapter
from engine_runs import checked_run, first_pixels
from PIL import Image, ImageDraw
from request_builder import gen_request

from t2i_studio.core.requests import Reference
from t2i_studio.engines.ip_adapters import layer_scales
from t2i_studio.engines.registry import local_registry
from t2i_studio.engines.text2image import Text2ImageEngine

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def adapters(tmp_path_factory, tiny_sd_path, tiny_sdxl_path):
    root = tmp_path_factory.mktemp("ip-adapters")
    return {"sd": tiny_ip_adapter.build_ip_adapter(tiny_sd_path, root / "sd"),
            "sdxl": tiny_ip_adapter.build_ip_adapter(tiny_sdxl_path, root / "sdxl", seed=1),
            "bare": tiny_ip_adapter.build_ip_adapter(tiny_sd_path, root / "bare", encoder=False),
            "wide": tiny_ip_adapter.build_ip_adapter(tiny_sd_path, root / "wide", projection_dim=24)}


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("references")
    stripes = Image.new("RGB", (48, 48), (20, 40, 200))
    ImageDraw.Draw(stripes).rectangle((0, 0, 23, 47), fill=(250, 230, 30))
    Image.new("RGB", (48, 48), (200, 30, 30)).save(folder / "red.png")
    stripes.save(folder / "stripes.png")
    return str(folder / "red.png"), str(folder / "stripes.png")


def _base(model, **fields):
    return gen_request("a house", model=str(model), width=64, height=64, steps=3, seed=5, scheduler="Euler",
                       dtype="fp32", **fields)


@pytest.mark.parametrize("family", ["sd", "sdxl"])
def test_scale_zero_is_no_adapter_and_each_reference_steers_its_own_way(engines, family, adapters, pictures,
                                                                         tiny_sd_path, tiny_sdxl_path):
    model = tiny_sd_path if family == "sd" else tiny_sdxl_path
    engine = engines.setdefault(family, Text2ImageEngine())
    red, stripes = (Reference(p, str(adapters[family]), scale=1.0) for p in pictures)
    plain = first_pixels(checked_run(engine, _base(model)))
    assert np.array_equal(first_pixels(checked_run(engine, _base(model, references=(red.replace(scale=0.0),)))), plain)
    steered = checked_run(engine, _base(model, references=(red,)))
    assert np.abs(first_pixels(steered) - plain).mean() > 2
    assert np.abs(first_pixels(checked_run(engine, _base(model, references=(stripes,)))) - first_pixels(steered)).mean() > 2
    assert steered.fingerprint["ip_adapters"][0]["name"] == "ip-adapter"
    assert steered.lineage["reference_images"] == [red.image]
    assert np.array_equal(first_pixels(checked_run(engine, _base(model))), plain)  # unloaded: the model is as it was
    both = checked_run(engine, _base(model, references=(red, stripes.replace(mode="style"))))  # one adapter each
    assert np.abs(first_pixels(both) - first_pixels(steered)).mean() > 1


def test_an_adapter_stays_loaded_while_in_use_and_makes_way_for_attention_slicing(engines, adapters, pictures,
                                                                                   tiny_sd_path):
    engine = engines.setdefault("sd", Text2ImageEngine())
    reference = Reference(pictures[0], str(adapters["sd"]), scale=1.0)
    plain = first_pixels(checked_run(engine, _base(tiny_sd_path)))
    steered = first_pixels(checked_run(engine, _base(tiny_sd_path, references=(reference,))))
    loaded = engine.pipe.unet.encoder_hid_proj
    checked_run(engine, _base(tiny_sd_path, references=(reference.replace(scale=0.5, mode="style"),)))
    assert engine.pipe.unet.encoder_hid_proj is loaded  # another scale or mode loads nothing
    sliced = first_pixels(checked_run(engine, _base(tiny_sd_path, attention_slicing=True)))
    assert engine.pipe.unet.encoder_hid_proj is None and engine.pipe.image_encoder is None
    assert np.abs(sliced - plain).max() <= 1
    assert np.array_equal(first_pixels(checked_run(engine, _base(tiny_sd_path, references=(reference,)))), steered)


def test_the_modes_act_in_instantstyles_blocks_of_real_sd_and_sdxl_unets():
    import torch
    from diffusers import UNet2DConditionModel
    from diffusers.loaders.unet_loader_utils import _maybe_expand_lora_scales

    sd = dict(block_out_channels=(320, 640, 1280, 1280), cross_attention_dim=768)
    sdxl = dict(block_out_channels=(320, 640, 1280), cross_attention_dim=2048,
                transformer_layers_per_block=(1, 2, 10), attention_head_dim=(5, 10, 20),
                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
                up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"))
    expected = {("sd", "style"): {f"up_blocks.1.attentions.{k}" for k in range(3)},
                ("sd", "composition"): {f"down_blocks.2.attentions.{k}" for k in range(2)},
                ("sdxl", "style"): {"up_blocks.0.attentions.1"}, ("sdxl", "composition"): {"down_blocks.2.attentions.1"}}
    for family, config in (("sd", sd), ("sdxl", sdxl)):
        with torch.device("meta"):
            unet = UNet2DConditionModel(**config)
        for mode in ("style", "composition"):
            scales = layer_scales(unet, family, Reference("x.png", "ipa", scale=0.7, mode=mode))
            acting = {name for name, s in _maybe_expand_lora_scales(unet, [scales], default_scale=0.0)[0].items()
                      if s == 0.7 or (isinstance(s, list) and 0.7 in s)}
            assert acting == expected[family, mode], (family, mode)
    assert layer_scales(unet, "sdxl", Reference("x.png", "ipa", scale=0.7)) == 0.7  # full: every layer


def test_style_and_composition_steer_differently_from_the_whole_picture(engines, adapters, pictures, tiny_sd_path):
    engine = engines.setdefault("sd", Text2ImageEngine())
    reference = Reference(pictures[1], str(adapters["sd"]), scale=1.5)
    made = {mode: first_pixels(checked_run(engine, _base(tiny_sd_path, references=(reference.replace(mode=mode),))))
            for mode in ("full", "style", "composition")}
    plain = first_pixels(checked_run(engine, _base(tiny_sd_path)))
    for mode in ("style", "composition"):
        assert np.abs(made[mode] - plain).mean() > 1 and np.abs(made[mode] - made["full"]).mean() > 1, mode


def test_references_steer_img2img_and_inpainting(engines, adapters, pictures, tiny_sd_path, tmp_path):
    engine = engines.setdefault("sd", Text2ImageEngine())
    Image.new("RGB", (64, 64), (60, 160, 60)).save(tmp_path / "init.png")
    mask = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(mask).rectangle((16, 16, 47, 47), fill=255)
    mask.save(tmp_path / "mask.png")
    reference = Reference(pictures[1], str(adapters["sd"]), scale=1.5)
    for fields in ({"init_image": str(tmp_path / "init.png"), "strength": 0.8},
                   {"init_image": str(tmp_path / "init.png"), "strength": 1.0, "mode": "inpaint",
                    "mask": str(tmp_path / "mask.png"), "mask_blur": 0}):
        plain = first_pixels(checked_run(engine, _base(tiny_sd_path, **fields)))
        steered = first_pixels(checked_run(engine, _base(tiny_sd_path, **fields, references=(reference,))))
        assert np.abs(steered - plain).mean() > 0.5, fields
    assert (steered[:8, :8] == (60, 160, 60)).all()  # inpainting still keeps the unmasked pixels


@pytest.mark.parametrize("change, message", [
    ({"model": "BARE"}, "needs its CLIP image encoder, and there is none beside it .*--ip-encoder DIR"),
    ({"model": "BARE", "encoder": "/nowhere/encoder"}, "there is none at /nowhere/encoder"),
    ({"model": "SDXL"}, "is an IP-Adapter for 80-wide cross-attention models, and the chosen model is 32-wide"),
    ({"model": "WIDE", "encoder": "SD_ENCODER"}, "gives 16-wide features, and the IP-Adapter ip-adapter.safetensors "
                                                 "takes 24: use the encoder it was made with"),
    ({"model": "/nowhere/ip-adapter.safetensors"}, "IP-Adapter not found"),
    ({"image": "/nowhere/picture.png"}, "Reference image not found"),
    ({"image": "NOT_AN_IMAGE"}, "Reference image is not an image this app can read"),
    ({"scale": 2.5}, "IP-Adapter scale must be from 0 to 2, got 2.5"),
    ({"mode": "layout"}, "IP-Adapter mode must be one of full, style, composition"),
])
def test_bad_references_are_refused_before_any_work(adapters, pictures, tiny_sd_path, tmp_path, change, message):
    (tmp_path / "notes.png").write_text("not a picture")
    named = {"BARE": str(adapters["bare"]), "SDXL": str(adapters["sdxl"]), "WIDE": str(adapters["wide"]),
             "SD_ENCODER": str(adapters["sd"].parent / "image_encoder"), "NOT_AN_IMAGE": str(tmp_path / "notes.png")}
    reference = Reference(pictures[0], str(adapters["sd"])).replace(**{k: named.get(v, v) for k, v in change.items()})
    with pytest.raises(ValueError, match=message):
        local_registry().check(_base(tiny_sd_path, references=(reference,)))


def test_engines_and_settings_that_cannot_take_references_say_so(adapters, pictures, tiny_sd_path, tmp_path):
    import torch
    from safetensors.torch import save_file

    from t2i_studio.engines import starter
    from t2i_studio.engines.comfyui.pool import ServerPool

    reference = Reference(pictures[0], str(adapters["sd"]))
    registry = local_registry(ServerPool([]))
    for engine, model in ((starter.ENGINE, starter.MODEL_ID), ("comfyui", "sd15.safetensors")):
        with pytest.raises(ValueError, match="engine cannot use IP-Adapter reference pictures: remove them"):
            registry.check(_base(model, engine=engine, references=(reference,)))
    with pytest.raises(ValueError, match="Attention slicing cannot be combined with IP-Adapter"):
        registry.check(_base(tiny_sd_path, attention_slicing=True, references=(reference,)))
    save_file({"lora_unet_x.alpha": torch.ones(1)}, str(tmp_path / "lora.safetensors"))
    lora = reference.replace(model=str(tmp_path / "lora.safetensors"),
                             encoder=str(adapters["sd"].parent / "image_encoder"))
    with pytest.raises(ValueError, match="lora.safetensors is not an IP-Adapter"):
        registry.check(_base(tiny_sd_path, references=(lora,)))


def test_an_adapter_that_does_not_fit_the_unet_fails_and_leaves_the_model_as_it_was(engines, adapters, pictures,
                                                                                    tiny_sd_path, tmp_path):
    from safetensors.torch import load_file, save_file

    from t2i_studio.core.engine import EngineError

    engine = engines.setdefault("sd", Text2ImageEngine())
    tensors = load_file(str(adapters["sd"]))
    last = max(int(k.split(".")[1]) for k in tensors if k.startswith("ip_adapter."))
    save_file({k: v for k, v in tensors.items() if not k.startswith(f"ip_adapter.{last}.")},
              str(tmp_path / "short.safetensors"))  # one cross-attention layer short of this UNet
    short = Reference(pictures[0], str(tmp_path / "short.safetensors"),
                      encoder=str(adapters["sd"].parent / "image_encoder"))
    plain = first_pixels(checked_run(engine, _base(tiny_sd_path)))
    with pytest.raises(EngineError, match="Could not load the IP-Adapter short.safetensors"):
        checked_run(engine, _base(tiny_sd_path, references=(short,)))
    assert engine.pipe.image_encoder is None
    assert np.array_equal(first_pixels(checked_run(engine, _base(tiny_sd_path))), plain)


def test_references_are_kept_in_the_metadata_and_the_project(engines, adapters, pictures, tiny_sd_path, tmp_path):
    from t2i_studio.core.a1111 import parse_parameters
    from t2i_studio.core.metadata import read_metadata
    from t2i_studio.core.project import Project

    engine = engines.setdefault("sd", Text2ImageEngine())
    request = _base(tiny_sd_path, references=(Reference(pictures[1], str(adapters["sd"].parent), 0.8, "style"),))
    result = checked_run(engine, request)
    with Project.open(tmp_path / "p", create=True) as project:
        entry = project.save_result(request, result)[0]
    saved = read_metadata(entry.path)
    assert saved.request == request
    stored = tmp_path / "p" / saved.data["lineage"]["references_stored"][0]
    assert stored.parent.name == "inputs"
    assert np.array_equal(np.asarray(Image.open(stored).convert("RGB")), np.asarray(Image.open(pictures[1])))
    params = parse_parameters(saved.parameters)["params"]
    assert params["ControlNet 0"] == ("Module: ip-adapter-auto, Model: sd, Weight: 0.8, Guidance Start: 0, "
                                      "Guidance End: 1")
    assert params["ControlNet 0 weight type"] == "style transfer"
