"""The starter model: a StackGAN-style text-conditioned GAN small enough to train on two CPU cores.

Text encoder (word embeddings + bidirectional GRU; the sentence embedding is its states plus the
scene slots it reads), conditioning augmentation (the embedding becomes a Gaussian, sampled), and a
generator in two stages with conditional batch norm: stage 1 paints the scene at ``low`` px from
(condition, z), stage 2 refines its features, with the condition again, into ``high`` px (its last
doubling a sub-pixel convolution); both paint with the world's palette. One discriminator per
stage, each with an unconditional head, a conditional (image-text matching) head and auxiliary
heads that name the scene's slots; a layout encoder for the cVAE-GAN half of training.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm

from t2i_studio.core.starter_words import COLOURS, VOCAB
from t2i_studio.core.starter_world import PLAIN, RGB
from t2i_studio.engines.starter.data import SLOTS


@dataclass(frozen=True)
class Config:
    words: int = 32  # word embedding size
    sentence: int = 128  # sentence embedding size (2 x GRU hidden)
    cond: int = 32  # conditioning augmentation output size
    z: int = 16  # what a caption leaves open (where things are) is a handful of numbers
    g_base: int = 256  # generator channels at 4 x 4 (halved at each doubling, floor g_min)
    g_min: int = 16
    d_base: int = 32  # discriminator channels after its first layer
    low: int = 32  # stage-1 resolution
    high: int = 128  # stage-2 resolution

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    @property
    def embedding(self) -> int:
        """The sentence embedding's length: the GRU's states, then every slot's probabilities."""
        return self.sentence + sum(n for _, n in SLOTS)

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
        """The sentence embedding: the GRU's last states and what its slot heads read from them (each
        slot's class probabilities): a disentangled, full-strength statement of the scene that the
        generator can use from its first iterations."""
        hidden = self.hidden(tokens)
        return torch.cat([hidden, *(lg.softmax(1) for lg in self.slot_logits(hidden))], dim=1)

    def hidden(self, tokens: torch.Tensor) -> torch.Tensor:
        lengths = (tokens != 0).sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(self.embed(tokens), lengths, batch_first=True,
                                                   enforce_sorted=False)
        _, hidden = self.gru(packed)  # (2, N, H): the last state of each direction
        return torch.cat([hidden[0], hidden[1]], dim=1)

    def slot_logits(self, hidden: torch.Tensor) -> list[torch.Tensor]:
        return [head(hidden) for head in self.heads]


class CondAug(nn.Module):
    """StackGAN's conditioning augmentation: c = mu + sigma * eps, with a KL term to N(0, I)."""

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.fc = nn.Linear(cfg.embedding, cfg.cond * 2)
        # start with little noise (sigma ~ 0.14): a short run cannot wait for the text to rise above it
        nn.init.constant_(self.fc.bias[cfg.cond:], -4.0)

    def forward(self, sentence: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.fc(sentence).chunk(2, dim=1)
        # the mean over dimensions, as StackGAN's code: summed, it drowned the text in noise
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).mean()
        return mu + eps * (0.5 * logvar).exp(), kl


