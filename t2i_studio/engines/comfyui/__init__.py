"""ComfyUI servers as one engine of the registry: requests become API graphs the app builds, run on
one or several servers over HTTP/WebSocket, and come back saved with the same metadata as local jobs.
"""

from __future__ import annotations

from pathlib import Path

from t2i_studio.core.catalog import ModelInfo
from t2i_studio.core.engine import Engine
from t2i_studio.core.engine_registry import EngineEntry
from t2i_studio.core.requests import GenerationRequest, Request
from t2i_studio.core.servers import ENGINE
from t2i_studio.engines.comfyui.engine import ComfyUIEngine, able_servers
from t2i_studio.engines.comfyui.graphs import MODES, SAMPLERS
from t2i_studio.engines.comfyui.pool import ServerPool
from t2i_studio.engines.edit_checks import check_edit
from t2i_studio.engines.registry import readable_image


def entry(pool: ServerPool) -> EngineEntry:
    """The registry's row for ``pool``'s servers; the engine and the check share the pool."""

    def check(request: Request) -> None:
        assert isinstance(request, GenerationRequest)
        if request.images.init_image and not Path(request.images.init_image).is_file():
            raise ValueError(f"Init image not found: {request.images.init_image}")
        for control in request.images.controls:  # its map is made here; able_servers looks for its ControlNet
            readable_image(control.image, "Control")
        if request.model.vae:
            raise ValueError("ComfyUI servers use their checkpoint's own VAE: clear the VAE choice, or run "
                             "this model here.")
        able_servers(pool, request)
        check_edit(request, None, local_upscalers=False)

    def factory() -> Engine:
        return ComfyUIEngine(pool)

    return EngineEntry(ENGINE, "ComfyUI servers", "generate", MODES, factory,
                       schedulers=tuple(SAMPLERS), adapters=("lora",), check=check, hires=True,
                       controls=True)


def server_models(pool: ServerPool) -> list[ModelInfo]:
    """Each online server's checkpoints (for the model picker) and ControlNets (for the ControlNet
    section), named with the server they are on; their family is the server's business."""
    out = []
    for server in pool.servers:
        if not pool.refresh(server):
            continue
        for kind, node, field in (("checkpoint", "CheckpointLoaderSimple", "ckpt_name"),
                                  ("controlnet", "ControlNetLoader", "control_net_name")):
            out += [ModelInfo(id=name, name=f"{Path(name).stem} — {server.label}", source="comfyui",
                              family="unknown", size_bytes=0, engine=ENGINE, kind=kind)
                    for name in server.options(node, field)]
    return out
