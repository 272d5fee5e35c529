"""Tiny diffusers pipelines built from configs, saved with ``save_pretrained``.

Tests load these folders through the same code a user's model takes, so nothing is downloaded.
The tokenizer is written from a small byte-level vocabulary and merges file.
"""

from __future__ import annotations

import json
from pathlib import Path

SD_FAMILY = "sd"
SDXL_FAMILY = "sdxl"


def _byte_alphabet() -> list[str]:
    # CLIP's byte-level BPE maps every byte to a printable unicode character.
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = [], 0
    for b in range(256):
        if b in printable:
            chars.append(chr(b))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return chars


def write_tokenizer(folder: Path) -> Path:
    """Write a CLIP tokenizer (vocab.json, merges.txt) small enough for a tiny text encoder."""
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    alphabet = _byte_alphabet()
    tokens = alphabet + [c + "</w>" for c in alphabet]
    merges = ["t h", "th e</w>", "a n", "an d</w>", "c a", "ca t</w>", "r e"]
    tokens += ["th", "the</w>", "an", "and</w>", "ca", "cat</w>", "re"]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {tok: i for i, tok in enumerate(dict.fromkeys(tokens))}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    tok = CLIPTokenizer(
        vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"), model_max_length=77
    )
    tok.save_pretrained(folder)
    return folder


def _clip_config(with_projection: bool = False, hidden_size: int = 32):
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        bos_token_id=0, eos_token_id=2, hidden_size=hidden_size, intermediate_size=37, layer_norm_eps=1e-05,
        num_attention_heads=4, num_hidden_layers=2, pad_token_id=1, vocab_size=1000,
        hidden_act="gelu", projection_dim=32 if with_projection else 512,
    )


def _vae():
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=[16, 32], in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"], norm_num_groups=8,
        sample_size=32,
    )


def build_sd(folder: Path, seed: int = 0, *, inpainting: bool = False) -> Path:
    """An SD 1.x-shaped pipeline: UNet, VAE, one CLIP text encoder, PNDM-free Euler scheduler;
    ``inpainting``: a dedicated inpainting model (9-channel UNet: latents, mask, masked picture)."""
    import torch
    from diffusers import (
        EulerDiscreteScheduler, StableDiffusionInpaintPipeline, StableDiffusionPipeline, UNet2DConditionModel,
    )
    from transformers import CLIPTextModel, CLIPTokenizer

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(16, 32), layers_per_block=1, sample_size=32, in_channels=9 if inpainting else 4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
        norm_num_groups=8, attention_head_dim=4,
    )
    vae = _vae()
    text_encoder = CLIPTextModel(_clip_config())
    tokenizer = CLIPTokenizer.from_pretrained(write_tokenizer(folder / "_tok"))
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", timestep_spacing="leading",
        steps_offset=1,
    )
    pipeline = StableDiffusionInpaintPipeline if inpainting else StableDiffusionPipeline
    pipe = pipeline(
        unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipe.save_pretrained(folder / "model", safe_serialization=True)
    return folder / "model"


def build_sdxl(folder: Path, seed: int = 0) -> Path:
    """An SDXL-shaped pipeline: two text encoders (the second with projection), text_time UNet.

    As in real SDXL (768 vs 1280) the second encoder is wider than the first (48 vs 32): diffusers'
    single-file loader tells the two apart by that width alone.
    """
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(16, 32), layers_per_block=1, sample_size=32, in_channels=4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=(2, 4),
        use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 1), projection_class_embeddings_input_dim=80,
        cross_attention_dim=32 + 48, norm_num_groups=8,
    )
    vae = _vae()
    tok_dir = write_tokenizer(folder / "_tok")
    pipe = StableDiffusionXLPipeline(
        unet=unet, vae=vae, text_encoder=CLIPTextModel(_clip_config()),
        text_encoder_2=CLIPTextModelWithProjection(_clip_config(with_projection=True, hidden_size=48)),
        tokenizer=CLIPTokenizer.from_pretrained(tok_dir),
        tokenizer_2=CLIPTokenizer.from_pretrained(tok_dir),
        scheduler=EulerDiscreteScheduler(
            beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
            timestep_spacing="leading", steps_offset=1,
        ),
    )
    pipe.save_pretrained(folder / "model", safe_serialization=True)
    return folder / "model"


def build_controlnet(model: Path, folder: Path, seed: int = 1) -> Path:
    """A ControlNet made from a tiny pipeline's UNet (as diffusers' ``from_unet`` does for training),
    its zero convolutions given random weights so that it steers; its control picture is downsampled
    as the tiny VAE downsamples (2x)."""
    import torch
    from diffusers import ControlNetModel, UNet2DConditionModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel.from_pretrained(model / "unet")
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(16, 32))
    with torch.no_grad():
        for name, param in controlnet.named_parameters():
            if "zero_conv" in name or "controlnet_down_blocks" in name or "controlnet_mid_block" in name \
                    or name.startswith("controlnet_cond_embedding.conv_out"):
                param.normal_(0, 0.3)
    controlnet.save_pretrained(folder, safe_serialization=True)
    return folder
