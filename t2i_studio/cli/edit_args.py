"""``generate``'s options for inpainting, outpainting, ControlNet, IP-Adapter (``reference_args``) and
hires fix, and the request parts they make."""

from __future__ import annotations

import argparse
import re
from typing import Any

from t2i_studio.cli.reference_args import add_reference_args, references
from t2i_studio.core.requests import (
    ALPHA_MASK, CONTROL_PREPROCESSORS, INPAINT_AREAS, LATENT_UPSCALER, MASKED_CONTENT, OUTPAINT_FILLS, Control,
    Hires, ImageInputs,
)

_RATIO = re.compile(r"^\s*(\d+)\s*[:x/]\s*(\d+)\s*$")


def add_edit_args(p: argparse.ArgumentParser) -> None:
    edit = p.add_argument_group("inpainting and outpainting (with --init-image)")
    edit.add_argument("--mask", metavar="FILE|alpha",
                      help="inpaint where this mask is white; 'alpha': where the init image is transparent")
    edit.add_argument("--mask-blur", type=int, default=ImageInputs.mask_blur, metavar="N",
                      help="feather the mask's edge by N pixels")
    edit.add_argument("--inpaint-area", choices=INPAINT_AREAS, default=ImageInputs.inpaint_area,
                      help="masked: work on a crop around the mask at --width x --height (small touch-ups of "
                           "large images), then paste it back")
    edit.add_argument("--padding", type=int, default=ImageInputs.padding, metavar="PX",
                      help="--inpaint-area masked: pixels of context around the mask")
    edit.add_argument("--masked-content", choices=MASKED_CONTENT, default=ImageInputs.masked_content,
                      help="what the masked area starts from")
    edit.add_argument("--outpaint", type=_sides, metavar="L,R,T,B",
                      help="extend the init image by these pixels on the left, right, top and bottom")
    edit.add_argument("--outpaint-aspect", type=_ratio, metavar="W:H",
                      help="extend the init image to this aspect ratio (evenly on both sides)")
    edit.add_argument("--outpaint-fill", choices=OUTPAINT_FILLS, default=ImageInputs.outpaint_fill,
                      help="how the new area starts: stretched edges (blurred) or noise")
    control = p.add_argument_group("ControlNet (txt2img, img2img, inpainting)")
    control.add_argument("--control", action="append", default=[], type=_control, metavar="IMAGE:PRE:W[:START:END]",
                         help="steer by a picture: PRE is canny, lineart, scribble or none (already a map); W the "
                              "weight (0-2); START/END the fraction of the steps (default 0:1); repeatable")
    control.add_argument("--control-model", action="append", default=[], metavar="ID|DIR|FILE",
                         help="the ControlNet of each --control, in order (one for all when given once)")
    add_reference_args(p)
    hires = p.add_argument_group("hires fix (text-to-image: a second pass at a larger size)")
    hires.add_argument("--hires-scale", type=float, metavar="X", help="upscale the first pass by X (1-4)")
    hires.add_argument("--hires-size", type=_size, metavar="WxH", help="or to this size")
    hires.add_argument("--hires-steps", type=int, default=0, metavar="N", help="second-pass steps (0: as --steps)")
    hires.add_argument("--hires-strength", type=float, default=Hires.strength, metavar="S",
                       help="second-pass denoising strength")
    hires.add_argument("--hires-upscaler", default=LATENT_UPSCALER, metavar="NAME",
                       help="latent, lanczos, or an upscaler model (file or name in the upscaler library)")


def edit_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The request's ``mode``, ``images`` and ``hires`` from the options (the init image read for
    --outpaint-aspect)."""
    mode = "img2img" if args.init_image else "txt2img"
    sides = args.outpaint or (0, 0, 0, 0)
    if args.outpaint_aspect and args.init_image:
        from t2i_studio.core import masks
        from t2i_studio.core.image_io import read_raw

        raw = read_raw(args.init_image)
        sides = masks.sides_for_aspect((raw.width, raw.height), args.outpaint_aspect)
    if args.mask:
        mode = "inpaint"
    elif args.outpaint or args.outpaint_aspect:
        mode = "outpaint"
    mask = args.mask if args.mask in (None, ALPHA_MASK) else str(args.mask)
    images = ImageInputs(args.init_image, args.strength, mask=mask, mask_blur=args.mask_blur,
                         inpaint_area=args.inpaint_area, padding=args.padding,
                         masked_content=args.masked_content, outpaint=sides, outpaint_fill=args.outpaint_fill,
                         controls=_controls(args.control, args.control_model), references=references(args))
    hires = None
    if args.hires_scale is not None or args.hires_size:
        width, height = args.hires_size or (0, 0)
        hires = Hires(scale=args.hires_scale or Hires.scale, width=width, height=height,
                      upscaler=args.hires_upscaler, steps=args.hires_steps, strength=args.hires_strength)
    return {"mode": mode, "images": images, "hires": hires}


def _control(text: str) -> Control:
    """``IMAGE:PRE:W[:START:END]``, read from the right so that ``C:\\sketch.png`` keeps its colon."""
    parts = text.split(":")
    for count in (4, 2):  # PRE:W:START:END, or PRE:W
        if len(parts) > count and parts[-count] in CONTROL_PREPROCESSORS:
            try:
                numbers = [float(v) for v in parts[-count + 1:]]
            except ValueError:
                break
            start, end = (numbers[1], numbers[2]) if count == 4 else (0.0, 1.0)
            return Control(":".join(parts[:-count]), "", parts[-count], numbers[0], start, end)
    raise argparse.ArgumentTypeError(f"give IMAGE:PREPROCESSOR:WEIGHT[:START:END] with a preprocessor of "
                                     f"{', '.join(CONTROL_PREPROCESSORS)}: got {text!r}")


def _controls(controls: list[Control], models: list[str]) -> tuple[Control, ...]:
    if controls and models and len(models) not in (1, len(controls)):
        raise ValueError(f"Give one --control-model for all {len(controls)} --control pictures, or one each "
                         f"(got {len(models)}).")
    return tuple(c.replace(model=models[0] if len(models) == 1 else models[k]) if models else c
                 for k, c in enumerate(controls))


def _sides(text: str) -> tuple[int, int, int, int]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"give four whole numbers of pixels, left,right,top,bottom: got {text!r}")
    left, right, top, bottom = (int(p) for p in parts)
    return left, right, top, bottom


def _ratio(text: str) -> tuple[int, int]:
    match = _RATIO.match(text)
    if not match or not int(match.group(1)) or not int(match.group(2)):
        raise argparse.ArgumentTypeError(f"give an aspect ratio such as 16:9 or 3:2, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def _size(text: str) -> tuple[int, int]:
    match = _RATIO.match(text.replace("×", "x"))
    if not match:
        raise argparse.ArgumentTypeError(f"give a size as WIDTHxHEIGHT, such as 1024x768: got {text!r}")
    return int(match.group(1)), int(match.group(2))
