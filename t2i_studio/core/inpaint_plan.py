"""What an inpainting or outpainting pass works on, and how its result goes back into the picture,
for every engine (the local diffusers one, ComfyUI servers).

The area to redo is the whole picture or, for "only masked", a crop around the mask and its feather
grown to the model's aspect ratio; it is scaled to the size the model works at. The result is
scaled back and pasted over the source through the feathered mask, so every pixel outside the mask
and its feather is the source's exactly (the VAE round trip never touches them). Outpainting first
extends the canvas; its mask is zero over the original, so the original comes back untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import Image

from t2i_studio.core import masks
from t2i_studio.core.requests import GenerationRequest


@dataclass(frozen=True)
class InpaintPlan:
    source: Any  # the picture results are pasted into (for outpainting, the grown canvas)
    start: Any  # what the model starts from, at the size it works at
    mask: Any  # the model's mask ("L", white: redo), same size as ``start``
    feathered: Any  # the paste mask over ``source``
    box: tuple[int, int, int, int] | None  # the crop of "only masked"

    def finish(self, made: Any) -> Any:
        return masks.composite(self.source, made, self.feathered, self.box)


def plan_inpaint(request: GenerationRequest, init: Any) -> InpaintPlan:
    images = request.images
    if request.mode == "outpaint":
        source, feathered = masks.outpaint_canvas(init, images.outpaint, images.outpaint_fill,
                                                  request.sampling.seed)
        mask, box, work = feathered, None, masks.round_to(source.size)
    else:
        source = init
        mask = masks.load_mask(images.mask or "", images.init_image or "", init.size)
        masks.check_not_empty(mask)
        feathered = masks.feather(mask, images.mask_blur)
        work = (request.width, request.height)
        # as A1111: the crop holds the whole feather; a whole-picture paste doubles the feather so the
        # painted area is all new and the blend falls outside it
        if images.inpaint_area == "masked":
            box = masks.crop_region(feathered, images.padding, work, init.size)
        else:
            box, feathered = None, masks.overlay_mask(feathered)
    start = masked_content(source, mask, images.masked_content, request.sampling.seed)
    model_mask = feathered
    if box is not None:
        start, model_mask = start.crop(box), model_mask.crop(box)
    return InpaintPlan(source, start.resize(work, Image.Resampling.LANCZOS),
                       model_mask.resize(work, Image.Resampling.BILINEAR), feathered, box)


def masked_content(image: Any, mask: Any, content: str, seed: int) -> Any:
    """What the masked area starts from: the picture ("original"), colours spread from around it
    ("fill"), or seeded noise ("latent_noise", drawn in pixels: the inpainting pipelines take a
    picture, not latents, to start from)."""
    if content == "fill":
        return masks.fill_masked(image, mask)
    if content == "latent_noise":
        import numpy as np

        noise = np.random.default_rng(seed).integers(0, 256, (image.height, image.width, 3), dtype=np.uint8)
        return Image.composite(Image.fromarray(noise, "RGB"), image, mask.point(lambda v: 255 if v else 0))
    return image
