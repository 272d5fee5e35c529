"""``t2i-studio upscale IMAGE…``: enlarge pictures by a factor, to a size, or for a print size, into a
project (the dpi written into the file); ``t2i-studio upscalers list|add|remove``: the upscaler library.

``--sd-upscale`` instead redraws the enlarged picture tile by tile with a text-to-image model
(a ``GenerationRequest`` of mode ``sd_upscale``), adding detail the upscaler cannot.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from t2i_studio.cli.common import Batch, ProgressBar, add_project_arg, print_json
from t2i_studio.cli.edit_args import _size as size_arg
from t2i_studio.core.requests import (
    DEFAULT_ENGINE, DEVICES, LANCZOS, GenerationRequest, ImageInputs, ModelRef, Request, RunOptions, Sampling,
    Upscale, UpscaleRequest, random_seed,
)

PRINT_DPI = 300  # --print without --dpi
SD_STRENGTH = 0.3  # SD upscale redraws detail, not the picture
_UNSAFE_HELP = "load pickle upscalers (.pth/.ckpt/.pt): they can run code; trusted files only"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("upscale",
                       help="enlarge pictures by a factor or for a print size (saved into a project)")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="the picture(s) to enlarge")
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument("--scale", type=float, metavar="N", help="enlarge N times (1 to 8)")
    size.add_argument("--print", dest="paper", metavar="PAPER",
                      help="fit a paper at --dpi: A5, A4, A3, Letter, Legal, Tabloid, or WxH with a unit "
                           "(20x30cm, 8x10in); it turns to the picture's orientation")
    size.add_argument("--size", type=size_arg, metavar="WxH", help="exactly W x H pixels")
    p.add_argument("--dpi", type=int, metavar="N",
                   help=f"print resolution, written into the file (--print: default {PRINT_DPI})")
    p.add_argument("--upscaler", default=LANCZOS, metavar="NAME",
                   help="lanczos (default), an upscaler model file (ESRGAN, Real-ESRGAN, SwinIR, …), or the "
                        "name of one in the library (t2i-studio upscalers list)")
    p.add_argument("--tile", type=int, default=Upscale.tile, metavar="N",
                   help="a model's tile, source pixels (smaller: less memory); 0: the whole picture at once")
    p.add_argument("--overlap", type=int, metavar="N",
                   help="tile overlap, pixels (default: 32, at most tile/4)")
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--allow-unsafe-checkpoint", action="store_true", help=_UNSAFE_HELP)
    add_project_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object (at the end)")
    sd = p.add_argument_group("SD upscale", "after the upscaler, redraw the picture tile by tile with a "
                                            "text-to-image model")
    sd.add_argument("--sd-upscale", action="store_true", help="turn SD upscale on")
    sd.add_argument("--model", metavar="ID|DIR|FILE",
                    help="the model (default: the picture's own, else the last used)")
    sd.add_argument("--prompt", help="what the picture shows (default: the prompt in its metadata)")
    sd.add_argument("--strength", type=float, default=SD_STRENGTH, metavar="S",
                    help=f"denoising strength: 0 keeps the enlarged picture (default {SD_STRENGTH})")
    sd.add_argument("--steps", type=int, default=Sampling.steps, metavar="N")
    sd.add_argument("--seed", type=int, help="default: the picture's own, else random")
    sd.add_argument("--sd-tile", type=int, default=512, metavar="N", help="the redrawn tiles' size, pixels")
    p.set_defaults(func=run)

    lib = sub.add_parser("upscalers", help="the upscaler library: list, add or remove upscaler models")
    actions = lib.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the upscalers in the library, with architecture and factor")
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.set_defaults(func=list_command)
    add = actions.add_parser("add", help="copy an upscaler model file into the library (checked first)")
    add.add_argument("file", help="a .safetensors upscaler (or .pth/.ckpt/.pt with --allow-unsafe-checkpoint)")
    add.add_argument("--allow-unsafe-checkpoint", action="store_true", help=_UNSAFE_HELP)
    add.set_defaults(func=add_command)
    remove = actions.add_parser("remove", help="delete an upscaler from the library")
    remove.add_argument("name", help="its name, as `upscalers list` shows it")
    remove.set_defaults(func=remove_command)


def _upscale(args: argparse.Namespace, image: str) -> Upscale:
    from t2i_studio.core.print_sizes import parse_paper, print_target
    from t2i_studio.engines.registry import readable_image
    from t2i_studio.engines.upscalers import oriented_size

    upscaler = args.upscaler
    if Path(upscaler).expanduser().is_file():  # a file by its full path, so the request finds it again
        upscaler = str(Path(upscaler).expanduser().resolve())
    overlap = min(Upscale.overlap, args.tile // 4) if args.overlap is None else args.overlap
    common: dict[str, Any] = {"upscaler": upscaler, "tile": args.tile, "overlap": overlap, "dpi": args.dpi}
    if args.scale is not None:
        return Upscale(scale=args.scale, **common)
    readable_image(image, "Source")
    source = oriented_size(image)
    if args.paper:
        common["dpi"] = args.dpi or PRINT_DPI
        width, height = print_target(source, parse_paper(args.paper), common["dpi"])
    else:
        width, height = args.size
    ratio = max(width / source[0], height / source[1])  # the factor it amounts to, for the record
    return Upscale(scale=min(8.0, max(1.0, round(ratio, 2))), width=width, height=height, **common)


def build_requests(args: argparse.Namespace) -> list[Request]:
    """One request per image: an UpscaleRequest, or with --sd-upscale an SD upscale generation."""
    if not args.sd_upscale:
        given = [flag for flag, value in (("--model", args.model), ("--prompt", args.prompt),
                                          ("--seed", args.seed)) if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)} belong to SD upscale: add --sd-upscale, or leave them out.")
    run = RunOptions(device=args.device, allow_unsafe_checkpoint=args.allow_unsafe_checkpoint, preview_every=0)
    requests: list[Request] = []
    for image in args.images:
        source = str(Path(image).expanduser())
        upscale = _upscale(args, source)
        requests.append(_sd_upscale(args, source, upscale, run) if args.sd_upscale
                        else UpscaleRequest(source, upscale, run=run))
    return requests


def _sd_upscale(args: argparse.Namespace, image: str, upscale: Upscale, run: RunOptions) -> GenerationRequest:
    """The picture's own prompt, negative prompt, model and seed unless given."""
    from t2i_studio.core.metadata import read_metadata
    from t2i_studio.core.requests import request_from_dict
    from t2i_studio.core.settings import Settings

    own = read_metadata(image).request
    own = own if isinstance(own, GenerationRequest) else None
    prompt = args.prompt if args.prompt is not None else (own.prompt if own else "")
    if not prompt.strip():
        raise ValueError(f"SD upscale needs a prompt: {Path(image).name} has none in its metadata; "
                         "pass --prompt.")
    model = ModelRef(args.model) if args.model else (own.model if own else None)
    if model is None:  # as generate does: the last model used
        try:
            model = ModelRef(request_from_dict(Settings.load().last_generation).model.id)
        except ValueError:  # none yet, or a damaged settings file: the request says to choose one
            model = ModelRef()
    seed = args.seed if args.seed is not None else (own.sampling.seed if own else random_seed())
    sampling = (own.sampling if own else Sampling()).replace(
        steps=args.steps, seed=seed, batch_size=1, batch_count=1, variation_seed=None, variation_strength=0.0)
    return GenerationRequest(
        prompt=prompt, negative_prompt=own.negative_prompt if own and args.prompt is None else "",
        mode="sd_upscale", width=args.sd_tile, height=args.sd_tile, model=model, sampling=sampling,
        images=ImageInputs(init_image=image, strength=args.strength), upscale=upscale, run=run,
        engine=DEFAULT_ENGINE)


