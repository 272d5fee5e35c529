"""The checks of the editing modes (inpaint, outpaint, hires fix, SD upscale) that read only image
headers, masks and file names: a bad mask or size is refused when the request is made, for every
engine that runs these modes."""

from __future__ import annotations

from t2i_studio.core.requests import LANCZOS, LATENT_UPSCALER, MAX_SIDE, GenerationRequest


def check_edit(request: GenerationRequest, family: str | None, local_upscalers: bool = True) -> None:
    """Masks, canvas sizes and upscalers of the editing modes, before any weights load;
    ``local_upscalers``: upscaler models are files here (not a server's own names)."""
    from PIL import Image

    from t2i_studio.core import masks

    images = request.images
    if request.mode in ("inpaint", "outpaint", "sd_upscale"):
        with Image.open(images.init_image or "") as opened:  # readable_image checked it
            size = opened.size
    if request.mode == "inpaint":
        masks.check_not_empty(masks.load_mask(images.mask or "", images.init_image or "", size))
    if request.mode == "outpaint":
        left, right, top, bottom = images.outpaint
        wide, high = size[0] + left + right, size[1] + top + bottom
        if max(wide, high) > MAX_SIDE:
            raise ValueError(f"Outpainting would make a {wide}×{high} picture; the most is {MAX_SIDE} on a side: "
                             "add fewer pixels.")
    hires = request.hires
    if hires is not None and hires.upscaler == LATENT_UPSCALER and family == "flux":
        raise ValueError("FLUX packs its latents, so the latent hires upscaler cannot enlarge them: choose "
                         "Lanczos or an upscaler model.")
    if request.mode == "sd_upscale" and request.upscale is not None:
        from t2i_studio.engines.upscalers import check_upscale_to

        check_upscale_to(size, request.upscale, request.run.allow_unsafe_checkpoint)  # size and memory
        target = request.upscale.target(*size)
        if target[0] < request.width or target[1] < request.height:
            raise ValueError(f"SD upscale to {target[0]}×{target[1]} is smaller than its {request.width}×"
                             f"{request.height} tiles: upscale more, or choose smaller tiles.")
    if local_upscalers and hires is not None and hires.upscaler not in (LATENT_UPSCALER, LANCZOS):
        from t2i_studio.engines.upscalers import check_upscaler

        check_upscaler(hires.upscaler, request.run.allow_unsafe_checkpoint)


def check_controls(request: GenerationRequest, family: str | None) -> None:
    """Each control picture can be read and each ControlNet is there and made for the model's family
    (from config files and safetensors headers alone)."""
    from pathlib import Path

    from t2i_studio.core.catalog import family_name
    from t2i_studio.engines import checkpoints, controlnet_files
    from t2i_studio.engines.registry import readable_image

    for control in request.images.controls:
        readable_image(control.image, "Control")
        local = Path(control.model).expanduser()
        where: Path | None = local
        if not local.exists():
            if "/" not in control.model or control.model.startswith((".", "/", "~")):
                raise ValueError(f"ControlNet not found: {control.model}")
            where = controlnet_files.cached(control.model, None)  # a hub id; not cached: its download says
        pickle = where is not None and where.is_file() and checkpoints.sniff(where) != "safetensors"
        if where is None or pickle or family not in ("sd", "sdxl"):
            continue  # not cached (its download checks), a pickle (its loader refuses it unless allowed)
        made_for = controlnet_files.family(where)
        named = local.name if where is local else control.model  # a hub snapshot's folder is a commit hash
        if made_for is None:
            raise ValueError(f"{named} is not a ControlNet (neither a diffusers ControlNet folder nor a "
                             "ControlNet .safetensors file).")
        if made_for != family:
            raise ValueError(f"{named} is a ControlNet for {family_name(made_for)} models, and the chosen model "
                             f"is {family_name(family)}: choose a ControlNet made for it.")
