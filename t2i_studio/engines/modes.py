"""Each request mode as diffusers passes of the engine (``Text2ImageEngine.denoise``/``decode``).

- txt2img, with A1111's hires fix: the base pass, an upscale (of the latents, or of the decoded
  picture by Lanczos or a model upscaler), then an img2img pass at the target size;
- img2img: the init image fitted to the request's size;
- inpaint and outpaint: the pass on what ``core.inpaint_plan`` prepares, pasted back by it, so
  every pixel outside the mask and its feather is the source's exactly;
- SD upscale: the picture enlarged by an upscaler, then refined tile by tile with img2img, the
  overlapping tiles blended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PIL import Image

from t2i_studio.core.inpaint_plan import plan_inpaint
from t2i_studio.core.requests import LATENT_UPSCALER, GenerationRequest
from t2i_studio.engines.steps import StepCounter, planned_steps

if TYPE_CHECKING:
    from t2i_studio.engines.text2image import Text2ImageEngine

LANCZOS = Image.Resampling.LANCZOS


def text_to_image(engine: Text2ImageEngine, request: GenerationRequest, _init: Any, seeds: list[int],
                  steps: StepCounter) -> list[Any]:
    size = (request.width, request.height)
    latents = engine.denoise(request, seeds, steps)
    hires = request.hires
    if hires is None:
        return engine.decode(latents, size)
    target = hires.target(*size)
    steps.message = f"Hires fix: {size[0]}×{size[1]} → {target[0]}×{target[1]}"
    if hires.upscaler == LATENT_UPSCALER:
        import torch

        factor = int(getattr(engine.pipe, "vae_scale_factor", 8))
        start: Any = torch.nn.functional.interpolate(
            latents, size=(target[1] // factor, target[0] // factor), mode="bilinear")
    else:
        start = [_upscale(engine, request, image, hires.upscaler, target, steps)
                 for image in engine.decode(latents, size)]
    latents = engine.denoise(request, seeds, steps, mode="img2img", size=target, image=start,
                             strength=hires.strength, num_steps=hires.steps or request.sampling.steps)
    return engine.decode(latents, target)


def image_to_image(engine: Text2ImageEngine, request: GenerationRequest, init: Any, seeds: list[int],
                   steps: StepCounter) -> list[Any]:
    size = (request.width, request.height)
    start = init if init.size == size else init.resize(size, LANCZOS)
    latents = engine.denoise(request, seeds, steps, mode="img2img", image=[start] * len(seeds),
                             strength=request.images.strength)
    return engine.decode(latents, size)


def inpaint(engine: Text2ImageEngine, request: GenerationRequest, init: Any, seeds: list[int],
            steps: StepCounter) -> list[Any]:
    plan = plan_inpaint(request, init)
    n = len(seeds)
    latents = engine.denoise(request, seeds, steps, mode="inpaint", size=plan.start.size, image=[plan.start] * n,
                             mask=[plan.mask] * n, strength=request.images.strength)
    return [plan.finish(made) for made in engine.decode(latents, plan.start.size)]


def sd_upscale(engine: Text2ImageEngine, request: GenerationRequest, init: Any, seeds: list[int],
               steps: StepCounter) -> list[Any]:
    from t2i_studio.engines import upscalers

    upscale = request.upscale
    assert upscale is not None
    target = upscale.target(*init.size)
    big = _upscale(engine, request, init, upscale.upscaler, target, steps, tile=upscale.tile,
                   overlap=upscale.overlap)
    tile = (request.width, request.height)
    boxes = upscalers.tile_boxes(big.size, tile, upscale.overlap)
    steps.plan(planned_steps(request, tiles=len(boxes) * len(seeds)))
    out = []
    for k, seed in enumerate(seeds):
        made = []
        for t, box in enumerate(boxes):
            steps.message = f"SD upscale: tile {t + 1}/{len(boxes)}" + (f", image {k + 1}" if len(seeds) > 1 else "")
            latents = engine.denoise(request, [seed], steps, mode="img2img", size=tile,
                                     image=[big.crop(box)], strength=request.images.strength)
            made.append(engine.decode(latents, tile)[0])
        out.append(upscalers.blend_tiles(made, boxes, big.size))
    return out


def _upscale(engine: Text2ImageEngine, request: GenerationRequest, image: Any, upscaler: str,
             target: tuple[int, int], steps: StepCounter, **tiling: int) -> Any:
    from t2i_studio.engines import upscalers

    label = steps.message

    def on_tile(done: int, total: int) -> None:
        steps.message = f"{label} · upscaling, tile {done}/{total}" if label else f"Upscaling: tile {done}/{total}"
        steps.report()

    try:
        return upscalers.upscale_image(image, upscaler, target, **tiling, device=engine.device,
                                       allow_unsafe=request.run.allow_unsafe_checkpoint, on_tile=on_tile,
                                       cancel=steps.cancel)
    finally:
        steps.message = label
