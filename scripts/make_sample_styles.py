#!/usr/bin/env python3
"""Generate the sample style images of the style panel: procedural textures, no third-party art.

    python scripts/make_sample_styles.py [--check] [--out DIR]

Each style is a seeded function of numpy + Pillow drawing one 320×320 texture; the file stem is the
display name (``ink-wash.png`` shows as "ink-wash"). Images are quantised to a small palette so
each file stays a few tens of KB. Output is deterministic for the pinned numpy/Pillow: ``--check``
regenerates in memory and exits 1 when a committed PNG differs.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from _generated import write_or_check

ROOT = Path(__file__).resolve().parent.parent
STYLES = ROOT / "t2i_studio" / "resources" / "styles"
SIZE = 320
COLOURS = 64  # palette size of the saved PNGs


# ---------------------------------------------------------------------------------------------
# Helpers


def smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Value noise in [0, 1]: a ``cells``×``cells`` random grid upsampled bicubically."""
    grid = rng.random((cells, cells), dtype=np.float32)
    img = Image.fromarray((grid * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)
    return np.asarray(img, dtype=np.float32) / 255.0


def fractal_noise(rng: np.random.Generator, size: int, octaves: int = 5, base: int = 3) -> np.ndarray:
    total = np.zeros((size, size), np.float32)
    amp, norm = 1.0, 0.0
    for octave in range(octaves):
        total += amp * smooth_noise(rng, size, base * 2**octave)
        norm += amp
        amp *= 0.5
    total /= norm
    return (total - total.min()) / max(float(total.max() - total.min()), 1e-6)


def palette(*hexes: str) -> np.ndarray:
    return np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in hexes], np.float32)


