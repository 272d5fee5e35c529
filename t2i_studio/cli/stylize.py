"""``t2i-studio stylize CONTENT STYLE [STYLE ...]``: VGG19 neural style transfer into a project."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

from t2i_studio.cli.common import Batch, ProgressBar, add_project_arg, checked_out, print_json
from t2i_studio.core.atomic import write_atomic
from t2i_studio.core.project_errors import os_error_message
from t2i_studio.core.requests import DEVICES, DTYPES, QUALITY_PRESETS, RunOptions, StyleRequest


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stylize", help="restyle an image after one or more style images (saved into a project)")
    p.add_argument("content", help="the image to restyle")
    p.add_argument("styles", nargs="+", metavar="STYLE", help="style image(s)")
    p.add_argument("--style-weights", type=float, nargs="+", metavar="W",
                   help="blend weight of each style image (default: equal)")
    p.add_argument("--style-strength", type=float, default=0.5, metavar="F",
                   help="0..1: 0 returns the content image, 1 is the strongest style (default 0.5)")
    p.add_argument("--content-fidelity", type=float, default=0.5, metavar="F",
                   help="0..1: how closely the content's shapes are kept (default 0.5)")
    p.add_argument("--smoothness", type=float, default=0.1, metavar="F",
                   help="0..1: calms noisy strokes (total variation; default 0.1)")
    p.add_argument("--preserve-colors", action="store_true",
                   help="keep the content's colours: transfer on luminance only")
    p.add_argument("--style-scale", type=float, default=1.0, metavar="F",
                   help="0.1..4: brush-stroke size (style image scale relative to the output)")
    p.add_argument("--size", type=int, default=512, metavar="N", help="long edge of the output, pixels")
    p.add_argument("--quality", default="normal", choices=QUALITY_PRESETS, help="iteration preset")
    p.add_argument("--iterations", type=int, metavar="N", help="total iterations (overrides --quality)")
    p.add_argument("--init", default="content", choices=("content", "noise"), help="start image")
    p.add_argument("--optimizer", default="lbfgs", choices=("lbfgs", "adam"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--vgg-weights", default="imagenet", metavar="imagenet|random|PATH",
                   help="VGG19 weights: imagenet (downloaded once, cached), random (offline, lower "
                        "quality) or a torchvision-layout .pth/.safetensors file")
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--dtype", default="auto", choices=DTYPES, help="auto = fp32 on CPU, bf16/fp16 autocast on CUDA")
    add_project_arg(p)
    p.add_argument("--out", metavar="FILE", help="also write the image to FILE (format from its extension)")
    p.add_argument("--overwrite", action="store_true", help="let --out replace an existing file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def build_request(args: argparse.Namespace) -> StyleRequest:
    return StyleRequest(
        content=str(Path(args.content).expanduser()), styles=tuple(str(Path(s).expanduser()) for s in args.styles),
        style_weights=tuple(args.style_weights or ()), style_strength=args.style_strength,
        content_fidelity=args.content_fidelity, smoothness=args.smoothness, preserve_colors=args.preserve_colors,
        style_scale=args.style_scale, size=args.size, quality=args.quality, iterations=args.iterations,
        init=args.init, seed=args.seed, optimizer=args.optimizer, vgg_weights=args.vgg_weights,
        run=RunOptions(device=args.device, dtype=args.dtype, preview_every=0),
    )


class _Bars:
    """One bar for the one-time weights download (bytes), one for the iterations."""

    def __init__(self) -> None:
        self.download: ProgressBar | None = None
        self.stylize = ProgressBar("stylize")

    def on_event(self, event) -> None:  # noqa: ANN001 - a core.jobs.JobEvent
        if event.text.startswith("Downloading"):
            if self.download is None:
                self.download = ProgressBar("VGG19 weights")
            self.download.update(event.step, event.total, unit="B")
            return
        if self.download is not None:
            self.download.close()
            self.download = None
        self.stylize.on_event(event)

    def close(self) -> None:
        if self.download is not None:
            self.download.close()
        self.stylize.close()


def run(args: argparse.Namespace) -> int:
    request = build_request(args)
    from t2i_studio.engines.vgg import RANDOM_LABEL

    out = checked_out(args.out, args.overwrite) if args.out else None  # before minutes of work
    batch = Batch(request, args.project, _Bars())
    batch.check()  # ValueError -> one-line error, exit 2 (cli.main), before the note
    if request.vgg_weights == "random":
        print(f"note: using {RANDOM_LABEL}; pass --vgg-weights imagenet for the real thing.", file=sys.stderr)
    result = batch.run()  # StudioError -> one-line error, exit 2
    entries, elapsed = batch.entries, batch.elapsed
    paths = [str(entry.path) for entry in entries]
    if out is not None:
        _write_out(out, paths[0] if paths else None, result.images[0], args.overwrite)
    if args.json:
        print_json({"images": paths, "out": out, "entries": [e.id for e in entries], "seed": request.seed,
                    "vgg": result.fingerprint.get("vgg"), "lower_quality": request.vgg_weights == "random",
                    "elapsed_s": round(elapsed, 3)})
    else:
        for path in paths:
            print(path)
        if out:
            print(out)
    return 0


def _write_out(out: Path, saved_png: str | None, image: Any, overwrite: bool) -> None:
    from PIL import Image

    if out.suffix.lower() == ".png" and saved_png:
        data = Path(saved_png).read_bytes()  # the project's PNG, metadata included
    else:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format=Image.registered_extensions()[out.suffix.lower()])
        data = buffer.getvalue()
    try:
        write_atomic(out, data, overwrite=overwrite)
    except FileExistsError:  # made by someone else during the run
        raise ValueError(f"--out {out} appeared during the run; the image is in the project, not there.") from None
    except OSError as exc:
        raise os_error_message(exc, f"write --out {out}") from exc
