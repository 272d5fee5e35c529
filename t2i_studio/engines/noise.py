"""Initial noise: drawn on the CPU with one generator per image, so a seed means the same picture on
CUDA, MPS and CPU, and image k of a batch (seed + k) is reproducible on its own.
"""

from __future__ import annotations

from typing import Any


def slerp(t: float, a: Any, b: Any) -> Any:
    """Spherical interpolation from ``a`` (t=0, returned exactly) to ``b`` (t=1)."""
    import torch

    if t <= 0.0:
        return a.clone()
    if t >= 1.0:
        return b.clone()
    a64, b64 = a.double(), b.double()
    dot = (a64 * b64).sum() / (a64.norm() * b64.norm())
    dot = dot.clamp(-1.0, 1.0)
    omega = torch.arccos(dot)
    if omega.abs() < 1e-6:
        out = (1.0 - t) * a64 + t * b64
    else:
        so = torch.sin(omega)
        out = torch.sin((1.0 - t) * omega) / so * a64 + torch.sin(t * omega) / so * b64
    return out.to(a.dtype)


def image_noise(shape: tuple[int, ...], seed: int, variation_seed: int | None = None,
                variation_strength: float = 0.0) -> tuple[Any, Any]:
    """(noise for one image with ``shape`` (C, h, w), the CPU generator to continue with)."""
    import torch

    generator = torch.Generator("cpu").manual_seed(seed)
    noise = torch.randn((1, *shape), generator=generator, dtype=torch.float32)
    if variation_seed is not None and variation_strength > 0:
        other = torch.randn((1, *shape), generator=torch.Generator("cpu").manual_seed(variation_seed),
                            dtype=torch.float32)
        noise = slerp(variation_strength, noise, other)
    return noise, generator


def batch_noise(shape: tuple[int, ...], seeds: list[int], variation_seed: int | None,
                variation_strength: float) -> tuple[Any, list[Any]]:
    """Noise for a batch (image k from ``seeds[k]``) and one generator per image.

    Every image blends towards the same variation seed, so image k is reproduced alone by the same
    request with ``seed + k`` (which is what its saved metadata says)."""
    import torch

    noises, generators = [], []
    for seed in seeds:
        noise, generator = image_noise(shape, seed, variation_seed, variation_strength)
        noises.append(noise)
        generators.append(generator)
    return torch.cat(noises), generators
