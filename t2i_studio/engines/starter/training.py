"""Training the starter model, deterministic from a seed (on the CPU, with a fixed thread count).

1. The text encoder learns to read captions: its sentence embedding must name every slot of the
   scene (a supervised stand-in for AttnGAN's DAMSM pretraining, possible because the world is
   known); then it is frozen.
2. The GAN, trained as BicycleGAN's cVAE-GAN: half of each generator batch redraws the real
   pictures from the z a layout encoder reads off them, scored pixel by pixel (cross-entropy over
   the palette); the other half draws from the prior's z, as the app does. Per stage, hinge losses
   for an unconditional head (is it a picture of this world?), a matching-aware head (real + its
   caption: real; fake + caption, real + a mismatched caption: fake) and auxiliary slot heads
   trained on real pictures only (AC-GAN), which the generator must satisfy; a slot classifier
   pretrained on rendered pictures and frozen, which the generator must also satisfy (the same
   signal from the first iteration, while the heads are still learning); the KL terms of the
   layout code and of the conditioning augmentation, and StackGAN++'s colour consistency between
   the stages. The learning rates are cut at ``decay_at`` iterations.
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
    Config,
    Discriminator,
    LayoutEncoder,
    SlotClassifier,
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
    critic_steps: int = 1200
    iterations: int = 1_000_000  # an upper bound; ``minutes`` usually ends the run
    minutes: float = 50.0
    eval_every: int = 250
    eval_captions: int = 200
    lr_g: float = 2e-3  # high for a GAN: the pixel cross-entropy steadies it, and time is short
    lr_d: float = 4e-4  # two time-scale update rule: the discriminators learn faster
    aux: float = 2.0
    critic: float = 1.0
    kl: float = 0.1
    adversarial: float = 0.2
    redraw: float = 1.0  # cross-entropy between a real picture's colours and its redraw from the encoder's z
    kl_z: float = 0.05
    consistency: float = 1.0
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


def pretrain_critic(model_cfg: Config, cfg: TrainConfig, rng: np.random.Generator,
                    log: Callable[[dict], None]) -> SlotClassifier:
    """The frozen slot classifier, at twice the stage-1 side (enough to tell small shapes apart)."""
    side = model_cfg.low * 2
    critic = SlotClassifier(side)
    opt = torch.optim.Adam(critic.parameters(), lr=1e-3)
    for step in range(cfg.critic_steps):
        _, labels, real, _, _ = data.image_batch(rng, 64, model_cfg.high)
        logits = critic(F.avg_pool2d(real, model_cfg.high // side))
        loss = slot_loss(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == cfg.critic_steps - 1:
            right = [(lg.argmax(1) == labels[:, i])[labels[:, i] != data.IGNORE].float().mean().item()
                     for i, lg in enumerate(logits)]
            log({"phase": "critic", "step": step, "loss": loss.item(), "slot_accuracy": min(right)})
    for p in critic.parameters():
        p.requires_grad_(False)
    return critic.eval()


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


def _d_loss(d: Discriminator, real, fake, sentence, fake_sentence, labels, aux: float) -> torch.Tensor:
    u_real, m_real, a_real = d(real, sentence)
    u_fake, m_fake, _ = d(fake.detach(), fake_sentence)
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
    start = time.monotonic()
    pretrain_text(model, cfg, rng, log)
    critic = pretrain_critic(model_cfg, cfg, rng, log)
    critic_pool = model_cfg.high // (model_cfg.low * 2)
    d_low, d_high = Discriminator(model_cfg, model_cfg.low), Discriminator(model_cfg, model_cfg.high)
    encoder = LayoutEncoder(model_cfg)
    opt_g = torch.optim.Adam([*model.generator.parameters(), *encoder.parameters()], lr=cfg.lr_g,
                             betas=(0.5, 0.999))
    opt_d = torch.optim.Adam([*d_low.parameters(), *d_high.parameters()], lr=cfg.lr_d, betas=(0.5, 0.999))
    noise_gen = torch.Generator().manual_seed(cfg.seed)
    val = validation_set(cfg.eval_captions)
    best, info = -1.0, {"train": asdict(cfg)}
    pool = model_cfg.high // model_cfg.low
    n, zs = cfg.batch, model_cfg.z
    for it in range(1, cfg.iterations + 1):
        if it - 1 in cfg.decay_at:  # the broad layout is learnt fast; the last steps refine edges
            for group in (*opt_g.param_groups, *opt_d.param_groups):
                group["lr"] *= cfg.decay
        tokens, labels, real, _, _ = data.image_batch(rng, n, model_cfg.high)
        real_low = F.avg_pool2d(real, pool)
        sentence = model.text(tokens)
        # one generator batch: the first half redraws the real pictures from the encoder's z
        # (cVAE-GAN), the second draws from the prior's z (what the app does)
        noise = torch.randn(2 * n, model_cfg.noise + zs, generator=noise_gen)
        z_seen, kl_z = encoder(real, noise[:n, -zs:])
        noise = torch.cat([torch.cat([z_seen, noise[:n, zs:-zs]], 1), noise[n:, :-zs]])
        sentences, labels2 = torch.cat([sentence, sentence]), torch.cat([labels, labels])
        low_logits, high_logits, _, kl = model.generator(noise, sentences)
        low, high = paint(low_logits), paint(high_logits)
        loss_d = (_d_loss(d_low, real_low, low, sentence, sentences, labels, cfg.aux)
                  + _d_loss(d_high, real, high, sentence, sentences, labels, cfg.aux))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        # the redraws scored pixel by pixel: the rendered picture's palette colour is the class
        redraw = (F.cross_entropy(high_logits[:n], palette_index(real))
                  + F.cross_entropy(low_logits[:n], palette_index(real_low)))
        consistency = F.l1_loss(F.avg_pool2d(high[n:], pool), low[n:])
        loss_g = (cfg.adversarial * (_g_loss(d_low, low, sentences, labels2, cfg.aux)
                                     + _g_loss(d_high, high, sentences, labels2, cfg.aux))
                  + cfg.critic * slot_loss(critic(F.avg_pool2d(high, critic_pool)), labels2)
                  + cfg.redraw * redraw + cfg.kl_z * kl_z + cfg.kl * kl + cfg.consistency * consistency)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        elapsed = time.monotonic() - start
        last = it == cfg.iterations or elapsed > cfg.minutes * 60
        if it % 25 == 0:
            log({"phase": "gan", "it": it, "s": round(elapsed, 1), "loss_d": round(loss_d.item(), 4),
                 "loss_g": round(loss_g.item(), 4), "redraw": round(redraw.item(), 4),
                 "kl_z": round(kl_z.item(), 4), "kl": round(kl.item(), 4),
                 "consistency": round(consistency.item(), 4)})
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
