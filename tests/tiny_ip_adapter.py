"""A tiny IP-Adapter for a tiny pipeline of ``tiny_models``, in the layout users download.

h94/IP-Adapter's layout: ``<folder>/ip-adapter.safetensors`` (``image_proj.*`` and ``ip_adapter.*``
tensors, as diffusers' ``load_ip_adapter`` reads them) beside ``<folder>/image_encoder/`` (a CLIP
vision model with projection, saved with ``save_pretrained``). The shapes follow the UNet it is made
for, so an adapter built for the tiny SDXL is of "another family" to the tiny SD.
"""

from __future__ import annotations

from pathlib import Path

TOKENS = 4  # image tokens of a plain IP-Adapter (diffusers' ImageProjection)


def build_encoder(folder: Path, seed: int = 0, projection_dim: int = 16) -> Path:
    """A CLIP vision encoder of 32-pixel pictures, its embeddings ``projection_dim`` wide."""
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    config = CLIPVisionConfig(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                              image_size=32, patch_size=8, projection_dim=projection_dim)
    CLIPVisionModelWithProjection(config).save_pretrained(folder, safe_serialization=True)
    return folder


def build_ip_adapter(model: Path, folder: Path, seed: int = 0, *, encoder: bool = True,
                     projection_dim: int = 16) -> Path:
    """The adapter file for the UNet of ``model`` (a diffusers folder), with its encoder unless
    ``encoder`` is False; weights drawn large enough that a reference visibly steers."""
    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file

    unet = UNet2DConditionModel.from_pretrained(model / "unet")
    config = unet.config
    cross = config.cross_attention_dim
    generator = torch.Generator().manual_seed(seed)

    def weights(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator) * 0.5

    tensors = {"image_proj.proj.weight": weights(cross * TOKENS, projection_dim),
               "image_proj.proj.bias": weights(cross * TOKENS),
               "image_proj.norm.weight": torch.ones(cross), "image_proj.norm.bias": torch.zeros(cross)}
    # diffusers numbers the cross-attention layers 1, 3, 5... in the UNet's processor order
    for k, name in enumerate(n for n in unet.attn_processors if n.endswith("attn2.processor")):
        hidden = unet.get_submodule(name[: -len(".processor")]).to_q.out_features
        for part in ("to_k_ip", "to_v_ip"):
            tensors[f"ip_adapter.{2 * k + 1}.{part}.weight"] = weights(hidden, cross)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / "ip-adapter.safetensors"))
    if encoder:
        build_encoder(folder / "image_encoder", seed, projection_dim)
    return folder / "ip-adapter.safetensors"
