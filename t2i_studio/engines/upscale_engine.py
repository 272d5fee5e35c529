"""The upscale engine: one picture enlarged by an ``UpscaleRequest`` (Lanczos or a model, tile by
tile), with progress per tile, cancel between tiles, and what made it in the fingerprint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import ImageOps

from t2i_studio import __version__
from t2i_studio.core.engine import CancelToken, EngineError, Progress, ProgressCallback, Result
from t2i_studio.core.image_io import load_image
from t2i_studio.core.project_errors import ImageReadError
from t2i_studio.core.requests import LANCZOS, UpscaleRequest
from t2i_studio.engines import checkpoints, upscalers


def _open_source(path: str) -> Any:
    if not Path(path).is_file():
        raise EngineError(f"The image to upscale was not found: {path}")
    try:
        return ImageOps.exif_transpose(load_image(path))
    except ImageReadError as exc:
        raise EngineError(f"The image to upscale cannot be read: {exc.user_message()}") from exc


class UpscaleEngine:
    """``run(UpscaleRequest, on_progress, cancel) -> Result``; the last model stays loaded."""

    def __init__(self) -> None:
        self._device: Any = None
        self._model: str | None = None

    # -- Engine protocol -------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        from t2i_studio.engines import devices

        memory = devices.memory_mb(self._device) if self._model else 0.0
        return {"device": str(self._device) if self._device else "none", "model": self._model,
                "memory_mb": round(memory, 1)}

    def close(self) -> None:
        upscalers.release_upscalers()
        if self._model is not None:
            from t2i_studio.engines import devices

            devices.free_memory(self._device)
        self._model = None

    def run(self, request: UpscaleRequest, on_progress: ProgressCallback, cancel: CancelToken) -> Result:
        if not isinstance(request, UpscaleRequest):
            raise EngineError(f"The upscale engine cannot run a {type(request).__name__}.")
        up, allow_unsafe = request.upscale, request.run.allow_unsafe_checkpoint
        source = _open_source(request.source)
        target = up.target(*source.size)
        path = upscalers.check_upscaler(up.upscaler, allow_unsafe)
        fingerprint: dict[str, Any] = {"app": __version__, "upscaler": {"name": up.upscaler}, "tile": up.tile,
                                       "overlap": up.overlap, "device": "cpu"}
        if path is not None:
            fingerprint.update(self._load(path, request, on_progress))
        cancel.raise_if_cancelled()

        def on_tile(done: int, total: int) -> None:
            on_progress(Progress(done, total, None, f"Upscaling: tile {done}/{total}"))

        image = upscalers.upscale_image(source, str(path) if path else LANCZOS, target, tile=up.tile,
                                        overlap=up.overlap, device=self._device, allow_unsafe=allow_unsafe,
                                        on_tile=on_tile, cancel=cancel)
        lineage = {"source_image": request.source, "source_entry": request.source_entry_id,
                   "source_sha256": checkpoints.file_sha256(request.source)}
        return Result(images=[image], seeds=[0], fingerprint=fingerprint, lineage=lineage)

    def _load(self, path: Path, request: UpscaleRequest, on_progress: ProgressCallback) -> dict[str, Any]:
        """The model on its device (warm after the first job); the fingerprint's part about it."""
        import torch

        from t2i_studio.engines import devices

        self._device = devices.choose_device(request.run.device)
        on_progress(Progress(0, 1, None, f"Loading {path.name}"))
        loaded = upscalers.load_upscaler(path, self._device, request.run.allow_unsafe_checkpoint)
        self._model = f"{loaded.info['architecture']} {loaded.info['scale']}x ({path.name})"
        sha256 = checkpoints.sha256_file(path)
        spandrel = upscalers.import_spandrel()
        return {"torch": torch.__version__, "spandrel": spandrel.__version__,
                "device": devices.device_name(self._device), "dtype": devices.dtype_name(loaded.dtype),
                "upscaler": {"name": request.upscale.upscaler, "file": path.name, "sha256": sha256,
                             "hash": sha256[:10], "architecture": loaded.info["architecture"],
                             "scale": loaded.info["scale"]}}
