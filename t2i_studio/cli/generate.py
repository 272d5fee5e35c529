"""``t2i-studio generate PROMPT``: text-to-image (img2img, inpaint, outpaint, hires fix) into a
project, paths printed.

Each path is printed the moment its image is saved, so a batch stopped by Ctrl+C (or killed) has
printed, and kept, every image it finished. A dynamic prompt (``{a|b}``, ``__wildcard__``) prints each
path with the prompt its image drew.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from t2i_studio.cli.common import Batch, ProgressBar, add_project_arg, print_json
from t2i_studio.cli.edit_args import add_edit_args, edit_fields
from t2i_studio.core import presets, schedulers, wildcards
from t2i_studio.core.requests import (
    DEFAULT_ENGINE, DEVICES, DTYPES, TEMPLATE_MODES, Adapter, GenerationRequest, ImageInputs, ModelRef,
    RunOptions, Sampling, random_seed,
)
from t2i_studio.core.servers import ENGINE

_DTYPE_HELP = "auto = fp16 on CUDA/MPS, bf16 on CPUs with native bf16, else fp32"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="make images from a text prompt (saved into a project)")
    add_request_args(p)
    p.set_defaults(func=run)


def add_request_args(p: argparse.ArgumentParser) -> None:
    """What ``build_request`` reads (``xyz`` takes the same), the project and ``--json``."""
    p.add_argument("prompt", help="what the image should show")
    p.add_argument("--negative", "--negative-prompt", dest="negative", default="", metavar="TEXT",
                   help="what it should not show")
    p.add_argument("--style", action="append", default=[], metavar="NAME",
                   help="apply a style preset to the prompts (repeatable; see `t2i-studio styles list`)")
    p.add_argument("--wildcards", choices=TEMPLATE_MODES, default="random",
                   help="a prompt with {a|b} choices or __name__ wildcard files: each image draws its own "
                        "prompt with its seed (random), or every combination is made (combinatorial)")
    p.add_argument("--model", metavar="ID|DIR|FILE",
                   help="Hugging Face id, diffusers folder or .safetensors file "
                        "(default: the last model used)")
    p.add_argument("--revision", help="hub revision (branch, tag or commit) of --model")
    for flag, field, what in _FOLDER_FLAGS:
        p.add_argument(flag, type=Path, metavar="DIR", help=f"{what} for this run (default: the preferences')")
    p.add_argument("--lora", action="append", default=[], metavar="FILE[:WEIGHT]", type=lora_arg,
                   help="apply a LoRA (.safetensors file, folder or hub id) at WEIGHT (default 1); "
                        "repeatable. A prompt's <lora:NAME:WEIGHT> tags name the LoRA folder's files (or a "
                        "--lora's)")
    p.add_argument("--config", metavar="DIR",
                   help="diffusers folder with the configs of a single-file checkpoint (offline use)")
    p.add_argument("--vae", metavar="FILE|DIR|NAME",
                   help="a VAE in place of the model's own: a .safetensors file, a diffusers VAE folder, or "
                        "the name of one in the VAE folder")
    p.add_argument("--seed", type=int, help="seed of the first image (default: random)")
    p.add_argument("--steps", type=int, default=Sampling.steps)
    p.add_argument("--guidance", type=float, default=Sampling.guidance, help="CFG scale")
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--height", type=int, default=512)
    p.add_argument("--scheduler", default=schedulers.DEFAULT, choices=schedulers.NAMES, metavar="NAME",
                   help="one of: " + ", ".join(schedulers.NAMES) + " (SD3 and FLUX: Euler)")
    p.add_argument("--batch-size", type=int, default=1, help="images per denoising run")
    p.add_argument("--batch-count", type=int, default=1, help="runs one after another")
    p.add_argument("--variation-seed", type=int)
    p.add_argument("--variation-strength", type=float, default=0.0)
    p.add_argument("--clip-skip", type=int, default=Sampling.clip_skip, metavar="N",
                   help="A1111's clip skip: 2 leaves the text encoder's last layer out (default 1: off)")
    p.add_argument("--init-image", metavar="PATH", help="start from this image (img2img)")
    p.add_argument("--strength", type=float, default=ImageInputs.strength,
                   help="denoising strength from the init image: 0 keeps it, 1 ignores it")
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--dtype", default="auto", choices=DTYPES, help=_DTYPE_HELP)
    p.add_argument("--cpu-offload", action="store_true", help="low VRAM: keep idle parts in RAM")
    p.add_argument("--vae-tiling", action="store_true", help="decode large images in tiles")
    p.add_argument("--attention-slicing", action="store_true", help="lower peak memory, slower")
    p.add_argument("--allow-unsafe-checkpoint", action="store_true",
                   help="load pickle checkpoints (.ckpt/.bin/.pt): they can run code; trusted files only")
    p.add_argument("--server", action="append", metavar="URL",
                   help="run on this ComfyUI server (repeatable: the images are spread over them); "
                        "--model then names one of its checkpoints")
    add_edit_args(p)
    add_project_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object (at the end)")


_FOLDER_FLAGS = (("--loras-dir", "lora_folder", "the LoRA folder (<lora:name> tags, --lora NAME)"),
                 ("--embeddings-dir", "embedding_folder", "the textual-inversion embeddings folder"),
                 ("--wildcards-dir", "wildcard_folder", "the wildcard files' folder (__name__)"),
                 ("--vae-dir", "vae_folder", "the VAE folder (--vae NAME)"))


def lora_arg(text: str) -> Adapter:
    """``FILE[:WEIGHT]`` or ``NAME[:WEIGHT]`` of the LoRA folder: the weight is what follows the last
    colon when it is a number (so ``C:\\x`` works). Names are looked up when the request is built,
    after --loras-dir is known."""
    source, sep, weight = text.rpartition(":")
    try:
        return Adapter(source, weight=float(weight)) if sep and source else Adapter(text)
    except ValueError:
        return Adapter(text)


def _folder_loras(adapters: list[Adapter]) -> tuple[Adapter, ...]:
    """Each --lora that is no path here, as the LoRA folder's file of that name (when there is one)."""
    from t2i_studio.core import lora_library

    known = {f.name.lower(): f.path for f in lora_library.list_loras()}
    return tuple(a if Path(a.source).expanduser().exists() or a.source.lower() not in known
                 else a.replace(source=str(known[a.source.lower()])) for a in adapters)


