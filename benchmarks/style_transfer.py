"""Style transfer: the engine's default preset (multi-scale) vs plain single-scale Gatys.

The reference is written here: one scale (the full output size), init from the content image,
300 L-BFGS iterations (the engine's trust-region L-BFGS, so only the schedule differs), on the
very same objective (the engine's layers, weights and per-layer normalised losses at the default
sliders), the same images, size and VGG weights, in the same run. Figures:

- ``speedup_to_reference_loss``: reference time / time the engine needs until its full-size loss
  is at or below the reference's final loss (target >= 4). ``null`` if the preset never gets there.
- ``peak_mem_ratio``: engine peak / reference peak (CUDA: max allocated; CPU: sampled RSS growth).

Each side runs in its own child process so peak memory is its own. ``--quick`` uses 128 px.
Usage: ``python benchmarks/style_transfer.py [--quick] [--size N] [--device cpu|cuda] [--vgg-weights W]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import arg_parser, emit

REFERENCE_ITERATIONS = 300


def make_images(folder: Path, size: int) -> tuple[str, str]:
    """Deterministic content (shapes, gradients) and style (multi-scale coloured strokes) images."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    content = np.stack([0.3 + 0.5 * xx, 0.4 + 0.3 * yy, 0.6 - 0.3 * xx], -1)
    for cx, cy, r, col in ((0.3, 0.35, 0.18, (0.9, 0.7, 0.3)), (0.7, 0.6, 0.22, (0.2, 0.5, 0.3))):
        content[((xx - cx) ** 2 + (yy - cy) ** 2) < r * r] = col
    content[(np.abs(yy - 0.85) < 0.05) & (xx > 0.1) & (xx < 0.9)] = (0.1, 0.1, 0.3)
    style = np.zeros((size, size, 3), np.float32)
    for freq, weight in ((6, 0.5), (17, 0.3), (41, 0.2)):
        phase = rng.random(3) * 6.28
        for c in range(3):
            style[..., c] += weight * (0.5 + 0.5 * np.sin(freq * (xx * np.cos(c) + yy * np.sin(c + 1)) + phase[c]))
    style += 0.1 * rng.random(style.shape).astype(np.float32)
    paths = []
    for name, array in (("content.png", content), ("style.png", style)):
        path = folder / name
        Image.fromarray((array.clip(0, 1) * 255).astype(np.uint8)).save(path)
        paths.append(str(path))
    return paths[0], paths[1]


class PeakMemory:
    """Peak memory growth during a block: CUDA max allocated, or sampled process RSS on the CPU."""

    def __init__(self, device) -> None:
        self.device = device
        self.peak = 0

    def __enter__(self) -> PeakMemory:
        import psutil
        import torch

        if self.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
            return self
        self.proc, self.base, self.stop = psutil.Process(), psutil.Process().memory_info().rss, False
        self.peak = self.base

        def sample() -> None:
            while not self.stop:
                self.peak = max(self.peak, self.proc.memory_info().rss)
                time.sleep(0.005)

        self.thread = threading.Thread(target=sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        import torch

        if self.device.type == "cuda":
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated()
        else:
            self.stop = True
            self.thread.join()
            self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) / 2**20


