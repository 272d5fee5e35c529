"""SDXL from one original-layout (SGM) ``.safetensors`` checkpoint: the tiny SDXL pipeline written as
UNet ``model.diffusion_model.*``, VAE ``first_stage_model.*``, CLIP ``conditioner.embedders.0.*`` and
OpenCLIP ``conditioner.embedders.1.model.*``, loaded offline with a config folder."""

from __future__ import annotations

import numpy as np
import pytest
from request_builder import gen_request

from t2i_studio.core.engine import CancelToken, EngineError
from t2i_studio.core.requests import GenerationRequest
from t2i_studio.engines import checkpoints, models
from t2i_studio.engines.text2image import Text2ImageEngine

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def sdxl_checkpoint(tiny_sdxl_path, tmp_path_factory):
    from t2i_checkpoints import write_sdxl_checkpoint

    return write_sdxl_checkpoint(tiny_sdxl_path, tmp_path_factory.mktemp("ckpt") / "tiny-sdxl.safetensors")


def request(model, config=None) -> GenerationRequest:
    return gen_request(prompt="a cat and the moon", negative_prompt="blurry", model=str(model),
                             config=str(config) if config else None, width=64, height=64,
                             steps=2, seed=5, scheduler="Euler", dtype="fp32")


def test_checkpoint_is_in_the_sgm_layout(sdxl_checkpoint):
    keys = set(checkpoints.safetensors_keys(sdxl_checkpoint))
    assert {"model.diffusion_model.label_emb.0.0.weight",  # SDXL's size/pooled-text embedding
            "first_stage_model.decoder.up.0.block.0.conv1.weight",
            "conditioner.embedders.0.transformer.text_model.embeddings.position_embedding.weight",
            "conditioner.embedders.1.model.positional_embedding",
            "conditioner.embedders.1.model.text_projection",
            "conditioner.embedders.1.model.transformer.resblocks.1.attn.in_proj_weight",
            "conditioner.embedders.1.model.ln_final.weight"} <= keys
    assert not any("q_proj" in k for k in keys if k.startswith("conditioner.embedders.1."))
    assert checkpoints.family_from_keys(sorted(keys)) == "sdxl"
    assert models.resolve(str(sdxl_checkpoint)).pipeline_class == "StableDiffusionXLPipeline"


def test_single_file_sdxl_gives_the_folder_pixels_and_records_its_hash(tiny_sdxl_path, sdxl_checkpoint):
    engine = Text2ImageEngine()
    try:
        folder = engine.run(request(tiny_sdxl_path), lambda p: None, CancelToken())
        single = engine.run(request(sdxl_checkpoint, tiny_sdxl_path), lambda p: None, CancelToken())
    finally:
        engine.close()
    # Same weights, same arithmetic: the conversion only renames, fuses/splits q|k|v and transposes
    # the projection, all exact in fp32, so the pixels are identical, not merely close.
    assert np.array_equal(np.asarray(folder.images[0]), np.asarray(single.images[0]))
    fp = single.fingerprint
    assert fp["pipeline"] == "StableDiffusionXLPipeline" and fp["family"] == "sdxl"
    assert fp["model"]["hash"] == checkpoints.sha256_file(sdxl_checkpoint)[:10]
    assert fp["model"]["name"] == "tiny-sdxl"
    assert folder.fingerprint["model"]["hash"] is None  # a folder has no single-file hash


def test_checkpoint_missing_a_weight_is_a_clear_error(tiny_sdxl_path, sdxl_checkpoint, tmp_path):
    """A checkpoint without the OpenCLIP projection (as some merges ship) names what is missing
    instead of failing later with "Cannot copy out of meta tensor"."""
    from safetensors.torch import load_file, save_file

    state = load_file(str(sdxl_checkpoint))
    del state["conditioner.embedders.1.model.text_projection"]
    broken = tmp_path / "no-projection.safetensors"
    save_file(state, str(broken))
    engine = Text2ImageEngine()
    try:
        with pytest.raises(EngineError, match="no usable weights for text_encoder_2.text_projection"):
            engine.run(request(broken, tiny_sdxl_path), lambda p: None, CancelToken())
    finally:
        engine.close()
