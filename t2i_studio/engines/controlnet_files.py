"""ControlNet models on disk: whether a diffusers folder (or hub snapshot) or a single .safetensors
file holds a ControlNet, and which model family it steers ("sd": SD 1.x/2.x, "sdxl"), from its
config or its safetensors header alone (no weights read).

Single files come in two layouts: the original one of A1111's ControlNet extension
(``control_model.input_hint_block...``, sometimes without the prefix) and diffusers' own
(``controlnet_cond_embedding...``). SDXL's take the text-time embedding: ``label_emb`` in the
original layout, ``add_embedding`` in diffusers'.
"""

from __future__ import annotations

import json
from pathlib import Path

from t2i_studio.engines import checkpoints

CONTROLNET_CLASS = "ControlNetModel"  # what diffusers' ControlNetModel.from_pretrained/from_single_file load
_KEY_MARKS = ("control_model.", "input_hint_block.", "controlnet_cond_embedding.", "controlnet_down_blocks.")
_SDXL_KEYS = ("label_emb.0.0.weight", "add_embedding.linear_1.weight")


def family(path: Path) -> str | None:
    """The family of the ControlNet at ``path`` (a folder or a safetensors file); None when it is
    not one. A damaged safetensors file raises ``EngineError`` naming it."""
    if path.is_dir():
        config = _config(path)
        if config is None:
            return None
        return "sdxl" if config.get("addition_embed_type") == "text_time" else "sd"
    if path.is_file() and checkpoints.sniff(path) == "safetensors":
        keys = checkpoints.safetensors_keys(path)
        if not any(key.startswith(_KEY_MARKS) for key in keys):
            return None
        return "sdxl" if any(key.endswith(_SDXL_KEYS) for key in keys) else "sd"
    return None


def _config(folder: Path) -> dict | None:
    """The config of a diffusers ControlNet folder; None when the folder holds something else."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) and config.get("_class_name") == CONTROLNET_CLASS else None


def cached(repo_id: str, revision: str | None) -> Path | None:
    """The snapshot folder of a hub ControlNet in the Hugging Face cache, or None."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "config.json", revision=revision)
    if not isinstance(found, str):
        return None
    snapshot = Path(found).parent
    return snapshot if _config(snapshot) is not None else None
