"""Other apps' images: parameters mapped to a GenerationRequest so "reuse these settings" works."""

from __future__ import annotations

import io
import json

from PIL import Image
from project_testkit import png_with_texts

from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.requests import ModelRef

A1111 = ("masterpiece, a lighthouse at dusk, (dramatic:1.2)\nNegative prompt: lowres, watermark\n"
         "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3141592653, "
         "Size: 832x1216, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Denoising strength: 0.35, "
         'Lora hashes: "detail: 0123abcd", Version: v1.10.1')


def _exif_comment(text, endian=">"):
    exif = Image.Exif()
    exif.endian = endian
    codec = "utf-16-be" if endian == ">" else "utf-16-le"
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + text.encode(codec)
    return exif.tobytes()


def _check_a1111(meta):
    assert meta.source == "a1111" and meta.seed == 3141592653
    r = meta.request
    assert r.prompt == "masterpiece, a lighthouse at dusk, (dramatic:1.2)"
    assert r.negative_prompt == "lowres, watermark"
    assert (r.sampling.steps, r.sampling.guidance, r.width, r.height, r.sampling.seed) == (28, 6.5, 832, 1216, 3141592653)
    assert r.sampling.scheduler == "DPM++ 2M Karras" and r.model.id == "sd_xl_base_1.0" and r.images.strength == 0.35
    assert meta.parameters == A1111
    assert r.replace(model=ModelRef("x")).validate()  # usable as-is once a model is chosen


def test_a1111_png(tmp_path):
    _check_a1111(read_metadata(png_with_texts(tmp_path / "a.png", {"parameters": A1111})))


def test_a1111_jpeg_and_webp_exif_user_comment(tmp_path):
    for fmt, name, endian in (("JPEG", "a.jpg", ">"), ("JPEG", "b.jpeg", "<"), ("WEBP", "c.webp", ">")):
        path = tmp_path / name
        Image.new("RGB", (24, 16)).save(path, format=fmt, exif=_exif_comment(A1111, endian))
        _check_a1111(read_metadata(path))


def test_wrong_extension_is_read_by_content(tmp_path):
    path = tmp_path / "really-a-jpeg.png"
    Image.new("RGB", (24, 16)).save(path, format="JPEG", exif=_exif_comment(A1111))
    meta = read_metadata(path)
    assert meta.format == "JPEG"
    _check_a1111(meta)


def test_comfyui_prompt_graph(tmp_path):
    graph = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "dreamshaper_8.safetensors"}},
        "10": {"class_type": "LoraLoader", "inputs": {"model": ["4", 0], "clip": ["4", 1], "lora_name": "x"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 640, "height": 960, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a koi pond, ukiyo-e", "clip": ["10", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text, signature", "clip": ["10", 1]}},
        "3": {"class_type": "KSampler", "inputs": {
            "seed": 8675309, "steps": 25, "cfg": 7.5, "sampler_name": "dpmpp_2m", "scheduler": "karras",
            "denoise": 1.0, "model": ["10", 0], "positive": ["6", 0], "negative": ["7", 0],
            "latent_image": ["5", 0]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0]}},
    }
    path = png_with_texts(tmp_path / "comfy.png", {"prompt": json.dumps(graph), "workflow": json.dumps({"nodes": []})})
    meta = read_metadata(path)
    assert meta.source == "comfyui" and meta.seed == 8675309
    r = meta.request
    assert (r.prompt, r.negative_prompt) == ("a koi pond, ukiyo-e", "text, signature")
    assert (r.sampling.steps, r.sampling.guidance, r.width, r.height) == (25, 7.5, 640, 960)
    assert r.sampling.scheduler == "DPM++ 2M Karras" and r.model.id == "dreamshaper_8.safetensors"
    assert meta.data["prompt"] == graph


def test_invokeai(tmp_path):
    data = {"generation_mode": "txt2img", "positive_prompt": "a glass teapot", "negative_prompt": "dust",
            "width": 768, "height": 512, "seed": 42, "steps": 30, "cfg_scale": 5.0, "scheduler": "euler_a",
            "model": {"name": "Juggernaut XL", "base": "sdxl", "key": "abc"}}
    meta = read_metadata(png_with_texts(tmp_path / "invoke.png", {"invokeai_metadata": json.dumps(data)}))
    assert meta.source == "invokeai" and meta.seed == 42
    r = meta.request
    assert (r.prompt, r.negative_prompt, r.width, r.height, r.sampling.steps, r.sampling.guidance) == (
        "a glass teapot", "dust", 768, 512, 30, 5.0)
    assert r.sampling.scheduler == "Euler a" and r.model.id == "Juggernaut XL"


def test_fooocus(tmp_path):
    data = {"prompt": "a red panda astronaut", "negative_prompt": "", "resolution": "(1152, 896)",
            "guidance_scale": 4.0, "sharpness": 2.0, "sampler": "dpmpp_2m_sde_gpu", "scheduler": "karras",
            "steps": 30, "seed": "123456", "base_model": "juggernautXL_v8.safetensors",
            "version": "Fooocus v2.5.0"}
    meta = read_metadata(png_with_texts(tmp_path / "fooocus.png", {"parameters": json.dumps(data),
                                                         "fooocus_scheme": "fooocus"}))
    assert meta.source == "fooocus" and meta.seed == 123456
    r = meta.request
    assert (r.prompt, r.width, r.height, r.sampling.guidance, r.sampling.steps) == ("a red panda astronaut", 1152, 896, 4.0, 30)
    assert r.sampling.scheduler == "DPM++ SDE Karras" and r.model.id == "juggernautXL_v8.safetensors"


def test_odd_values_are_clamped_to_a_valid_request(tmp_path):
    text = "x\nSteps: 9999, Sampler: Some New Sampler, CFG scale: abc, Seed: -5, Size: 1001x3, Model: m"
    meta = read_metadata(png_with_texts(tmp_path / "odd.png", {"parameters": text}))
    r = meta.request
    assert r.sampling.steps == 500 and r.sampling.scheduler == "Euler a" and r.sampling.guidance == 7.0
    assert r.width == 1000 and r.height == 64 and 0 <= r.sampling.seed
    r.validate()


def test_no_metadata_gives_reason_not_exception(tmp_path):
    path = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(path)
    meta = read_metadata(path)
    assert meta.source == "none" and meta.request is None and "no generation metadata" in meta.reason
    text = tmp_path / "notes.png"
    text.write_text("hello")
    assert "not an image" in read_metadata(text).reason
    assert "cannot read" in read_metadata(tmp_path / "missing.png").reason
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="PNG")
    broken = tmp_path / "broken.png"
    broken.write_bytes(buf.getvalue()[:40])
    assert read_metadata(broken).source == "none"
    comfy_junk = png_with_texts(tmp_path / "junk.png", {"prompt": "{not json", "parameters": ""})
    assert read_metadata(comfy_junk).source == "none"
