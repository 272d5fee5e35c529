"""ComfyUI graphs as its users build them: links by output index, the Flux custom-sampling graph,
KSamplerAdvanced, several prompts, loaders and merges, and its WebP/JPEG files."""

from __future__ import annotations

import json

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from t2i_studio.core.metadata import read_metadata

LOADER = {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl.safetensors"}}


def _png(path, graph):
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(graph))
    Image.new("RGB", (24, 16), "gray").save(path, pnginfo=info)
    return read_metadata(path)


def _encode(text, clip=("1", 1)):
    return {"class_type": "CLIPTextEncode", "inputs": {"text": text, "clip": list(clip)}}


def _ksampler(**inputs):
    base = {"seed": 7, "steps": 20, "cfg": 6.0, "sampler_name": "euler", "scheduler": "normal",
            "denoise": 1.0, "model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0],
            "latent_image": ["4", 0]}
    return {"class_type": "KSampler", "inputs": {**base, **inputs}}


def test_links_follow_their_output_index(tmp_path):
    graph = {
        "1": LOADER, "2": _encode("a castle"), "3": _encode("blurry"),
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 832, "height": 1216, "batch_size": 1}},
        "10": {"class_type": "ControlNetApplyAdvanced", "inputs": {
            "positive": ["2", 0], "negative": ["3", 0], "control_net": ["11", 0], "image": ["12", 0],
            "strength": 0.8, "start_percent": 0.0, "end_percent": 1.0}},
        "5": _ksampler(positive=["10", 0], negative=["10", 1]),
    }
    r = _png(tmp_path / "cn.png", graph).request
    assert (r.prompt, r.negative_prompt, r.width, r.height) == ("a castle", "blurry", 832, 1216)


def test_flux_custom_sampling_graph(tmp_path):
    graph = {  # ComfyUI's default Flux dev workflow, as its API graph
        "12": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors", "weight_dtype": "default"}},
        "11": {"class_type": "DualCLIPLoader", "inputs": {"clip_name1": "t5xxl_fp16.safetensors",
                                                           "clip_name2": "clip_l.safetensors", "type": "flux"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cute anime girl with fox ears", "clip": ["11", 0]}},
        "26": {"class_type": "FluxGuidance", "inputs": {"guidance": 3.5, "conditioning": ["6", 0]}},
        "22": {"class_type": "BasicGuider", "inputs": {"model": ["30", 0], "conditioning": ["26", 0]}},
        "30": {"class_type": "ModelSamplingFlux", "inputs": {"model": ["12", 0], "max_shift": 1.15,
                                                             "base_shift": 0.5, "width": 1024, "height": 1024}},
        "25": {"class_type": "RandomNoise", "inputs": {"noise_seed": 219670278747233}},
        "16": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "17": {"class_type": "BasicScheduler", "inputs": {"scheduler": "simple", "steps": 20, "denoise": 1.0,
                                                          "model": ["30", 0]}},
        "27": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 768, "batch_size": 1}},
        "13": {"class_type": "SamplerCustomAdvanced", "inputs": {
            "noise": ["25", 0], "guider": ["22", 0], "sampler": ["16", 0], "sigmas": ["17", 0],
            "latent_image": ["27", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["13", 0], "vae": ["10", 0]}},
    }
    meta = _png(tmp_path / "flux.png", graph)
    r = meta.request
    assert meta.seed == 219670278747233 and r.sampling.seed == 219670278747233
    assert (r.prompt, r.negative_prompt, r.sampling.steps, r.sampling.guidance) == (
        "a cute anime girl with fox ears", "", 20, 3.5)
    assert (r.width, r.height, r.sampling.scheduler, r.model.id) == (1024, 768, "Euler", "flux1-dev.safetensors")
    assert not meta.notes


def test_cfg_guider_and_ksampler_advanced(tmp_path):
    guided = {
        "1": LOADER, "2": _encode("a lake"), "3": _encode("people"),
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "20": {"class_type": "CFGGuider", "inputs": {"model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0],
                                                     "cfg": 4.5}},
        "21": {"class_type": "RandomNoise", "inputs": {"noise_seed": 99}},
        "22": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "dpmpp_2m"}},
        "23": {"class_type": "KarrasScheduler", "inputs": {"steps": 14, "sigma_max": 14.6, "sigma_min": 0.03,
                                                           "rho": 7}},
        "5": {"class_type": "SamplerCustomAdvanced", "inputs": {
            "noise": ["21", 0], "guider": ["20", 0], "sampler": ["22", 0], "sigmas": ["23", 0],
            "latent_image": ["4", 0]}},
    }
    meta = _png(tmp_path / "guided.png", guided)
    r = meta.request
    assert (r.prompt, r.negative_prompt, r.sampling.guidance, r.sampling.steps, meta.seed) == (
        "a lake", "people", 4.5, 14, 99)
    assert r.sampling.scheduler == "DPM++ 2M Karras" and r.model.id == "sdxl.safetensors"
    advanced = {
        "1": LOADER, "2": _encode("a forest"), "3": _encode("text"),
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 768, "height": 512, "batch_size": 1}},
        "5": {"class_type": "KSamplerAdvanced", "inputs": {
            "add_noise": "enable", "noise_seed": 1234567890123, "steps": 30, "cfg": 8.0,
            "sampler_name": "euler_ancestral", "scheduler": "normal", "start_at_step": 0, "end_at_step": 10000,
            "return_with_leftover_noise": "disable", "model": ["1", 0], "positive": ["2", 0],
            "negative": ["3", 0], "latent_image": ["4", 0]}},
    }
    meta = _png(tmp_path / "advanced.png", advanced)
    r = meta.request
    assert (r.prompt, r.negative_prompt, r.sampling.steps, r.sampling.guidance, r.sampling.scheduler) == (
        "a forest", "text", 30, 8.0, "Euler a")
    assert meta.seed == r.sampling.seed == 1234567890123 and (r.width, r.height) == (768, 512)


