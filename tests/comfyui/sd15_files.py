"""A full-architecture SD 1.5 checkpoint, a LoRA and a ControlNet for it, with random weights,
written in the layouts ComfyUI loads (it recognises models by tensor shapes, so a tiny model will not do).

The checkpoint is the original single-file layout (``t2i_checkpoints``' writer, fed in memory);
the LoRA is kohya's layout (``lora_unet_<diffusers path>.lora_down/lora_up/alpha``); the ControlNet
is diffusers' key layout in one file (ComfyUI tells it by ``controlnet_cond_embedding.conv_in.weight``).
"""

from __future__ import annotations

from pathlib import Path

from t2i_checkpoints import clip_to_ldm, unet_to_ldm, vae_to_ldm

CHECKPOINT = "sd15-random.safetensors"  # the names the servers list them by
LORA = "test-lora.safetensors"
CONTROLNET = "sd15-random-controlnet.safetensors"
# The published SD 1.5 shapes (runwayml/stable-diffusion-v1-5 configs), written out: no download.
UNET = {"sample_size": 64, "in_channels": 4, "out_channels": 4, "layers_per_block": 2,
            "block_out_channels": (320, 640, 1280, 1280), "cross_attention_dim": 768, "attention_head_dim": 8,
            "down_block_types": ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3}
VAE = {"in_channels": 3, "out_channels": 3, "latent_channels": 4, "layers_per_block": 2, "sample_size": 512,
           "block_out_channels": (128, 256, 512, 512), "down_block_types": ("DownEncoderBlock2D",) * 4,
           "up_block_types": ("UpDecoderBlock2D",) * 4}
CLIP_L = {"vocab_size": 49408, "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
              "num_attention_heads": 12, "max_position_embeddings": 77, "hidden_act": "quick_gelu"}
# The UNet layers the test LoRA changes (kohya names them by their diffusers path).
LORA_TARGETS = [f"{block}.attentions.{j}.transformer_blocks.0.attn{a}.to_out.0"
                for block in ("down_blocks.0", "up_blocks.3") for j in (0, 1) for a in (1, 2)]


def write_sd15_checkpoint(out_file: Path) -> Path:
    """~2.1 GB fp16 in ~30 s; each part is converted and freed before the next is built."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    merged: dict = {}
    unet = UNet2DConditionModel(**UNET)
    merged.update({k: v.half() for k, v in unet_to_ldm(unet.state_dict(), dict(unet.config)).items()})
    del unet
    vae = AutoencoderKL(**VAE)
    merged.update({k: v.half() for k, v in vae_to_ldm(vae.state_dict(), dict(vae.config)).items()})
    del vae
    text = CLIPTextModel(CLIPTextConfig(**CLIP_L))
    merged.update({k: v.half() for k, v in
                   clip_to_ldm(text.state_dict(), "cond_stage_model.transformer.").items()})
    del text
    out_file.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in merged.items()}, str(out_file))
    return out_file


def write_sd15_lora(out_file: Path, rank: int = 4, scale: float = 2.0) -> Path:
    """A LoRA strong enough to change the picture visibly at weight 1 (zero at weight 0)."""
    import torch
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(1)
    width = {"down_blocks.0": 320, "up_blocks.3": 320}
    tensors = {}
    for target in LORA_TARGETS:
        dim = width[target.rsplit(".attentions", 1)[0]]
        name = "lora_unet_" + target.replace(".", "_")
        tensors[f"{name}.lora_down.weight"] = torch.randn(rank, dim, generator=g) * scale
        tensors[f"{name}.lora_up.weight"] = torch.randn(dim, rank, generator=g) * scale
        tensors[f"{name}.alpha"] = torch.tensor(float(rank))
    out_file.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out_file))
    return out_file


def write_sd15_controlnet(out_file: Path) -> Path:
    """SD 1.5's ControlNet (its UNet's encoder half) in fp16: ~0.7 GB in a few seconds. diffusers
    starts the layers that feed the UNet at zero, which would leave every picture as it is without
    the control: they are drawn at random too, so the control map steers the picture."""
    import torch
    from diffusers import ControlNetModel
    from safetensors.torch import save_file

    torch.manual_seed(0)
    shape = ("in_channels", "layers_per_block", "block_out_channels", "cross_attention_dim", "attention_head_dim",
             "down_block_types")
    net = ControlNetModel(**{k: UNET[k] for k in shape})
    tensors = {}
    for name, tensor in net.state_dict().items():
        if not tensor.any():  # a zero convolution (or a bias that starts at zero: harmless to draw)
            tensor = torch.randn_like(tensor) * 0.05
        tensors[name] = tensor.half().contiguous()
    del net
    out_file.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out_file))
    return out_file
