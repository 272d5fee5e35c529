"""UNet step time, fp32 vs bf16, on an SD1.5-sized UNet built from its config (random weights time
the same as real ones), 256 px (32x32 latents), CFG batch of 2. Prints ``bf16_speedup`` (higher is
better; the engine's CPU ``auto`` dtype picks bf16 only on CPUs with native bf16)."""

from __future__ import annotations

import statistics
import time

from _common import arg_parser, emit

SD15_UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
    block_out_channels=(320, 640, 1280, 1280), cross_attention_dim=768, attention_head_dim=8,
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
)


def build_unet():
    """SD1.5's UNet (860M parameters) with small random weights, built fast on the CPU."""
    import torch
    from accelerate import init_empty_weights
    from diffusers import UNet2DConditionModel

    with init_empty_weights():
        unet = UNet2DConditionModel(**SD15_UNET)
    unet = unet.to_empty(device="cpu")
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in unet.parameters():
            p.normal_(0.0, 0.02, generator=generator)
    return unet.eval()


def unet_inputs(size: int = 256, dtype=None):
    import torch

    g = torch.Generator().manual_seed(1)
    latents = torch.randn((2, 4, size // 8, size // 8), generator=g)
    text = torch.randn((2, 77, 768), generator=g)
    t = torch.tensor([500, 500])
    if dtype is not None:
        latents, text = latents.to(dtype), text.to(dtype)
    return latents, t, text


def time_step(unet, inputs, reps: int) -> float:
    import torch

    with torch.inference_mode():
        unet(*inputs)  # warm-up
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            unet(*inputs)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    args = arg_parser(__doc__).parse_args()
    import torch

    from t2i_studio.engines.devices import cpu_has_native_bf16

    reps = 2 if args.quick else 5
    unet = build_unet()
    fp32 = time_step(unet, unet_inputs(256), reps)
    unet = unet.to(torch.bfloat16)  # noqa: the benchmark casts on purpose
    bf16 = time_step(unet, unet_inputs(256, torch.bfloat16), reps)
    params = {"size": 256, "batch": 2, "reps": reps, "threads": torch.get_num_threads(),
              "native_bf16": cpu_has_native_bf16(), "fp32_s": round(fp32, 3), "bf16_s": round(bf16, 3)}
    emit("cpu_dtype", "bf16_speedup", round(fp32 / bf16, 3), unit="ratio", target=1.0, better="higher",
         params=params)


if __name__ == "__main__":
    main()
