"""Print sizes, and what an upscale to one involves: its model passes, its tiles, its memory.

Pure Python: the CLI, the engine's check and the window's upscale dialog all size an upscale here,
before anything heavy loads. Pixels for a paper at a dpi keep the picture's aspect ratio and fit
inside the paper, turned to the picture's orientation.
"""

from __future__ import annotations

import math
import re

PAPERS: dict[str, tuple[float, float, str]] = {  # portrait width, height, unit
    "A5": (148, 210, "mm"), "A4": (210, 297, "mm"), "A3": (297, 420, "mm"),
    "Letter": (8.5, 11, "in"), "Legal": (8.5, 14, "in"), "Tabloid": (11, 17, "in"),
}
UNITS = ("mm", "cm", "in")
_PER_INCH = {"mm": 25.4, "cm": 2.54, "in": 1.0}
_DECIMALS = {"mm": 0, "cm": 1, "in": 2}
MAX_DPI = 4800
# After the model's passes, Lanczos may enlarge this much more; beyond it the model runs again.
MAX_LANCZOS_FINISH = 1.25
# Bytes per output pixel of one model tile: two 64-channel float32 feature maps at the output's
# resolution, what ESRGAN-style upsampling layers hold at once (compact models need less).
TILE_BYTES_PER_OUTPUT_PIXEL = 2 * 64 * 4
Paper = str | tuple[float, float, str]


def paper_size(paper: Paper) -> tuple[float, float, str]:
    """``(width, height, unit)`` of a paper name (any case) or of a ``(width, height, unit)`` tuple."""
    if isinstance(paper, str):
        found = {name.lower(): size for name, size in PAPERS.items()}.get(paper.strip().lower())
        if found is None:
            raise ValueError(f"Unknown paper size {paper!r}: choose {', '.join(PAPERS)}, or give a size "
                             "such as 20x30cm.")
        return found
    width, height, unit = paper
    if unit not in UNITS:
        raise ValueError(f"Paper unit must be one of {', '.join(UNITS)}, got {unit!r}.")
    if not all(isinstance(v, (int, float)) and math.isfinite(v) and v > 0 for v in (width, height)):
        raise ValueError(f"A paper's width and height must be more than 0, got {width!r} x {height!r}.")
    return float(width), float(height), unit


def parse_paper(text: str) -> Paper:
    """A paper name (``A4``) or ``WxH`` with a unit (``20x30cm``, ``8 x 10 in``, ``210×297mm``)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*(mm|cm|in)\s*", text, re.IGNORECASE)
    if match is None:
        paper_size(text)  # a name, or the error saying what is allowed
        return text.strip()
    return paper_size((float(match[1]), float(match[2]), match[3].lower()))


def _check_dpi(dpi: int) -> None:
    if not (isinstance(dpi, int) and not isinstance(dpi, bool) and 1 <= dpi <= MAX_DPI):
        raise ValueError(f"DPI must be a whole number from 1 to {MAX_DPI}, got {dpi!r}.")


def print_target(image_size: tuple[int, int], paper: Paper, dpi: int) -> tuple[int, int]:
    """The pixels of ``image_size`` enlarged (or reduced) to fit ``paper`` at ``dpi``."""
    _check_dpi(dpi)
    width, height, unit = paper_size(paper)
    box = [round(side / _PER_INCH[unit] * dpi) for side in (width, height)]
    iw, ih = image_size
    if (iw > ih) != (box[0] > box[1]) and iw != ih:
        box.reverse()  # the paper turns to the picture's orientation
    if box[0] * ih <= box[1] * iw:  # the width fills the paper
        return box[0], max(1, min(box[1], round(box[0] * ih / iw)))
    return max(1, min(box[0], round(box[1] * iw / ih))), box[1]


def print_size_text(pixels: tuple[int, int], dpi: int, unit: str = "cm") -> str:
    """How large ``pixels`` print at ``dpi``: ``"21.0 × 29.7 cm at 300 dpi"``."""
    _check_dpi(dpi)
    sides = [f"{side / dpi * _PER_INCH[unit]:.{_DECIMALS[unit]}f}" for side in pixels]
    return f"{sides[0]} × {sides[1]} {unit} at {dpi} dpi"


def tile_spans(length: int, tile: int, overlap: int, *, exact: bool = False) -> list[tuple[int, int]]:
    """``[start, end)`` of each tile along one side: as few tiles as overlap by at least ``overlap``,
    spread evenly, all the same length: at most ``tile`` (a model's, shortened so the tiles do not
    overlap more than they must), or with ``exact`` ``tile`` itself; ``tile`` 0: the whole side."""
    if tile <= 0 or length <= tile:
        return [(0, length)]
    count = math.ceil((length - overlap) / (tile - overlap))
    size = tile if exact else math.ceil((length + (count - 1) * overlap) / count)
    return [(start, start + size) for start in
            (round(i * (length - size) / (count - 1)) for i in range(count))]


def model_passes(source: tuple[int, int], target: tuple[int, int], scale: int) -> list[tuple[int, int]]:
    """The input size of each run of a ``scale``x model towards ``target``. A run after the first
    starts from the previous output reduced to ``target / scale``, so it makes only the pixels the
    target needs (a 4x model for 8x: 4x, halved, 4x again)."""
    if scale < 2:
        return [source]
    need = max(target[0] / source[0], target[1] / source[1])
    runs = 1
    while scale ** runs * MAX_LANCZOS_FINISH < need:
        runs += 1
    sizes = [source]
    for run in range(1, runs):
        previous = (sizes[-1][0] * scale, sizes[-1][1] * scale)
        if run < runs - 1:
            sizes.append(previous)
        else:
            sizes.append((min(previous[0], math.ceil(target[0] / scale)),
                          min(previous[1], math.ceil(target[1] / scale))))
    return sizes


def estimate_upscale_bytes(source_size: tuple[int, int], target: tuple[int, int], *, model: bool, tile: int,
                           overlap: int = 32, scale: int = 4) -> int:
    """Peak memory of an upscale to ``target`` (the largest of its stages), saving included: a
    model's tile, the rows being blended and its output, Lanczos' copies, the PNG being written."""
    tw, th = target
    stages = [tw * th * (4 + 3 + 3)]  # the result, its PNG (at worst the raw pixels) and the copy written
    last = source_size
    if model:
        for w, h in model_passes(source_size, target, scale):
            span_w = tile_spans(w, tile, overlap)[0]
            span_h = tile_spans(h, tile, overlap)[0]
            tile_pixels = (span_w[1] - span_w[0]) * (span_h[1] - span_h[0]) * scale * scale
            out_w, out_h = w * scale, h * scale
            band = (span_h[1] - span_h[0] + overlap) * scale * out_w * 3 * 2  # 16-bit rows being blended
            activations = tile_pixels * TILE_BYTES_PER_OUTPUT_PIXEL
            # the input (4 bytes a pixel in Pillow), the output's 8-bit rows and, at the end, Pillow's copy
            stages.append(w * h * 4 + out_w * out_h * (3 + 4) + band + activations)
            last = (out_w, out_h)
    stages.append((last[0] * last[1] + tw * last[1] + tw * th) * 4)  # Lanczos: source, one pass, result
    return max(stages)
