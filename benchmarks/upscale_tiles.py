"""Model upscale, tiled vs untiled: peak memory and time of a 4x upscale of a 1024 px picture.

The model is a Real-ESRGAN Compact the size of ``realesr-general-x4v3`` (64 features, 32 convs), with
random weights (they cost what trained ones do). Each side runs in its own child process, so each peak
is its own: the growth of the process's peak RSS (``getrusage``) over its RSS once the model is loaded
and warm. The tiled side uses the app's default tile (512 px, 32 overlap). Figures:

- ``tiled_peak_mem_ratio``: tiled peak / untiled peak (target <= 0.35)
- ``tiled_time_ratio``: tiled time / untiled time (target <= 1.2; the overlaps are computed twice)

Each side runs ``--reps`` times, the two taking turns, and the best run of each counts.

``--quick``: a 256 px picture, 128 px tiles, 8 px overlap (the same 3x3 layout), for ``make bench``.
Usage: ``python benchmarks/upscale_tiles.py [--quick] [--device cpu|cuda]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import arg_parser, emit

FEATURES, CONVS, SCALE = 64, 32, 4


def build(folder: Path, size: int) -> tuple[str, str]:
    """The model file and a picture with detail everywhere (gradients, discs, fine noise)."""
    import numpy as np
    import torch
    from PIL import Image
    from safetensors.torch import save_file

    from t2i_studio.engines.upscalers import import_spandrel

    import_spandrel()
    from spandrel.architectures.Compact import Compact

    torch.manual_seed(0)
    model = Compact(num_in_ch=3, num_out_ch=3, num_feat=FEATURES, num_conv=CONVS, upscale=SCALE)
    model_file = folder / "compact-4x.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(model_file))
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    rgb = np.stack([0.3 + 0.5 * xx, 0.4 + 0.4 * yy, 0.6 - 0.3 * xx], -1)
    for cx, cy, r in rng.random((12, 3)):
        rgb[(xx - cx) ** 2 + (yy - cy) ** 2 < (r / 5) ** 2] = rng.random(3)
    rgb += 0.05 * rng.standard_normal(rgb.shape).astype(np.float32)
    Image.fromarray((rgb.clip(0, 1) * 255).astype(np.uint8)).save(folder / "picture.png")
    return str(model_file), str(folder / "picture.png")


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def child(args: argparse.Namespace) -> dict:
    import torch
    from PIL import Image

    from t2i_studio.engines import devices, upscalers

    device = devices.choose_device(args.device)
    path = upscalers.check_upscaler(args.model)
    picture = Image.open(args.picture).convert("RGB")
    target = (picture.width * SCALE, picture.height * SCALE)
    small = picture.crop((0, 0, 64, 64))
    upscalers.upscale_image(small, str(path), (256, 256), tile=0, device=device)  # load and warm up
    devices.free_memory(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated() if device.type == "cuda" else _rss()
    started = time.perf_counter()
    upscalers.upscale_image(picture, str(path), target, tile=args.tile, overlap=args.overlap, device=device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    # the warm-up's peak is far below either run's, so the process's peak is this run's
    peak = (torch.cuda.max_memory_allocated() if device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return {"seconds": seconds, "peak_mb": (peak - base) / 2**20, "device": devices.device_name(device)}


def main() -> int:
    parser = arg_parser(__doc__.splitlines()[0], "a 256 px picture, 128 px tiles (under a minute)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--picture", help=argparse.SUPPRESS)
    parser.add_argument("--tile", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--overlap", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--reps", type=int, help="runs of each side, taking turns; the best counts (default 3, "
                                                 "--quick 2)")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    if args.child:
        print(json.dumps(child(args)))
        return 0
    size, tile = (256, 128) if args.quick else (1024, 512)
    reps = args.reps or (2 if args.quick else 3)
    overlap = 32 * size // 1024  # --quick: the same layout, shrunk
    runs: dict[str, list[dict]] = {"untiled": [], "tiled": []}
    with tempfile.TemporaryDirectory() as tmp:
        model, picture = build(Path(tmp), size)
        for _ in range(reps):  # taking turns, so a busy spell of the machine slows both sides alike
            for side, side_tile in (("untiled", 0), ("tiled", tile)):
                cmd = [sys.executable, __file__, "--child", "--model", model, "--picture", picture, "--device",
                       args.device, "--tile", str(side_tile), "--overlap", str(overlap if side_tile else 0)]
                out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
                if out.returncode != 0:
                    print(out.stderr, file=sys.stderr)
                    return 1
                runs[side].append(json.loads(out.stdout.strip().splitlines()[-1]))
    # the best of each: another program on the machine only ever adds time (and resident memory)
    whole, tiled = ({"seconds": min(r["seconds"] for r in side), "peak_mb": min(r["peak_mb"] for r in side),
                     "device": side[0]["device"]} for side in (runs["untiled"], runs["tiled"]))
    device = tiled["device"]
    import torch

    params = {"size": size, "scale": SCALE, "tile": tile, "overlap": overlap,
              "model": f"Compact {FEATURES}nf {CONVS}nc (random weights)",
              "untiled_peak_mb": round(whole["peak_mb"], 1), "tiled_peak_mb": round(tiled["peak_mb"], 1),
              "untiled_s": round(whole["seconds"], 2), "tiled_s": round(tiled["seconds"], 2), "reps": reps,
              "threads": torch.get_num_threads()}
    emit("upscale_tiles", "tiled_peak_mem_ratio", round(tiled["peak_mb"] / max(whole["peak_mb"], 1e-6), 3),
         unit="ratio", target=0.35, device=device, params=params)
    emit("upscale_tiles", "tiled_time_ratio", round(tiled["seconds"] / whole["seconds"], 3), unit="ratio",
         target=1.2, device=device, params=params)
    return 0


if __name__ == "__main__":
    sys.exit(main())
