"""The Gatys objective with per-layer normalised losses, and the slider calibration.

Content: relu4_2 features. Style: Gram matrices at relu1_1 … relu5_1 (weight 1/5 each). Every
layer's loss is relative to its target's energy (``||F - Fc||² / ||Fc||²``,
``||G - Gs||² / ||Gs||²``, Gram normalised by the number of positions), and total variation is
relative to the content's own, so the same slider values mean the same at any image size and for
any weights (ImageNet or random, whose layers differ wildly in scale - He et al. 2016 normalise
per layer for that reason).

Smoothness is total variation of what the transfer *adds* (``x - content``), relative to the style
image's own total variation: it calms noisy strokes without blurring the content's edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
ALL_LAYERS = tuple(dict.fromkeys((*STYLE_LAYERS, CONTENT_LAYER)))

# Calibration (see ``weights_for``): style weight grows exponentially with the slider from 0.
STYLE_MID = 3.0  # style/content weight ratio at strength 0.5 and fidelity 0.5
STYLE_SPAN = 3.0  # decades between strength ~0 and 1
RANGE_WEIGHT = 100.0  # penalty on pixels outside [0, 1], relative to the other weights
TV_MAX = 1.0  # total-variation weight at smoothness 1, relative to the content + style weights


@dataclass(frozen=True)
class LossWeights:
    content: float
    style: float
    tv: float


def weights_for(style_strength: float, content_fidelity: float, smoothness: float) -> LossWeights:
    """Slider values (0..1) -> loss weights.

    Style: ``STYLE_MID * (10^(SPAN*s) - 1) / (10^(SPAN/2) - 1)``: 0 at s = 0, ``STYLE_MID`` at 0.5,
    ~100x that at 1, so every step of the slider multiplies the style pull by about the same factor
    (perceived strength follows the log of the ratio). Content: ``(10^(2f) - 1) / 9``: 0 at f = 0,
    1 at 0.5, 11 at 1. Smoothness scales with the other two so it means the same at any strength.
    """
    style = STYLE_MID * (10 ** (STYLE_SPAN * style_strength) - 1) / (10 ** (STYLE_SPAN / 2) - 1)
    content = (10 ** (2 * content_fidelity) - 1) / 9
    tv = TV_MAX * smoothness * (content + style)
    return LossWeights(content, style, tv)


def gram(features: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) -> (C, C) Gram matrix / positions, computed in float32."""
    f = features.float()
    c = f.shape[1]
    f = f.reshape(c, -1)
    return (f @ f.t()) / f.shape[1]


def total_variation(x: torch.Tensor) -> torch.Tensor:
    x = x.float()
    return (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean() + (x[..., :, 1:] - x[..., :, :-1]).pow(2).mean()


@dataclass
class Targets:
    """Targets at one scale: content features, blended style Grams, content TV."""

    content: torch.Tensor
    grams: dict[str, torch.Tensor]
    content_image: torch.Tensor
    style_tv: torch.Tensor
    content_norm: torch.Tensor
    gram_norms: dict[str, torch.Tensor]


def make_targets(vgg, content: torch.Tensor, styles: list[torch.Tensor], blend: list[float],
                 autocast, single_channel: bool = False) -> Targets:
    """Blend the styles' Grams (weighted mean: the minimiser of the weighted sum of style losses)."""
    with torch.no_grad():
        with autocast():
            content_feats = vgg(content, (CONTENT_LAYER,))[CONTENT_LAYER].float()
        grams: dict[str, torch.Tensor] = {}
        for style, weight in zip(styles, blend):
            with autocast():
                feats = vgg(style, STYLE_LAYERS)
            for name in STYLE_LAYERS:
                g = gram(feats[name]) * weight
                grams[name] = grams[name] + g if name in grams else g
    return Targets(
        content=content_feats,
        grams=grams,
        content_image=content[:, :1] if single_channel else content,
        style_tv=sum(total_variation(s) * w for s, w in zip(styles, blend)).clamp_min(1e-4),
        content_norm=content_feats.pow(2).sum().clamp_min(1e-12),
        gram_norms={k: g.pow(2).sum().clamp_min(1e-12) for k, g in grams.items()},
    )


def objective(vgg, x: torch.Tensor, targets: Targets, weights: LossWeights, autocast
              ) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss for image ``x`` (1, 3 or 1 (luminance), H, W) and its parts (detached floats, for reporting)."""
    layers = ALL_LAYERS if weights.style > 0 else (CONTENT_LAYER,)
    with autocast():
        feats = vgg(x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x, layers)
    content = (feats[CONTENT_LAYER].float() - targets.content).pow(2).sum() / targets.content_norm
    style = x.new_zeros((), dtype=torch.float32)
    if weights.style > 0:
        for name in STYLE_LAYERS:
            diff = gram(feats[name]) - targets.grams[name]
            style = style + diff.pow(2).sum() / targets.gram_norms[name]
        style = style / len(STYLE_LAYERS)
    tv = total_variation(x - targets.content_image) / targets.style_tv
    # Pixels stay unconstrained for L-BFGS (clamping between steps breaks its curvature pairs);
    # a smooth penalty keeps them in [0, 1], where the output is clamped anyway.
    xf = x.float()
    out_of_range = ((xf - 1).clamp_min(0).pow(2) + (-xf).clamp_min(0).pow(2)).mean()
    total = (weights.content * content + weights.style * style + weights.tv * tv
             + RANGE_WEIGHT * (weights.content + weights.style) * out_of_range)
    parts = {"content": float(content.detach()), "style": float(style.detach()), "tv": float(tv.detach()),
             "range": float(out_of_range.detach())}
    return total, parts
