"""Training the starter model, deterministic from a seed (on the CPU, with a fixed thread count).

1. The text encoder learns to read captions: its sentence embedding must name every slot of the
   scene (a supervised stand-in for AttnGAN's DAMSM pretraining, possible because the world is
   known); then it is frozen.
2. The GAN, with the object pathway taught by its parts:
   - painting, teacher-forced: the generator paints each real picture's own layout (the
     renderer's ground truth: centres, radii, presence) from the caption's condition, scored pixel
     by pixel against the picture's palette colours (cross-entropy, both stages), and each
     object's colour and silhouette are also told directly;
   - layout, a cVAE over layouts: a layout encoder reads z off the real layout (given the
     sentence), and the generator must redraw that layout from (sentence, z) (a Gaussian
     likelihood of width ``sigma``; presence a Bernoulli), plus the KL of z to N(0, I);
   - the GAN proper: a second draw from the prior's z, as the app makes it, its layout decided and
     painted, is judged per stage by a discriminator with hinge losses for an unconditional head
     (is it a picture of this world?), a matching-aware head (real + its caption: real; fake +
     caption, real + a mismatched caption: fake) and auxiliary slot heads trained on real
     pictures only (AC-GAN), which the generator must satisfy; its layout must keep the world's
     rule of placement (``crowding``).
   Plus the KL of the conditioning augmentation. The learning rates are cut at ``decay_at``.
Every ``eval_every`` iterations it scores held-out captions and keeps the best weights.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from t2i_studio.core import starter_eval
from t2i_studio.core.starter_words import caption, sample_spec
from t2i_studio.engines.starter import data
from t2i_studio.engines.starter.model import (
    SPAN,
    Config,
    Discriminator,
    LayoutEncoder,
    crowding,
    decided,
    layout_nll,
    paint,
    palette_index,
    slot_loss,
)
from t2i_studio.engines.starter.sampling import generate
from t2i_studio.engines.starter.weights import StarterModel, save


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    batch: int = 16  # (twice that through the generator: redraws and prior draws)
    text_steps: int = 800
    text_batch: int = 128
    iterations: int = 1_000_000  # an upper bound; ``minutes`` usually ends the run
    minutes: float = 50.0
    eval_every: int = 250
    eval_captions: int = 200
    lr_g: float = 2e-3  # high for a GAN: the pixel cross-entropy steadies it, and time is short
    lr_d: float = 4e-4  # two time-scale update rule: the discriminators learn faster
    aux: float = 2.0
    kl: float = 0.005  # (mean over the condition's dimensions; more starved the silhouettes in trials)
    adversarial: float = 0.02
    warmup: int = 400  # iterations without the discriminators' say, then as many to ramp it up:
    # judged before they show, the silhouettes fade out (in trials, every time at weight 0.05)
    redraw: float = 1.0  # cross-entropy between a real picture's colours and its objects painted by the generator
    layout: float = 0.02  # the layout code's ELBO (nats per picture) ...
    sigma: float = 0.05  # ... with centres and radii redrawn to within this (canvas units)
    crowding: float = 10.0
    gap: float = 0.03  # the renderer's least gap between objects
    decay_at: tuple[int, ...] = (2000, 3000)  # iterations after which both learning rates are cut (x decay)
    decay: float = 0.3


def pretrain_text(model: StarterModel, cfg: TrainConfig, rng: np.random.Generator,
                  log: Callable[[dict], None]) -> None:
    opt = torch.optim.Adam(model.text.parameters(), lr=2e-3)
    for step in range(cfg.text_steps):
        tokens, labels = data.text_batch(rng, cfg.text_batch)
        logits = model.text.slot_logits(model.text.hidden(tokens))
        loss = slot_loss(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == cfg.text_steps - 1:
            right = [(lg.argmax(1) == labels[:, i])[labels[:, i] != data.IGNORE].float().mean().item()
                     for i, lg in enumerate(logits)]
            log({"phase": "text", "step": step, "loss": loss.item(), "slot_accuracy": min(right)})
    for p in model.text.parameters():
        p.requires_grad_(False)
    model.text.eval()


def validation_set(n: int, seed: int = 777) -> tuple[list[str], list, torch.Tensor, int]:
    """Half captions with unseen (colour, shape) pairs, half fresh random ones; noise seeds fixed."""
    rng = np.random.default_rng(seed)
    specs = [sample_spec(rng, data.HELD_OUT, keep_held_out=k % 2 == 0) for k in range(n)]
    return [caption(s, rng) for s in specs], specs, torch.Generator().manual_seed(seed), seed


def evaluate(model: StarterModel, captions: list[str], specs: list, seed: int) -> dict[str, float]:
    model.generator.eval()
    noise = torch.randn(len(captions), model.cfg.noise, generator=torch.Generator().manual_seed(seed))
    pictures = np.concatenate([generate(model, captions[i:i + 50], noise[i:i + 50])
                               for i in range(0, len(captions), 50)])
    model.generator.train()
    return starter_eval.accuracy(list(pictures), specs)


GRID_CAPTIONS = ("a red circle", "a small blue square in the top left", "two yellow stars",
                 "a large green heart on a black background", "a white triangle at the bottom right",
                 "a purple star left of an orange circle", "three pink hearts", "a brown square above a blue circle")


def sample_grid(model: StarterModel, path: Path, seeds: int = 4) -> None:
    """The evaluation figure: a row per caption of GRID_CAPTIONS, a column per seed."""
    from PIL import Image

    noise = torch.randn(seeds, model.cfg.noise, generator=torch.Generator().manual_seed(1))
    model.generator.eval()
    rows = [np.concatenate(list(generate(model, [c] * seeds, noise)), axis=1) for c in GRID_CAPTIONS]
    model.generator.train()
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)


def _d_loss(d: Discriminator, real, fake, sentence, labels, aux: float) -> torch.Tensor:
    u_real, m_real, a_real = d(real, sentence)
    u_fake, m_fake, _ = d(fake.detach(), sentence)
    _, m_wrong, _ = d(real, sentence.roll(1, 0))  # a real picture with another caption: fake
    return (F.relu(1 - u_real).mean() + F.relu(1 + u_fake).mean() + F.relu(1 - m_real).mean()
            + 0.5 * (F.relu(1 + m_fake).mean() + F.relu(1 + m_wrong).mean()) + aux * slot_loss(a_real, labels))


def _g_loss(d: Discriminator, fake, sentence, labels, aux: float) -> torch.Tensor:
    u_fake, m_fake, a_fake = d(fake, sentence)
    return -u_fake.mean() - m_fake.mean() + aux * slot_loss(a_fake, labels)


def train(model_cfg: Config, cfg: TrainConfig, out: Path, log: Callable[[dict], None] = print) -> StarterModel:
    """Train; writes ``out/last.safetensors`` and ``out/best.safetensors``; returns the last model.
    Results depend on the seed and on torch's thread count (the caller's choice)."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = StarterModel.fresh(model_cfg)
    g = model.generator
    start = time.monotonic()
    pretrain_text(model, cfg, rng, log)
    d_low, d_high = Discriminator(model_cfg, model_cfg.low), Discriminator(model_cfg, model_cfg.high)
    encoder = LayoutEncoder(model_cfg)
    opt_g = torch.optim.Adam([*g.parameters(), *encoder.parameters()], lr=cfg.lr_g, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam([*d_low.parameters(), *d_high.parameters()], lr=cfg.lr_d, betas=(0.5, 0.999))
    noise_gen = torch.Generator().manual_seed(cfg.seed)
    val = validation_set(cfg.eval_captions)
    best, info = -1.0, {"train": asdict(cfg)}
    pool = model_cfg.high // model_cfg.low
    n, zs, k = cfg.batch, model_cfg.z, model_cfg.objects
    silhouettes = [data.silhouettes(side, SPAN) for side in (model_cfg.glyph, model_cfg.glyph * 2)]
    for it in range(1, cfg.iterations + 1):
        if it - 1 in cfg.decay_at:  # the broad layout is learnt fast; the last steps refine edges
            for group in (*opt_g.param_groups, *opt_d.param_groups):
                group["lr"] *= cfg.decay
        tokens, labels, real, layouts, looks, _ = data.image_batch(rng, n, model_cfg.high, model_cfg.objects)
        real_low = F.avg_pool2d(real, pool)
        sentence = model.text(tokens)
        # the first half of the noise is for the redraws (its z replaced by the encoder's), the
        # second is a draw from the prior, as the app makes it
        noise = torch.randn(2 * n, model_cfg.noise + zs, generator=noise_gen)
        sentences = torch.cat([sentence, sentence])
        c, z, kl = g.condition(noise[:, :-zs], sentences)
        z_seen, kl_z = encoder(layouts, sentence, noise[:n, -zs:])
        redrawn = g.arrange(sentence, z_seen)
        drawn = decided(g.arrange(sentence, z[n:]))
        # the real layouts painted (presence 1/0 decided as a sure logit), then the prior's own
        objects = g.objects(c)
        both = torch.cat([decided(layouts), drawn])
        low_logits, high_logits = g.compose(sentences, both, objects[0], objects[1:], (model_cfg.low, model_cfg.high))
        low, high = paint(low_logits[n:]), paint(high_logits[n:])
        loss_d = (_d_loss(d_low, real_low, low, sentence, labels, cfg.aux)
                  + _d_loss(d_high, real, high, sentence, labels, cfg.aux))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        # the real layouts' paintings scored pixel by pixel: the rendered picture's palette colour is the class
        redraw = (F.cross_entropy(high_logits[:n], palette_index(real))
                  + F.cross_entropy(low_logits[:n], palette_index(real_low)))
        # each object's colour and silhouette told directly: through the pixels alone a colour is
        # learnt only where its silhouette already shows, and silhouettes can fade out (to the
        # background's colour) before it is; a silhouette's outline is learnt slowly through them
        hue = F.cross_entropy(objects[0][:n].flatten(0, 1), looks[..., 0].flatten(), ignore_index=data.IGNORE)
        kinds = looks[..., 1].flatten()
        there = kinds != data.IGNORE
        outline = sum(F.binary_cross_entropy_with_logits(glyph[:n * k][there, 0], masks[kinds[there]])
                      for glyph, masks in zip(objects[1:], silhouettes))
        elbo = layout_nll(redrawn, layouts, cfg.sigma) + kl_z
        crowd = crowding(drawn, cfg.gap)
        judged = cfg.adversarial * min(1.0, max(0.0, it / cfg.warmup - 1)) if cfg.warmup else cfg.adversarial
        loss_g = (judged * (_g_loss(d_low, low, sentence, labels, cfg.aux)
                            + _g_loss(d_high, high, sentence, labels, cfg.aux))
                  + cfg.redraw * (redraw + hue + outline) + cfg.layout * elbo + cfg.crowding * crowd + cfg.kl * kl)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        elapsed = time.monotonic() - start
        last = it == cfg.iterations or elapsed > cfg.minutes * 60
        if it % 25 == 0:
            log({"phase": "gan", "it": it, "s": round(elapsed, 1), "loss_d": round(loss_d.item(), 4),
                 "loss_g": round(loss_g.item(), 4), "redraw": round(redraw.item(), 4), "hue": round(hue.item(), 4),
                 "outline": round(outline.item(), 4),
                 "layout_elbo": round(elbo.item(), 3), "kl_z": round(kl_z.item(), 4),
                 "crowding": round(crowd.item(), 5), "kl": round(kl.item(), 4)})
        if it % cfg.eval_every == 0 or last:
            scores = evaluate(model, *val[:2], val[3])
            mean = float(np.mean(list(scores.values())))
            log({"phase": "eval", "it": it, "s": round(elapsed, 1), **scores, "mean": mean})
            info.update(iterations=it, seconds=round(elapsed, 1))
            save(model, out / "last.safetensors", {**info, "validation": scores})
            sample_grid(model, out / f"samples-{it:05d}.png")
            if mean > best:
                best = mean
                save(model, out / "best.safetensors", {**info, "validation": scores})
        if last:
            break
    return model
