"""The X/Y/Z plot's grid image: the cells in rows and columns with their values as headers, the
axes' names as titles, white margins; one grid per Z value, side by side or stacked, in one image.

Text is drawn in Pillow's scalable default font (``ImageFont.load_default(size=…)``), sized to the
cells so it stays legible from a thumbnail to a full-size view; long headers wrap, then end in
"…". A cell not made (a plot stopped early) is left grey.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from PIL import Image, ImageDraw, ImageFont

# Under Pillow's decompression-bomb warning (89.5 megapixels), so every viewer opens the grid; the
# cells shrink to fit (the single images keep their full size).
MAX_GRID_PIXELS = 64_000_000
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)  # the values, a Z grid's heading
TITLE_INK = (90, 90, 90)  # the axes' names, a step back from their values
RULE = (200, 200, 200)
EMPTY = (232, 232, 232)
MAX_HEADER_LINES = 3


def fit_within(image: Image.Image, pixels: int) -> Image.Image:
    """``image``, shrunk (aspect kept) to at most ``pixels`` pixels."""
    if image.width * image.height <= pixels:
        return image
    scale = math.sqrt(pixels / (image.width * image.height))
    size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


@dataclass(frozen=True)
class _Style:
    """Sizes that follow the cell: fonts, padding, gaps and margins."""

    cell: tuple[int, int]
    font: Any  # the values' headers
    title_font: Any  # the axes' names
    z_font: Any  # a Z grid's heading
    line: int  # a line's height in each font
    title_line: int
    z_line: int
    pad: int
    gap: int  # between cells
    margin: int

    @classmethod
    def for_cell(cls, cell: tuple[int, int]) -> _Style:
        size = max(12, min(56, round(min(cell) / 14)))
        fonts = [ImageFont.load_default(size=round(size * k)) for k in (1.0, 1.1, 1.4)]
        return cls(cell, *fonts, *(_line_height(f) for f in fonts), max(4, size // 2),
                   max(2, round(min(cell) / 100)), size)

    @property
    def rule(self) -> int:
        return max(1, self.pad // 6)


def _line_height(font: Any) -> int:
    ascent, descent = font.getmetrics()
    return round((ascent + descent) * 1.1)


def grid_image(images: Sequence[Image.Image | None], titles: Sequence[str], labels: Sequence[Sequence[str]], *,
               stacked: bool = False) -> Image.Image:
    """The grid of ``images`` (X fastest, then Y, then Z; None: not made), headed by ``labels`` (each
    axis's values) under ``titles`` (each axis's name)."""
    counts = [len(values) for values in labels] + [1] * (3 - len(labels))
    nx, ny, nz = counts[:3]
    if len(images) != nx * ny * nz or len(titles) != len(labels) or not 1 <= len(labels) <= 3:
        shape = " × ".join(map(str, counts[:len(labels)]))
        raise ValueError(f"A grid of {shape} cells needs as many images and one title per axis: got "
                         f"{len(images)} images and {len(titles)} titles.")
    made = [image for image in images if image is not None]
    cell = (max((i.width for i in made), default=512), max((i.height for i in made), default=512))
    if cell[0] * cell[1] * len(images) > MAX_GRID_PIXELS:
        scale = math.sqrt(MAX_GRID_PIXELS / (cell[0] * cell[1] * len(images)))
        cell = (max(16, int(cell[0] * scale)), max(16, int(cell[1] * scale)))
    style = _Style.for_cell(cell)
    per_grid = nx * ny
    grids = [_one_grid(images[z * per_grid:(z + 1) * per_grid], titles, labels,
                       f"{titles[2]}: {labels[2][z]}" if len(labels) == 3 else "", style)
             for z in range(nz)]
    return _join(grids, stacked, style.margin * 3)


def _one_grid(images: Sequence[Image.Image | None], titles: Sequence[str], labels: Sequence[Sequence[str]],
              z_title: str, style: _Style) -> Image.Image:
    cw, ch = style.cell
    font, pad, gap, margin = style.font, style.pad, style.gap, style.margin
    nx = len(labels[0])
    rows = list(labels[1]) if len(labels) > 1 else []
    columns_width = nx * cw + (nx - 1) * gap
    rows_height = max(1, len(rows)) * ch + (max(1, len(rows)) - 1) * gap
    column_heads = [_wrap(text, font, cw - pad, MAX_HEADER_LINES) for text in labels[0]]
    head_height = max(len(lines) for lines in column_heads) * style.line
    title_band = style.title_line + pad + style.rule + pad  # an axis's name, a rule under it
    row_width = y_band = 0
    if rows:
        widest = max(font.getlength(text) for text in rows)
        row_width = int(min(max(widest, font.getlength("0000")), max(cw * 0.6, font.size * 8))) + 2 * pad
        y_band = title_band
    left = margin + y_band + row_width
    top = margin + (style.z_line + pad if z_title else 0) + title_band + head_height + pad
    grid = Image.new("RGB", (left + columns_width + margin, top + rows_height + margin), BACKGROUND)
    draw = ImageDraw.Draw(grid)
    centre = left + columns_width / 2
    y = margin
    if z_title:
        z_text = _ellipsize(z_title, style.z_font, columns_width)
        _centred(draw, z_text, style.z_font, centre, y, INK)
        y += style.z_line + pad
    x_title = _ellipsize(titles[0], style.title_font, columns_width)
    _centred(draw, x_title, style.title_font, centre, y, TITLE_INK)
    y += style.title_line + pad
    draw.rectangle((left, y, left + columns_width - 1, y + style.rule - 1), fill=RULE)
    y += style.rule + pad
    for ix, lines in enumerate(column_heads):  # each header sits on its column, its last line nearest the cells
        x = left + ix * (cw + gap) + cw / 2
        for k, line in enumerate(lines):
            _centred(draw, line, font, x, y + head_height - (len(lines) - k) * style.line, INK)
    if rows:
        _vertical_title(grid, _ellipsize(titles[1], style.title_font, rows_height), style, (margin, top),
                        rows_height)
        x = margin + style.title_line + pad
        draw.rectangle((x, top, x + style.rule - 1, top + rows_height - 1), fill=RULE)
    row_lines = max(1, (ch - pad) // style.line)
    for iy in range(max(1, len(rows))):
        cell_top = top + iy * (ch + gap)
        lines = _wrap(rows[iy], font, row_width - 2 * pad, row_lines) if rows else []
        for k, line in enumerate(lines):
            _centred(draw, line, font, left - row_width / 2,
                     cell_top + (ch - len(lines) * style.line) / 2 + k * style.line, INK)
        for ix in range(nx):
            _paste_cell(grid, draw, images[iy * nx + ix], (left + ix * (cw + gap), cell_top), style.cell)
    return grid


def _paste_cell(grid: Image.Image, draw: ImageDraw.ImageDraw, image: Image.Image | None, at: tuple[int, int],
                cell: tuple[int, int]) -> None:
    x, y = at
    if image is None:
        draw.rectangle((x, y, x + cell[0] - 1, y + cell[1] - 1), fill=EMPTY)
        return
    if image.width > cell[0] or image.height > cell[1]:
        image = image.copy()
        image.thumbnail(cell, Image.Resampling.LANCZOS)
    grid.paste(image.convert("RGB"), (x + (cell[0] - image.width) // 2, y + (cell[1] - image.height) // 2))


def _vertical_title(grid: Image.Image, text: str, style: _Style, at: tuple[int, int], height: int) -> None:
    """The Y axis's title, read bottom to top, centred along the rows."""
    strip = Image.new("L", (height, style.title_line), 0)
    _centred(ImageDraw.Draw(strip), text, style.title_font, height / 2, 0, 255)
    strip = strip.rotate(90, expand=True)
    grid.paste(Image.new("RGB", strip.size, TITLE_INK), at, strip)


