"""Requests: frozen dataclasses, made of parts, that hold everything that determines a result.

A generation request names its ``mode`` and its ``engine`` and is made of parts that each own one
idea: the model (and its adapters), sampling, image inputs, and run options (how to run it
locally: device, precision, memory switches; they do not change the picture). ``validate()``
raises ``ValueError`` saying what was wrong and what to do. ``to_dict``/``request_from_dict`` give
the nested JSON stored in every image (schema 2); schema-1 flat requests still read
(``core.request_migration``).
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from t2i_studio.core import schedulers
from t2i_studio.core.request_migration import upgrade
from t2i_studio.core.serial import from_data, to_data

MODES = ("txt2img", "img2img", "inpaint", "outpaint", "sd_upscale")
IMAGE_MODES = MODES[1:]  # the modes that start from an init image
INPAINT_AREAS = ("whole", "masked")  # A1111's "Inpaint area": whole picture, or only masked
MASKED_CONTENT = ("original", "fill", "latent_noise")  # what the masked area starts from
OUTPAINT_FILLS = ("edge", "noise")  # how the new canvas is pre-filled
ALPHA_MASK = "alpha"  # ImageInputs.mask: the init image's transparent pixels are the mask
CONTROL_PREPROCESSORS = ("canny", "lineart", "scribble", "none")  # core.control_maps makes them
CONTROL_MODES = ("txt2img", "img2img", "inpaint")  # the modes ControlNets steer
REFERENCE_MODES = ("full", "style", "composition")  # what of an IP-Adapter reference picture steers
MAX_REFERENCE_SCALE = 2.0  # as A1111's ControlNet weights (an IP-Adapter is one of its units there)
LATENT_UPSCALER, LANCZOS = "latent", "lanczos"  # built-in upscalers; anything else is a model file
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "fp32", "fp16", "bf16")
QUALITY_PRESETS = ("draft", "normal", "high")
TEMPLATE_MODES = ("random", "combinatorial")  # a dynamic prompt: a draw per image's seed, or every combination
ADAPTER_KINDS = ("lora", "embedding")  # an embedding: a textual inversion, used by name in the prompts
MAX_SEED = 2**64 - 1  # ComfyUI's range; an engine that takes fewer says so (EngineEntry.max_seed)
RANDOM_SEED_MAX = 2**32 - 1  # seeds we draw fit every engine and every other tool
MAX_SIDE = 4096
# Every prompt is stored several times in an image (parameters, our JSON, XMP); capped so each copy
# stays well inside what Pillow and other tools read from one text chunk (1 MiB inflated).
MAX_PROMPT_CHARS = 100_000
DEFAULT_ENGINE = "diffusers"
STYLE_ENGINE = "style"
UPSCALE_ENGINE = "upscale"
MAX_UPSCALE_SIDE = 16384  # an upscale's output; what memory allows is the engine's check

T = TypeVar("T", bound="_Part")


def random_seed() -> int:
    return random.randint(0, RANDOM_SEED_MAX)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _check_int(name: str, value: Any, low: int, high: int, unit: str = "") -> None:
    _check(isinstance(value, int) and not isinstance(value, bool) and low <= value <= high,
           f"{name} must be a whole number from {low} to {high}{unit}, got {value!r}.")


def _check_unit(name: str, value: Any) -> None:
    _check(isinstance(value, (int, float)) and 0.0 <= value <= 1.0,
           f"{name} must be between 0 and 1, got {value!r}.")


def _check_text(name: str, text: str) -> None:
    # Bytes that are not UTF-8 (a shell's argv, a file in another encoding) arrive as lone surrogates,
    # which no image metadata can hold.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} has bytes that are not valid UTF-8 text; retype it, or save the file "
                         "it came from as UTF-8.") from None


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    _check(value in choices, f"{name} must be one of {', '.join(choices)}; got {value!r}.")


class _Part:
    def replace(self: T, **changes: Any) -> T:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


@dataclass(frozen=True)
class Adapter(_Part):
    """Extra weights on top of the model (a LoRA), by file or hub id, at a strength."""

    source: str
    kind: str = "lora"
    weight: float = 1.0

    def validate(self) -> None:
        _check(bool(self.source.strip()), "An adapter needs a file or Hugging Face id.")
        _check_choice("Adapter kind", self.kind, ADAPTER_KINDS)
        _check(isinstance(self.weight, (int, float)) and -4.0 <= self.weight <= 4.0,
               f"The weight of {self.source} must be from -4 to 4, got {self.weight!r}.")


@dataclass(frozen=True)
class ModelRef(_Part):
    """Which model: a Hugging Face id, a diffusers folder or a single .safetensors file."""

    id: str = ""
    revision: str | None = None  # hub branch, tag or commit
    config: str | None = None  # diffusers config folder for a single-file checkpoint
    adapters: tuple[Adapter, ...] = ()
    vae: str | None = None  # a VAE (file or diffusers folder) in place of the model's own

    def validate(self) -> None:
        _check(bool(self.id.strip()),
               "No model chosen: pass a Hugging Face id, a diffusers folder or a .safetensors file.")
        for adapter in self.adapters:
            adapter.validate()


@dataclass(frozen=True)
class Sampling(_Part):
    """How noise becomes the picture. Image k of a job uses ``seed + k``."""

    steps: int = 20
    guidance: float = 7.0
    scheduler: str = schedulers.DEFAULT
    seed: int = 0
    batch_size: int = 1  # images made together in one run
    batch_count: int = 1  # runs one after another
    variation_seed: int | None = None
    variation_strength: float = 0.0
    clip_skip: int = 1  # A1111's "Clip skip": 2 encodes the prompt with the text encoder's last layer left out

    @property
    def image_count(self) -> int:
        return self.batch_size * self.batch_count

    def seeds(self) -> list[int]:
        return [(self.seed + k) % (MAX_SEED + 1) for k in range(self.image_count)]

    def validate(self) -> None:
        _check_int("Seed", self.seed, 0, MAX_SEED)
        _check_int("Steps", self.steps, 1, 500)
        _check(isinstance(self.guidance, (int, float)) and 0.0 <= self.guidance <= 50.0,
               f"Guidance (CFG) must be from 0 to 50, got {self.guidance!r}.")
        _check_choice("Scheduler", self.scheduler, schedulers.NAMES)
        _check_int("Batch size", self.batch_size, 1, 16)
        _check_int("Batch count", self.batch_count, 1, 100)
        _check_unit("Variation strength", self.variation_strength)
        if self.variation_strength > 0:
            _check(self.variation_seed is not None, "Variation strength needs a variation seed.")
        if self.variation_seed is not None:
            _check_int("Variation seed", self.variation_seed, 0, MAX_SEED)
        _check_int("Clip skip", self.clip_skip, 1, 12)


@dataclass(frozen=True)
class Control(_Part):
    """A ControlNet input: its picture, made into a control map by ``preprocessor`` (canny with its
    two thresholds), steering the denoising from ``start`` to ``end`` (fractions of the steps) at
    ``weight``."""

    image: str
    model: str  # the ControlNet: a diffusers folder, a .safetensors file or a Hugging Face id
    preprocessor: str = "none"
    weight: float = 1.0
    start: float = 0.0
    end: float = 1.0
    canny_low: int = 100  # canny: weaker edges are dropped unless they touch a strong one
    canny_high: int = 200  # canny: edges this strong are always kept

    def validate(self) -> None:
        _check(bool(self.image), "A control input needs a picture: choose one, or draw one on the sketch pad.")
        _check(bool(self.model.strip()), f"Choose a ControlNet model for the control picture {self.image}.")
        _check_choice("Control preprocessor", self.preprocessor, CONTROL_PREPROCESSORS)
        _check(isinstance(self.weight, (int, float)) and 0.0 <= self.weight <= 2.0,
               f"A ControlNet weight must be from 0 to 2, got {self.weight!r}.")
        _check_unit("ControlNet start", self.start)
        _check_unit("ControlNet end", self.end)
        _check(self.start < self.end, f"A ControlNet's start ({self.start}) must come before its end ({self.end}).")
        _check_int("Canny low threshold", self.canny_low, 0, 255)
        _check_int("Canny high threshold", self.canny_high, 0, 255)
        _check(self.canny_low <= self.canny_high, f"The Canny low threshold ({self.canny_low}) must not be above "
               f"the high one ({self.canny_high}).")


@dataclass(frozen=True)
class Reference(_Part):
    """An IP-Adapter reference picture steering the result at ``scale``: all it shows ("full"), or
    only its style or its composition (the layers InstantStyle found carry them). ``model`` is the
    IP-Adapter: its weights file, a folder holding it, or a hub file ``owner/repo/path.safetensors``;
    ``encoder`` its CLIP image encoder folder (None: the ``image_encoder/`` folder beside it)."""

    image: str
    model: str
    scale: float = 0.6
    mode: str = "full"
    encoder: str | None = None

    def validate(self) -> None:
        _check(bool(self.image), "A reference needs a picture: choose one.")
        _check(bool(self.model.strip()), f"Choose an IP-Adapter model for the reference picture {self.image}.")
        _check(isinstance(self.scale, (int, float)) and 0.0 <= self.scale <= MAX_REFERENCE_SCALE,
               f"An IP-Adapter scale must be from 0 to {MAX_REFERENCE_SCALE:g}, got {self.scale!r}.")
        _check_choice("IP-Adapter mode", self.mode, REFERENCE_MODES)


@dataclass(frozen=True)
class ImageInputs(_Part):
    """Pictures the result starts from: the init image, and for inpainting its mask (white:
    regenerate) with A1111's options; for outpainting the pixels added on each side."""

    init_image: str | None = None
    strength: float = 0.75  # denoising strength: 0 keeps the init image, 1 ignores it
    mask: str | None = None  # a mask file, or ALPHA_MASK
    mask_blur: int = 4  # feather of the mask's edge, pixels
    inpaint_area: str = "whole"
    padding: int = 32  # "only masked": pixels of context around the mask
    masked_content: str = "original"
    outpaint: tuple[int, int, int, int] = (0, 0, 0, 0)  # left, right, top, bottom, pixels
    outpaint_fill: str = "edge"
    controls: tuple[Control, ...] = ()  # ControlNets, several at once
    references: tuple[Reference, ...] = ()  # IP-Adapter reference pictures, several at once

    def validate(self) -> None:
        _check_unit("Denoising strength", self.strength)
        _check_int("Mask blur", self.mask_blur, 0, 256, " pixels")
        _check_choice("Inpaint area", self.inpaint_area, INPAINT_AREAS)
        _check_int("Only-masked padding", self.padding, 0, 1024, " pixels")
        _check_choice("Masked content", self.masked_content, MASKED_CONTENT)
        _check(len(self.outpaint) == 4, f"Outpaint takes four sides (left, right, top, bottom), got {self.outpaint!r}.")
        for side, value in zip(("left", "right", "top", "bottom"), self.outpaint):
            _check_int(f"Outpaint {side}", value, 0, MAX_SIDE, " pixels")
        _check_choice("Outpaint fill", self.outpaint_fill, OUTPAINT_FILLS)
        for control in self.controls:
            control.validate()
        for reference in self.references:
            reference.validate()


