"""ControlNets for the diffusers engine: models loaded once per path and kept while in use, the
control maps made at each pass's size, and the call arguments of diffusers' ControlNet pipelines.

The ControlNet variant of a mode's pipeline is built from the loaded pipeline with ``from_pipe(...,
controlnet=...)`` (the weights are shared); several ControlNets become diffusers' MultiControlNet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from t2i_studio.core.control_maps import map_for
from t2i_studio.core.engine import EngineError
from t2i_studio.core.image_io import load_image
from t2i_studio.core.project_errors import ImageReadError
from t2i_studio.core.requests import Control
from t2i_studio.engines import checkpoints


class ControlSet:
    """The ControlNet models by source, on the pipeline's device and dtype."""

    def __init__(self) -> None:
        self._models: dict[str, Any] = {}

    def models(self, controls: tuple[Control, ...], device: Any, dtype: Any, allow_unsafe: bool) -> Any:
        """The model for ``controls`` (one), or diffusers' MultiControlNetModel (several)."""
        wanted = [c.model for c in controls]
        for source in set(self._models) - set(wanted):  # no longer used: free it
            del self._models[source]
        made = []
        for source in wanted:
            if source not in self._models:
                self._models[source] = _load(source, allow_unsafe).to(device, dtype)
            made.append(self._models[source])
        if len(made) == 1:
            return made[0]
        from diffusers.models.controlnets.multicontrolnet import MultiControlNetModel

        return MultiControlNetModel(made)

    def forget(self) -> None:
        self._models = {}


def arguments(controls: tuple[Control, ...], size: tuple[int, int], image_key: str) -> dict[str, Any]:
    """The pipeline's control arguments: the maps at ``size``, under ``image_key`` ("image" for
    text-to-image, "control_image" where ``image`` is the init picture), weights and step ranges."""
    maps = maps_at(controls, size)
    one = len(controls) == 1
    return {image_key: maps[0] if one else maps,
            "controlnet_conditioning_scale": controls[0].weight if one else [c.weight for c in controls],
            "control_guidance_start": controls[0].start if one else [c.start for c in controls],
            "control_guidance_end": controls[0].end if one else [c.end for c in controls]}


def maps_at(controls: tuple[Control, ...], size: tuple[int, int]) -> list[Any]:
    """The control maps of ``controls`` at ``size``, the size of the pass they steer (every engine's)."""
    return [map_for(c, _picture(c.image)).resize(size) for c in controls]


def _picture(path: str) -> Any:
    try:
        return load_image(path).convert("RGB")
    except ImageReadError as exc:
        raise EngineError(f"The control picture cannot be read: {exc.user_message()}") from exc


def _load(source: str, allow_unsafe: bool) -> Any:
    from diffusers import ControlNetModel

    path = Path(source).expanduser()
    if path.is_dir():
        return ControlNetModel.from_pretrained(path)
    if path.is_file():
        checkpoints.check_checkpoint(path, allow_unsafe)
        return ControlNetModel.from_single_file(path)
    return ControlNetModel.from_pretrained(source)  # a hub id, from the shared cache
