"""The engines of this install, for the app's and the CLI's ``EngineRegistry``.

Each factory imports its engine (and torch) when the first job needs it. The diffusers entry's
check reads only the model's config files and the input images' headers, so a scheduler the
model's family cannot use, a model or an image that is not there, is refused when the request is
made rather than after minutes of loading.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from t2i_studio.core import schedulers
from t2i_studio.core.engine import Engine
from t2i_studio.core.engine_registry import EngineEntry, EngineRegistry
from t2i_studio.core.image_io import check_image
from t2i_studio.core.project_errors import ImageReadError
from t2i_studio.core.requests import (
    DEFAULT_ENGINE, MODES, STYLE_ENGINE, UPSCALE_ENGINE, GenerationRequest, Request, StyleRequest,
)
from t2i_studio.engines import starter
from t2i_studio.engines.edit_checks import check_controls, check_edit
from t2i_studio.engines.ip_adapters import check_references

if TYPE_CHECKING:
    from t2i_studio.engines.comfyui.pool import ServerPool
    from t2i_studio.engines.models import ModelSource

INPAINT_CHANNELS = 9  # latents, the mask and the masked picture's latents


def _diffusers() -> Engine:
    from t2i_studio.engines.text2image import Text2ImageEngine

    return Text2ImageEngine()


def _style() -> Engine:
    from t2i_studio.engines.style import StyleTransferEngine

    return StyleTransferEngine()


def _starter() -> Engine:
    from t2i_studio.engines.starter.engine import StarterEngine

    return StarterEngine()


def check_starter(request: Request) -> None:
    from t2i_studio.engines.starter.engine import check

    assert isinstance(request, GenerationRequest)
    check(request)


def _upscale() -> Engine:
    from t2i_studio.engines.upscale_engine import UpscaleEngine

    return UpscaleEngine()


def check_upscale(request: Request) -> None:
    from t2i_studio.engines.upscalers import check_upscale as check

    check(request)


def local_model(request: GenerationRequest) -> tuple[ModelSource, Path | None]:
    """The request's model and where its files are here (a hub model's cached snapshot; None: not
    downloaded yet)."""
    from t2i_studio.engines import models

    model = request.model
    source = models.resolve(model.id, model.revision, model.config, request.run.allow_unsafe_checkpoint)
    if source.kind == "hub":
        return source, models.cached_snapshot(source.id, model.revision)
    return source, source.path


def model_facts(request: GenerationRequest) -> tuple[str | None, bool]:
    """(the family of the request's model, whether it is an inpainting model) from its config
    files or header (family None: not known before loading)."""
    from t2i_studio.engines import checkpoints

    source, local = local_model(request)
    inpainting = local is not None and checkpoints.unet_in_channels(local) == INPAINT_CHANNELS
    if source.family:
        return source.family, inpainting
    family = checkpoints.family_from_class(checkpoints.folder_class(local)) if local else None
    return family, inpainting


def readable_image(path: str, what: str) -> None:
    """A missing, unreadable or too large input image: a one-line ValueError before anything heavy
    loads (the size from the header, within the app's one pixel limit)."""
    if not Path(path).is_file():
        raise ValueError(f"{what} image not found: {path}")
    try:
        check_image(path)
    except ImageReadError as exc:
        raise ValueError(f"{what} image is not an image this app can read: {exc.user_message()}") from exc


def check_generation(request: Request) -> None:
    assert isinstance(request, GenerationRequest)
    if request.images.init_image:
        readable_image(request.images.init_image, "Init")
    if request.mode != "txt2img" and request.sampling.variation_strength > 0:
        raise ValueError("Variation seeds cannot be combined with an init image yet: set the variation "
                         "strength to 0, or clear the init image.")
    family, inpainting = model_facts(request)
    if inpainting and request.mode not in ("inpaint", "outpaint"):
        raise ValueError(f"{Path(request.model.id).name} is an inpainting model (its UNet takes a mask): use it "
                         "to inpaint or outpaint, or choose another model for this.")
    schedulers.check(request.sampling.scheduler, family)
    check_loras(request, family)
    if request.model.vae:
        from t2i_studio.engines import vaes

        vaes.check(request.model.vae, family, request.run.allow_unsafe_checkpoint)
    check_prompt_options(request, family)
    check_edit(request, family)
    check_controls(request, family)
    check_references(request, family)


def check_loras(request: GenerationRequest, model_family: str | None) -> None:
    """Each LoRA is there, safe to read, and made for the model's family (when both are known); each
    ``<lora:name>`` of the prompt is one of them (the engine reads the tags as nothing but text)."""
    from t2i_studio.core.lora_syntax import find_tags, lora_name
    from t2i_studio.core.settings import loras_dir
    from t2i_studio.engines import loras

    named = {lora_name(a.source).lower() for a in request.model.adapters if a.kind == "lora"}
    loose = [tag.name for tag in find_tags(request.prompt) if tag.name.lower() not in named]
    if loose:
        raise ValueError(f"The prompt names the LoRA {', '.join(loose)}, but no such LoRA is chosen: put its "
                         f"file in the LoRA folder ({loras_dir()}), or remove its tag from the prompt.")
    for adapter in request.model.adapters:
        if adapter.kind != "lora":
            continue
        lora = loras.locate(adapter, request.run.allow_unsafe_checkpoint)
        made_for = loras.family(lora)
        if made_for and model_family in ("sd", "sdxl") and made_for != model_family:
            names = {"sd": "SD 1.x/2.x", "sdxl": "SDXL"}
            raise ValueError(f"{lora.name} is a LoRA for {names[made_for]} models, and the chosen model is "
                             f"{names[model_family]}: choose a LoRA made for it, or another model.")


def check_prompt_options(request: GenerationRequest, model_family: str | None) -> None:
    """Each embedding is there, safe to read and made for the model's family; clip skip only where
    the prompt encoding has it (SD 1.x/2.x, SDXL)."""
    from t2i_studio.engines import textual_inversion
    from t2i_studio.engines.prompt_encoding import FAMILIES

    for adapter in request.model.adapters:
        if adapter.kind == "embedding":
            embedding = textual_inversion.locate(adapter, request.run.allow_unsafe_checkpoint)
            textual_inversion.check_family(embedding, model_family)
    if request.sampling.clip_skip > 1 and model_family not in (None, "unknown", *FAMILIES):
        raise ValueError("Clip skip works with SD 1.x/2.x and SDXL models only: set it to 1 for this model.")


def check_style(request: Request) -> None:
    assert isinstance(request, StyleRequest)
    readable_image(request.content, "Content")
    for style in request.styles:
        readable_image(style, "Style")


def comfyui_entry(pool: ServerPool | None = None) -> EngineEntry:
    """ComfyUI servers: ``pool`` (``--server``), else the servers in the settings."""
    from t2i_studio.core.servers import configured
    from t2i_studio.core.settings import Settings
    from t2i_studio.engines import comfyui
    from t2i_studio.engines.comfyui.pool import ServerPool

    return comfyui.entry(pool if pool is not None else ServerPool(configured(Settings.load())))


def local_entries(pool: ServerPool | None = None) -> list[EngineEntry]:
    return [
        EngineEntry(DEFAULT_ENGINE, "diffusers (this computer)", "generate", MODES,
                    _diffusers, schedulers=schedulers.NAMES, adapters=("lora", "embedding"),
                    check=check_generation, hires=True, controls=True, references=True),
        EngineEntry(STYLE_ENGINE, "VGG19 style transfer", "stylize", ("stylize",), _style, check=check_style),
        EngineEntry(starter.ENGINE, starter.NAME, "generate", ("txt2img",), _starter, check=check_starter),
        EngineEntry(UPSCALE_ENGINE, "Upscaler", "upscale", ("upscale",), _upscale, check=check_upscale),
        comfyui_entry(pool),
    ]


def local_registry(pool: ServerPool | None = None) -> EngineRegistry:
    return EngineRegistry(local_entries(pool))