@dataclass(frozen=True)
class Hires(_Part):
    """A1111's hires fix: the picture made at the request's size, upscaled, then refined by a
    second image-to-image pass at the target size."""

    scale: float = 2.0
    width: int = 0  # target size ("Hires resize"); 0: the base size times ``scale``
    height: int = 0
    upscaler: str = LATENT_UPSCALER  # LATENT_UPSCALER, LANCZOS or an upscaler model file
    steps: int = 0  # second-pass steps; 0: as many as the first pass
    strength: float = 0.5

    def target(self, width: int, height: int) -> tuple[int, int]:
        if self.width and self.height:
            return self.width, self.height
        return (int(round(width * self.scale / 8)) * 8, int(round(height * self.scale / 8)) * 8)

    def validate(self, width: int, height: int) -> None:
        _check(isinstance(self.scale, (int, float)) and 1.0 <= self.scale <= 4.0,
               f"Hires scale must be from 1 to 4, got {self.scale!r}.")
        _check((self.width == 0) == (self.height == 0),
               "Give the hires size as both width and height, or neither (then the scale is used).")
        target = self.target(width, height)
        for name, side in zip(("width", "height"), target):
            _check_int(f"Hires {name}", side, 64, MAX_SIDE, " pixels")
            _check(side % 8 == 0, f"Hires {name} must be a multiple of 8, got {side}.")
        _check(target != (width, height), "Hires fix would not change the size: raise its scale, or turn it off.")
        _check(bool(str(self.upscaler).strip()), "Choose a hires upscaler: latent, lanczos or an upscaler model.")
        _check_int("Hires steps", self.steps, 0, 500)
        _check_unit("Hires denoising strength", self.strength)


