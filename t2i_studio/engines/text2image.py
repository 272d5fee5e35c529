"""The diffusers engine: a warm pipeline, schedulers by name, CPU-drawn noise with variation seeds,
one pipeline per mode (``MODES``) sharing the loaded weights through ``from_pipe``, per-step
progress/previews/cancel over every pass (``engines.steps``), OOM mapping. One ``run`` makes one
batch; ``denoise`` is one pass, and ``engines.modes`` builds each mode from passes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from t2i_studio import __version__
from t2i_studio.core.engine import Cancelled, CancelToken, EngineError, Progress, ProgressCallback, Result
from t2i_studio.core.image_io import load_image
from t2i_studio.core.project_errors import ImageReadError
from t2i_studio.core.prompt_syntax import strip_networks
from t2i_studio.core.requests import GenerationRequest
from t2i_studio.engines import checkpoints, controlnets, devices, models, modes, noise, schedulers
from t2i_studio.engines.ip_adapters import ReferenceSet
from t2i_studio.engines.lineage import input_lineage
from t2i_studio.engines.loras import LoraSet
from t2i_studio.engines.previews import Previewer
from t2i_studio.engines.prompt_encoding import PromptEncoder
from t2i_studio.engines.steps import StepCounter, pass_steps
from t2i_studio.engines.vaes import VaeChoice

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mode:
    """How a request mode runs: the diffusers AutoPipeline whose ``from_pipe`` builds its pipeline
    from the loaded one (None: the loaded text-to-image pipeline itself), and the function that
    makes a batch's images from ``Text2ImageEngine.denoise`` passes (``engines.modes``)."""

    auto_pipeline: str | None
    make: Callable[..., list[Any]]


MODES = {
    "txt2img": Mode(None, modes.text_to_image),
    "img2img": Mode("AutoPipelineForImage2Image", modes.image_to_image),
    "inpaint": Mode("AutoPipelineForInpainting", modes.inpaint),
    "outpaint": Mode("AutoPipelineForInpainting", modes.inpaint),
    "sd_upscale": Mode("AutoPipelineForImage2Image", modes.sd_upscale),
}


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


