"""Write a tiny SD 1.x diffusers folder back out as one original-layout (A1111/Civitai/CompVis)
``.safetensors`` checkpoint: ``model.diffusion_model.*``, ``first_stage_model.*`` and
``cond_stage_model.transformer.*`` keys, so the single-file loader is tested on the real layout.

The mapping is the inverse of diffusers' ``convert_ldm_*_checkpoint``, generalised from the official
``convert_diffusers_to_original_stable_diffusion.py`` to any number of blocks and layers.
"""

from __future__ import annotations

import json
from pathlib import Path

_UNET_TOP = {
    "time_embedding.linear_1.": "time_embed.0.", "time_embedding.linear_2.": "time_embed.2.",
    "conv_in.": "input_blocks.0.0.", "conv_norm_out.": "out.0.", "conv_out.": "out.2.",
}
_RESNET = (("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("norm2", "out_layers.0"),
           ("conv2", "out_layers.3"), ("time_emb_proj", "emb_layers.1"), ("conv_shortcut", "skip_connection"))


def _unet_prefixes(config: dict, keys: list[str]) -> list[tuple[str, str, bool]]:
    """(diffusers prefix, ldm prefix, is_resnet) for every block of the UNet."""
    n = len(config["block_out_channels"])
    layers = config["layers_per_block"]
    stride = layers + 1
    out: list[tuple[str, str, bool]] = []
    for i in range(n):
        for j in range(layers):
            out.append((f"down_blocks.{i}.resnets.{j}.", f"input_blocks.{stride * i + j + 1}.0.", True))
            out.append((f"down_blocks.{i}.attentions.{j}.", f"input_blocks.{stride * i + j + 1}.1.", False))
        if i < n - 1:
            out.append((f"down_blocks.{i}.downsamplers.0.conv.", f"input_blocks.{stride * (i + 1)}.0.op.", False))
        up_has_attention = any(k.startswith(f"up_blocks.{i}.attentions.") for k in keys)
        for j in range(layers + 1):
            out.append((f"up_blocks.{i}.resnets.{j}.", f"output_blocks.{stride * i + j}.0.", True))
            out.append((f"up_blocks.{i}.attentions.{j}.", f"output_blocks.{stride * i + j}.1.", False))
        if i < n - 1:
            slot = 2 if up_has_attention else 1
            out.append((f"up_blocks.{i}.upsamplers.0.", f"output_blocks.{stride * i + layers}.{slot}.", False))
    out.append(("mid_block.attentions.0.", "middle_block.1.", False))
    for j in range(2):
        out.append((f"mid_block.resnets.{j}.", f"middle_block.{2 * j}.", True))
    return out


def unet_to_ldm(state: dict, config: dict) -> dict:
    keys = list(state)
    prefixes = _unet_prefixes(config, keys)
    out = {}
    for key, value in state.items():
        new = None
        for hf, ldm in _UNET_TOP.items():
            if key.startswith(hf):
                new = ldm + key[len(hf):]
        for hf, ldm, is_resnet in prefixes:
            if key.startswith(hf):
                rest = key[len(hf):]
                if is_resnet:
                    for a, b in _RESNET:
                        rest = rest.replace(a, b)
                new = ldm + rest
        if new is None:
            raise KeyError(f"no original-layout name for UNet key {key}")
        out["model.diffusion_model." + new] = value
    return out


def vae_to_ldm(state: dict, config: dict) -> dict:
    n = len(config["block_out_channels"])
    prefixes: list[tuple[str, str]] = []
    for i in range(n):
        prefixes.append((f"encoder.down_blocks.{i}.resnets.", f"encoder.down.{i}.block."))
        prefixes.append((f"encoder.down_blocks.{i}.downsamplers.0.", f"encoder.down.{i}.downsample."))
        prefixes.append((f"decoder.up_blocks.{i}.resnets.", f"decoder.up.{n - 1 - i}.block."))
        prefixes.append((f"decoder.up_blocks.{i}.upsamplers.0.", f"decoder.up.{n - 1 - i}.upsample."))
    for part in ("encoder", "decoder"):
        for j in range(2):
            prefixes.append((f"{part}.mid_block.resnets.{j}.", f"{part}.mid.block_{j + 1}."))
        prefixes.append((f"{part}.mid_block.attentions.0.", f"{part}.mid.attn_1."))
        prefixes.append((f"{part}.conv_norm_out.", f"{part}.norm_out."))
    attn = (("group_norm.", "norm."), ("to_q.", "q."), ("to_k.", "k."), ("to_v.", "v."),
            ("to_out.0.", "proj_out."))
    out = {}
    for key, value in state.items():
        new = key
        for hf, ldm in prefixes:
            if key.startswith(hf):
                new = ldm + key[len(hf):]
                break
        new = new.replace("conv_shortcut", "nin_shortcut")
        if ".mid.attn_1." in new:
            for a, b in attn:
                new = new.replace(".mid.attn_1." + a, ".mid.attn_1." + b)
            if value.dim() == 2:
                value = value[:, :, None, None]  # linear -> 1x1 conv, as the original stores them
        out["first_stage_model." + new] = value
    return out


def write_sd_checkpoint(model_dir: Path, out_file: Path) -> Path:
    """One original-layout safetensors file holding the UNet, VAE and text encoder of ``model_dir``."""
    from safetensors.torch import load_file, save_file

    def component(name: str) -> tuple[dict, dict]:
        folder = model_dir / name
        files = sorted(folder.glob("*.safetensors"))
        state: dict = {}
        for f in files:
            state.update(load_file(str(f)))
        return state, json.loads((folder / "config.json").read_text())

    unet, unet_cfg = component("unet")
    vae, vae_cfg = component("vae")
    text, _ = component("text_encoder")
    merged = {**unet_to_ldm(unet, unet_cfg), **vae_to_ldm(vae, vae_cfg)}
    for key, value in text.items():  # the original layout names CLIP weights text_model.*
        name = key if key.startswith("text_model.") else "text_model." + key
        merged["cond_stage_model.transformer." + name] = value
    merged = {k: v.contiguous() for k, v in merged.items()}
    out_file.parent.mkdir(parents=True, exist_ok=True)
    save_file(merged, str(out_file), metadata={"format": "pt"})
    return out_file


def write_pickle_checkpoint(out_file: Path, zip_format: bool = True) -> Path:
    """A small torch pickle checkpoint (zip archive, or legacy raw pickle) with harmless content."""
    import torch

    out_file.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": {"w": torch.zeros(2)}}, str(out_file),
               _use_new_zipfile_serialization=zip_format)
    return out_file