def vae_arg(text: str) -> str:
    """A path as it is (the check says if nothing is there), else the VAE folder's of that name."""
    from t2i_studio.core.lora_library import find_vae

    found = None if Path(text).expanduser().exists() else find_vae(text)
    return str(found.path) if found else text


def prompt_loras(request: GenerationRequest) -> tuple[Adapter, ...]:
    """The LoRAs of the prompt's ``<lora:name:weight>`` tags (files of the LoRA folders, or a --lora of
    that name, whose weight the tag sets), then the other --lora ones."""
    from t2i_studio.core import lora_library, lora_syntax

    if not lora_syntax.find_tags(request.prompt):
        return request.model.adapters
    known = lora_library.known(lora_library.list_loras())
    resolved = lora_syntax.resolve(request.prompt, known, request.model.adapters)
    if resolved.problems:
        raise ValueError(resolved.problems[0])
    if resolved.unknown:
        raise ValueError(lora_library.unknown_message(resolved.unknown, "pass the file with --lora FILE"))
    return resolved.adapters


def build_request(args: argparse.Namespace) -> GenerationRequest:
    from t2i_studio.core.settings import use_folders

    given = {field: getattr(args, flag[2:].replace("-", "_")) for flag, field, _what in _FOLDER_FLAGS}
    use_folders({field: folder for field, folder in given.items() if folder is not None})
    from t2i_studio.core.embeddings import with_embeddings
    from t2i_studio.core.requests import request_from_dict
    from t2i_studio.core.settings import Settings, embeddings_dir

    model = args.model  # --model "" is no model (an error), not "the last one"
    if model is None and Settings.load().last_generation:
        try:
            model = request_from_dict(Settings.load().last_generation).model.id
        except ValueError:  # a damaged settings file: no default model
            model = ""
    request = GenerationRequest(
        prompt=args.prompt, negative_prompt=args.negative, template_mode=args.wildcards,
        width=args.width, height=args.height,
        model=ModelRef(model or "", args.revision, args.config, _folder_loras(args.lora),
                       vae=vae_arg(args.vae) if args.vae else None),
        sampling=Sampling(steps=args.steps, guidance=args.guidance, scheduler=args.scheduler,
                          seed=random_seed() if args.seed is None else args.seed,
                          batch_size=args.batch_size, batch_count=args.batch_count,
                          variation_seed=args.variation_seed, variation_strength=args.variation_strength,
                          clip_skip=args.clip_skip),
        **edit_fields(args),
        run=RunOptions(device=args.device, dtype=args.dtype, cpu_offload=args.cpu_offload,
                       vae_tiling=args.vae_tiling, attention_slicing=args.attention_slicing,
                       allow_unsafe_checkpoint=args.allow_unsafe_checkpoint, preview_every=0),
        engine=ENGINE if args.server else DEFAULT_ENGINE,
    )
    request = wildcards.with_template(presets.apply(request, presets.find(args.style) if args.style else ()))
    request = request.replace(model=request.model.replace(adapters=prompt_loras(request)))
    # the embeddings the prompts name, by file (ComfyUI servers have their own)
    return request if args.server else with_embeddings(request, embeddings_dir())


def run(args: argparse.Namespace) -> int:
    request = build_request(args)
    dynamic = wildcards.is_dynamic(request)

    def show(entry) -> None:
        if not args.json:
            print(f"{entry.path}\t{entry.prompt}" if dynamic else entry.path, flush=True)

    registry = server_registry(args.server) if args.server else None
    batch = Batch(request, args.project, ProgressBar("generate"), show, registry)
    try:
        batch.run()  # ValueError / StudioError -> one-line error, exit 2 (cli.main)
    except KeyboardInterrupt:
        done = len(batch.entries)
        print(f"Interrupted: {done} of {wildcards.image_count(request)} image(s) saved.", file=sys.stderr)
        if args.json:
            print_json(_summary(batch, request, dynamic) | {"interrupted": True})
        return 130
    if args.json:
        print_json(_summary(batch, request, dynamic))
    return 0


def server_registry(urls: list[str]):
    """A registry whose ComfyUI engine uses these servers (with their saved auth, if set up)."""
    from t2i_studio.core.servers import ServerConfig, configured, find
    from t2i_studio.core.settings import Settings
    from t2i_studio.engines.comfyui.pool import ServerPool
    from t2i_studio.engines.registry import local_registry

    known = configured(Settings.load())
    return local_registry(ServerPool([find(known, url) or ServerConfig(url) for url in urls]))


def _summary(batch: Batch, request: GenerationRequest, dynamic: bool) -> dict:
    summary = {"images": [str(e.path) for e in batch.entries], "seed": request.sampling.seed,
               "elapsed_s": round(batch.elapsed, 3)}
    if dynamic:  # each image drew its own prompts from the template
        summary |= {"template": request.template,
                    "saved": [{"path": str(e.path), "seed": e.seed, "prompt": e.prompt,
                               "negative_prompt": e.negative_prompt} for e in batch.entries]}
    return summary
