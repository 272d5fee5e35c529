"""From seeds to pictures: each picture's noise vector comes from its own seed, so picture k of a
batch is the same whatever the batch; truncation keeps the vector near the typical (BigGAN's
truncation trick: entries beyond the threshold are redrawn)."""

from __future__ import annotations

import numpy as np
import torch

from t2i_studio.engines.starter.data import encode_tokens
from t2i_studio.engines.starter.model import paint
from t2i_studio.engines.starter.weights import StarterModel


def seed_noise(seed: int, size: int, truncation: float = 1.0) -> torch.Tensor:
    """A standard normal vector from ``seed``; entries beyond +-``truncation`` are redrawn."""
    gen = torch.Generator().manual_seed(seed)
    v = torch.randn(size, generator=gen)
    for _ in range(64):  # each round redraws the outliers; 64 rounds leave none in practice
        outside = v.abs() > truncation
        if not outside.any():
            break
        v = torch.where(outside, torch.randn(size, generator=gen), v)
    return v.clamp(-truncation, truncation)


@torch.no_grad()
def generate(model: StarterModel, prompts: list[str], noise: torch.Tensor) -> np.ndarray:
    """N x H x W x 3 uint8 pictures at the model's high resolution, one per prompt and noise row."""
    sentence = model.text(encode_tokens(prompts))
    pictures = paint(model.generator(noise, sentence))
    return pictures.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