def test_several_prompts_are_all_kept(tmp_path):
    graph = {
        "1": LOADER, "3": _encode("lowres"),
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "20": _encode("a red sky"), "21": _encode("a green field"), "22": _encode("a wooden house"),
        "30": {"class_type": "ConditioningSetArea", "inputs": {
            "conditioning": ["21", 0], "width": 512, "height": 256, "x": 0, "y": 256, "strength": 1.0}},
        "31": {"class_type": "ConditioningCombine",
               "inputs": {"conditioning_1": ["20", 0], "conditioning_2": ["30", 0]}},
        "32": {"class_type": "ConditioningConcat",
               "inputs": {"conditioning_to": ["31", 0], "conditioning_from": ["22", 0]}},
        "5": _ksampler(positive=["32", 0]),
    }
    r = _png(tmp_path / "areas.png", graph).request
    assert r.prompt == "a red sky AND a green field BREAK a wooden house"  # A1111's words for the same
    assert r.negative_prompt == "lowres"


@pytest.mark.parametrize("loader, expected", [
    ({"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-schnell.sft", "weight_dtype": "fp8"}},
     "flux1-schnell.sft"),
    ({"class_type": "UnetLoaderGGUF", "inputs": {"unet_name": "flux1-dev-Q4.gguf"}}, "flux1-dev-Q4.gguf"),
    ({"class_type": "ModelMergeSimple", "inputs": {"model1": ["40", 0], "model2": ["41", 0], "ratio": 0.5}},
     "base.safetensors"),
])
def test_loaders_and_merges_name_the_model(tmp_path, loader, expected):
    graph = {
        "40": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "base.safetensors"}},
        "41": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "other.safetensors"}},
        "1": loader, "2": _encode("x", ("40", 1)), "3": _encode("y", ("40", 1)),
        "50": {"class_type": "LoraLoaderModelOnly", "inputs": {"model": ["1", 0], "lora_name": "l.safetensors",
                                                               "strength_model": 1.0}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "5": _ksampler(model=["50", 0]),
    }
    assert _png(tmp_path / "m.png", graph).request.model.id == expected


@pytest.mark.parametrize("fmt", ["WEBP", "JPEG"])
def test_comfyui_webp_and_jpeg_files(tmp_path, fmt):
    graph = {"1": LOADER, "2": _encode("a lantern"), "3": _encode("dark"),
             "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 640, "height": 640, "batch_size": 1}},
             "5": _ksampler(seed=18446744073709551615)}
    exif = Image.Exif()  # as ComfyUI's SaveAnimatedWEBP writes it
    exif[ExifTags.Base.Model] = "prompt:" + json.dumps(graph)
    exif[ExifTags.Base.Make] = "workflow:" + json.dumps({"nodes": []})
    path = tmp_path / f"comfy.{fmt.lower()}"
    Image.new("RGB", (32, 32)).save(path, format=fmt, exif=exif)
    meta = read_metadata(path)
    assert meta.source == "comfyui" and meta.request.prompt == "a lantern" and meta.request.negative_prompt == "dark"
    assert meta.seed == meta.request.sampling.seed == 2**64 - 1
    meta.request.validate()
