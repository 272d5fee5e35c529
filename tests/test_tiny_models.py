"""The tiny pipelines are real diffusers folders that load back through from_pretrained."""

from __future__ import annotations

import json


def test_tiny_sd_folder_is_a_diffusers_pipeline(tiny_sd_path):
    index = json.loads((tiny_sd_path / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionPipeline"
    assert (tiny_sd_path / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    tok = json.loads((tiny_sd_path / "tokenizer" / "tokenizer_config.json").read_text())
    assert tok["model_max_length"] == 77


def test_tiny_sdxl_has_two_text_encoders(tiny_sdxl_path):
    index = json.loads((tiny_sdxl_path / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionXLPipeline"
    assert {"text_encoder", "text_encoder_2", "tokenizer_2"} <= set(index)