class Text2ImageEngine:
    def __init__(self, taesd_dir: Path | None = None) -> None:
        self.taesd_dir = taesd_dir
        self.pipe: Any = None
        self.loads = 0  # how many times weights were read from disk (tests check warm reuse)
        self._source: models.ModelSource | None = None
        self._key: tuple[Any, ...] | None = None
        self._device: Any = None
        self._dtype: Any = None
        self._base_scheduler: dict[str, Any] = {}
        self._scheduler_name: str | None = None
        self._variants: dict[str, Any] = {}  # AutoPipeline name -> its pipeline, sharing the loaded weights
        self._loras = LoraSet()  # on the loaded pipeline's modules, so every variant shares them
        self._controls = controlnets.ControlSet()
        self._references = ReferenceSet()  # IP-Adapters, in the loaded pipeline's UNet
        self._sliced = False  # attention slicing is on
        self._lora_fingerprint: list[dict[str, Any]] = []
        self._vae = VaeChoice()  # the model's own VAE, or the request's in its place
        self._prompts = PromptEncoder()  # A1111 prompt syntax, long prompts, clip skip, embeddings
        self._previewer: Previewer | None = None
        self._hash: str | None = None

    # --- the Engine protocol ----------------------------------------------------------------

    def run(self, request: GenerationRequest, on_progress: ProgressCallback,
            cancel: CancelToken) -> Result:
        if request.sampling.batch_count != 1:
            raise ValueError("An engine run makes one batch: run the request through core.jobs.run_job.")
        cancel.raise_if_cancelled()
        init = self._init_image(request) if request.images.init_image else None
        device = devices.choose_device(request.run.device)
        try:
            self._ensure_pipeline(request, device, on_progress, cancel)
            self._set_scheduler(request.sampling.scheduler)
            self._lora_fingerprint = self._loras.apply(self.pipe, request.model.adapters,
                                                       request.run.allow_unsafe_checkpoint)
            offloaded = request.run.cpu_offload and device.type != "cpu"
            self._vae.apply(self._variants, request.model.vae, request.run.allow_unsafe_checkpoint,
                            device if offloaded else None)
            self._references.drop_unused(self._variants, request.images.references)
            self._apply_memory_options(request)
            self._references.apply(self._variants, request, device if offloaded else None)
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

    @property
    def device(self) -> Any:
        """The torch device of the loaded pipeline (None before the first run)."""
        return self._device

    def status(self) -> dict[str, Any]:
        return {"device": devices.device_name(self._device) if self._device is not None else "none",
                "model": self._source.name if self._source else None,
                "memory_mb": round(devices.memory_mb(self._device), 1)}

    # --- loading ------------------------------------------------------------------------------

    def _ensure_pipeline(self, request: GenerationRequest, device: Any, on_progress: ProgressCallback,
                         cancel: CancelToken) -> None:
        model, run = request.model, request.run
        source = models.resolve(model.id, model.revision, model.config, run.allow_unsafe_checkpoint)
        dtype = devices.choose_dtype(device, run.dtype, source.family)
        key = (*source.key, str(device), str(dtype), run.cpu_offload)
        if self.pipe is not None and key == self._key:
            return
        self._unload()  # free the old model before reading the new one
        steps = request.sampling.steps
        on_progress(Progress(0, steps, None, f"Loading {source.name}"))

        def on_bytes(done: int, total: int) -> None:
            on_progress(Progress(0, steps, None,
                                 f"Downloading {source.name}: {done / 2**20:.0f}/{total / 2**20:.0f} MB"))

        pipe = models.load_pipeline(source, dtype, run.allow_unsafe_checkpoint, on_bytes, cancel)
        self.loads += 1
        if run.cpu_offload and device.type != "cpu":
            pipe.enable_model_cpu_offload(device=device)
        else:
            pipe.to(device)
        # the VAE stays in the pipeline's dtype: diffusers' img2img encodes with it (SD 1.x feeds it
        # an image in that dtype, SDXL casts it back); fp32 is chosen per call in _roundtrip/_decode
        pipe.set_progress_bar_config(disable=True)
        self.pipe, self._source, self._key = pipe, source, key
        self._variants = {"txt2img": pipe}
        self._device, self._dtype = device, dtype
        self._base_scheduler = dict(pipe.scheduler.config)
        self._scheduler_name = None
        self._sliced = False
        self._hash = checkpoints.model_hash(source.path) if source.kind == "file" and source.path else None
        self._previewer = Previewer(source.family, self._latent_channels(), self.taesd_dir)

    def _unload(self) -> None:
        had = self.pipe is not None
        self.pipe = self._previewer = None
        self._variants = {}
        self._loras.forget()
        self._controls.forget()
        self._references.forget()
        self._vae.forget()
        self._prompts.forget()
        self._source = self._key = None
        self._scheduler_name = None
        if had:
            devices.free_memory(self._device)

    def _after_oom(self) -> None:
        """Drop what the failed run held; keep the weights so the next request runs."""
        self._variants = {"txt2img": self.pipe}
        devices.free_memory(self._device)

    def _set_scheduler(self, name: str) -> None:
        if name == self._scheduler_name:
            return
        scheduler = schedulers.build(name, self._base_scheduler)
        for pipe in self._variants.values():
            pipe.scheduler = scheduler
        self._scheduler_name = name

    def _apply_memory_options(self, request: GenerationRequest) -> None:
        vae, run = self.pipe.vae, request.run
        if run.vae_tiling:
            vae.enable_tiling()
            vae.enable_slicing()
        else:
            vae.disable_tiling()
            vae.disable_slicing()
        # only on a change: either call resets every attention processor, IP-Adapter's too
        if hasattr(self.pipe, "enable_attention_slicing") and run.attention_slicing != self._sliced:
            if run.attention_slicing:
                self.pipe.enable_attention_slicing()
            else:
                self.pipe.disable_attention_slicing()
            self._sliced = run.attention_slicing

    def _latent_channels(self) -> int:
        return int(self.pipe.vae.config.latent_channels)  # an inpainting UNet takes 9: noise has the VAE's 4

    # --- generation ---------------------------------------------------------------------------

    def _init_image(self, request: GenerationRequest) -> Any:
        """The init image at its own size (each mode fits it to what it works on)."""
        path = Path(request.images.init_image or "")
        if not path.is_file():
            raise EngineError(f"Init image not found: {path}")
        try:
            image = load_image(path).convert("RGB")  # the app's one pixel limit, checked before decoding
        except ImageReadError as exc:
            raise EngineError(f"The init image cannot be read: {exc.user_message()}") from exc
        if request.sampling.variation_strength > 0:
            raise EngineError("Variation seeds cannot be combined with an init image yet.",
                              hint="Set the variation strength to 0, or drop the init image.")
        return image

    def _generate(self, request: GenerationRequest, init: Any, on_progress: ProgressCallback,
                  cancel: CancelToken) -> Result:
        seeds = request.sampling.seeds()
        steps = StepCounter(request, on_progress, cancel, self._previewer)
        images = MODES[request.mode].make(self, request, init, seeds, steps)
        return Result(images=images, seeds=seeds, fingerprint=self._fingerprint(request),
                      lineage=input_lineage(request))

    def denoise(self, request: GenerationRequest, seeds: list[int], steps: StepCounter, *,
                mode: str = "txt2img", size: tuple[int, int] | None = None, image: Any = None,
                mask: Any = None, strength: float | None = None, num_steps: int | None = None) -> Any:
        """One diffusers pass of ``mode`` for ``seeds`` at ``size`` (default: the request's), as
        latents. Image modes start from ``image`` (a list of PIL images, or latents) at ``strength``;
        inpainting regenerates where ``mask`` (a list of "L" images) is white."""
        torch = _torch()
        sampling, n = request.sampling, len(seeds)
        width, height = size or (request.width, request.height)
        num_steps = num_steps or sampling.steps
        factor = int(getattr(self.pipe, "vae_scale_factor", 8))
        shape = (self._latent_channels(), height // factor, width // factor)
        # every mode's generators first draw the starting noise, so a seed means one picture
        latents, generators = noise.batch_noise(shape, seeds, sampling.variation_seed,
                                                sampling.variation_strength)
        call: dict[str, Any] = {
            "prompt": [strip_networks(request.prompt)] * n, "num_inference_steps": num_steps,
            "guidance_scale": sampling.guidance, "generator": generators, "output_type": "latent",
            "callback_on_step_end": steps.callback(),
        }
        if request.negative_prompt and "negative_prompt" in _call_params(self.pipe):
            call["negative_prompt"] = [strip_networks(request.negative_prompt)] * n
        embeds = self._prompts.arguments(self.pipe, request, n)  # None: the text reads the same
        if embeds is not None:
            del call["prompt"]
            call.pop("negative_prompt", None)
            call.update({k: v for k, v in embeds.items() if k in _call_params(self.pipe)})
        if mode == "txt2img":
            if type(self.pipe).__name__.startswith("Flux"):
                latents = self.pipe._pack_latents(latents, latents.shape[0], *shape)
            call.update(width=width, height=height, latents=latents.to(self._device, self._dtype))
        else:
            if pass_steps(num_steps, strength) < 1:
                return self._roundtrip(image, steps)
            call.update(image=image, strength=strength)
            if mode == "inpaint":
                call.update(mask_image=mask, width=width, height=height)
        controls = request.images.controls
        if controls:
            call.update(controlnets.arguments(controls, (width, height), "image" if mode == "txt2img" else
                                              "control_image"))
        if request.images.references:
            call["ip_adapter_image"] = self._references.images
        pipe = self._pipeline(mode, request)
        with torch.inference_mode():
            out = pipe(**call)
        if getattr(pipe, "_interrupt", False) or steps.cancel.cancelled:
            pipe._interrupt = False
            raise Cancelled()
        return out.images

    def _pipeline(self, mode: str, request: GenerationRequest | None = None) -> Any:
        """The pipeline of ``mode`` (with the request's ControlNets), built once from the loaded one:
        same weights, nothing loaded but the ControlNets."""
        auto_name = MODES[mode].auto_pipeline
        controls = request.images.controls if request is not None else ()
        key: Any = auto_name or "txt2img"
        extra: dict[str, Any] = {}
        if controls:
            auto_name = auto_name or "AutoPipelineForText2Image"
            key = (auto_name, *(c.model for c in controls))
        pipe = self._variants.get(key)
        if pipe is None:
            import diffusers

            if controls:
                for old in [k for k in self._variants if isinstance(k, tuple)]:  # one set of ControlNets kept
                    del self._variants[old]
                extra["controlnet"] = self._controls.models(controls, self._device, self._dtype,
                                                            request.run.allow_unsafe_checkpoint)
            pipe = self._variants[key] = getattr(diffusers, auto_name or "").from_pipe(self.pipe, **extra)
            pipe.scheduler = self.pipe.scheduler
            pipe.set_progress_bar_config(disable=True)
        return pipe

    def _roundtrip(self, image: Any, steps: StepCounter) -> Any:
        """Strength too low for one denoising step: the start image's latents, unchanged."""
        torch = _torch()
        steps.done += 1
        steps.report()
        if isinstance(image, torch.Tensor):  # already latents (a latent hires upscale)
            return image
        vae = self.pipe.vae
        # NaN from encoding cannot be repaired by decoding again: encode an overflowing VAE in fp32
        dtype = torch.float32 if self._vae_overflows() else vae.dtype
        pixels = self.pipe.image_processor.preprocess(image).to(self._device, dtype)
        with torch.inference_mode(), _vae_in(vae, dtype):
            latents = vae.encode(pixels).latent_dist.mode()
        return (latents - self._shift()) * vae.config.scaling_factor

    def _shift(self) -> float:
        return float(self.pipe.vae.config.get("shift_factor") or 0.0)

    def _vae_overflows(self) -> bool:
        """An fp16 VAE whose config says force_upcast (the SDXL one) overflows: diffusers' rule."""
        vae = self.pipe.vae
        return vae.dtype == _torch().float16 and bool(vae.config.get("force_upcast"))

    def decode(self, latents: Any, size: tuple[int, int]) -> list[Any]:
        """Latents of ``size`` (width, height) -> PIL images; an fp16/bf16 VAE that gives NaN or
        black is re-run in fp32."""
        torch = _torch()
        pipe = self.pipe
        if latents.dim() == 3 and hasattr(pipe, "_unpack_latents"):  # FLUX packs latents
            latents = pipe._unpack_latents(latents, size[1], size[0], pipe.vae_scale_factor)
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
        revision = request.model.revision
        if source.kind == "hub":
            snapshot = models.cached_snapshot(source.id, request.model.revision)
            revision = snapshot.name if snapshot is not None else revision
        return {
            "app": __version__, "torch": torch.__version__, "diffusers": _version("diffusers"),
            "transformers": _version("transformers"),
            "device": devices.device_name(self._device), "dtype": devices.dtype_name(self._dtype),
            # a strength-0 img2img never runs the img2img pipeline: name it all the same
            "pipeline": type(self._pipeline(request.mode, request)).__name__,
            "family": source.family,
            "scheduler": schedulers.describe(request.sampling.scheduler, self.pipe.scheduler),
            "model": {"id": request.model.id, "name": source.name, "revision": revision, "hash": self._hash},
            **({"loras": self._lora_fingerprint} if self._lora_fingerprint else {}),
            **({"vae": self._vae.fingerprint} if self._vae.fingerprint else {}),
            **({"ip_adapters": self._references.fingerprint} if request.images.references else {}),
            **self._prompts.fingerprint(),
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

