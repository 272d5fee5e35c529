"""Helpers for the project/metadata/export tests: results built from PIL images, no torch."""

from __future__ import annotations

from pathlib import Path

import request_builder
from PIL import Image

from t2i_studio.core.engine import Result
from t2i_studio.core.project import Project  # noqa: F401 - the tests' conftest imports it from here
from t2i_studio.core.requests import GenerationRequest, StyleRequest

FINGERPRINT = {
    "app": "0.1.0", "torch": "2.13.0", "diffusers": "0.42.1", "transformers": "5.23.0", "device": "cpu",
    "dtype": "float32", "pipeline": "StableDiffusionPipeline", "family": "sd",
    "scheduler": {"name": "DPM++ 2M Karras", "class": "DPMSolverMultistepScheduler",
                  "config": {"use_karras_sigmas": True, "num_train_timesteps": 1000}},
    "model": {"id": "runwayml/sd-tiny", "name": "sd-tiny", "revision": "abc123", "hash": "0123456789"},
}


def gen_request(prompt: str = "a red fox in the snow, oil painting", **changes) -> GenerationRequest:
    base = request_builder.gen_request(prompt=prompt, negative_prompt="blurry, low quality",
                                       model="runwayml/sd-tiny", seed=1234, steps=12, guidance=6.5,
                                       width=512, height=768, scheduler="DPM++ 2M Karras")
    return request_builder.with_(base, **changes)


def images(n: int, size: tuple[int, int] = (64, 48), seed: int = 0) -> list[Image.Image]:
    out = []
    for k in range(n):
        im = Image.new("RGB", size, ((seed * 37 + k * 50) % 256, (k * 90) % 256, 120))
        im.putpixel((k % size[0], 0), (255, 255, 255))
        out.append(im)
    return out


def gen_result(request: GenerationRequest, n: int | None = None, lineage: dict | None = None) -> Result:
    n = n or request.image_count
    seed = request.sampling.seed
    return Result(images=images(n, seed=seed), seeds=request.sampling.seeds()[:n] if n <= request.image_count
                  else [seed + k for k in range(n)], fingerprint=FINGERPRINT, lineage=lineage or {})


def style_request(tmp: Path) -> tuple[StyleRequest, Result]:
    content, style = tmp / "content.png", tmp / "style.jpg"
    Image.new("RGB", (40, 30), "green").save(content)
    Image.new("RGB", (30, 30), "purple").save(style, format="JPEG")
    import hashlib

    sha = hashlib.sha256(style.read_bytes()).hexdigest()
    request = StyleRequest(content=str(content), styles=(str(style),), seed=9)
    lineage = {"source_image": str(content), "source_entry": None, "source_sha256": "00" * 32,
               "styles": [{"path": str(style), "sha256": sha, "weight": 1.0}]}
    fingerprint = {"app": "0.1.0", "torch": "2.13.0", "device": "cpu", "dtype": "float32",
                   "vgg": {"weights": "random", "sha256": None}, "iterations": 5, "scales": [64]}
    return request, Result(images=images(1, (40, 30)), seeds=[9], fingerprint=fingerprint, lineage=lineage)


def png_with_texts(path: Path, texts: dict[str, str]) -> Path:
    """A small grey PNG carrying ``texts`` as tEXt chunks (another tool's metadata, say)."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    Image.new("RGB", (24, 16), "gray").save(path, pnginfo=info)
    return path
