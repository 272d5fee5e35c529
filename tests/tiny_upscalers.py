"""Tiny upscaler model files, built from spandrel's own architecture classes with seeded random
weights and saved as a user's file would be, so the tests load them through the app's own path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

from t2i_studio.engines.upscalers import import_spandrel


def _save(model: torch.nn.Module, path: Path) -> Path:
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if path.suffix == ".safetensors":
        save_file(state, str(path))
    else:
        torch.save(state, path)  # a pickle file, as older upscalers ship
    return path


def compact(path: Path, scale: int = 4, features: int = 8, convs: int = 2, seed: int = 0) -> Path:
    """A Real-ESRGAN Compact (SRVGGNetCompact) network."""
    import_spandrel()
    from spandrel.architectures.Compact import Compact

    torch.manual_seed(seed)
    return _save(Compact(num_in_ch=3, num_out_ch=3, num_feat=features, num_conv=convs, upscale=scale), path)


def esrgan(path: Path, scale: int = 2, filters: int = 8, blocks: int = 1, seed: int = 0) -> Path:
    """An ESRGAN (RRDBNet, old layout) network."""
    import_spandrel()
    from spandrel.architectures.ESRGAN import ESRGAN

    torch.manual_seed(seed)
    return _save(ESRGAN(in_nc=3, out_nc=3, num_filters=filters, num_blocks=blocks, scale=scale), path)


def not_an_upscaler(path: Path) -> Path:
    """A safetensors file of weights no architecture has."""
    save_file({"encoder.layer.weight": torch.zeros(4, 4), "head.bias": torch.zeros(4)}, str(path))
    return path


def restoration(path: Path) -> Path:
    """A 1x Compact network: a denoiser, which does not enlarge."""
    return compact(path, scale=1)


def picture(width: int, height: int, seed: int = 0) -> Image.Image:
    """Smooth gradients, a few discs and fine noise: detail a model's tiles can disagree on."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([0.3 + 0.5 * xx / width, 0.4 + 0.4 * yy / height, 0.6 - 0.3 * xx / width], -1)
    for _ in range(4):
        cx, cy, r = rng.random() * width, rng.random() * height, 4 + rng.random() * min(width, height) / 4
        rgb[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = rng.random(3)
    rgb += 0.05 * rng.standard_normal(rgb.shape).astype(np.float32)
    return Image.fromarray((rgb.clip(0, 1) * 255).astype(np.uint8), "RGB")
