"""The engines of this install, for the app's and the CLI's ``EngineRegistry``.

Each factory imports its engine (and torch) when the first job needs it. The diffusers entry's
check reads only the model's config files and the input images' headers, so a scheduler the
model's family cannot use, a model or an image that is not there, is refused when the request is
made rather than after minutes of loading.
"""

from __future__ import annotations

from pathlib import Path

from t2i_studio.core import schedulers
from t2i_studio.core.engine import Engine
from t2i_studio.core.engine_registry import EngineEntry, EngineRegistry
from t2i_studio.core.requests import DEFAULT_ENGINE, STYLE_ENGINE, GenerationRequest, Request, StyleRequest


def _diffusers() -> Engine:
    from t2i_studio.engines.text2image import Text2ImageEngine

    return Text2ImageEngine()


def _style() -> Engine:
    from t2i_studio.engines.style import StyleTransferEngine

    return StyleTransferEngine()


def model_family(request: GenerationRequest) -> str | None:
    """The family of the request's model from its config files (None: not known before loading)."""
    from t2i_studio.engines import checkpoints, models

    model = request.model
    source = models.resolve(model.id, model.revision, model.config, request.run.allow_unsafe_checkpoint)
    if source.family:
        return source.family
    snapshot = models.cached_snapshot(source.id, model.revision) if source.kind == "hub" else None
    return checkpoints.family_from_class(checkpoints.folder_class(snapshot)) if snapshot else None


def readable_image(path: str, what: str) -> None:
    """A missing or unreadable input image: a one-line ValueError before anything heavy loads."""
    from PIL import Image, UnidentifiedImageError

    if not Path(path).is_file():
        raise ValueError(f"{what} image not found: {path}")
    try:
        with Image.open(path) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"{what} image is not an image this app can read: {path} ({exc})") from exc


def check_generation(request: Request) -> None:
    assert isinstance(request, GenerationRequest)
    if request.images.init_image:
        readable_image(request.images.init_image, "Init")
    schedulers.check(request.sampling.scheduler, model_family(request))


def check_style(request: Request) -> None:
    assert isinstance(request, StyleRequest)
    readable_image(request.content, "Content")
    for style in request.styles:
        readable_image(style, "Style")


def local_entries() -> list[EngineEntry]:
    return [
        EngineEntry(DEFAULT_ENGINE, "diffusers (this computer)", "generate", ("txt2img", "img2img"),
                    _diffusers, schedulers=schedulers.NAMES, check=check_generation),
        EngineEntry(STYLE_ENGINE, "VGG19 style transfer", "stylize", ("stylize",), _style, check=check_style),
    ]


def local_registry() -> EngineRegistry:
    return EngineRegistry(local_entries())
