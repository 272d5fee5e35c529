"""The starter model's world: flat shapes on a plain background, drawn from a ``Spec`` and a seed.

This is the training data and the evaluation's ground truth. Geometry is in units of the canvas
side (0..1), so one layout renders at any resolution; ``layout`` places the objects (random where
the caption leaves it open), ``render`` draws them with Pillow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from t2i_studio.core.starter_words import POSITIONS, Spec, Thing

RGB = {"red": (220, 30, 35), "orange": (255, 140, 0), "yellow": (250, 220, 20),
       "green": (30, 160, 50), "blue": (30, 70, 220), "purple": (130, 40, 170),
       "pink": (255, 130, 190), "brown": (120, 70, 30), "white": (255, 255, 255), "black": (15, 15, 15)}
PLAIN = (200, 200, 196)  # the light background when the caption names none
RADIUS = {"small": 0.11, "medium": 0.16, "large": 0.24}  # half the object's extent
# the 3 x 3 grid of named positions (x, y), in POSITIONS order
ANCHORS = {name: ((i % 3 + 1) * 0.25, (i // 3 + 1) * 0.25) for i, name in enumerate(POSITIONS)}
JITTER = 0.03


@dataclass(frozen=True)
class Placed:
    shape: str
    colour: str
    x: float
    y: float
    radius: float


def _free(rng: np.random.Generator, radius: float, placed: list[Placed],
          xs: tuple[float, float] = (0.0, 1.0), ys: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    """A centre within the canvas (and the x/y ranges) not overlapping what is already placed."""
    for _ in range(200):
        x = rng.uniform(max(radius, xs[0]), min(1 - radius, xs[1]))
        y = rng.uniform(max(radius, ys[0]), min(1 - radius, ys[1]))
        if all(math.hypot(x - p.x, y - p.y) > radius + p.radius + 0.03 for p in placed):
            return x, y
    return x, y  # a crowded canvas: overlap rather than loop forever


def _place(rng: np.random.Generator, thing: Thing, placed: list[Placed], **ranges) -> None:
    radius = RADIUS[thing.size]
    for _ in range(thing.count):
        if thing.position is not None and thing.count == 1:
            ax, ay = ANCHORS[thing.position]
            x = min(max(ax + rng.uniform(-JITTER, JITTER), radius), 1 - radius)
            y = min(max(ay + rng.uniform(-JITTER, JITTER), radius), 1 - radius)
        else:
            x, y = _free(rng, radius, placed, **ranges)
        placed.append(Placed(thing.shape, thing.colour, x, y, radius))


def layout(spec: Spec, rng: np.random.Generator) -> list[Placed]:
    """Where everything goes; the first thing's objects come first."""
    placed: list[Placed] = []
    second, relation = spec.second, spec.relation
    if second is None or relation == "and":
        _place(rng, spec.first, placed)
        if second is not None:
            _place(rng, second, placed)
        return placed
    # "A left of B": A in one half, B in the other, roughly on one row (column for above/below)
    horizontal = relation in ("left of", "right of")
    first_low = relation in ("left of", "above")
    lo, hi = (0.0, 0.44), (0.56, 1.0)
    across = rng.uniform(0.3, 0.7)
    near = (across - 0.1, across + 0.1)
    for thing, half in ((spec.first, lo if first_low else hi), (second, hi if first_low else lo)):
        ranges = {"xs": half, "ys": near} if horizontal else {"xs": near, "ys": half}
        _place(rng, thing, placed, **ranges)
    return placed


def outline(shape: str, x: float, y: float, r: float) -> list[tuple[float, float]]:
    """The shape as a polygon in canvas units (circles as 48-gons)."""
    if shape == "square":
        s = r * 0.85
        return [(x - s, y - s), (x + s, y - s), (x + s, y + s), (x - s, y + s)]
    if shape == "triangle":
        return [(x, y - r), (x + r, y + r * 0.8), (x - r, y + r * 0.8)]
    if shape == "star":
        return [(x + (r if k % 2 == 0 else r * 0.45) * math.sin(k * math.pi / 5),
                 y - (r if k % 2 == 0 else r * 0.45) * math.cos(k * math.pi / 5)) for k in range(10)]
    if shape == "heart":
        pts = [(16 * math.sin(t) ** 3,
                -(13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)))
               for t in np.linspace(0, 2 * math.pi, 48, endpoint=False)]
        return [(x + px / 17 * r, y + (py + 2.5) / 16 * r) for px, py in pts]
    if shape == "circle":
        return [(x + r * math.cos(t), y + r * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 48, endpoint=False)]
    raise ValueError(f"Unknown shape {shape!r}.")


def background_rgb(spec: Spec) -> tuple[int, int, int]:
    return RGB[spec.background] if spec.background else PLAIN


def draw(placed: list[Placed], background: tuple[int, int, int], size: int) -> np.ndarray:
    """The picture, ``size`` x ``size`` RGB uint8 (edges antialiased by drawing at 2x)."""
    big = size * 2
    image = Image.new("RGB", (big, big), background)
    pen = ImageDraw.Draw(image)
    for p in placed:
        pen.polygon([(u * big, v * big) for u, v in outline(p.shape, p.x, p.y, p.radius)], fill=RGB[p.colour])
    return np.asarray(image.resize((size, size), Image.Resampling.BOX))


def render(spec: Spec, seed: int | np.random.Generator, size: int = 128) -> np.ndarray:
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return draw(layout(spec, rng), background_rgb(spec), size)
