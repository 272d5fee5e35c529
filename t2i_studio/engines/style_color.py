"""Colour helpers for style transfer: image <-> tensor, YCbCr, luminance matching, sizing.

"Preserve original colours" (Gatys, Bethge, Hertzmann & Shechtman 2016): the transfer runs on
luminance only (the style's luminance matched to the content's mean and spread), and the result's
luminance is recombined with the content's chroma (Cb, Cr).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

# ITU-R BT.601 full range (JPEG), on [0, 1] values with chroma centred on 0.5.
_RGB_TO_YCBCR = torch.tensor([[0.299, 0.587, 0.114],
                              [-0.168736, -0.331264, 0.5],
                              [0.5, -0.418688, -0.081312]])
_YCBCR_TO_RGB = torch.tensor([[1.0, 0.0, 1.402],
                              [1.0, -0.344136, -0.714136],
                              [1.0, 1.772, 0.0]])


def pil_to_tensor(image: Image.Image) -> torch.Tensor:
    """RGB PIL image -> float32 tensor (1, 3, H, W) in [0, 1]."""
    array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array.copy()).permute(2, 0, 1).unsqueeze(0)


def tensor_to_pil(x: torch.Tensor) -> Image.Image:
    """(1, 3, H, W) or (1, 1, H, W) tensor in [0, 1] -> RGB PIL image (rounded, clamped)."""
    x = x.detach().float().clamp(0, 1)[0]
    if x.shape[0] == 1:
        x = x.expand(3, -1, -1)
    array = (x.permute(1, 2, 0).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(array, "RGB")


def rgb_to_ycbcr(x: torch.Tensor) -> torch.Tensor:
    out = torch.einsum("ij,bjhw->bihw", _RGB_TO_YCBCR.to(x), x)
    return out + torch.tensor([0.0, 0.5, 0.5], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)


def ycbcr_to_rgb(x: torch.Tensor) -> torch.Tensor:
    x = x - torch.tensor([0.0, 0.5, 0.5], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return torch.einsum("ij,bjhw->bihw", _YCBCR_TO_RGB.to(x), x)


def luminance(x: torch.Tensor) -> torch.Tensor:
    return rgb_to_ycbcr(x)[:, :1]


def match_luminance(style_y: torch.Tensor, content_y: torch.Tensor) -> torch.Tensor:
    """Shift and scale the style's luminance to the content's mean and standard deviation."""
    s_mean, s_std = style_y.mean(), style_y.std().clamp_min(1e-4)
    return ((style_y - s_mean) / s_std * content_y.std() + content_y.mean()).clamp(0, 1)


def recombine(y: torch.Tensor, content_rgb: torch.Tensor) -> torch.Tensor:
    """Luminance ``y`` (1, 1, H, W) with the chroma of ``content_rgb`` (resized to match)."""
    if content_rgb.shape[-2:] != y.shape[-2:]:
        content_rgb = resize(content_rgb, y.shape[-2:])
    ycc = rgb_to_ycbcr(content_rgb)
    return ycbcr_to_rgb(torch.cat([y.to(ycc), ycc[:, 1:]], dim=1)).clamp(0, 1)


def fit_long_edge(width: int, height: int, long_edge: int) -> tuple[int, int]:
    """(height, width) with the long edge ``long_edge`` and the aspect ratio kept (>= 1 pixel)."""
    scale = long_edge / max(width, height)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize(x: torch.Tensor, size: tuple[int, int] | torch.Size) -> torch.Tensor:
    """Resize a (1, C, H, W) tensor; antialiased when shrinking."""
    size = (int(size[0]), int(size[1]))
    if tuple(x.shape[-2:]) == size:
        return x
    shrinking = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=shrinking)


def load_rgb(image: Image.Image, long_edge: int) -> torch.Tensor:
    """A PIL image resized (Lanczos) so its long edge is ``long_edge``, as a (1, 3, H, W) tensor."""
    image = image.convert("RGB")
    h, w = fit_long_edge(image.width, image.height, long_edge)
    if (w, h) != image.size:
        image = image.resize((w, h), Image.Resampling.LANCZOS)
    return pil_to_tensor(image)
