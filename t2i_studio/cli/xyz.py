"""``t2i-studio xyz PROMPT --x steps=10,20,30 --y "cfg=4-8 [3]" [--z ...]``: an X/Y/Z plot (A1111's
script) into a project, each cell's image and then the labelled grid printed as it is saved.

The base request takes generate's options (model, size, seed, LoRAs, init image…); each cell is that
request with its axes' values, one image each (``core.xyz``).
"""

from __future__ import annotations

import argparse
import sys

from t2i_studio.cli.common import Batch, ProgressBar, print_json
from t2i_studio.cli.generate import add_request_args, build_request, server_registry
from t2i_studio.core.xyz import Plot
from t2i_studio.core.xyz_axes import KINDS, Axis, parse_axis

_AXIS_HELP = (f"KIND=VALUES, KIND one of {', '.join(KINDS)} (lora2 for the second LoRA); VALUES a comma list "
              "(quote a value that holds commas), a range 1-5, 1-10 (+2) (a step) or 0.5-1 [3] (a count)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("xyz", help="sweep up to three settings into a labelled grid (A1111's X/Y/Z plot)",
                       description="Make one image per combination of the axes' values, each saved with its "
                                   "own settings, then a grid of them with the values as headers. Prompt S/R "
                                   "replaces its first value in the prompt by each value in turn.")
    add_request_args(p)
    p.add_argument("--x", type=_axis, required=True, metavar="KIND=VALUES", help="the columns: " + _AXIS_HELP)
    p.add_argument("--y", type=_axis, metavar="KIND=VALUES", help="the rows")
    p.add_argument("--z", type=_axis, metavar="KIND=VALUES", help="one grid per value, in one image")
    p.add_argument("--z-stacked", action="store_true",
                   help="put the Z grids one under another (default: side by side)")
    p.set_defaults(func=run)


def _axis(text: str) -> Axis:
    try:
        return parse_axis(text)
    except ValueError as exc:  # argparse shows this message (a plain ValueError would read "invalid value")
        raise argparse.ArgumentTypeError(str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    axes = tuple(axis for axis in (args.x, args.y, args.z) if axis is not None)
    plot = Plot(build_request(args), axes, "stacked" if args.z_stacked else "side")

    def show(entry) -> None:
        if not args.json:
            print(entry.path, flush=True)

    registry = server_registry(args.server) if args.server else None
    batch = Batch(plot, args.project, ProgressBar("xyz"), show, registry)
    try:
        batch.run()  # ValueError / StudioError -> one-line error, exit 2 (cli.main)
    except KeyboardInterrupt:
        print(f"Interrupted: {len(batch.entries)} of {plot.image_count - 1} cell(s) saved, no grid.",
              file=sys.stderr)
        if args.json:
            print_json(_summary(batch, plot) | {"interrupted": True})
        return 130
    if args.json:
        print_json(_summary(batch, plot))
    return 0


def _summary(batch: Batch, plot: Plot) -> dict:
    grids = [str(e.path) for e in batch.entries if e.kind == "grid"]
    return {"cells": [str(e.path) for e in batch.entries if e.kind != "grid"],
            "grid": grids[0] if grids else None,
            "shape": list(plot.shape), "axes": [f"{t}: {a.text()}" for t, a in zip(plot.titles(), plot.axes)],
            "seed": plot.base.sampling.seed, "elapsed_s": round(batch.elapsed, 3)}
