"""Requests: frozen dataclasses that hold everything that determines a result.

The UI and the CLI build them; ``validate()`` raises ``ValueError`` with a message that says what
was wrong and what to do. Engines receive only validated requests. ``to_dict``/``from_dict`` give
the JSON form stored in every saved image's metadata.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

SCHEDULERS = (
    "Euler", "Euler a", "DPM++ 2M", "DPM++ 2M Karras", "DPM++ SDE Karras", "DDIM", "UniPC", "LCM",
    "Heun",
)
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "fp32", "fp16", "bf16")
QUALITY_PRESETS = ("draft", "normal", "high")
EXPORT_FORMATS = ("png", "jpeg", "webp", "tiff")
MAX_SEED = 2**32 - 1
MAX_SIDE = 4096

T = TypeVar("T", bound="_RequestBase")


def random_seed() -> int:
    return random.randint(0, MAX_SEED)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _check_seed(name: str, value: int) -> None:
    _check(isinstance(value, int) and 0 <= value <= MAX_SEED,
           f"{name} must be a whole number from 0 to {MAX_SEED}, got {value!r}.")


def _check_unit(name: str, value: float) -> None:
    _check(isinstance(value, (int, float)) and 0.0 <= value <= 1.0,
           f"{name} must be between 0 and 1, got {value!r}.")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    _check(value in choices, f"{name} must be one of {', '.join(choices)}; got {value!r}.")


class _RequestBase:
    kind: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)  # type: ignore[call-overload]
        return {"kind": self.kind, **{k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}}

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        """Build from stored JSON; unknown keys (from newer versions) are ignored."""
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        kwargs = {}
        for key, value in data.items():
            if key in fields:
                kwargs[key] = tuple(value) if isinstance(value, list) else value
        return cls(**kwargs)

    def replace(self: T, **changes: Any) -> T:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


@dataclass(frozen=True)
class GenerationRequest(_RequestBase):
    """A text-to-image (or img2img, when ``init_image`` is set) request.

    Image k of the job (batch index + batch_size * batch number) uses ``seed + k``.
    """

    kind: ClassVar[str] = "generate"

    prompt: str
    negative_prompt: str = ""
    model: str = ""  # Hugging Face id, diffusers folder, or single .safetensors file
    model_revision: str | None = None
    model_config: str | None = None  # diffusers config folder for a single-file checkpoint
    seed: int = 0
    steps: int = 20
    guidance: float = 7.0
    width: int = 512
    height: int = 512
    scheduler: str = "Euler a"
    batch_size: int = 1
    batch_count: int = 1
    variation_seed: int | None = None
    variation_strength: float = 0.0
    init_image: str | None = None
    strength: float = 0.75  # img2img denoising strength: 0 keeps the init image, 1 ignores it
    device: str = "auto"
    dtype: str = "auto"
    cpu_offload: bool = False
    vae_tiling: bool = False
    attention_slicing: bool = False
    allow_unsafe_checkpoint: bool = False

    @property
    def image_count(self) -> int:
        return self.batch_size * self.batch_count

    def seeds(self) -> list[int]:
        return [(self.seed + k) % (MAX_SEED + 1) for k in range(self.image_count)]

    def validate(self) -> GenerationRequest:
        _check(bool(self.prompt.strip()), "The prompt is empty: describe the image you want.")
        _check(bool(self.model.strip()),
               "No model chosen: pass a Hugging Face id, a diffusers folder or a .safetensors file.")
        _check_seed("Seed", self.seed)
        _check(isinstance(self.steps, int) and 1 <= self.steps <= 500,
               f"Steps must be from 1 to 500, got {self.steps!r}.")
        _check(0.0 <= self.guidance <= 50.0, f"Guidance (CFG) must be from 0 to 50, got {self.guidance!r}.")
        for name, side in (("Width", self.width), ("Height", self.height)):
            _check(isinstance(side, int) and 64 <= side <= MAX_SIDE,
                   f"{name} must be from 64 to {MAX_SIDE} pixels, got {side!r}.")
            _check(side % 8 == 0,
                   f"{name} must be a multiple of 8, got {side}; try {side - side % 8} or {side - side % 8 + 8}.")
        _check_choice("Scheduler", self.scheduler, SCHEDULERS)
        _check(isinstance(self.batch_size, int) and 1 <= self.batch_size <= 16,
               f"Batch size must be from 1 to 16, got {self.batch_size!r}.")
        _check(isinstance(self.batch_count, int) and 1 <= self.batch_count <= 100,
               f"Batch count must be from 1 to 100, got {self.batch_count!r}.")
        _check_unit("Variation strength", self.variation_strength)
        if self.variation_strength > 0:
            _check(self.variation_seed is not None, "Variation strength needs a variation seed.")
        if self.variation_seed is not None:
            _check_seed("Variation seed", self.variation_seed)
        _check_unit("Init-image strength", self.strength)
        _check_choice("Device", self.device, DEVICES)
        _check_choice("Dtype", self.dtype, DTYPES)
        return self


@dataclass(frozen=True)
class StyleRequest(_RequestBase):
    """A neural style transfer (Gatys) of ``content`` towards one or more ``styles``."""

    kind: ClassVar[str] = "stylize"

    content: str  # path of the content image
    styles: tuple[str, ...]  # paths of the style images
    style_weights: tuple[float, ...] = ()  # blend weights, one per style; empty means equal
    style_strength: float = 0.5  # 0 returns the content image
    content_fidelity: float = 0.5
    smoothness: float = 0.1  # total-variation weight, 0..1
    preserve_colors: bool = False
    style_scale: float = 1.0  # brush-stroke size: style image scale relative to the output
    size: int = 512  # long edge of the output, pixels
    quality: str = "normal"
    iterations: int | None = None  # overrides the quality preset
    init: str = "content"  # "content" or "noise"
    seed: int = 0
    optimizer: str = "lbfgs"
    vgg_weights: str = "imagenet"  # "imagenet", "random" or a path
    device: str = "auto"
    dtype: str = "auto"
    content_entry_id: int | None = None  # project entry of the content image, for lineage

    def validate(self) -> StyleRequest:
        _check(bool(self.content), "No content image given.")
        _check(len(self.styles) >= 1, "Give at least one style image.")
        if self.style_weights:
            _check(len(self.style_weights) == len(self.styles),
                   f"Give one style weight per style image: {len(self.styles)} styles, "
                   f"{len(self.style_weights)} weights.")
            _check(all(w >= 0 for w in self.style_weights) and sum(self.style_weights) > 0,
                   "Style weights must be zero or more, and not all zero.")
        _check_unit("Style strength", self.style_strength)
        _check_unit("Content fidelity", self.content_fidelity)
        _check_unit("Smoothness", self.smoothness)
        _check(0.1 <= self.style_scale <= 4.0, f"Style scale must be from 0.1 to 4, got {self.style_scale!r}.")
        _check(isinstance(self.size, int) and 32 <= self.size <= MAX_SIDE,
               f"Output size (long edge) must be from 32 to {MAX_SIDE} pixels, got {self.size!r}.")
        _check_choice("Quality", self.quality, QUALITY_PRESETS)
        if self.iterations is not None:
            _check(isinstance(self.iterations, int) and 1 <= self.iterations <= 10000,
                   f"Iterations must be from 1 to 10000, got {self.iterations!r}.")
        _check_choice("Init", self.init, ("content", "noise"))
        _check_seed("Seed", self.seed)
        _check_choice("Optimizer", self.optimizer, ("lbfgs", "adam"))
        _check(bool(self.vgg_weights), "VGG weights must be 'imagenet', 'random' or a file path.")
        _check_choice("Device", self.device, DEVICES)
        _check_choice("Dtype", self.dtype, DTYPES)
        return self


@dataclass(frozen=True)
class ExportRequest(_RequestBase):
    """Export images (project entries or files) for design work."""

    kind: ClassVar[str] = "export"

    sources: tuple[str, ...]
    format: str = "png"
    out_dir: str | None = None  # default: the project's exports/ folder
    long_edge: int | None = None  # resize so the long edge is this many pixels
    quality: int = 92  # JPEG/WebP quality
    strip_metadata: bool = False
    name_template: str = "{date}-{seed}-{prompt:40}"

    def validate(self) -> ExportRequest:
        _check(len(self.sources) >= 1, "Nothing to export: give at least one entry or file.")
        _check_choice("Format", self.format, EXPORT_FORMATS)
        if self.long_edge is not None:
            _check(isinstance(self.long_edge, int) and 16 <= self.long_edge <= 16384,
                   f"Long edge must be from 16 to 16384 pixels, got {self.long_edge!r}.")
        _check(isinstance(self.quality, int) and 1 <= self.quality <= 100,
               f"Quality must be from 1 to 100, got {self.quality!r}.")
        _check(bool(self.name_template.strip()), "The name template is empty.")
        return self


Request = GenerationRequest | StyleRequest


def request_from_dict(data: dict[str, Any]) -> Request:
    """Rebuild a request from its stored JSON form (``{"kind": ..., **fields}``)."""
    kinds: dict[str, type[GenerationRequest] | type[StyleRequest]] = {
        "generate": GenerationRequest, "stylize": StyleRequest,
    }
    kind = data.get("kind", "generate")
    if kind not in kinds:
        raise ValueError(f"Unknown request kind {kind!r}.")
    return kinds[kind].from_dict(data)
