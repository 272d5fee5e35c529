#!/usr/bin/env python3
"""Render the application icon PNGs from the SVG source with Qt's SVG renderer.

    python scripts/make_icons.py [--check]

The SVG (``t2i_studio/resources/icons/io.github.t2istudio.T2IStudio.svg``) is the source of truth;
this writes ``hicolor/<N>x<N>/apps/io.github.t2istudio.T2IStudio.png`` next to it for every size
of the freedesktop icon theme layout. ``--check`` renders to memory and exits 1 when a committed PNG
differs (same Qt version gives the same bytes). Runs offscreen; needs PySide6 (QtSvg is part of
PySide6-Essentials).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from _generated import write_or_check

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "t2i_studio" / "resources" / "icons"
APP_ID = "io.github.t2istudio.T2IStudio"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def png_path(size: int, icons: Path = ICONS) -> Path:
    return icons / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"


def render(svg: Path, size: int) -> bytes:
    """The SVG drawn into a transparent ``size``×``size`` image, as PNG bytes (max compression)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # For PNG, Qt maps quality 0 to the strongest zlib compression.
    if not image.convertToFormat(QImage.Format.Format_ARGB32).save(buffer, "PNG", 0):
        raise SystemExit(f"cannot encode the {size}px icon")
    buffer.close()
    return bytes(data.data())


def same_pixels(committed: bytes, generated: bytes) -> bool:
    """Qt's antialiasing rounds differently by CPU (SIMD paths): up to 2 levels a channel is the
    same icon."""
    import io

    import numpy as np
    from PIL import Image

    a, b = (np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"), dtype=np.int16)
            for data in (committed, generated))
    return a.shape == b.shape and int(np.abs(a - b).max(initial=0)) <= 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed PNGs instead of writing them")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (fonts, screens)
    svg = ICONS / f"{APP_ID}.svg"
    outputs = ((png_path(size), render(svg, size)) for size in SIZES)
    return write_or_check(outputs, args.check, "make_icons.py", same_pixels)

if __name__ == "__main__":
    sys.exit(main())
