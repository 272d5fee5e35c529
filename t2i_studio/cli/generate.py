"""``t2i-studio generate PROMPT``: text-to-image (or img2img) into a project, paths printed."""

from __future__ import annotations

import argparse
from pathlib import Path

from t2i_studio.cli.common import ProgressBar, add_project_arg, print_json, run_and_save
from t2i_studio.core.requests import DEVICES, DTYPES, SCHEDULERS, GenerationRequest, random_seed

_DTYPE_HELP = "auto = fp16 on CUDA/MPS, bf16 on CPUs with native bf16, else fp32"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="make images from a text prompt (saved into a project)")
    p.add_argument("prompt", help="what the image should show")
    p.add_argument("--negative", default="", metavar="TEXT", help="what it should not show")
    p.add_argument("--model", metavar="ID|DIR|FILE",
                   help="Hugging Face id, diffusers folder or .safetensors file "
                        "(default: the last model used)")
    p.add_argument("--revision", help="hub revision (branch, tag or commit) of --model")
    p.add_argument("--config", metavar="DIR",
                   help="diffusers folder with the configs of a single-file checkpoint (offline use)")
    p.add_argument("--seed", type=int, help="seed of the first image (default: random)")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--guidance", type=float, default=7.0, help="CFG scale")
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--height", type=int, default=512)
    p.add_argument("--scheduler", default="Euler a", choices=SCHEDULERS, metavar="NAME",
                   help="one of: " + ", ".join(SCHEDULERS))
    p.add_argument("--batch-size", type=int, default=1, help="images per denoising run")
    p.add_argument("--batch-count", type=int, default=1, help="runs one after another")
    p.add_argument("--variation-seed", type=int)
    p.add_argument("--variation-strength", type=float, default=0.0)
    p.add_argument("--init-image", metavar="PATH", help="start from this image (img2img)")
    p.add_argument("--strength", type=float, default=0.75,
                   help="img2img denoising strength: 0 keeps the init image, 1 ignores it")
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--dtype", default="auto", choices=DTYPES, help=_DTYPE_HELP)
    p.add_argument("--cpu-offload", action="store_true", help="low VRAM: keep idle parts in RAM")
    p.add_argument("--vae-tiling", action="store_true", help="decode large images in tiles")
    p.add_argument("--attention-slicing", action="store_true", help="lower peak memory, slower")
    p.add_argument("--allow-unsafe-checkpoint", action="store_true",
                   help="load pickle checkpoints (.ckpt/.bin/.pt): they can run code; trusted files only")
    add_project_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def build_request(args: argparse.Namespace) -> GenerationRequest:
    from t2i_studio.core.settings import Settings

    model = args.model or Settings.load().last_generation.get("model") or ""
    return GenerationRequest(
        prompt=args.prompt, negative_prompt=args.negative, model=model, model_revision=args.revision,
        model_config=args.config, seed=random_seed() if args.seed is None else args.seed,
        steps=args.steps, guidance=args.guidance, width=args.width, height=args.height,
        scheduler=args.scheduler, batch_size=args.batch_size, batch_count=args.batch_count,
        variation_seed=args.variation_seed, variation_strength=args.variation_strength,
        init_image=args.init_image, strength=args.strength, device=args.device, dtype=args.dtype,
        cpu_offload=args.cpu_offload, vae_tiling=args.vae_tiling,
        attention_slicing=args.attention_slicing, allow_unsafe_checkpoint=args.allow_unsafe_checkpoint,
    ).validate()


def run(args: argparse.Namespace) -> int:
    request = build_request(args)  # ValueError -> one-line error, exit 2 (cli.main)
    if request.init_image and not Path(request.init_image).is_file():
        raise ValueError(f"Init image not found: {request.init_image}")
    from t2i_studio.engines.text2image import Text2ImageEngine

    _, entries, elapsed = run_and_save(Text2ImageEngine(preview_every=0), request,
                                       ProgressBar("generate"), args.project)
    paths = [str(entry.path) for entry in entries]
    if args.json:
        print_json({"images": paths, "seed": request.seed, "elapsed_s": round(elapsed, 3)})
    else:
        for path in paths:
            print(path)
    return 0
