"""UNet step time with one LoRA active against none, on an SD1.5-sized UNet built from its config
(random weights time the same as real ones), 256 px (32x32 latents), CFG batch of 2.

The LoRA is a kohya-layout file of rank 32 on every attention and feed-forward projection (what
Civitai LoRAs commonly hold), loaded through the engine's ``LoraSet`` (fused while the set and weights
stay) and, for comparison, left unfused as peft runs it by default. Steps with and without the LoRA
are taken in turns and timed in this process's CPU time, on one torch thread by default, so drift
and other programs on a busy machine weigh on neither. Prints ``fused_over_base``
(target <= 1.05), ``unfused_over_base`` (what fusing saves), and ``exact_after_removal`` (1: with the
LoRA removed the UNet gives the base model's output bit for bit).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import arg_parser, emit
from cpu_dtype import build_unet, unet_inputs

ROOT = Path(__file__).resolve().parents[1]
RANK = 32
TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "ff.net.0.proj", "ff.net.2")


def write_lora(unet, path: Path) -> None:
    """A kohya-layout LoRA (lora_down/lora_up/alpha) of rank RANK on the UNet's target projections."""
    import torch
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(2)
    tensors = {}
    for name, module in unet.named_modules():
        if isinstance(module, torch.nn.Linear) and name.endswith(TARGETS):
            key = "lora_unet_" + name.replace(".", "_")
            down = torch.randn(RANK, module.in_features, generator=generator)
            up = torch.randn(module.out_features, RANK, generator=generator)
            tensors[f"{key}.lora_down.weight"], tensors[f"{key}.lora_up.weight"] = down * 0.01, up * 0.01
            tensors[f"{key}.alpha"] = torch.tensor(float(RANK))
    save_file(tensors, str(path))


def paired(base, other, inputs, reps: int) -> tuple[float, float, float]:
    """Steps of ``base`` and ``other`` taken in turns, the order swapped each time: (median ratio
    other/base, median base s, median other s), in CPU seconds."""
    import torch

    ratios, times = [], {id(base): [], id(other): []}
    with torch.inference_mode():
        base(*inputs), other(*inputs)  # warm-up
        for k in range(reps):
            took = {}
            for unet in (base, other) if k % 2 == 0 else (other, base):
                start = time.process_time()
                unet(*inputs)
                took[id(unet)] = time.process_time() - start
                times[id(unet)].append(took[id(unet)])
            ratios.append(took[id(other)] / took[id(base)])
    return statistics.median(ratios), statistics.median(times[id(base)]), statistics.median(times[id(other)])


def main() -> None:
    parser = arg_parser(__doc__, "128 px and 3 repetitions: about a minute on 2 CPU cores")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: CPU time is step time)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    import copy

    import tiny_models
    import torch
    from diffusers import StableDiffusionPipeline

    from t2i_studio.core.requests import Adapter
    from t2i_studio.engines.loras import LoraSet

    torch.set_num_threads(args.threads)
    size, reps = (128, 3) if args.quick else (256, 6)
    inputs = unet_inputs(size)
    with tempfile.TemporaryDirectory(prefix="t2i-bench-") as tmp:
        work = Path(tmp)
        pipe = StableDiffusionPipeline.from_pretrained(str(tiny_models.build_sd(work / "tiny")),
                                                       local_files_only=True)
        pipe.unet = build_unet()  # the tiny pipeline's text encoder and VAE around SD1.5's UNet
        base = copy.deepcopy(pipe.unet)  # the base model, stepped in turns with the one carrying the LoRA
        lora = work / "detail.safetensors"
        write_lora(pipe.unet, lora)

        pipe.load_lora_weights(str(lora), adapter_name="raw")  # peft's default: the LoRA beside each layer
        pipe.set_adapters(["raw"], [0.8])
        unfused, base_s, unfused_s = paired(base, pipe.unet, inputs, reps)
        pipe.unload_lora_weights()

        loras = LoraSet()
        start = time.process_time()
        loras.apply(pipe, (Adapter(str(lora), weight=0.8),), allow_unsafe=False)
        apply_s = time.process_time() - start
        fused, _base_s, fused_s = paired(base, pipe.unet, inputs, reps)
        loras.apply(pipe, (), allow_unsafe=False)
        with torch.inference_mode():
            exact = torch.equal(pipe.unet(*inputs).sample, base(*inputs).sample)
    params = {"size": size, "batch": 2, "reps": reps, "rank": RANK, "threads": torch.get_num_threads(),
              "base_s": round(base_s, 3), "fused_s": round(fused_s, 3), "unfused_s": round(unfused_s, 3),
              "load_and_fuse_s": round(apply_s, 2)}
    emit("lora_step_time", "fused_over_base", round(fused, 3), unit="ratio", target=1.05, params=params)
    emit("lora_step_time", "unfused_over_base", round(unfused, 3), unit="ratio", params=params)
    emit("lora_step_time", "exact_after_removal", int(exact), unit="bool", target=1, better="higher",
         params=params)


if __name__ == "__main__":
    main()
