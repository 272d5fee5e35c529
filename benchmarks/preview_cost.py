"""Live-preview cost: the latent->RGB preview (what the engine draws every few steps) against one
UNet step of an SD1.5-sized UNet at 256 px. Prints ``preview_over_step`` (target < 0.05)."""

from __future__ import annotations

import statistics
import time

from _common import arg_parser, emit


def main() -> None:
    args = arg_parser(__doc__).parse_args()
    import torch

    from cpu_dtype import build_unet, time_step, unet_inputs
    from t2i_studio.engines.previews import Previewer

    reps = 2 if args.quick else 5
    step = time_step(build_unet(), unet_inputs(256), reps)
    previewer = Previewer("sd", 4)
    latents = torch.randn((2, 4, 32, 32))
    previewer(latents)
    times = []
    for _ in range(50):
        start = time.perf_counter()
        previewer(latents)
        times.append(time.perf_counter() - start)
    preview = statistics.median(times)
    params = {"size": 256, "step_s": round(step, 4), "preview_ms": round(preview * 1000, 3),
              "method": "linear", "threads": torch.get_num_threads()}
    emit("preview_cost", "preview_over_step", round(preview / step, 5), unit="ratio", target=0.05,
         params=params)


if __name__ == "__main__":
    main()
