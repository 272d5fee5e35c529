"""Gatys neural style transfer as an ``Engine`` for ``StyleRequest``: multi-scale, coarse to fine.

Most iterations run at low resolution (1/4 and 1/2 of the long edge); the result is upsampled as
the start of the next scale, and only a few iterations run at full size. That is where the speed
comes from (``benchmarks/style_transfer.py`` measures it against plain single-scale Gatys).
L-BFGS (default; its history shrinks with the pixel count so large outputs fit) or Adam,
one objective evaluation per iteration, progress and cancel checks every iteration.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any, Callable

import torch
from PIL import Image, ImageOps

from t2i_studio import __version__
from t2i_studio.core.engine import CancelToken, EngineError, Progress, ProgressCallback, Result
from t2i_studio.core.image_io import load_image
from t2i_studio.core.project_errors import ImageReadError
from t2i_studio.core.requests import StyleRequest
from t2i_studio.engines import checkpoints, devices
from t2i_studio.engines import style_color as colors
from t2i_studio.engines import style_losses as losses
from t2i_studio.engines.style_lbfgs import TrustLBFGS
from t2i_studio.engines.vgg import VGG19Features, VGGInfo, load_vgg

MIN_SCALE = 64  # long edge of the coarsest scale, pixels
MAX_STYLE_EDGE = 3072  # cap on the resized style image (memory)
# Iterations per scale, finest last. The full-size pass only refines what the coarse ones built.
PRESETS = {"draft": (60, 30, 15), "normal": (150, 75, 40), "high": (300, 150, 80)}
ADAM_LR = 0.02
LBFGS_MAX_HISTORY = 100


def plan_scales(size: int, n: int = 3) -> list[int]:
    """Long edges, coarse to fine: size/4, size/2, size (coarse ones dropped below MIN_SCALE)."""
    scales = [size]
    while len(scales) < n and scales[0] // 2 >= MIN_SCALE:
        scales.insert(0, scales[0] // 2)
    return scales


def plan_iterations(quality: str, iterations: int | None, n_scales: int) -> list[int]:
    """Iterations per scale; ``iterations`` (a total) overrides the preset, split in the same ratio."""
    preset = PRESETS[quality][-n_scales:]
    if iterations is None:
        return list(preset)
    total = sum(preset)
    split = [int(iterations * p / total) for p in preset]
    split[-1] += iterations - sum(split)  # the remainder goes to the full-size pass
    return split


def lbfgs_history(numel: int, device: torch.device) -> int:
    """Pairs of history vectors (2 x numel floats each) within ~1 GiB (GPU: 8 % of its memory)."""
    budget = 1 << 30
    if device.type == "cuda":
        budget = min(budget, int(torch.cuda.get_device_properties(device).total_memory * 0.08))
    return max(5, min(LBFGS_MAX_HISTORY, budget // (8 * numel)))



def style_dtype(name: str, device: torch.device) -> torch.dtype:
    """Autocast dtype: float32 on CPU/MPS unless asked; bf16 (or fp16) autocast on CUDA."""
    if name != "auto":
        return devices.choose_dtype(device, name)
    # Deliberately not devices.choose_dtype's auto (bf16 CPUs, fp16 MPS, tuned for diffusion): the
    # style engine's documented policy (stylize --dtype) keeps the optimisation in fp32 off CUDA.
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def _open_image(path: str, what: str) -> Image.Image:
    if not Path(path).is_file():
        raise EngineError(f"The {what} image was not found: {path}")
    try:
        image = ImageOps.exif_transpose(load_image(path))  # the app's one pixel limit, before decoding
    except ImageReadError as exc:
        raise EngineError(f"The {what} image cannot be read: {exc.user_message()}") from exc
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(flat, rgba).convert("RGB")
    return image.convert("RGB")


class StyleTransferEngine:
    """``run(StyleRequest, on_progress, cancel) -> Result``; keeps the VGG loaded between jobs."""

    def __init__(self) -> None:
        self._vgg: VGG19Features | None = None
        self._vgg_key: tuple[str, str] | None = None
        self._vgg_info: VGGInfo | None = None
        self._device: torch.device | None = None
        # One row per iteration of the last run: scale index, long edge, loss, seconds since start.
        self.last_trace: list[dict[str, Any]] = []

    # -- Engine protocol -------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        memory = devices.memory_mb(self._device) if self._vgg is not None else 0.0  # nothing loaded
        return {"device": str(self._device) if self._device else "none",
                "model": self._vgg_info.label if self._vgg_info else None, "memory_mb": round(memory, 1)}

    def close(self) -> None:
        self._vgg = self._vgg_key = self._vgg_info = None
        devices.free_memory(self._device)

    def run(self, request: StyleRequest, on_progress: ProgressCallback, cancel: CancelToken) -> Result:
        if not isinstance(request, StyleRequest):
            raise EngineError(f"The style engine cannot run a {type(request).__name__}.")
        content = _open_image(request.content, "content")
        styles = [_open_image(path, "style") for path in request.styles]
        device = devices.choose_device(request.run.device)
        dtype = style_dtype(request.run.dtype, device)
        self._device = device
        raw = list(request.style_weights) or [1.0] * len(styles)
        blend = [w / sum(raw) for w in raw]
        lineage = {
            "source_image": request.content, "source_entry": request.content_entry_id,
            "source_sha256": checkpoints.file_sha256(request.content),
            "styles": [{"path": p, "sha256": checkpoints.file_sha256(p), "weight": w}
                       for p, w in zip(request.styles, blend)],
        }
        cuda_flags = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
        try:
            torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
            if request.style_strength == 0:  # calibrated: no style pull at all is the content itself
                image, info, scales, total = self._content_only(content, request, on_progress)
            else:
                vgg, info = self._load(request.vgg_weights, device, on_progress, cancel)
                image, scales, total = self._transfer(vgg, info, content, styles, blend, request, device,
                                                      dtype, on_progress, cancel)
        except Exception as exc:  # CPU and MPS run out with a plain RuntimeError, not CUDA's type
            if not devices.is_out_of_memory(exc):
                raise
            devices.free_memory(device)
            where = "GPU memory" if device.type != "cpu" else "memory"
            raise EngineError(f"Out of {where} at {request.size} px.",
                              hint="Lower the output size or the quality preset"
                                   + (", or use --device cpu." if device.type != "cpu" else ".")) from exc
        finally:
            torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cuda_flags
        fingerprint = {
            "app": __version__, "torch": torch.__version__,
            "device": str(device) if device.type != "cpu" else "cpu",
            "dtype": str(dtype).removeprefix("torch."),
            "vgg": {"weights": info.weights, "sha256": info.sha256},
            "iterations": total, "scales": scales,
        }
        return Result(images=[image], seeds=[request.seed], fingerprint=fingerprint, lineage=lineage)

    # -- internals --------------------------------------------------------------------------
    def _content_only(self, content: Image.Image, request: StyleRequest, on_progress: ProgressCallback):
        h, w = colors.fit_long_edge(content.width, content.height, request.size)
        image = content if (w, h) == content.size else content.resize((w, h), Image.Resampling.LANCZOS)
        on_progress(Progress(1, 1, image.copy(), "Style strength 0: the content image"))
        info = VGGInfo(request.vgg_weights, None, request.vgg_weights == "random")
        return image, info, [request.size], 0

    def _load(self, weights: str, device: torch.device, on_progress: ProgressCallback,
              cancel: CancelToken | None = None) -> tuple[VGG19Features, VGGInfo]:
        key = (weights, str(device))
        if self._vgg is None or self._vgg_key != key:
            self._vgg = None

            def download(done: int, total: int) -> None:
                on_progress(Progress(done, total, None, "Downloading VGG19 ImageNet weights (once)"))
                if cancel is not None:  # 548 MB: stop between chunks (the partial file is removed)
                    cancel.raise_if_cancelled()

            vgg, info = load_vgg(weights, progress=download)
            vgg = vgg.to(device)
            if device.type == "cuda":
                vgg = vgg.to(memory_format=torch.channels_last)
            self._vgg, self._vgg_key, self._vgg_info = vgg, key, info
        assert self._vgg_info is not None
        return self._vgg, self._vgg_info

    def _transfer(self, vgg, info: VGGInfo, content_img: Image.Image, style_imgs: list[Image.Image],
                  blend: list[float], request: StyleRequest, device: torch.device, dtype: torch.dtype,
                  on_progress: ProgressCallback, cancel: CancelToken) -> tuple[Image.Image, list[int], int]:
        weights = losses.weights_for(request.style_strength, request.content_fidelity, request.smoothness)
        scales = plan_scales(request.size)
        per_scale = plan_iterations(request.quality, request.iterations, len(scales))
        keep = [i for i, n in enumerate(per_scale) if n > 0]
        scales, per_scale = [scales[i] for i in keep], [per_scale[i] for i in keep]
        total = sum(per_scale)
        use_autocast = dtype != torch.float32 and device.type in ("cuda", "cpu", "mps")
        autocast: Callable[[], Any] = (
            (lambda: torch.autocast(device.type, dtype=dtype)) if use_autocast else contextlib.nullcontext)
        channels_last = device.type == "cuda"
        label = " - random VGG weights, lower quality" if info.random else ""
        luma = request.preserve_colors
        full_content = colors.load_rgb(content_img, request.size).to(device)
        generator = torch.Generator().manual_seed(request.seed)
        self.last_trace = []
        started = time.perf_counter()
        x: torch.Tensor | None = None
        step = 0
        for index, (edge, iterations) in enumerate(zip(scales, per_scale)):
            content = colors.load_rgb(content_img, edge).to(device)
            styles = [colors.load_rgb(s, max(16, min(MAX_STYLE_EDGE, round(edge * request.style_scale))))
                      .to(device) for s in style_imgs]
            if luma:
                content_y = colors.luminance(content)
                styles = [colors.match_luminance(colors.luminance(s), content_y).expand(-1, 3, -1, -1)
                          for s in styles]
                content = content_y
            if channels_last:
                styles = [s.contiguous(memory_format=torch.channels_last) for s in styles]
            targets = losses.make_targets(vgg, content.expand(-1, 3, -1, -1), styles, blend, autocast,
                                          single_channel=luma)
            del styles
            if x is None:
                x = content.clone() if request.init == "content" else torch.rand(
                    content.shape, generator=generator).to(device)
            else:
                x = colors.resize(x.detach(), content.shape[-2:])
            x = x.detach().contiguous(memory_format=torch.channels_last if channels_last
                                      else torch.contiguous_format).requires_grad_(True)
            optimizer = self._optimizer(request.optimizer, x, device)
            message = f"Scale {index + 1}/{len(scales)} ({edge} px){label}"

            def closure() -> torch.Tensor:
                x.grad = None
                loss, parts = losses.objective(vgg, x, targets, weights, autocast)
                loss.backward()
                closure.parts = parts  # type: ignore[attr-defined]
                return loss

            for _ in range(iterations):
                cancel.raise_if_cancelled()
                if isinstance(optimizer, TrustLBFGS):
                    value = optimizer.step(closure)  # the best loss so far (a worse step is undone)
                else:
                    value = float(optimizer.step(closure).detach())
                step += 1
                parts = closure.parts  # type: ignore[attr-defined]
                if value != value:  # NaN: stop before the image turns to noise
                    raise EngineError("The optimisation diverged (NaN loss).",
                                      hint="Try the Adam optimiser, fp32, or a lower style strength.")
                self.last_trace.append({"scale": index, "edge": edge, "loss": value, **parts,
                                        "time": time.perf_counter() - started})
                preview = None
                every = request.run.preview_every
                if every and (step % every == 0 or step == total):
                    preview = self._image(x, full_content if luma else None)
                on_progress(Progress(step, total, preview, message))
            del optimizer, targets
        assert x is not None
        cancel.raise_if_cancelled()
        return self._image(x, full_content if luma else None), scales, total

    @staticmethod
    def _optimizer(name: str, x: torch.Tensor, device: torch.device) -> torch.optim.Optimizer | TrustLBFGS:
        if name == "adam":
            return torch.optim.Adam([x], lr=ADAM_LR)
        return TrustLBFGS(x, history_size=lbfgs_history(x.numel(), device))

    @staticmethod
    def _image(x: torch.Tensor, content_rgb: torch.Tensor | None) -> Image.Image:
        with torch.no_grad():
            out = x.detach().float().clamp(0, 1)
            if content_rgb is not None:
                out = colors.recombine(out, content_rgb)
        return colors.tensor_to_pil(out)
