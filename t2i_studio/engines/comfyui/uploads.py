"""The pictures a job sends its servers, made here once per batch: the init image at the request's
size (as the local engine resizes it), or for inpainting what the plan redoes with its mask as the
transparency (LoadImage's mask is where the upload is transparent); and each control's map, made by
its preprocessor here and sized to the pass it steers, as the local engine sizes it. Each server
gets them once, named by their content, so a picture sent again is stored once.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from t2i_studio.core.engine import EngineError
from t2i_studio.core.inpaint_plan import InpaintPlan, plan_inpaint
from t2i_studio.core.requests import GenerationRequest
from t2i_studio.engines.comfyui.graphs import INPAINT_MODES
from t2i_studio.engines.comfyui.pool import Server
from t2i_studio.engines.controlnets import maps_at


# what a server holds of a job: the init image's name; each control's map name and the server's ControlNet
Uploaded = tuple[str | None, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Pictures:
    init: bytes | None  # PNG; None for text-to-image
    controls: tuple[bytes, ...]  # PNG control maps, in the request's order
    plan: InpaintPlan | None  # pastes an inpainting result back into the source


def pictures(request: GenerationRequest) -> Pictures:
    init, plan = _init(request)
    size = plan.start.size if plan is not None else (request.width, request.height)
    return Pictures(init, tuple(_png(m) for m in maps_at(request.images.controls, size)), plan)


def upload(server: Server, request: GenerationRequest, sent: Pictures) -> Uploaded:
    """Send ``sent`` to ``server``; the names ``graphs.build`` takes after the seed."""
    init = _send(server, sent.init, "init") if sent.init is not None else None
    # able() found each ControlNet; should one have gone since, the server's refusal names it
    controls = tuple((_send(server, png, "control"), server.controlnet(c.model) or c.model)
                     for c, png in zip(request.images.controls, sent.controls, strict=True))
    return init, controls


def _send(server: Server, png: bytes, kind: str) -> str:
    return server.client.upload_image(png, f"t2i-{kind}-{hashlib.sha256(png).hexdigest()[:16]}.png")


def _init(request: GenerationRequest) -> tuple[bytes | None, InpaintPlan | None]:
    from PIL import Image

    if request.mode == "txt2img":
        return None, None
    path = Path(request.images.init_image or "")
    try:
        with Image.open(path) as img:
            image = img.convert("RGB")
    except OSError as exc:
        raise EngineError(f"Init image {path} could not be read ({exc}).") from exc
    plan = None
    if request.mode in INPAINT_MODES:
        plan = plan_inpaint(request, image)
        image = plan.start.convert("RGBA")
        image.putalpha(plan.mask.point(lambda v: 255 - v))
    elif image.size != (request.width, request.height):
        image = image.resize((request.width, request.height), Image.Resampling.LANCZOS)
    return _png(image), plan


def _png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