def child(args: argparse.Namespace) -> dict:
    import torch

    from t2i_studio.core.engine import CancelToken
    from t2i_studio.core.requests import RunOptions, StyleRequest
    from t2i_studio.engines import style_color as colors
    from t2i_studio.engines import style_losses as losses
    from t2i_studio.engines.devices import choose_device
    from t2i_studio.engines.style import StyleTransferEngine, lbfgs_history
    from t2i_studio.engines.style_lbfgs import TrustLBFGS

    torch.manual_seed(0)
    request = StyleRequest(args.content, (args.style,), size=args.size, vgg_weights=args.vgg_weights,
                           run=RunOptions(device=args.device, dtype="fp32"))
    device = choose_device(request.run.device)
    engine = StyleTransferEngine()
    vgg, _ = engine._load(request.vgg_weights, device, lambda p: None)  # loading is not timed
    trace: list[tuple[float, float]] = []
    if args.child == "engine":
        with PeakMemory(device) as mem:
            engine.run(request, lambda p: None, CancelToken())
        final = engine.last_trace[-1]["scale"]
        trace = [(row["loss"], row["time"]) for row in engine.last_trace if row["scale"] == final]
        return {"trace": trace, "mem_mb": mem.growth_mb, "iterations": len(engine.last_trace)}
    # The plain reference: one scale, 300 L-BFGS iterations from the content image.
    from PIL import Image

    weights = losses.weights_for(request.style_strength, request.content_fidelity, request.smoothness)
    nullctx = __import__("contextlib").nullcontext
    with PeakMemory(device) as mem:
        started = time.perf_counter()
        content = colors.load_rgb(Image.open(args.content), args.size).to(device)
        style = colors.load_rgb(Image.open(args.style), args.size).to(device)
        targets = losses.make_targets(vgg, content, [style], [1.0], nullctx)
        x = content.clone().contiguous().requires_grad_(True)
        optimizer = TrustLBFGS(x, history_size=lbfgs_history(x.numel(), device))

        def closure():
            x.grad = None
            loss, _ = losses.objective(vgg, x, targets, weights, nullctx)
            loss.backward()
            return loss

        for _ in range(REFERENCE_ITERATIONS):
            loss = optimizer.step(closure)
            trace.append((loss, time.perf_counter() - started))
    return {"trace": trace, "mem_mb": mem.growth_mb, "iterations": REFERENCE_ITERATIONS}


def main() -> int:
    parser = arg_parser(__doc__.splitlines()[0], "128 px (under a few minutes on 2 CPU cores)")
    parser.add_argument("--size", type=int, help="long edge (default 256, --quick 128)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--vgg-weights", default=None,
                        help="default: imagenet when cached, else random (reported either way)")
    parser.add_argument("--child", choices=("reference", "engine"), help=argparse.SUPPRESS)
    parser.add_argument("--content", help=argparse.SUPPRESS)
    parser.add_argument("--style", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    if args.child:
        print(json.dumps(child(args)))
        return 0
    size = args.size or (128 if args.quick else 256)
    weights = args.vgg_weights
    if weights is None:
        from t2i_studio.engines.vgg import features_cache_path

        weights = "imagenet" if features_cache_path().is_file() else "random"
    from t2i_studio.engines.devices import choose_device

    device = choose_device(args.device)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        content, style = make_images(Path(tmp), 512)
        for side in ("reference", "engine"):
            cmd = [sys.executable, __file__, "--child", side, "--content", content, "--style", style,
                   "--size", str(size), "--device", device.type, "--vgg-weights", weights]
            out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
            if out.returncode != 0:
                print(out.stderr, file=sys.stderr)
                return 1
            results[side] = json.loads(out.stdout.strip().splitlines()[-1])
    ref, eng = results["reference"], results["engine"]
    ref_loss, ref_time = ref["trace"][-1]
    reached = next((t for loss, t in eng["trace"] if loss <= ref_loss), None)
    params = {"size": size, "vgg_weights": weights, "reference_iterations": REFERENCE_ITERATIONS,
              "engine_iterations": eng["iterations"], "reference_final_loss": round(ref_loss, 5),
              "engine_final_loss": round(eng["trace"][-1][0], 5), "reference_s": round(ref_time, 2),
              "engine_total_s": round(eng["trace"][-1][1], 2),
              "engine_s_to_reference_loss": None if reached is None else round(reached, 2),
              "threads": __import__("torch").get_num_threads()}
    emit("style_transfer", "speedup_to_reference_loss", None if reached is None else round(ref_time / reached, 3),
         unit="ratio", target=4.0, better="higher", device=str(device), params=params)
    emit("style_transfer", "peak_mem_ratio", round(eng["mem_mb"] / max(ref["mem_mb"], 1e-6), 3), unit="ratio",
         target=1.0, device=str(device), params={**params, "engine_peak_mb": round(eng["mem_mb"], 1),
                                                 "reference_peak_mb": round(ref["mem_mb"], 1)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
