"""``t2i-studio control-map IMAGE --preprocessor canny --out FILE``: the ControlNet control map of a
picture (canny edges, line art, scribble), to look at or to give a ControlNet as it is."""

from __future__ import annotations

import argparse
import io

from t2i_studio.cli.common import checked_out, print_json
from t2i_studio.core.atomic import write_atomic
from t2i_studio.core.control_maps import PREPROCESSORS, MapOptions
from t2i_studio.core.project_errors import os_error_message


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("control-map", help="make a ControlNet control map (edges, line art, scribble) of a picture")
    p.add_argument("image", help="the picture: a photo or render (canny), a drawing (lineart), a sketch (scribble)")
    p.add_argument("--preprocessor", choices=PREPROCESSORS, default="canny")
    p.add_argument("--low", type=int, default=MapOptions.low, help="canny: the low threshold (0-255)")
    p.add_argument("--high", type=int, default=MapOptions.high, help="canny: the high threshold (0-255)")
    p.add_argument("--threshold", type=int, default=MapOptions.threshold,
                   help="lineart/scribble: the grey level between line and paper (0-255)")
    p.add_argument("--thin", action="store_true", help="lineart: thin the lines to one pixel")
    p.add_argument("--stroke", type=int, default=MapOptions.stroke, help="scribble: stroke width, pixels")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the map (.png)")
    p.add_argument("--overwrite", action="store_true", help="let --out replace an existing file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from PIL import Image

    from t2i_studio.core.control_maps import control_map
    from t2i_studio.core.image_io import load_image

    options = MapOptions(args.low, args.high, args.threshold, args.thin, args.stroke)
    options.validate()  # before the picture is read
    out = checked_out(args.out, args.overwrite)
    made = control_map(load_image(args.image), args.preprocessor, options)
    buffer = io.BytesIO()
    made.save(buffer, format=Image.registered_extensions()[out.suffix.lower()])
    try:
        write_atomic(out, buffer.getvalue(), overwrite=args.overwrite)
    except OSError as exc:
        raise os_error_message(exc, f"write --out {out}") from exc
    if args.json:
        print_json({"out": str(out), "preprocessor": args.preprocessor, "size": list(made.size)})
    else:
        print(out)
    return 0
