"""The text-to-image engine: a warm diffusers pipeline, schedulers by name, CPU-drawn noise with
variation seeds, img2img through ``from_pipe``, per-step progress/previews/cancel, OOM mapping.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from t2i_studio import __version__
from t2i_studio.core.engine import CancelToken, Cancelled, EngineError, Progress, ProgressCallback, Result
from t2i_studio.core.requests import GenerationRequest
from t2i_studio.engines import checkpoints, devices, models, noise, schedulers
from t2i_studio.engines.previews import Previewer

log = logging.getLogger(__name__)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


class Text2ImageEngine:
    kind = "generate"

    def __init__(self, preview_every: int = 2, taesd_dir: Path | None = None) -> None:
        self.preview_every = max(0, int(preview_every))
        self.taesd_dir = taesd_dir
        self.pipe: Any = None
        self.loads = 0  # how many times weights were read from disk (tests check warm reuse)
        self._source: models.ModelSource | None = None
        self._key: tuple[Any, ...] | None = None
        self._device: Any = None
        self._dtype: Any = None
        self._base_scheduler: dict[str, Any] = {}
        self._scheduler_name: str | None = None
        self._img2img: Any = None
        self._previewer: Previewer | None = None
        self._hash: str | None = None

    # --- the Engine protocol ----------------------------------------------------------------

    def run(self, request: GenerationRequest, on_progress: ProgressCallback,
            cancel: CancelToken) -> Result:
        try:
            request.validate()
        except ValueError as exc:
            raise EngineError(str(exc)) from exc
        cancel.raise_if_cancelled()
        init = self._init_image(request) if request.init_image else None
        device = devices.choose_device(request.device)
        try:
            self._ensure_pipeline(request, device, on_progress, cancel)
            self._set_scheduler(request.scheduler)
            self._apply_memory_options(request)
            return self._generate(request, init, on_progress, cancel)
        except (Cancelled, EngineError):
            raise
        except Exception as exc:
            if devices.is_out_of_memory(exc):
                self._after_oom()
                raise devices.out_of_memory_error(exc, device, request.width, request.height) from exc
            raise

    def close(self) -> None:
        self._unload()

    def status(self) -> dict[str, Any]:
        return {"device": devices.device_name(self._device) if self._device is not None else "none",
                "model": self._source.name if self._source else None,
                "memory_mb": round(devices.memory_mb(self._device), 1)}

    # --- loading ------------------------------------------------------------------------------

    def _ensure_pipeline(self, request: GenerationRequest, device: Any, on_progress: ProgressCallback,
                         cancel: CancelToken) -> None:
        source = models.resolve(request.model, request.model_revision, request.model_config,
                                request.allow_unsafe_checkpoint)
        dtype = devices.choose_dtype(device, request.dtype, source.family)
        key = (*source.key, str(device), str(dtype), request.cpu_offload)
        if self.pipe is not None and key == self._key:
            return
        self._unload()  # free the old model before reading the new one
        on_progress(Progress(0, request.steps, None, f"Loading {source.name}"))

        def on_bytes(done: int, total: int) -> None:
            on_progress(Progress(0, request.steps, None,
                                 f"Downloading {source.name}: {done / 2**20:.0f}/{total / 2**20:.0f} MB"))

        pipe = models.load_pipeline(source, dtype, request.allow_unsafe_checkpoint, on_bytes, cancel)
        self.loads += 1
        if request.cpu_offload and device.type != "cpu":
            pipe.enable_model_cpu_offload(device=device)
        else:
            pipe.to(device)
        # the VAE stays in the pipeline's dtype: diffusers' img2img encodes with it (SD 1.x feeds it
        # an image in that dtype, SDXL casts it back); fp32 is chosen per call in _roundtrip/_decode
        pipe.set_progress_bar_config(disable=True)
        self.pipe, self._source, self._key = pipe, source, key
        self._device, self._dtype = device, dtype
        self._base_scheduler = dict(pipe.scheduler.config)
        self._scheduler_name = None
        self._hash = checkpoints.model_hash(source.path) if source.kind == "file" and source.path else None
        self._previewer = Previewer(source.family, self._latent_channels(), self.taesd_dir)

    def _unload(self) -> None:
        had = self.pipe is not None
        self.pipe = self._img2img = self._previewer = None
        self._source = self._key = None
        self._scheduler_name = None
        if had:
            devices.free_memory(self._device)

    def _after_oom(self) -> None:
        """Drop what the failed run held; keep the weights so the next request runs."""
        self._img2img = None
        devices.free_memory(self._device)

    def _set_scheduler(self, name: str) -> None:
        if name == self._scheduler_name:
            return
        scheduler = schedulers.build(name, self._base_scheduler)
        self.pipe.scheduler = scheduler
        if self._img2img is not None:
            self._img2img.scheduler = scheduler
        self._scheduler_name = name

    def _apply_memory_options(self, request: GenerationRequest) -> None:
        vae = self.pipe.vae
        if request.vae_tiling:
            vae.enable_tiling()
            vae.enable_slicing()
        else:
            vae.disable_tiling()
            vae.disable_slicing()
        if hasattr(self.pipe, "enable_attention_slicing"):
            if request.attention_slicing:
                self.pipe.enable_attention_slicing()
            else:
                self.pipe.disable_attention_slicing()

    def _latent_channels(self) -> int:
        denoiser = getattr(self.pipe, "unet", None) or getattr(self.pipe, "transformer", None)
        channels = int(denoiser.config.in_channels)
        if type(self.pipe).__name__.startswith("Flux"):
            return channels // 4  # packed 2x2 patches
        return channels

    # --- generation ---------------------------------------------------------------------------

    def _init_image(self, request: GenerationRequest) -> Any:
        from PIL import Image, UnidentifiedImageError

        path = Path(request.init_image or "")
        try:
            with Image.open(path) as img:
                img.load()
                image = img.convert("RGB")
        except FileNotFoundError as exc:
            raise EngineError(f"Init image not found: {path}") from exc
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise EngineError(f"Init image {path} is not an image file Pillow can read.") from exc
        if request.variation_strength > 0:
            raise EngineError("Variation seeds cannot be combined with an init image yet.",
                              hint="Set the variation strength to 0, or drop the init image.")
        if image.size != (request.width, request.height):
            image = image.resize((request.width, request.height), Image.Resampling.LANCZOS)
        return image

    def _generate(self, request: GenerationRequest, init: Any, on_progress: ProgressCallback,
                  cancel: CancelToken) -> Result:
        seeds = request.seeds()
        images: list[Any] = []
        state = {"done": 0, "total": 0}
        for batch in range(request.batch_count):
            cancel.raise_if_cancelled()
            batch_seeds = seeds[batch * request.batch_size:(batch + 1) * request.batch_size]
            images += self._one_batch(request, batch_seeds, init, on_progress, cancel, state)
        result = Result(images=images, seeds=seeds, fingerprint=self._fingerprint(request))
        if init is not None:
            path = Path(request.init_image or "")
            result.lineage = {"source_image": str(path),
                              "source_sha256": checkpoints.file_sha256(path)}
        return result

    def _one_batch(self, request: GenerationRequest, seeds: list[int], init: Any,
                   on_progress: ProgressCallback, cancel: CancelToken, state: dict[str, int]) -> list[Any]:
        torch = _torch()
        factor = int(getattr(self.pipe, "vae_scale_factor", 8))
        shape = (self._latent_channels(), request.height // factor, request.width // factor)
        latents, generators = noise.batch_noise(shape, seeds, request.variation_seed,
                                                request.variation_strength)
        n = len(seeds)
        common: dict[str, Any] = {
            "prompt": [request.prompt] * n, "num_inference_steps": request.steps,
            "guidance_scale": request.guidance, "generator": generators, "output_type": "latent",
            "callback_on_step_end": self._callback(request, on_progress, cancel, state),
        }
        if request.negative_prompt and "negative_prompt" in _call_params(self.pipe):
            common["negative_prompt"] = [request.negative_prompt] * n
        if init is not None:
            if int(request.steps * request.strength) < 1:
                return self._roundtrip(init, n, on_progress, state, request)
            pipe = self._img2img_pipe()
            common.update(image=[init] * n, strength=request.strength)
        else:
            pipe = self.pipe
            common.update(width=request.width, height=request.height)
            if type(pipe).__name__.startswith("Flux"):
                latents = pipe._pack_latents(latents, n, shape[0], shape[1], shape[2])
            common["latents"] = latents.to(self._device, self._dtype)
        with torch.inference_mode():
            out = pipe(**common)
        if getattr(pipe, "_interrupt", False) or cancel.cancelled:
            pipe._interrupt = False
            raise Cancelled()
        return self._decode(out.images, request)

    def _img2img_pipe(self) -> Any:
        if self._img2img is None:
            from diffusers import AutoPipelineForImage2Image

            self._img2img = AutoPipelineForImage2Image.from_pipe(self.pipe)  # same weights, no load
            self._img2img.scheduler = self.pipe.scheduler
            self._img2img.set_progress_bar_config(disable=True)
        return self._img2img

    def _callback(self, request: GenerationRequest, on_progress: ProgressCallback,
                  cancel: CancelToken, state: dict[str, int]) -> Any:
        def on_step_end(pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            if not state["total"]:
                state["total"] = int(getattr(pipe, "_num_timesteps", request.steps)) * request.batch_count
            state["done"] += 1
            if not cancel.cancelled:
                preview = None
                every = self.preview_every
                if every and self._previewer is not None and (step + 1) % every == 0:
                    latents = kwargs.get("latents")
                    if latents is not None and latents.dim() == 4:
                        preview = self._previewer(latents)
                on_progress(Progress(state["done"], max(state["total"], state["done"]), preview))
            if cancel.cancelled:  # checked after the progress report too: a cancel from it counts now
                pipe._interrupt = True  # diffusers skips the remaining steps
            return kwargs

        return on_step_end

    def _roundtrip(self, init: Any, n: int, on_progress: ProgressCallback, state: dict[str, int],
                   request: GenerationRequest) -> list[Any]:
        """Strength too low for one denoising step: the init image through the VAE, unchanged."""
        torch = _torch()
        vae = self.pipe.vae
        # NaN from encoding cannot be repaired by decoding again: encode an overflowing VAE in fp32
        dtype = torch.float32 if self._vae_overflows() else vae.dtype
        pixels = self.pipe.image_processor.preprocess(init).to(self._device, dtype)
        with torch.inference_mode(), _vae_in(vae, dtype):
            latents = vae.encode(pixels).latent_dist.mode()
        latents = (latents - self._shift()) * vae.config.scaling_factor
        state["done"] += 1
        on_progress(Progress(state["done"], max(state["total"], state["done"]), None))
        return self._decode(latents.repeat(n, 1, 1, 1), request)

    def _shift(self) -> float:
        return float(self.pipe.vae.config.get("shift_factor") or 0.0)

    def _vae_overflows(self) -> bool:
        """An fp16 VAE whose config says force_upcast (the SDXL one) overflows: diffusers' rule."""
        vae = self.pipe.vae
        return vae.dtype == _torch().float16 and bool(vae.config.get("force_upcast"))

    def _decode(self, latents: Any, request: GenerationRequest) -> list[Any]:
        """Latents -> PIL images; an fp16/bf16 VAE that gives NaN or black is re-run in fp32."""
        torch = _torch()
        pipe = self.pipe
        if latents.dim() == 3 and hasattr(pipe, "_unpack_latents"):  # FLUX packs latents
            latents = pipe._unpack_latents(latents, request.height, request.width, pipe.vae_scale_factor)
        vae = pipe.vae
        scaled = latents / vae.config.scaling_factor + self._shift()
        # CUDA tries fp16 first (faster, less memory) and retries below on NaN; elsewhere (MPS, and
        # CPU, which has no fast fp16) an overflowing VAE decodes in fp32 at once
        upfront = self._vae_overflows() and self._device.type != "cuda"
        dtype = torch.float32 if upfront else vae.dtype
        with torch.inference_mode():
            with _vae_in(vae, dtype):
                pixels = vae.decode(scaled.to(dtype)).sample
            if dtype != torch.float32 and _bad_output(pixels):
                log.info("VAE output in %s is NaN/black; decoding again in float32", dtype)
                with _vae_in(vae, torch.float32):
                    pixels = vae.decode(scaled.to(torch.float32)).sample
        return pipe.image_processor.postprocess(pixels.float(), output_type="pil")

    def _fingerprint(self, request: GenerationRequest) -> dict[str, Any]:
        torch = _torch()
        source = self._source
        assert source is not None
        revision = request.model_revision
        if source.kind == "hub":
            snapshot = models.cached_snapshot(source.id, request.model_revision)
            revision = snapshot.name if snapshot is not None else revision
        return {
            "app": __version__, "torch": torch.__version__, "diffusers": _version("diffusers"),
            "transformers": _version("transformers"),
            "device": devices.device_name(self._device), "dtype": devices.dtype_name(self._dtype),
            # a strength-0 img2img never builds the img2img pipeline: name it all the same
            "pipeline": type(self._img2img_pipe() if request.init_image else self.pipe).__name__,
            "family": source.family,
            "scheduler": schedulers.describe(request.scheduler, self.pipe.scheduler),
            "model": {"id": request.model, "name": source.name, "revision": revision, "hash": self._hash},
        }


@contextmanager
def _vae_in(vae: Any, dtype: Any) -> Iterator[None]:
    """Run the VAE in ``dtype`` for a moment; it goes back to its own dtype after."""
    old = vae.dtype
    if dtype == old:
        yield
        return
    vae.to(dtype)
    try:
        yield
    finally:
        vae.to(old)


def _bad_output(pixels: Any) -> bool:
    torch = _torch()
    return bool(torch.isnan(pixels).any() or torch.isinf(pixels).any() or pixels.max() <= -0.99)


def _call_params(pipe: Any) -> set[str]:
    import inspect

    return set(inspect.signature(type(pipe).__call__).parameters)


def _torch() -> Any:
    import torch

    return torch