class _Up(nn.Module):
    """Doubles the side: nearest upsampling, a 3 x 3 convolution, and BigGAN's conditional batch
    norm: the gain and bias of each channel come from the condition and z, so every layer is told
    what to draw."""

    def __init__(self, cin: int, cout: int, given: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
        self.norm = nn.BatchNorm2d(cout, affine=False)
        self.gain, self.bias = nn.Linear(given, cout), nn.Linear(given, cout)

    def forward(self, h: torch.Tensor, given: torch.Tensor) -> torch.Tensor:
        h = self.norm(self.conv(F.interpolate(h, scale_factor=2, mode="nearest")))
        return F.relu(h * (1 + self.gain(given))[:, :, None, None] + self.bias(given)[:, :, None, None])


# the world's colours in [-1, 1]: the plain background, then the named colours
PALETTE = torch.tensor([PLAIN, *(RGB[c] for c in COLOURS)], dtype=torch.float32) / 127.5 - 1


def _channels(cfg: Config, side: int) -> int:
    return max(cfg.g_min, cfg.g_base * 4 // side)


class Generator(nn.Module):
    """(noise = [z, eps], sentence) -> per-pixel palette logits at the low and the high resolution.

    The world is drawn in flat colours from one palette, so the generator paints with it: each pixel
    is a softmax over the palette (``paint``), crisp where the model is sure and blended at edges,
    as the renderer's antialiasing blends them. Training can then score pixels by cross-entropy
    against the rendered picture's palette colours: a classification signal, which in this
    project's trials took the colours in a few hundred iterations where an RGB regression (L1)
    had not begun to after as many.
    """

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.ca = CondAug(cfg)
        self.fc = nn.Sequential(nn.Linear(cfg.cond + cfg.z, cfg.g_base * 16, bias=False),
                                nn.BatchNorm1d(cfg.g_base * 16), nn.ReLU(inplace=True))
        sides = [4 * 2**k for k in range(20) if 4 * 2**k <= cfg.high]
        low_steps = sides.index(cfg.low)
        given = cfg.cond + cfg.z
        self.stage1 = nn.ModuleList(_Up(_channels(cfg, s), _channels(cfg, s * 2), given) for s in sides[:low_steps])
        c_low = _channels(cfg, cfg.low)
        colours = len(PALETTE)
        self.paint1 = nn.Conv2d(c_low, colours, 3, 1, 1)
        self.joint = nn.Sequential(nn.Conv2d(c_low + cfg.cond, c_low, 3, 1, 1, bias=False),
                                   nn.BatchNorm2d(c_low), nn.ReLU(inplace=True))
        self.stage2 = nn.ModuleList(_Up(_channels(cfg, s), _channels(cfg, s * 2), given)
                                    for s in sides[low_steps:-2])
        # the last doubling is a sub-pixel convolution: each half-resolution cell paints its 2 x 2
        # pixels, sharp edges at a fraction of a full-resolution convolution's cost
        self.paint2 = nn.Sequential(nn.Conv2d(_channels(cfg, cfg.high // 2), colours * 4, 3, 1, 1),
                                    nn.PixelShuffle(2))

    def forward(self, noise: torch.Tensor, sentence: torch.Tensor):
        """(low logits, high logits, condition, KL of the conditioning augmentation)."""
        z, eps = noise[:, :self.cfg.z], noise[:, self.cfg.z:]
        c, kl = self.ca(sentence, eps)
        given = torch.cat([c, z], 1)
        h = self.fc(given).view(-1, self.cfg.g_base, 4, 4)
        for block in self.stage1:
            h = block(h, given)
        low = self.paint1(h)
        cmap = c[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])
        h = self.joint(torch.cat([h, cmap], 1))
        for block in self.stage2:
            h = block(h, given)
        return low, self.paint2(h), c, kl


def paint(logits: torch.Tensor) -> torch.Tensor:
    """Palette logits N x K x H x W -> pictures N x 3 x H x W in [-1, 1]."""
    return torch.einsum("nkhw,kc->nchw", logits.softmax(1), PALETTE.to(logits.dtype))


def palette_index(pictures: torch.Tensor) -> torch.Tensor:
    """The nearest palette colour of each pixel of rendered pictures in [-1, 1] (N x H x W)."""
    return torch.cdist(pictures.permute(0, 2, 3, 1).reshape(-1, 3), PALETTE).argmin(1).view(
        pictures.shape[0], *pictures.shape[2:])


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
        self.text = nn.Linear(cfg.embedding, cfg.cond)  # its own compression of the sentence

    def forward(self, image: torch.Tensor, sentence: torch.Tensor | None):
        h = self.features(image)
        uncond = self.uncond(h).flatten()
        matched = None
        if sentence is not None:
            cmap = self.text(sentence)[:, :, None, None].expand(-1, -1, 4, 4)
            matched = self.joint(torch.cat([h, cmap], 1)).flatten()
        logits = self.aux(h.flatten(1)).split([n for _, n in SLOTS], dim=1)
        return uncond, matched, logits


class LayoutEncoder(nn.Module):
    """Training only (BicycleGAN's cVAE-GAN encoder): reads from a real picture what its caption
    leaves open (where things are, the jitter of a named place) as a Gaussian over z, so the
    generator can be taught to redraw that very picture; the KL term keeps z close to N(0, I), the
    prior the app samples from. It sees only where the objects are (a 16 px foreground mask), not
    their colours: given the colours, z would carry them and the generator would learn to ignore
    the caption."""

    SIDE = 16

    def __init__(self, cfg: Config, width: int = 32) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, width, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True),
                                      nn.Conv2d(width, width * 2, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True))
        self.fc = nn.Linear(width * 2 * (self.SIDE // 4) ** 2, cfg.z * 2)

    @classmethod
    def layout(cls, image: torch.Tensor) -> torch.Tensor:
        """Where a rendered picture differs from its background (a corner pixel is always background)."""
        mask = ((image - image[:, :, :1, :1]).abs().sum(1, keepdim=True) > 0.3).float()
        return F.adaptive_avg_pool2d(mask, cls.SIDE)

    def forward(self, image: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(z drawn from the posterior with ``eps``, KL to N(0, I): summed over z, batch mean)."""
        mu, logvar = self.fc(self.features(self.layout(image)).flatten(1)).chunk(2, dim=1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()
        return mu + eps * (0.5 * logvar).exp(), kl


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
