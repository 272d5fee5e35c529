"""The request model: parts, an explicit mode, nested JSON that round-trips, clear messages."""

from __future__ import annotations

import json

import pytest
from request_builder import gen_request, with_

from t2i_studio.core import schedulers
from t2i_studio.core.requests import (
    Adapter, GenerationRequest, Hires, ModelRef, RunOptions, StyleRequest, Upscale, UpscaleRequest,
    request_from_dict,
)


def test_nested_parts_round_trip_through_json_with_adapters():
    request = gen_request("a koi pond", model="org/model", revision="abc", init_image="/img/in.png",
                          strength=0.4, batch_count=3, cpu_offload=True)
    request = request.replace(model=request.model.replace(
        adapters=(Adapter("ink.safetensors", weight=0.8), Adapter("org/lora", weight=-0.5))))
    stored = json.loads(json.dumps(request.to_dict()))
    assert stored["kind"] == "generate" and stored["mode"] == "img2img"
    assert stored["model"]["adapters"][1] == {"source": "org/lora", "kind": "lora", "weight": -0.5}
    assert stored["run"]["cpu_offload"] is True and stored["sampling"]["batch_count"] == 3
    back = request_from_dict(stored)
    assert back == request and isinstance(back.model.adapters, tuple)


def test_newer_keys_are_ignored_and_missing_ones_take_defaults():
    stored = gen_request("x", model="m").to_dict()
    stored["sampling"]["future_knob"] = 3
    stored["telemetry"] = {"a": 1}
    del stored["run"]
    back = request_from_dict(stored)
    assert back.run == RunOptions() and back.sampling == gen_request("x", model="m").sampling


@pytest.mark.parametrize("damage, message", [
    ({"sampling": "fast"}, "sampling must be an object"),
    ({"model": {"id": "m", "adapters": "ink"}}, "model.adapters must be a list"),
    ({"model": {"id": "m", "adapters": [{"weight": 1}]}}, "incomplete"),
    ({"kind": "video"}, "Unknown request kind 'video'"),
])
def test_damaged_stored_requests_are_value_errors_naming_the_field(damage, message):
    with pytest.raises(ValueError, match=message):
        request_from_dict({**gen_request("x", model="m").to_dict(), **damage})


@pytest.mark.parametrize("change, message", [
    ({"mode": "img2img"}, "Image-to-image needs an init image"),
    ({"init_image": "/a.png", "mode": "txt2img"}, "the mode is text-to-image"),
    ({"mode": "paint"}, "Mode must be one of txt2img, img2img, inpaint"),
    ({"mode": "inpaint", "init_image": "/a.png"}, "Inpainting needs a mask: paint one"),
    ({"mask": "/m.png", "init_image": "/a.png"}, "A mask is set but the mode is image-to-image"),
    ({"mode": "outpaint", "init_image": "/a.png"}, "Outpainting adds nothing"),
    ({"mode": "outpaint", "init_image": "/a.png", "outpaint": (0, -8, 0, 0)}, "Outpaint right must be"),
    ({"mask_blur": 300}, "Mask blur must be a whole number from 0 to 256"),
    ({"masked_content": "random"}, "Masked content must be one of original, fill, latent_noise"),
    ({"inpaint_area": "only"}, "Inpaint area must be one of whole, masked"),
    ({"hires": Hires(scale=1.0)}, "Hires fix would not change the size"),
    ({"hires": Hires(scale=5.0)}, "Hires scale must be from 1 to 4"),
    ({"hires": Hires(width=1024)}, "both width and height, or neither"),
    ({"hires": Hires(), "init_image": "/a.png"}, "turn it off for image-to-image"),
    ({"mode": "sd_upscale", "init_image": "/a.png"}, "SD upscale needs its upscale settings"),
    ({"mode": "sd_upscale", "init_image": "/a.png", "upscale": Upscale(upscaler="latent")}, "Choose an upscaler"),
    ({"scheduler": "Magic"}, "Scheduler must be one of"),
    ({"preview_every": -1}, "Preview every must be"),
    ({"batch_size": True}, "Batch size must be a whole number"),
])
def test_validation_says_what_to_change(change, message):
    with pytest.raises(ValueError, match=message):
        with_(gen_request("x", model="m"), **change).validate()


def test_adapters_are_validated_with_the_request():
    bad = gen_request("x", model="m").replace(model=ModelRef("m", adapters=(Adapter("ink", weight=9),)))
    with pytest.raises(ValueError, match="weight of ink must be from -4 to 4"):
        bad.validate()


def test_schedulers_are_known_per_family():
    assert schedulers.names_for("flux") == ("Euler",) and schedulers.names_for("sd3") == ("Euler",)
    assert "DPM++ 2M Karras" in schedulers.names_for("sdxl") and schedulers.names_for(None) == schedulers.NAMES
    schedulers.check("DDIM", "sd")
    with pytest.raises(ValueError, match="'DDIM' does not apply to FLUX models; use one of Euler"):
        schedulers.check("DDIM", "flux")


def test_a_style_request_has_its_own_engine_and_run_options():
    request = StyleRequest("c.png", ("s.png",), style_weights=(2, 1), run=RunOptions(device="cpu"))
    back = request_from_dict(json.loads(json.dumps(request.to_dict())))
    assert back == request and back.engine == "style" and back.mode == "stylize"
    assert back.style_weights == (2.0, 1.0)


def test_the_first_releases_panel_state_keeps_its_preview_cadence():
    flat = {"kind": "generate", "prompt": "p", "model": "m", "steps": 9, "device": "cpu", "preview_every": 5,
            "init_image": None, "seed_locked": True}
    request = request_from_dict(flat)
    assert isinstance(request, GenerationRequest) and request.mode == "txt2img"
    assert (request.sampling.steps, request.run.device, request.run.preview_every) == (9, "cpu", 5)


def test_hires_target_follows_the_scale_in_multiples_of_8_or_an_explicit_size():
    assert Hires(scale=1.5).target(512, 344) == (768, 512)
    assert Hires(width=1024, height=640).target(512, 320) == (1024, 640)
    assert gen_request("x", model="m", hires=Hires()).output_size == (1024, 1024)


@pytest.mark.parametrize("upscale, message", [
    (Upscale(scale=9), "Upscale factor must be from 1 to 8"),
    (Upscale(tile=32), "Upscale tile must be 0"),
    (Upscale(tile=128, overlap=64), "Tile overlap must be a whole number from 0 to 32"),
    (Upscale(width=20000, height=10), "Upscale width must be"),
    (Upscale(dpi=0), "DPI must be"),
])
def test_upscale_requests_say_what_to_change(upscale, message):
    with pytest.raises(ValueError, match=message):
        UpscaleRequest(source="/a.png", upscale=upscale).validate()


def test_upscale_request_round_trips_through_its_stored_form():
    request = UpscaleRequest(source="/a.png", upscale=Upscale(width=2480, height=3508, dpi=300, upscaler="/u.pth"),
                             source_entry_id=7)
    assert request_from_dict(request.to_dict()) == request
    assert request.to_dict()["kind"] == "upscale"
