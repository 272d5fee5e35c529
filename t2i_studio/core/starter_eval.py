"""Scores a picture against the caption it was made for, by geometry on the renderer's own terms.

The background is the border's median colour; objects are the connected regions that differ from
it; each region's colour is the nearest palette colour of its median pixel, its shape the template
(drawn by the renderer, fitted to the region's box) it overlaps most, its place the nearest grid
anchor of its centroid. Scored on rendered pictures this gives (close to) 100%: the check of the
checker.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from t2i_studio.core.starter_words import SHAPES, Spec
from t2i_studio.core.starter_world import ANCHORS, PLAIN, RGB, outline

ATTRIBUTES = ("colour", "shape", "position", "count", "background")
_BG = {"plain": PLAIN, **RGB}
_TEMPLATE = 32
FOREGROUND = 60.0  # RGB distance from the background that makes a pixel part of an object
MIN_AREA = 1 / 400  # of the picture: smaller regions are specks, not objects


def _nearest(rgb: np.ndarray, palette: dict[str, tuple[int, int, int]]) -> str:
    names = list(palette)
    d = ((np.array([palette[n] for n in names], dtype=float) - rgb) ** 2).sum(1)
    return names[int(d.argmin())]


def _templates() -> dict[str, np.ndarray]:
    out = {}
    for shape in SHAPES:
        image = Image.new("L", (256, 256))
        ImageDraw.Draw(image).polygon([(u * 256, v * 256) for u, v in outline(shape, 0.5, 0.5, 0.45)], fill=255)
        out[shape] = np.asarray(image.crop(image.getbbox()).resize((_TEMPLATE, _TEMPLATE))) > 127
    return out


TEMPLATES = _templates()


def regions(mask: np.ndarray) -> list[np.ndarray]:
    """4-connected regions of a boolean mask, largest first, as boolean masks."""
    h, w = mask.shape
    big = h * w + 1
    labels = np.where(mask, np.arange(h * w).reshape(h, w), big)
    while True:  # each pass spreads the smallest label one pixel; stops when nothing changes
        padded = np.pad(labels, 1, constant_values=big)
        spread = np.minimum.reduce([labels, padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2],
                                    padded[1:-1, 2:]])
        spread = np.where(mask, spread, big)
        if np.array_equal(spread, labels):
            break
        labels = spread
    ids, counts = np.unique(labels[mask], return_counts=True)
    return [labels == i for i in ids[np.argsort(-counts, kind="stable")]]


def classify_shape(region: np.ndarray) -> str:
    ys, xs = np.nonzero(region)
    crop = region[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    fitted = np.asarray(Image.fromarray(crop.astype(np.uint8) * 255).resize((_TEMPLATE, _TEMPLATE))) > 127
    iou = {s: (fitted & t).sum() / max(1, (fitted | t).sum()) for s, t in TEMPLATES.items()}
    return max(iou, key=iou.__getitem__)


def describe(picture: np.ndarray) -> tuple[str, list[dict]]:
    """(background name, the objects seen: colour, shape, centre x/y in 0..1, area fraction)."""
    h, w, _ = picture.shape
    pixels = picture.astype(float)
    border = np.concatenate([pixels[:2].reshape(-1, 3), pixels[-2:].reshape(-1, 3),
                             pixels[:, :2].reshape(-1, 3), pixels[:, -2:].reshape(-1, 3)])
    bg_rgb = np.median(border, axis=0)
    mask = np.sqrt(((pixels - bg_rgb) ** 2).sum(2)) > FOREGROUND
    objects = []
    for region in regions(mask):
        area = region.mean()
        if area < MIN_AREA:
            break
        ys, xs = np.nonzero(region)
        objects.append({"colour": _nearest(np.median(pixels[region], axis=0), RGB),
                        "shape": classify_shape(region), "x": (xs.mean() + 0.5) / w,
                        "y": (ys.mean() + 0.5) / h, "area": float(area)})
    return _nearest(bg_rgb, _BG), objects


def _anchor(obj: dict) -> str:
    return min(ANCHORS, key=lambda a: (ANCHORS[a][0] - obj["x"]) ** 2 + (ANCHORS[a][1] - obj["y"]) ** 2)


def score(picture: np.ndarray, spec: Spec) -> dict[str, bool | None]:
    """Per attribute: True/False, or None where the caption does not say (position left open)."""
    background, seen = describe(picture)
    out: dict[str, bool | None] = {"count": len(seen) == spec.object_count,
                                   "background": background == (spec.background or "plain")}
    first, second = spec.first, spec.second
    if second is None:
        top = seen[:first.count]
        complete = len(top) == first.count
        out["colour"] = complete and all(o["colour"] == first.colour for o in top)
        out["shape"] = complete and all(o["shape"] == first.shape for o in top)
        out["position"] = (None if first.position is None or first.count > 1
                           else bool(top) and _anchor(top[0]) == first.position)
        return out
    if len(seen) < 2:
        return {**out, "colour": False, "shape": False, "position": False if spec.relation != "and" else None}
    a, b = seen[0], seen[1]
    def fit(x: dict, y: dict) -> int:
        return sum([x["colour"] == first.colour, x["shape"] == first.shape,
                    y["colour"] == second.colour, y["shape"] == second.shape])
    if fit(b, a) > fit(a, b):
        a, b = b, a
    out["colour"] = a["colour"] == first.colour and b["colour"] == second.colour
    out["shape"] = a["shape"] == first.shape and b["shape"] == second.shape
    out["position"] = {"and": None, "left of": a["x"] < b["x"], "right of": a["x"] > b["x"],
                       "above": a["y"] < b["y"], "below": a["y"] > b["y"]}[spec.relation or "and"]
    return out


def accuracy(pictures: list[np.ndarray], specs: list[Spec]) -> dict[str, float]:
    """The fraction right per attribute, over the captions that state it."""
    totals: dict[str, list[bool]] = {a: [] for a in ATTRIBUTES}
    for picture, spec in zip(pictures, specs):
        for name, ok in score(picture, spec).items():
            if ok is not None:
                totals[name].append(bool(ok))
    return {a: (sum(v) / len(v) if v else float("nan")) for a, v in totals.items()}