def run(args: argparse.Namespace) -> int:
    requests = build_requests(args)

    def show(entry: Any) -> None:
        if not args.json:
            print(entry.path, flush=True)

    batches = [Batch(request, args.project, ProgressBar("upscale"), show) for request in requests]
    for batch in batches:  # every picture checked before the first one runs
        batch.check()
    try:
        for batch in batches:
            batch.run()  # StudioError -> one-line error, exit 2 (cli.main)
    except KeyboardInterrupt:
        done = sum(len(b.entries) for b in batches)
        print(f"Interrupted: {done} of {len(batches)} picture(s) saved.", file=sys.stderr)
        return 130
    if args.json:
        print_json({"images": [str(e.path) for b in batches for e in b.entries],
                    "entries": [e.id for b in batches for e in b.entries],
                    "elapsed_s": round(sum(b.elapsed for b in batches), 3)})
    return 0


# -- the library -----------------------------------------------------------------------------------

def list_command(args: argparse.Namespace) -> int:
    from t2i_studio.core.errors import describe
    from t2i_studio.core.settings import upscalers_dir
    from t2i_studio.core.upscaler_library import list_upscalers
    from t2i_studio.engines import checkpoints
    from t2i_studio.engines.upscalers import describe_upscaler

    rows = []
    for found in list_upscalers():
        row: dict[str, Any] = {"name": found.name, "path": str(found.path), "size_bytes": found.size_bytes}
        if checkpoints.sniff(found.path) != "safetensors":
            row["note"] = "pickle file: it loads only with --allow-unsafe-checkpoint"
        else:
            try:
                info = describe_upscaler(found.path)
                row |= {"architecture": info["architecture"], "scale": info["scale"]}
            except Exception as exc:  # noqa: BLE001 - one bad file must not hide the others
                row["note"] = describe(exc).text
        rows.append(row)
    if args.json:
        print_json({"folder": str(upscalers_dir()), "upscalers": rows})
        return 0
    if not rows:
        print(f"No upscalers in {upscalers_dir()}: add one with `t2i-studio upscalers add FILE`.")
    for row in rows:
        what = f"{row['architecture']} {row['scale']}x" if "architecture" in row else row["note"]
        print(f"{row['name']}\t{what}\t{row['size_bytes'] / 2**20:.1f} MB")
    return 0


def add_command(args: argparse.Namespace) -> int:
    from t2i_studio.core.upscaler_library import add_upscaler
    from t2i_studio.engines.upscalers import describe_upscaler

    info: dict[str, Any] = {}
    added = add_upscaler(args.file, validate=lambda path: info.update(
        describe_upscaler(path, allow_unsafe=args.allow_unsafe_checkpoint)))
    print(f"Added {added.name} ({info['architecture']} {info['scale']}x) as {added.path}")
    return 0


def remove_command(args: argparse.Namespace) -> int:
    from t2i_studio.core.upscaler_library import remove_upscaler

    removed = remove_upscaler(args.name)
    print(f"Removed {removed.name} ({removed.path})")
    return 0
