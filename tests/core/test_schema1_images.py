"""Images saved by the first release (metadata schema 1, a flat request) keep reading.

The files in tests/fixtures/schema1/ were made by that release's CLI with a tiny model; their
settings must still show and reuse after any change to the request model or the stored JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.requests import GenerationRequest, StyleRequest, request_from_dict

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "schema1"


def _meta(name: str):
    meta = read_metadata(FIXTURES / name)
    assert meta.source == "t2i_studio" and meta.data["schema"] == 1, meta.reason
    return meta


def test_text_to_image_batch_reads_with_every_setting():
    meta = _meta("txt2img.png")
    req = meta.request
    assert isinstance(req, GenerationRequest)
    assert req.prompt == "a cat and the moon, oil: 灯台" and req.negative_prompt == "blurry"
    assert (req.width, req.height, req.sampling.steps, req.sampling.guidance) == (64, 64, 2, 6.5)
    assert req.sampling.scheduler == "DPM++ 2M Karras" and req.sampling.batch_size == 2 and req.run.dtype == "fp32"
    assert meta.seed == 42 and req.mode == "txt2img" and req.images.init_image is None
    assert "Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 42" in meta.parameters
    assert req.validate() is req


def test_variation_and_memory_switches_read():
    req = _meta("variation.png").request
    assert (req.sampling.variation_seed, req.sampling.variation_strength) == (99, 0.3)
    assert req.run.vae_tiling and req.run.attention_slicing and not req.run.cpu_offload


def test_img2img_reads_its_init_image_and_strength():
    meta = _meta("img2img.png")
    req = meta.request
    assert req.mode == "img2img" and req.images.init_image.endswith("000001-42.png")
    assert req.images.strength == 0.5 and req.sampling.scheduler == "DDIM"
    assert meta.data["lineage"]["source_sha256"]
    assert "Denoising strength: 0.5" in meta.parameters


def test_style_transfer_reads():
    req = _meta("stylize.png").request
    assert isinstance(req, StyleRequest)
    assert req.content.endswith("content.png") and len(req.styles) == 1
    assert (req.style_strength, req.preserve_colors, req.size, req.iterations) == (0.7, True, 48, 3)
    assert req.vgg_weights == "random" and req.engine == "style"


@pytest.mark.parametrize("name", ["txt2img.png", "variation.png", "img2img.png", "stylize.png"])
def test_request_round_trips_through_todays_json(name):
    req = _meta(name).request
    assert request_from_dict(json.loads(json.dumps(req.to_dict()))) == req


def test_old_settings_file_restores_the_last_requests():
    data = json.loads((FIXTURES / "settings.json").read_text(encoding="utf-8"))
    gen = request_from_dict(data["last_generation"])
    assert isinstance(gen, GenerationRequest) and gen.prompt == "the cat, watercolour"
    assert gen.sampling.steps == 4 and gen.mode == "img2img" and gen.images.strength == 0.5
    style = request_from_dict(data["last_style"])
    assert isinstance(style, StyleRequest) and style.iterations == 3