def ramp(colours: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Map t in [0, 1] through a piecewise-linear colour ramp -> float RGB array."""
    t = np.clip(t, 0.0, 1.0) * (len(colours) - 1)
    i = np.minimum(t.astype(np.int32), len(colours) - 2)
    f = (t - i)[..., None]
    return colours[i] * (1 - f) + colours[i + 1] * f


def to_image(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def jitter(rng: np.random.Generator, colour: np.ndarray, amount: float) -> tuple[int, int, int]:
    c = np.clip(colour + rng.normal(0, amount, 3), 0, 255)
    return tuple(int(v) for v in c)


# ---------------------------------------------------------------------------------------------
# Styles


def brush_stroke(rng: np.random.Generator) -> Image.Image:
    """Swirling short strokes along a flow field, in the manner of post-impressionist skies."""
    scale = 2
    n = SIZE * scale
    colours = palette("#0d1b4c", "#1f4e9c", "#3f86c6", "#8fc1e3", "#f2d16b", "#e8a33d")
    angle = smooth_noise(rng, n, 4) * 4 * np.pi
    tone = fractal_noise(rng, n, 3, 2)
    img = to_image(ramp(colours[:3], tone))
    draw = ImageDraw.Draw(img)
    for _ in range(5200):
        x, y = rng.integers(0, n, 2)
        a = angle[y, x]
        length = rng.uniform(10, 26) * scale
        dx, dy = np.cos(a) * length / 2, np.sin(a) * length / 2
        pick = min(int(tone[y, x] * 4 + rng.normal(0, 0.9)), 5) if rng.random() < 0.85 else 4
        colour = jitter(rng, colours[max(pick, 0)], 12)
        draw.line([(x - dx, y - dy), (x + dx, y + dy)], fill=colour, width=int(rng.integers(3, 6) * scale))
    return img.resize((SIZE, SIZE), Image.LANCZOS)


def mosaic(rng: np.random.Generator) -> Image.Image:
    """Irregular tesserae (jittered Voronoi cells) with dark grout."""
    cells = 14
    step = SIZE / cells
    gy, gx = np.mgrid[0:cells, 0:cells].astype(np.float32)
    pts = np.stack([(gx + 0.5 + rng.uniform(-0.35, 0.35, gx.shape)) * step,
                    (gy + 0.5 + rng.uniform(-0.35, 0.35, gy.shape)) * step], -1).reshape(-1, 2)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    d = (xx[..., None] - pts[:, 0]) ** 2 + (yy[..., None] - pts[:, 1]) ** 2
    order = np.argsort(d, axis=-1)[..., :2]
    nearest = np.take_along_axis(d, order, -1)
    owner = order[..., 0]
    edge = np.sqrt(nearest[..., 1]) - np.sqrt(nearest[..., 0])
    colours = palette("#b8432f", "#e0a24a", "#2f6f73", "#e9e0c9", "#3b3a6b", "#7a9a3d")
    band = smooth_noise(rng, SIZE, 3)
    choice = (band[pts[:, 1].astype(int).clip(0, SIZE - 1), pts[:, 0].astype(int).clip(0, SIZE - 1)]
              * len(colours) + rng.normal(0, 0.8, len(pts))).astype(int) % len(colours)
    tile = colours[choice] + rng.normal(0, 10, (len(pts), 3))
    rgb = tile[owner]
    shade = 0.85 + 0.15 * np.clip(edge / 6.0, 0, 1)[..., None]
    rgb = rgb * shade
    grout = edge < 2.2
    rgb[grout] = (52, 46, 40)
    return to_image(rgb)


def ink_wash(rng: np.random.Generator) -> Image.Image:
    """Sumi-e: layered grey washes bleeding on warm paper, a few dark strokes."""
    paper = palette("#f3ecdc")[0]
    ink = palette("#1b1b22")[0]
    wash = np.zeros((SIZE, SIZE), np.float32)
    yy = np.linspace(0, 1, SIZE, dtype=np.float32)[:, None]
    for layer in range(3):
        ridge = fractal_noise(rng, SIZE, 5, 2)
        horizon = 0.35 + 0.2 * layer + 0.25 * (smooth_noise(rng, SIZE, 3)[0:1, :] - 0.5)
        mountain = np.clip((yy - horizon + 0.25 * (ridge - 0.5)) * 6, 0, 1)
        wash = np.maximum(wash, mountain * (0.25 + 0.22 * layer) * (0.7 + 0.3 * ridge))
    grain = fractal_noise(rng, SIZE, 4, 24) * 0.08
    t = np.clip(wash + grain - 0.04, 0, 1)[..., None]
    img = to_image(paper * (1 - t) + ink * t)
    img = img.filter(ImageFilter.GaussianBlur(0.8))
    draw = ImageDraw.Draw(img)
    for _ in range(7):  # reeds: tapered dark strokes
        x = float(rng.uniform(20, SIZE - 20))
        y = float(SIZE - rng.uniform(0, 30))
        lean = float(rng.uniform(-0.5, 0.5))
        steps = int(rng.integers(120, 280))
        for k in range(steps):
            w = 1.0 + 3.5 * (1 - k / steps)
            draw.ellipse([x - w, y - w, x + w, y + w], fill=(27, 27, 34))
            x += lean * 0.5 + float(rng.normal(0, 0.08))
            y -= 0.7
    return img.filter(ImageFilter.GaussianBlur(0.5))


def halftone(rng: np.random.Generator) -> Image.Image:
    """Overprinted CMY dot screens at classic angles over a smooth gradient image."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    base = [fractal_noise(rng, SIZE, 3, 2) for _ in range(3)]
    ink = np.ones((SIZE, SIZE, 3), np.float32)  # start from white paper, subtract inks
    absorb = {0: (1.0, 0.0, 0.0), 1: (0.0, 1.0, 0.0), 2: (0.0, 0.0, 1.0)}  # C, M, Y
    for channel, angle in ((0, 15), (1, 75), (2, 0)):
        a = np.deg2rad(angle)
        u = xx * np.cos(a) + yy * np.sin(a)
        v = -xx * np.sin(a) + yy * np.cos(a)
        period = 9.0
        du = (u % period) / period - 0.5
        dv = (v % period) / period - 0.5
        dist = np.sqrt(du * du + dv * dv)
        radius = 0.55 * np.sqrt(np.clip(base[channel] * 1.2 - 0.25, 0, 1))
        dots = np.clip((radius - dist) * 12, 0, 1)
        for c in range(3):
            ink[..., c] -= dots * absorb[channel][c] * 0.7
    rgb = np.clip(ink, 0, 1) * palette("#fbf7ee")[0]
    return to_image(rgb)


def impasto(rng: np.random.Generator) -> Image.Image:
    """Thick paint: a height field of palette-knife daubs, lit from the top left."""
    scale = 2
    n = SIZE * scale
    height = Image.new("L", (n, n), 0)
    colour = Image.new("RGB", (n, n), (0, 0, 0))
    hdraw, cdraw = ImageDraw.Draw(height), ImageDraw.Draw(colour)
    colours = palette("#c0392b", "#e67e22", "#f4d03f", "#27ae60", "#2e86c1", "#f5eee0")
    hue = smooth_noise(rng, n, 3)
    for _ in range(900):
        x, y = (int(v) for v in rng.integers(0, n, 2))
        w, h = (float(v) for v in rng.uniform(14, 40, 2) * scale)
        a = float(rng.uniform(0, np.pi))
        pts = [(x + np.cos(a + t) * w * (0.6 if k % 2 else 1.0), y + np.sin(a + t) * h * (0.6 if k % 2 else 1.0))
               for k, t in enumerate(np.linspace(0, 2 * np.pi, 9)[:-1])]
        pick = int(hue[y % n, x % n] * 5.99 + rng.normal(0, 0.7)) % 6
        cdraw.polygon(pts, fill=jitter(rng, colours[pick], 14))
        hdraw.polygon(pts, fill=int(rng.integers(90, 255)))
    h = np.asarray(height.filter(ImageFilter.GaussianBlur(3 * scale)), np.float32) / 255.0
    h += fractal_noise(rng, n, 3, 40) * 0.15
    gy, gx = np.gradient(h * 40)
    normal = np.stack([-gx, -gy, np.ones_like(h)], -1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    light = np.array([-0.5, -0.6, 0.62], np.float32)
    light /= np.linalg.norm(light)
    lambert = np.clip(normal @ light, 0, 1)[..., None]
    spec = (np.clip(normal @ light, 0, 1) ** 24)[..., None] * 90
    rgb = np.asarray(colour.filter(ImageFilter.GaussianBlur(1.0)), np.float32) * (0.35 + 0.8 * lambert) + spec
    return to_image(rgb).resize((SIZE, SIZE), Image.LANCZOS)


def pointillism(rng: np.random.Generator) -> Image.Image:
    """Dense dots of pure colour that mix in the eye, over a sunset gradient."""
    scale = 2
    n = SIZE * scale
    colours = palette("#f94144", "#f3722c", "#f9c74f", "#90be6d", "#43aa8b", "#577590", "#fdfcf5")
    yy = np.linspace(0, 1, n, dtype=np.float32)[:, None] * np.ones((1, n), np.float32)
    field = np.clip(yy + 0.25 * (fractal_noise(rng, n, 4, 2) - 0.5), 0, 1)
    img = Image.new("RGB", (n, n), (253, 252, 245))
    draw = ImageDraw.Draw(img)
    for _ in range(26000):
        x, y = (int(v) for v in rng.integers(0, n, 2))
        pick = int(np.clip(field[y, x] * 5.5 + rng.normal(0, 0.9), 0, 5.99))
        r = float(rng.uniform(2.2, 3.6) * scale)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=jitter(rng, colours[pick], 8))
    return img.resize((SIZE, SIZE), Image.LANCZOS)


STYLE_FUNCTIONS: dict[str, tuple[int, Callable[[np.random.Generator], Image.Image]]] = {
    "brush-stroke": (101, brush_stroke),
    "mosaic": (202, mosaic),
    "ink-wash": (303, ink_wash),
    "halftone": (404, halftone),
    "impasto": (505, impasto),
    "pointillism": (606, pointillism),
}


def encode(image: Image.Image) -> bytes:
    """PNG bytes of ``image`` quantised to ``COLOURS`` colours (deterministic, no timestamps)."""
    quantised = image.quantize(COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    quantised.save(out, "PNG", optimize=True)
    return out.getvalue()


def generate(name: str) -> bytes:
    seed, func = STYLE_FUNCTIONS[name]
    return encode(func(np.random.default_rng(seed)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed PNGs instead of writing them")
    parser.add_argument("--out", type=Path, default=STYLES, help="folder to write (default: %(default)s)")
    parser.add_argument("names", nargs="*", choices=[[], *STYLE_FUNCTIONS], metavar="NAME",
                        help=f"styles to make (default: all of {', '.join(STYLE_FUNCTIONS)})")
    args = parser.parse_args(argv)
    outputs = ((args.out / f"{name}.png", generate(name)) for name in args.names or STYLE_FUNCTIONS)
    return write_or_check(outputs, args.check, "make_sample_styles.py")

if __name__ == "__main__":
    sys.exit(main())
