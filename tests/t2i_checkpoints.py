"""Write a tiny diffusers folder back out as one original-layout (A1111/Civitai) ``.safetensors``
checkpoint, so the single-file loader is tested on the real layout:

- SD 1.x (CompVis): ``model.diffusion_model.*``, ``first_stage_model.*``,
  ``cond_stage_model.transformer.*`` (HF CLIP);
- SDXL (Stability's SGM): the same UNet/VAE layout (plus ``label_emb``), text encoder 1 as HF CLIP in
  ``conditioner.embedders.0.transformer.*``, text encoder 2 in OpenCLIP's layout in
  ``conditioner.embedders.1.model.*`` (fused ``in_proj`` attention, ``text_projection`` as x @ P).

The mapping is the inverse of diffusers' ``convert_ldm_*_checkpoint`` / ``convert_open_clip_checkpoint``,
generalised from the official ``convert_diffusers_to_original_stable_diffusion.py`` and
``convert_diffusers_to_original_sdxl.py`` to any number of blocks and layers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

_UNET_TOP = {
    "time_embedding.linear_1.": "time_embed.0.", "time_embedding.linear_2.": "time_embed.2.",
    "conv_in.": "input_blocks.0.0.", "conv_norm_out.": "out.0.", "conv_out.": "out.2.",
    # SDXL's micro-conditioning embedding (sizes, crop, pooled text)
    "add_embedding.linear_1.": "label_emb.0.0.", "add_embedding.linear_2.": "label_emb.0.2.",
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


def clip_to_ldm(state: dict, prefix: str) -> dict:
    """HF CLIP weights under ``prefix``; the original layout names them ``text_model.*`` (transformers
    5 saves a bare CLIPTextModel without that level)."""
    return {prefix + (k if k.startswith("text_model.") else "text_model." + k): v
            for k, v in state.items() if not k.endswith("position_ids")}


_OPENCLIP_LAYER = (("layer_norm1.", "ln_1."), ("layer_norm2.", "ln_2."), ("mlp.fc1.", "mlp.c_fc."),
                   ("mlp.fc2.", "mlp.c_proj."), ("self_attn.out_proj.", "attn.out_proj."))
_OPENCLIP_TOP = {"embeddings.token_embedding.weight": "token_embedding.weight",
                 "embeddings.position_embedding.weight": "positional_embedding",
                 "final_layer_norm.weight": "ln_final.weight", "final_layer_norm.bias": "ln_final.bias"}


def openclip_to_ldm(state: dict, prefix: str) -> dict:
    """An HF CLIPTextModelWithProjection in OpenCLIP's layout: q/k/v fused into ``in_proj``, the
    projection stored transposed (OpenCLIP computes ``pooled @ text_projection``)."""
    import torch

    out: dict = {}
    qkv: dict[str, dict[str, object]] = {}
    for key, value in state.items():
        name = key.removeprefix("text_model.")
        if name.endswith("position_ids"):
            continue
        if name == "text_projection.weight":
            out["text_projection"] = value.T
        elif name in _OPENCLIP_TOP:
            out[_OPENCLIP_TOP[name]] = value
        elif name.startswith("encoder.layers."):
            rest = "transformer.resblocks." + name[len("encoder.layers."):]
            fused = re.match(r"(.*)\.self_attn\.([qkv])_proj\.(weight|bias)$", rest)
            if fused:
                qkv.setdefault(f"{fused[1]}.attn.in_proj_{fused[3]}", {})[fused[2]] = value
                continue
            for hf, ldm in _OPENCLIP_LAYER:
                rest = rest.replace(hf, ldm)
            out[rest] = value
        else:
            raise KeyError(f"no OpenCLIP name for text encoder key {key}")
    for name, parts in qkv.items():
        out[name] = torch.cat([parts["q"], parts["k"], parts["v"]])
    return {prefix + k: v for k, v in out.items()}


def _component(model_dir: Path, name: str) -> tuple[dict, dict]:
    from safetensors.torch import load_file

    folder = model_dir / name
    state: dict = {}
    for f in sorted(folder.glob("*.safetensors")):
        state.update(load_file(str(f)))
    return state, json.loads((folder / "config.json").read_text())


def _unet_and_vae(model_dir: Path) -> dict:
    unet, unet_cfg = _component(model_dir, "unet")
    vae, vae_cfg = _component(model_dir, "vae")
    return {**unet_to_ldm(unet, unet_cfg), **vae_to_ldm(vae, vae_cfg)}


def _save(merged: dict, out_file: Path) -> Path:
    from safetensors.torch import save_file

    out_file.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in merged.items()}, str(out_file), metadata={"format": "pt"})
    return out_file


def write_sd_checkpoint(model_dir: Path, out_file: Path) -> Path:
    """One original-layout safetensors file holding the UNet, VAE and text encoder of ``model_dir``."""
    text, _ = _component(model_dir, "text_encoder")
    return _save({**_unet_and_vae(model_dir), **clip_to_ldm(text, "cond_stage_model.transformer.")},
                 out_file)


def write_sdxl_checkpoint(model_dir: Path, out_file: Path) -> Path:
    """One SGM-layout safetensors file holding the UNet, VAE and both text encoders of ``model_dir``."""
    text, _ = _component(model_dir, "text_encoder")
    text_2, _ = _component(model_dir, "text_encoder_2")
    return _save({**_unet_and_vae(model_dir),
                  **clip_to_ldm(text, "conditioner.embedders.0.transformer."),
                  **openclip_to_ldm(text_2, "conditioner.embedders.1.model.")}, out_file)


def write_pickle_checkpoint(out_file: Path, zip_format: bool = True) -> Path:
    """A small torch pickle checkpoint (zip archive, or legacy raw pickle) with harmless content."""
    import torch

    out_file.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": {"w": torch.zeros(2)}}, str(out_file),
               _use_new_zipfile_serialization=zip_format)
    return out_file
