"""The starter model: a StackGAN-style text-conditioned GAN small enough to train on two CPU cores.

Text encoder (word embeddings + bidirectional GRU -> sentence embedding), conditioning
augmentation (the embedding becomes a Gaussian, sampled), and a generator in two stages: stage 1
draws the scene at ``low`` px from (condition, z), stage 2 refines its features, with the condition
again, into ``high`` px (its last doubling a sub-pixel convolution). One discriminator per stage, each with an unconditional head, a
conditional (image-text matching) head and auxiliary heads that name the scene's slots.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm

from t2i_studio.core.starter_words import VOCAB
from t2i_studio.engines.starter.data import SLOTS


@dataclass(frozen=True)
class Config:
    words: int = 32  # word embedding size
    sentence: int = 128  # sentence embedding size (2 x GRU hidden)
    cond: int = 32  # conditioning augmentation output size
    z: int = 32
    g_base: int = 128  # generator channels at 4 x 4 (halved at each doubling, floor g_min)
    g_min: int = 16
    d_base: int = 32  # discriminator channels after its first layer
    low: int = 32  # stage-1 resolution
    high: int = 128  # stage-2 resolution

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    @property
    def noise(self) -> int:
        """The length of one picture's noise vector: z, then the augmentation's epsilon."""
        return self.z + self.cond


class TextEncoder(nn.Module):
    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.embed = nn.Embedding(len(VOCAB), cfg.words, padding_idx=0)
        self.gru = nn.GRU(cfg.words, cfg.sentence // 2, batch_first=True, bidirectional=True)
        self.heads = nn.ModuleList(nn.Linear(cfg.sentence, n) for _, n in SLOTS)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        lengths = (tokens != 0).sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(self.embed(tokens), lengths, batch_first=True,
                                                   enforce_sorted=False)
        _, hidden = self.gru(packed)  # (2, N, H): the last state of each direction
        return torch.cat([hidden[0], hidden[1]], dim=1)

    def slot_logits(self, sentence: torch.Tensor) -> list[torch.Tensor]:
        return [head(sentence) for head in self.heads]


class CondAug(nn.Module):
    """StackGAN's conditioning augmentation: c = mu + sigma * eps, with a KL term to N(0, I)."""

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.fc = nn.Linear(cfg.sentence, cfg.cond * 2)
        # start with little noise (sigma ~ 0.14): a short run cannot wait for the text to rise above it
        nn.init.constant_(self.fc.bias[cfg.cond:], -4.0)

    def forward(self, sentence: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.fc(sentence).chunk(2, dim=1)
        # the mean over dimensions, as StackGAN's code: summed, it drowned the text in noise
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).mean()
        return mu + eps * (0.5 * logvar).exp(), kl


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, 1, 1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def _channels(cfg: Config, side: int) -> int:
    return max(cfg.g_min, cfg.g_base * 4 // side)


class Generator(nn.Module):
    """(noise = [z, eps], sentence) -> (low-res picture, high-res picture), both in [-1, 1]."""

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.ca = CondAug(cfg)
        self.fc = nn.Sequential(nn.Linear(cfg.cond + cfg.z, cfg.g_base * 16, bias=False),
                                nn.BatchNorm1d(cfg.g_base * 16), nn.ReLU(inplace=True))
        sides = [4 * 2**k for k in range(20) if 4 * 2**k <= cfg.high]
        low_steps = sides.index(cfg.low)
        self.stage1 = nn.Sequential(*(_up(_channels(cfg, s), _channels(cfg, s * 2)) for s in sides[:low_steps]))
        c_low = _channels(cfg, cfg.low)
        self.rgb1 = nn.Conv2d(c_low, 3, 3, 1, 1)
        self.joint = nn.Sequential(nn.Conv2d(c_low + cfg.cond, c_low, 3, 1, 1, bias=False),
                                   nn.BatchNorm2d(c_low), nn.ReLU(inplace=True))
        self.stage2 = nn.Sequential(*(_up(_channels(cfg, s), _channels(cfg, s * 2))
                                      for s in sides[low_steps:-2]))
        # the last doubling is a sub-pixel convolution: each half-resolution cell draws its 2 x 2
        # pixels, sharp edges at a fraction of a full-resolution convolution's cost
        self.rgb2 = nn.Sequential(nn.Conv2d(_channels(cfg, cfg.high // 2), 12, 3, 1, 1), nn.PixelShuffle(2))

    def forward(self, noise: torch.Tensor, sentence: torch.Tensor):
        z, eps = noise[:, :self.cfg.z], noise[:, self.cfg.z:]
        c, kl = self.ca(sentence, eps)
        h = self.fc(torch.cat([c, z], 1)).view(-1, self.cfg.g_base, 4, 4)
        h = self.stage1(h)
        low = torch.tanh(self.rgb1(h))
        cmap = c[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])
        h = self.stage2(self.joint(torch.cat([h, cmap], 1)))
        return low, torch.tanh(self.rgb2(h)), c, kl


class Discriminator(nn.Module):
    """For one stage: unconditional logit, image-text matching logit, slot logits."""

    def __init__(self, cfg: Config, side: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin, cout = 3, max(8, cfg.d_base * 32 // side)
        while side > 4:
            layers += [spectral_norm(nn.Conv2d(cin, cout, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True)]
            side //= 2
            cin, cout = cout, min(cout * 2, cfg.d_base * 4)
        self.features = nn.Sequential(*layers)
        self.uncond = spectral_norm(nn.Conv2d(cin, 1, 4))
        self.joint = nn.Sequential(spectral_norm(nn.Conv2d(cin + cfg.cond, cin, 3, 1, 1)),
                                   nn.LeakyReLU(0.2, inplace=True), spectral_norm(nn.Conv2d(cin, 1, 4)))
        self.aux = nn.Linear(cin * 16, sum(n for _, n in SLOTS))
        self.text = nn.Linear(cfg.sentence, cfg.cond)  # its own compression of the sentence

    def forward(self, image: torch.Tensor, sentence: torch.Tensor | None):
        h = self.features(image)
        uncond = self.uncond(h).flatten()
        matched = None
        if sentence is not None:
            cmap = self.text(sentence)[:, :, None, None].expand(-1, -1, 4, 4)
            matched = self.joint(torch.cat([h, cmap], 1)).flatten()
        logits = self.aux(h.flatten(1)).split([n for _, n in SLOTS], dim=1)
        return uncond, matched, logits


class SlotClassifier(nn.Module):
    """A plain CNN that names a picture's slots, trained on rendered pictures before the GAN and then
    frozen: the generator's fixed judge of meaning (the discriminators' heads learn alongside it)."""

    def __init__(self, side: int, width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin, cout = 3, width
        while side > 4:
            layers += [nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            side //= 2
            cin, cout = cout, min(cout * 2, width * 4)
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin * 16, sum(n for _, n in SLOTS))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.head(self.features(image).flatten(1)).split([n for _, n in SLOTS], dim=1)


def slot_loss(logits: list[torch.Tensor] | tuple[torch.Tensor, ...], labels: torch.Tensor) -> torch.Tensor:
    return sum(F.cross_entropy(lg, labels[:, i], ignore_index=-100) for i, lg in enumerate(logits)
               if (labels[:, i] != -100).any()) / len(SLOTS)