@dataclass(frozen=True)
class Upscale(_Part):
    """Enlarge a picture: by ``scale``, or to ``width`` x ``height`` (a print size in pixels),
    with Lanczos or a model upscaler run tile by tile. ``dpi`` is written into the file."""

    scale: float = 2.0
    width: int = 0  # 0: the source's size times ``scale``
    height: int = 0
    upscaler: str = LANCZOS  # LANCZOS or an upscaler model file
    tile: int = 512  # a model upscaler's tile, source pixels; 0: the whole image at once
    overlap: int = 32
    dpi: int | None = None

    def target(self, width: int, height: int) -> tuple[int, int]:
        if self.width and self.height:
            return self.width, self.height
        return max(1, int(round(width * self.scale))), max(1, int(round(height * self.scale)))

    def validate(self) -> None:
        _check(isinstance(self.scale, (int, float)) and 1.0 <= self.scale <= 8.0,
               f"Upscale factor must be from 1 to 8, got {self.scale!r}.")
        _check((self.width == 0) == (self.height == 0),
               "Give the upscale size as both width and height, or neither (then the factor is used).")
        if self.width:
            _check_int("Upscale width", self.width, 1, MAX_UPSCALE_SIDE, " pixels")
            _check_int("Upscale height", self.height, 1, MAX_UPSCALE_SIDE, " pixels")
        _check(bool(str(self.upscaler).strip()) and self.upscaler != LATENT_UPSCALER,
               "Choose an upscaler: lanczos or an upscaler model file.")
        _check(self.tile == 0 or (isinstance(self.tile, int) and 64 <= self.tile <= 4096),
               f"Upscale tile must be 0 (whole image) or from 64 to 4096 pixels, got {self.tile!r}.")
        _check_int("Tile overlap", self.overlap, 0, max(self.tile // 4, 0), " pixels")
        if self.dpi is not None:
            _check_int("DPI", self.dpi, 1, 4800)


@dataclass(frozen=True)
class RunOptions(_Part):
    """How to run a request locally; none of it changes what the picture shows."""

    device: str = "auto"
    dtype: str = "auto"
    cpu_offload: bool = False
    vae_tiling: bool = False
    attention_slicing: bool = False
    allow_unsafe_checkpoint: bool = False  # pickle checkpoints can run code when loaded
    preview_every: int = 2  # steps between live previews; 0: none

    def validate(self) -> None:
        _check_choice("Device", self.device, DEVICES)
        _check_choice("Dtype", self.dtype, DTYPES)
        _check_int("Preview every", self.preview_every, 0, 10_000, " steps")


class _Request(_Part):
    kind: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **to_data(self)}

    def validate(self) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class GenerationRequest(_Request):
    """A text-to-image request, or image-to-image (``mode="img2img"``) from ``images.init_image``."""

    kind: ClassVar[str] = "generate"

    prompt: str
    negative_prompt: str = ""
    template: str = ""  # the dynamic prompt (wildcards) ``prompt`` was drawn from; "": typed as it is
    template_mode: str = "random"  # how a prompt with dynamic syntax is drawn (core.wildcards)
    mode: str = "txt2img"
    width: int = 512
    height: int = 512
    model: ModelRef = field(default_factory=ModelRef)
    sampling: Sampling = field(default_factory=Sampling)
    images: ImageInputs = field(default_factory=ImageInputs)
    hires: Hires | None = None  # txt2img only
    upscale: Upscale | None = None  # sd_upscale only: the enlargement the tiles refine
    run: RunOptions = field(default_factory=RunOptions)
    engine: str = DEFAULT_ENGINE

    @property
    def image_count(self) -> int:
        return self.sampling.image_count

    @property
    def output_size(self) -> tuple[int, int] | None:
        """The result's size when the request alone says it (None: it follows the init image)."""
        if self.mode not in ("txt2img", "img2img"):
            return None
        return self.hires.target(self.width, self.height) if self.hires else (self.width, self.height)

    def validate(self) -> GenerationRequest:
        _check(bool(self.prompt.strip()), "The prompt is empty: describe the image you want.")
        for name, text in (("prompt", self.prompt), ("negative prompt", self.negative_prompt)):
            _check(len(text) <= MAX_PROMPT_CHARS, f"The {name} is {len(text):,} characters long; "
                   f"shorten it to at most {MAX_PROMPT_CHARS:,} so the image's metadata stays readable.")
            _check_text(f"The {name}", text)
        _check_choice("Mode", self.mode, MODES)
        _check_choice("Wildcards mode", self.template_mode, TEMPLATE_MODES)
        self.model.validate()
        for name, side in (("Width", self.width), ("Height", self.height)):
            _check_int(name, side, 64, MAX_SIDE, " pixels")
            _check(side % 8 == 0,
                   f"{name} must be a multiple of 8, got {side}; try {side - side % 8} or {side - side % 8 + 8}.")
        self.sampling.validate()
        self.images.validate()
        self._validate_mode()
        self.run.validate()
        _check(bool(self.engine), "No engine named: use 'diffusers'.")
        return self

    def _validate_mode(self) -> None:
        images, mode = self.images, self.mode
        if mode in IMAGE_MODES:
            _check(bool(images.init_image), f"{_MODE_NAMES[mode]} needs an init image: drop or choose one.")
        else:
            _check(not images.init_image,
                   "An init image is set but the mode is text-to-image: use img2img, or clear it.")
        if mode == "inpaint":
            _check(bool(images.mask), "Inpainting needs a mask: paint one over the image, or choose a mask file.")
        else:
            _check(not images.mask, f"A mask is set but the mode is {_MODE_NAMES[mode].lower()}: use inpaint, "
                   "or clear the mask.")
        if images.controls:
            _check(mode in CONTROL_MODES, f"ControlNets steer text-to-image, image-to-image and inpainting, not "
                   f"{_MODE_NAMES[mode].lower()}: remove the control inputs, or change the mode.")
        if mode == "outpaint":
            _check(sum(images.outpaint) > 0, "Outpainting adds nothing: give pixels to add on at least one side.")
        if self.hires is not None:
            _check(mode == "txt2img", "Hires fix is a second pass of text-to-image: turn it off for "
                   f"{_MODE_NAMES[mode].lower()}.")
            self.hires.validate(self.width, self.height)
        _check((self.upscale is not None) == (mode == "sd_upscale"),
               "SD upscale needs its upscale settings (factor or size, upscaler), and only it takes them.")
        if self.upscale is not None:
            self.upscale.validate()


@dataclass(frozen=True)
class StyleRequest(_Request):
    """A neural style transfer (Gatys) of ``content`` towards one or more ``styles``."""

    kind: ClassVar[str] = "stylize"
    mode: ClassVar[str] = "stylize"

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
    content_entry_id: int | None = None  # project entry of the content image, for lineage
    run: RunOptions = field(default_factory=lambda: RunOptions(preview_every=5))
    engine: str = STYLE_ENGINE

    @property
    def image_count(self) -> int:
        return 1

    def validate(self) -> StyleRequest:
        _check(bool(self.content), "No content image given.")
        _check(len(self.styles) >= 1, "Give at least one style image.")
        if self.style_weights:
            _check(len(self.style_weights) == len(self.styles),
                   f"Give one style weight per style image: {len(self.styles)} styles, "
                   f"{len(self.style_weights)} weights.")
            _check(all(isinstance(w, (int, float)) and math.isfinite(w) and w >= 0 for w in self.style_weights)
                   and sum(self.style_weights) > 0,
                   f"Style weights must be finite numbers, zero or more, and not all zero; got {self.style_weights!r}.")
        _check_unit("Style strength", self.style_strength)
        _check_unit("Content fidelity", self.content_fidelity)
        _check_unit("Smoothness", self.smoothness)
        _check(0.1 <= self.style_scale <= 4.0, f"Style scale must be from 0.1 to 4, got {self.style_scale!r}.")
        _check_int("Output size (long edge)", self.size, 32, MAX_SIDE, " pixels")
        _check_choice("Quality", self.quality, QUALITY_PRESETS)
        if self.iterations is not None:
            _check_int("Iterations", self.iterations, 1, 10000)
        _check_choice("Init", self.init, ("content", "noise"))
        _check_int("Seed", self.seed, 0, MAX_SEED)
        _check_choice("Optimizer", self.optimizer, ("lbfgs", "adam"))
        _check(bool(self.vgg_weights), "VGG weights must be 'imagenet', 'random' or a file path.")
        self.run.validate()
        return self


_MODE_NAMES = {"txt2img": "Text-to-image", "img2img": "Image-to-image", "inpaint": "Inpainting",
               "outpaint": "Outpainting", "sd_upscale": "SD upscale"}


@dataclass(frozen=True)
class UpscaleRequest(_Request):
    """Enlarge one picture (a gallery image or a file), with no model of the picture's own."""

    kind: ClassVar[str] = "upscale"
    mode: ClassVar[str] = "upscale"

    source: str
    upscale: Upscale = field(default_factory=Upscale)
    source_entry_id: int | None = None  # project entry of the source, for lineage
    run: RunOptions = field(default_factory=RunOptions)
    engine: str = UPSCALE_ENGINE

    @property
    def image_count(self) -> int:
        return 1

    def validate(self) -> UpscaleRequest:
        _check(bool(self.source), "No image to upscale given.")
        self.upscale.validate()
        self.run.validate()
        return self


Request = GenerationRequest | StyleRequest | UpscaleRequest
_KINDS: dict[str, type[GenerationRequest] | type[StyleRequest] | type[UpscaleRequest]] = {
    "generate": GenerationRequest, "stylize": StyleRequest, "upscale": UpscaleRequest,
}


def request_from_dict(data: dict[str, Any]) -> Request:
    """Rebuild a request from its stored JSON form (``{"kind": ..., **fields}``), any schema."""
    if not isinstance(data, dict):
        raise ValueError(f"A stored request must be an object, got {type(data).__name__}.")
    kind = data.get("kind", "generate")
    if kind not in _KINDS:
        raise ValueError(f"Unknown request kind {kind!r}.")
    try:
        return from_data(_KINDS[kind], upgrade(kind, data))
    except TypeError as exc:  # a required field missing
        raise ValueError(f"The stored {kind} request is incomplete: {exc}") from exc
