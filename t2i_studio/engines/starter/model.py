"""The starter model: a StackGAN-style text-conditioned GAN small enough to train on two CPU cores.

Text encoder (word embeddings + bidirectional GRU; the sentence embedding is its states plus the
scene slots it reads), conditioning augmentation (what the caption says of colours and what it
says of shapes each become a Gaussian, sampled), and a generator with an object pathway: it lays
out the objects from (sentence, z), gives each a colour and a silhouette from the two conditions,
and paints them with the world's palette in two stages (``low`` px, then ``high`` px from
silhouettes refined to twice the detail). One discriminator per stage, each with an unconditional
head, a conditional (image-text matching) head and auxiliary heads that name the scene's slots;
a layout encoder for the cVAE half of training.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    objects: int = 3  # the most objects a caption asks for
    thing: int = 32  # an object's features (its colour and silhouette)
    hidden: int = 256  # the layout and object networks' width
    glyph: int = 16  # an object's silhouette at stage 1, px (twice that at stage 2)
    glyph_width: int = 32  # the silhouette network's channels
    d_base: int = 32  # discriminator channels after its first layer
    low: int = 64  # stage-1 resolution
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

    def __init__(self, inputs: int, cond: int) -> None:
        super().__init__()
        self.fc = nn.Linear(inputs, cond * 2)
        # start with little noise (sigma ~ 0.14): a short run cannot wait for the text to rise above it
        nn.init.constant_(self.fc.bias[cond:], -4.0)

    def forward(self, sentence: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.fc(sentence).chunk(2, dim=1)
        # the mean over dimensions, as StackGAN's code: summed, it drowned the text in noise
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).mean()
        return mu + eps * (0.5 * logvar).exp(), kl


class _Glyphs(nn.Module):
    """The object pathway's silhouettes: an object's features -> its alpha logits, a glyph of
    ``side`` px at stage 1, refined from those features to twice the side at stage 2 (StackGAN's
    hierarchy, per object)."""

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        w, steps = cfg.glyph_width, cfg.glyph.bit_length() - 3  # 4 x 4 -> ``glyph`` px
        self.fc = nn.Sequential(nn.Linear(cfg.thing, w * 16), nn.ReLU(inplace=True))
        self.stage1 = nn.Sequential(*(_up(w, w) for _ in range(steps)))
        self.stage2 = _up(w, w // 2)
        self.out1, self.out2 = nn.Conv2d(w, 1, 3, 1, 1), nn.Conv2d(w // 2, 1, 3, 1, 1)

    def forward(self, things: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.stage1(self.fc(things).view(things.shape[0], -1, 4, 4))
        return self.out1(h), self.out2(self.stage2(h))


def _up(cin: int, cout: int) -> nn.Module:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, 1, 1),
                         nn.LeakyReLU(0.2, inplace=True))


# the world's colours in [-1, 1]: the plain background, then the named colours
PALETTE = torch.tensor([PLAIN, *(RGB[c] for c in COLOURS)], dtype=torch.float32) / 127.5 - 1
SPAN = 1.25  # a glyph covers +-SPAN radii around its object's centre (a heart reaches 1.22 below it)
OUTSIDE = 20.0  # how far below zero a glyph's logit is outside the glyph (alpha ~ 2e-9)


class Generator(nn.Module):
    """(noise = [z, eps], sentence) -> per-pixel palette logits at the high resolution, the picture.

    An object pathway (Hinz et al., ICLR 2019, on StackGAN/AttnGAN), with the layout generated
    rather than given: from the sentence and z, ``arrange`` places up to ``objects`` objects
    (centre, radius, presence); from the conditions alone each object gets a colour and a glyph
    (its silhouette, at the low resolution in stage 1 and refined to twice that in stage 2);
    ``compose`` warps the glyphs of the stages asked for into place (a spatial transformer:
    bilinear sampling of the glyph's logits, so edges stay sharp at any size) and lays the objects
    over the background in order, as the renderer does. Each pixel is a distribution over the world's palette, so
    training can score it by cross-entropy against a rendered picture's colours (both stages);
    the app draws only the second.
    """

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.cfg = cfg
        colours, k = len(PALETTE), cfg.objects
        self.half = half = cfg.cond // 2  # the colour condition's share; the shape condition has the rest
        self.colour_view, self.shape_view = _view(cfg, COLOUR_SLOTS), _view(cfg, SHAPE_SLOTS)
        self.ca_colour = CondAug(len(self.colour_view), half)
        self.ca_shape = CondAug(len(self.shape_view), cfg.cond - half)
        self.arrange_net = nn.Sequential(nn.Linear(cfg.embedding + cfg.z, cfg.hidden), nn.ReLU(inplace=True),
                                         nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(inplace=True),
                                         nn.Linear(cfg.hidden, k * 3))
        self.presence = nn.Linear(cfg.embedding, k)
        self.hues = nn.Sequential(nn.Linear(half, cfg.hidden), nn.ReLU(inplace=True),
                                  nn.Linear(cfg.hidden, k * colours))
        self.background_view = _view(cfg, ("background",))
        # (through a hidden layer: a linear map of probabilities, each at most 1, moves its logits
        # by a few thousandths per Adam step; the background stayed wrong for hundreds of steps)
        self.background = nn.Sequential(nn.Linear(len(self.background_view), cfg.hidden), nn.ReLU(inplace=True),
                                        nn.Linear(cfg.hidden, colours))
        self.things = nn.Sequential(nn.Linear(cfg.cond - half, cfg.hidden), nn.ReLU(inplace=True),
                                    nn.Linear(cfg.hidden, k * cfg.thing), nn.ReLU(inplace=True))
        self.glyphs = _Glyphs(cfg)

    def condition(self, noise: torch.Tensor, sentence: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(condition c, z, KL of the conditioning augmentation) of a noise vector and a sentence."""
        z, eps = noise[:, :self.cfg.z], noise[:, self.cfg.z:]
        half = self.half
        c_colour, kl_colour = self.ca_colour(sentence[:, self.colour_view], eps[:, :half])
        c_shape, kl_shape = self.ca_shape(sentence[:, self.shape_view], eps[:, half:])
        kl = (kl_colour * half + kl_shape * (self.cfg.cond - half)) / self.cfg.cond
        return torch.cat([c_colour, c_shape], 1), z, kl

    def arrange(self, sentence: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The layout: N x objects x (x, y, radius, presence logit), centres and radii in canvas units.

        It reads the sentence embedding itself, not the augmented condition: the painting needs no
        places from the condition, so the augmentation's KL would squeeze them out of it. How many
        objects there are the caption always says, so presence does not depend on z."""
        out = self.arrange_net(torch.cat([sentence, z], 1)).view(-1, self.cfg.objects, 3)
        return torch.cat([out[..., :2].sigmoid(), out[..., 2:].sigmoid() * 0.5,
                          self.presence(sentence)[..., None]], -1)

    def objects(self, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each object's colour logits (N x objects x colours) and glyph logits at stage 1 and 2
        ((N x objects) x 1 x side x side)."""
        n, k = c.shape[0], self.cfg.objects
        things = self.things(c[:, self.half:]).view(n * k, self.cfg.thing)
        return (self.hues(c[:, :self.half]).view(n, k, -1), *self.glyphs(things))

    def compose(self, sentence: torch.Tensor, layout: torch.Tensor, hues: torch.Tensor,
                glyphs: Sequence[torch.Tensor], sides: Sequence[int]) -> list[torch.Tensor]:
        """Palette logits per stage (side x side, for each side of ``sides`` from its stage's glyph
        logits) of the objects (colour logits ``hues``) placed by ``layout`` over the sentence's
        background."""
        n, k = layout.shape[:2]
        colours = hues.softmax(-1)[..., None, None]
        background = self.background(sentence[:, self.background_view]).softmax(1)[:, :, None, None]
        present = layout[..., 3].sigmoid()
        stages = []
        for glyph, side in zip(glyphs, sides):
            alpha = _place(glyph, layout.reshape(n * k, 4), side).view(n, k, 1, side, side)
            alpha = alpha.sigmoid() * present[:, :, None, None, None]
            p = background.expand(-1, -1, side, side)
            for i in range(k):  # in order: later objects over earlier ones, as the renderer draws
                p = p * (1 - alpha[:, i]) + alpha[:, i] * colours[:, i]
            stages.append(p.clamp_min(1e-6).log())
        return stages

    def forward(self, noise: torch.Tensor, sentence: torch.Tensor) -> torch.Tensor:
        c, z, _ = self.condition(noise, sentence)
        hues, _, glyph = self.objects(c)
        return self.compose(sentence, decided(self.arrange(sentence, z)), hues, [glyph], [self.cfg.high])[0]


# The condition is two: the colours are read from what the caption says of colours, the silhouettes
# from what it says of shapes (and both from how many objects share the first one's), so a pair
# never seen in training is drawn from parts that were: with one condition for both, the model
# drew the unseen green heart as a triangle (40 of 45 unseen pairs with the wrong shape). The
# background is read from what the caption says of it alone (read with the objects' colours, it
# took theirs).
COLOUR_SLOTS = ("colour1", "colour2", "count")
SHAPE_SLOTS = ("shape1", "shape2", "count")


def _view(cfg: Config, names: tuple[str, ...]) -> torch.Tensor:
    """The sentence embedding's columns holding the probabilities of the slots ``names``."""
    starts, at = {}, cfg.sentence
    for name, size in SLOTS:
        starts[name] = range(at, at + size)
        at += size
    return torch.tensor([i for name in names for i in starts[name]])


def decided(layout: torch.Tensor) -> torch.Tensor:
    """``layout`` with each object there or not (presence a sure logit), drawn whole as the renderer
    draws: no faint ghosts of doubt. Presence is learnt from its likelihood alone."""
    return torch.cat([layout[..., :3], torch.where(layout[..., 3:] > 0, OUTSIDE, -OUTSIDE)], -1)


def _place(glyph: torch.Tensor, layout: torch.Tensor, side: int) -> torch.Tensor:
    """Glyph logits M x 1 x g x g warped onto a side x side canvas at (x, y, radius) of ``layout``
    (M x 4); far below zero outside the glyph."""
    at = (torch.arange(side, dtype=glyph.dtype) + 0.5) / side
    x, y, r = (layout[:, i, None] for i in range(3))
    span = SPAN * r.clamp_min(0.02)
    gx = ((at[None] - x) / span)[:, None, :].expand(-1, side, -1)
    gy = ((at[None] - y) / span)[:, :, None].expand(-1, -1, side)
    grid = torch.stack([gx, gy], -1)
    return F.grid_sample(glyph + OUTSIDE, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - OUTSIDE


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
    """Training only (the cVAE half): reads what a caption leaves open (where things are, the
    jitter of a named place) from a real picture's layout, given the sentence, as a Gaussian over
    z, so the generator can be taught to redraw that very layout; the KL term keeps z close to
    N(0, I), the prior the app samples from."""

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(cfg.objects * 4 + cfg.embedding, cfg.hidden), nn.ReLU(inplace=True),
                                 nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(inplace=True),
                                 nn.Linear(cfg.hidden, cfg.z * 2))

    def forward(self, layout: torch.Tensor, sentence: torch.Tensor,
                eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(z drawn from the posterior with ``eps``, KL to N(0, I): summed over z, batch mean)."""
        mu, logvar = self.net(torch.cat([layout.flatten(1), sentence], 1)).chunk(2, dim=1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()
        return mu + eps * (0.5 * logvar).exp(), kl


def layout_nll(drawn: torch.Tensor, true: torch.Tensor, sigma: float) -> torch.Tensor:
    """How unlikely the true layout (N x objects x (x, y, radius, present 0/1)) is under the drawn
    one (presence logits): presence as a Bernoulli, the present objects' centres and radii as
    Gaussians of width ``sigma``; nats per picture."""
    present = true[..., 3]
    bernoulli = F.binary_cross_entropy_with_logits(drawn[..., 3], present, reduction="none").sum(1)
    gaussian = (((drawn[..., :3] - true[..., :3]) ** 2).sum(-1) * present).sum(1) / (2 * sigma ** 2)
    return (bernoulli + gaussian).mean()


def crowding(layout: torch.Tensor, gap: float) -> torch.Tensor:
    """The world's one rule of placement, for layouts drawn from the prior: objects keep ``gap``
    apart and stay on the canvas (squared overlaps, weighted by presence, per picture). It moves
    objects, never shrinks them: their size is the caption's."""
    present = layout[..., 3].sigmoid()
    xy, r = layout[..., :2], layout[..., 2].detach()
    apart = ((xy[:, :, None] - xy[:, None]) ** 2).sum(-1).add(1e-8).sqrt()
    overlap = F.relu(r[:, :, None] + r[:, None] + gap - apart) ** 2 * present[:, :, None] * present[:, None]
    outside = (F.relu(r[..., None] - xy) ** 2 + F.relu(xy + r[..., None] - 1) ** 2).sum(-1) * present
    return (overlap.triu(1).sum((1, 2)) + outside.sum(1)).mean()


def slot_loss(logits: list[torch.Tensor] | tuple[torch.Tensor, ...], labels: torch.Tensor) -> torch.Tensor:
    return sum(F.cross_entropy(lg, labels[:, i], ignore_index=-100) for i, lg in enumerate(logits)
               if (labels[:, i] != -100).any()) / len(SLOTS)
