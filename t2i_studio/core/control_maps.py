"""Control maps for ControlNet, made locally with OpenCV and no extra weights: the picture a
ControlNet is conditioned on, white structure on black, three channels.

- canny: Canny edges of a photo or render, with its two hysteresis thresholds;
- lineart: the lines of a drawing (dark on light, or light on dark), optionally thinned to one pixel;
- scribble: a rough sketch as the bold strokes scribble ControlNets were trained on;
- none: the picture is already a control map (a depth or pose map), used as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from t2i_studio.core.requests import CONTROL_PREPROCESSORS as PREPROCESSORS, Control


@dataclass(frozen=True)
class MapOptions:
    low: int = Control.canny_low  # canny: weaker edges are dropped unless they touch a strong one
    high: int = Control.canny_high  # canny: edges this strong are always kept
    threshold: int = 128  # lineart/scribble: grey level between line and paper
    thin: bool = False  # lineart: skeletonise to one-pixel lines
    stroke: int = 5  # scribble: the strokes' width, pixels

    def validate(self) -> None:
        for name, value in (("Canny low threshold", self.low), ("Canny high threshold", self.high),
                            ("Line threshold", self.threshold)):
            if not isinstance(value, int) or not 0 <= value <= 255:
                raise ValueError(f"{name} must be a whole number from 0 to 255, got {value!r}.")
        if self.low > self.high:
            raise ValueError(f"The Canny low threshold ({self.low}) must not be above the high one ({self.high}).")
        if not isinstance(self.stroke, int) or not 1 <= self.stroke <= 64:
            raise ValueError(f"Scribble stroke width must be from 1 to 64 pixels, got {self.stroke!r}.")


def control_map(image: Image.Image, preprocessor: str, options: MapOptions | None = None) -> Image.Image:
    """The control map of ``image`` (RGB, same size) made by ``preprocessor``."""
    import cv2

    options = options or MapOptions()
    options.validate()
    if preprocessor not in PREPROCESSORS:
        raise ValueError(f"Preprocessor must be one of {', '.join(PREPROCESSORS)}; got {preprocessor!r}.")
    if preprocessor == "none":
        return image.convert("RGB")
    grey = np.asarray(image.convert("L"))
    if preprocessor == "canny":
        lines = cv2.Canny(grey, options.low, options.high)
    else:
        lines = _lines(grey, options.threshold)
        if preprocessor == "scribble":
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (options.stroke, options.stroke))
            lines = cv2.dilate(lines, kernel)
        elif options.thin:
            lines = _skeleton(lines)
    return Image.fromarray(lines, "L").convert("RGB")


def map_for(control: Control, image: Image.Image) -> Image.Image:
    """The control map a request's ``control`` makes of its picture ``image`` (what the engine is given
    and the prompt panel previews)."""
    return control_map(image, control.preprocessor, MapOptions(low=control.canny_low, high=control.canny_high))


def _lines(grey: Any, threshold: int) -> Any:
    """White lines on black, whichever way the drawing is: the minority side of the threshold is ink."""
    import cv2

    _, dark = cv2.threshold(grey, threshold, 255, cv2.THRESH_BINARY_INV)
    return dark if np.count_nonzero(dark) <= dark.size / 2 else 255 - dark


def _skeleton(lines: Any) -> Any:
    """Morphological skeleton: peel the strokes until one-pixel lines remain (their centres)."""
    import cv2

    kernel = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    remaining, skeleton = lines.copy(), np.zeros_like(lines)
    while np.count_nonzero(remaining):
        opened = cv2.dilate(cv2.erode(remaining, kernel), kernel)
        skeleton |= cv2.subtract(remaining, opened)
        remaining = cv2.erode(remaining, kernel)
    return skeleton