def _centred(draw: ImageDraw.ImageDraw, text: str, font: Any, x: float, y: float, fill: Any) -> None:
    """``text`` centred on ``x``, its line box starting at ``y``."""
    draw.text((x, y), text, font=font, fill=fill, anchor="ma")


def _wrap(text: str, font: Any, width: float, max_lines: int) -> list[str]:
    """``text`` in lines of at most ``width`` pixels, words kept whole where they fit; past
    ``max_lines`` the last line ends in "…"."""
    width = max(width, font.getlength("W…"))
    lines: list[str] = []
    for word in " ".join(text.split()).split(" "):
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(candidate) <= width:
            lines[-1] = candidate
            continue
        while len(word) > 1 and font.getlength(word) > width:  # wider than a line: broken where it fills one
            cut = next((k for k in range(len(word) - 1, 1, -1) if font.getlength(word[:k]) <= width), 1)
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _ellipsize(lines[-1] + "…", font, width)
    return lines


def _ellipsize(text: str, font: Any, width: float) -> str:
    """``text``, cut to end in "…" where it is wider than ``width``."""
    if font.getlength(text) <= width:
        return text
    text = text.rstrip("…")
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _join(grids: list[Image.Image], stacked: bool, gap: int) -> Image.Image:
    if len(grids) == 1:
        return grids[0]
    if stacked:
        size = (max(g.width for g in grids), sum(g.height for g in grids) + gap * (len(grids) - 1))
    else:
        size = (sum(g.width for g in grids) + gap * (len(grids) - 1), max(g.height for g in grids))
    out = Image.new("RGB", size, BACKGROUND)
    offset = 0
    for grid in grids:
        out.paste(grid, (0, offset) if stacked else (offset, 0))
        offset += (grid.height if stacked else grid.width) + gap
    return out
