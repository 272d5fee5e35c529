"""Training batches for the starter model, rendered on the fly: tokens, slot labels, pictures.

The slots are what a caption means, as classes (first colour, shape, size, position, count,
relation, second colour/shape/size, background); the text encoder learns to read them and the
discriminators' auxiliary heads learn to see them.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

from t2i_studio.core import starter_world
from t2i_studio.core.starter_words import (
    COLOURS,
    MAX_TOKENS,
    POSITIONS,
    RELATIONS,
    SHAPES,
    SIZES,
    Spec,
    caption,
    sample_spec,
    token_ids,
)

IGNORE = -100
SLOTS = (("colour1", len(COLOURS)), ("shape1", len(SHAPES)), ("size1", len(SIZES)),
         ("position1", len(POSITIONS) + 1), ("count", 3), ("relation", len(RELATIONS) + 1),
         ("colour2", len(COLOURS)), ("shape2", len(SHAPES)), ("size2", len(SIZES)),
         ("background", len(COLOURS) + 1))
ANYWHERE = len(POSITIONS)
# (colour, shape) pairs never shown in training: the evaluation's unseen combinations
HELD_OUT = frozenset({("green", "heart"), ("pink", "star"), ("blue", "triangle"), ("orange", "circle"),
                      ("white", "square"), ("brown", "star")})


def slots(spec: Spec, for_image: bool) -> list[int]:
    """The slot classes of ``spec``; an image cannot show "anywhere", so that is ignored there."""
    a, b = spec.first, spec.second
    position = POSITIONS.index(a.position) if a.position and a.count == 1 else ANYWHERE
    if for_image and position == ANYWHERE:
        position = IGNORE
    second = ([COLOURS.index(b.colour), SHAPES.index(b.shape), SIZES.index(b.size)] if b
              else [IGNORE] * 3)
    return [COLOURS.index(a.colour), SHAPES.index(a.shape), SIZES.index(a.size), position, a.count - 1,
            RELATIONS.index(spec.relation) + 1 if spec.relation else 0, *second,
            COLOURS.index(spec.background) + 1 if spec.background else 0]


def encode_tokens(captions: list[str]) -> torch.Tensor:
    """Token ids padded with 0 to one length (at least 1)."""
    rows = [token_ids(c) for c in captions]
    out = torch.zeros(len(rows), min(MAX_TOKENS, max(len(r) for r in rows)), dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, :len(row)] = torch.tensor(row)
    return out


def to_tensor(pictures: list[np.ndarray]) -> torch.Tensor:
    """uint8 HxWx3 pictures -> float N x 3 x H x W in [-1, 1]."""
    return torch.from_numpy(np.stack(pictures)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def text_batch(rng: np.random.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    specs = [sample_spec(rng, HELD_OUT) for _ in range(n)]
    return (encode_tokens([caption(s, rng) for s in specs]),
            torch.tensor([slots(s, for_image=False) for s in specs]))


def layout_tensor(placed: list[starter_world.Placed], objects: int) -> torch.Tensor:
    """A rendered layout as the generator's: objects x (x, y, radius, present 1/0), absent last."""
    rows = [[p.x, p.y, p.radius, 1.0] for p in placed] + [[0.5, 0.5, 0.0, 0.0]] * (objects - len(placed))
    return torch.tensor(rows, dtype=torch.float32)


def looks_tensor(placed: list[starter_world.Placed], objects: int) -> torch.Tensor:
    """Each object's (palette index: 0 is the plain background, then COLOURS; shape index), IGNORE
    where absent: objects x 2."""
    rows = [[1 + COLOURS.index(p.colour), SHAPES.index(p.shape)] for p in placed]
    return torch.tensor(rows + [[IGNORE, IGNORE]] * (objects - len(placed)))


def silhouettes(side: int, span: float) -> torch.Tensor:
    """Each shape's coverage (0..1) of a side x side glyph box reaching ``span`` radii around its
    centre, in SHAPES order: len(SHAPES) x side x side (edges antialiased by drawing at 4x)."""
    big = side * 4
    out = []
    for shape in SHAPES:
        image = Image.new("L", (big, big))
        corners = starter_world.outline(shape, 0.5, 0.5, 0.5 / span)
        ImageDraw.Draw(image).polygon([(u * big, v * big) for u, v in corners], fill=255)
        out.append(np.asarray(image.resize((side, side), Image.Resampling.BOX)))
    return torch.from_numpy(np.stack(out)).float().div(255)


def image_batch(rng: np.random.Generator, n: int, size: int, objects: int):
    """(tokens, image slot labels, pictures in [-1, 1], layouts, looks, captions) of ``n`` random scenes."""
    specs = [sample_spec(rng, HELD_OUT) for _ in range(n)]
    captions = [caption(s, rng) for s in specs]
    layouts = [starter_world.layout(s, rng) for s in specs]
    pictures = [starter_world.draw(placed, starter_world.background_rgb(s), size) for s, placed in zip(specs, layouts)]
    labels = torch.tensor([slots(s, for_image=True) for s in specs])
    return (encode_tokens(captions), labels, to_tensor(pictures),
            torch.stack([layout_tensor(placed, objects) for placed in layouts]),
            torch.stack([looks_tensor(placed, objects) for placed in layouts]), captions)
