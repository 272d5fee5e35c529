"""Shared helpers for the style-transfer tests: synthetic images, a judge network, SSIM, chroma."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

JUDGE_SEED = 4242  # the judge VGG19: random weights with a seed the engine never uses
JUDGE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def content_image(size: int = 64) -> Image.Image:
    """Smooth, structured content: a lit disc, a dark bar and a soft gradient, muted colours."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    r = 0.35 + 0.4 * xx
    g = 0.45 + 0.25 * yy
    b = 0.55 - 0.2 * xx
    disc = ((xx - 0.35) ** 2 + (yy - 0.4) ** 2) < 0.06
    bar = (np.abs(yy - 0.75) < 0.08) & (xx > 0.2) & (xx < 0.9)
    rgb = np.stack([r, g, b], -1)
    rgb[disc] = [0.9, 0.75, 0.3]
    rgb[bar] = [0.15, 0.2, 0.35]
    return Image.fromarray((rgb.clip(0, 1) * 255).astype(np.uint8), "RGB")


def style_image(size: int = 64, seed: int = 1) -> Image.Image:
    """A busy, saturated texture: diagonal stripes in red/blue with speckle."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    stripes = (np.sin((xx + yy) * 0.9) > 0).astype(np.float32)
    speckle = rng.random((size, size)).astype(np.float32)
    rgb = np.stack([0.9 * stripes + 0.1 * speckle, 0.2 * speckle, 0.9 * (1 - stripes) + 0.1 * speckle], -1)
    return Image.fromarray((rgb.clip(0, 1) * 255).astype(np.uint8), "RGB")


def save(image: Image.Image, path: Path) -> str:
    image.save(path)
    return str(path)


def to_tensor(image: Image.Image) -> torch.Tensor:
    array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array.copy()).permute(2, 0, 1).unsqueeze(0)


def judge():
    from t2i_studio.engines.vgg import random_vgg

    return random_vgg(JUDGE_SEED)


def _sqrtm(m: torch.Tensor) -> torch.Tensor:
    w, v = torch.linalg.eigh(m)
    return (v * w.clamp_min(0).sqrt()) @ v.T


def style_distance(judge_net, image: Image.Image, style: Image.Image) -> float:
    """Fréchet (W2-between-Gaussians) distance of the judge's feature mean and covariance.

    Per layer ``|mu_a - mu_b|^2 + Tr(Ca + Cb - 2 (Cb^1/2 Ca Cb^1/2)^1/2)``, relative to the style's
    own ``|mu_b|^2 + Tr(Cb)``, averaged over relu1_1 … relu5_1.
    """
    a, b = to_tensor(image), to_tensor(style.resize(image.size, Image.Resampling.LANCZOS))
    with torch.no_grad():
        fa, fb = judge_net(a, JUDGE_LAYERS), judge_net(b, JUDGE_LAYERS)
    total = 0.0
    for name in JUDGE_LAYERS:
        xa, xb = fa[name][0].flatten(1).double(), fb[name][0].flatten(1).double()
        ma, mb = xa.mean(1), xb.mean(1)
        ca, cb = torch.cov(xa), torch.cov(xb)
        root_b = _sqrtm(cb)
        d = (ma - mb).pow(2).sum() + torch.trace(ca + cb - 2 * _sqrtm(root_b @ ca @ root_b))
        total += float(d / (mb.pow(2).sum() + torch.trace(cb)))
    return total / len(JUDGE_LAYERS)


def luma(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("YCbCr"), dtype=np.float64)[..., 0] / 255.0


def chroma(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("YCbCr"), dtype=np.float64)[..., 1:] / 255.0


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1 .01, K2 .03) on [0,1]."""
    ta = torch.from_numpy(a).float()[None, None]
    tb = torch.from_numpy(b).float()[None, None]
    coords = torch.arange(11, dtype=torch.float32) - 5
    g = torch.exp(-coords**2 / (2 * 1.5**2))
    g = g / g.sum()
    window = (g[:, None] * g[None, :])[None, None]

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, window)

    mu_a, mu_b = blur(ta), blur(tb)
    saa = blur(ta * ta) - mu_a**2
    sbb = blur(tb * tb) - mu_b**2
    sab = blur(ta * tb) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a**2 + mu_b**2 + c1) * (saa + sbb + c2))
    return float(s.mean())
