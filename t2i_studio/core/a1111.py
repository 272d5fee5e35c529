"""The AUTOMATIC1111 ``parameters`` text: build it for our images, parse it from anyone's.

Layout (what A1111, Forge, Civitai, ComfyUI importers and most viewers read)::

    the prompt, possibly on
    several lines
    Negative prompt: the negative prompt
    Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 512x768, ...

Values containing ``,`` ``:`` or a newline are JSON-quoted, as A1111 does.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePath
from typing import Any

from t2i_studio import __version__
from t2i_studio.core.lora_syntax import with_tags
from t2i_studio.core.requests import (
    IMAGE_MODES, LANCZOS, LATENT_UPSCALER, MAX_SEED, MAX_SIDE, Control, GenerationRequest, Hires, ImageInputs,
    ModelRef, Reference, Sampling,
)
from t2i_studio.core.sampler_names import map_sampler
from t2i_studio.core.schedulers import NAMES as SCHEDULERS

NEGATIVE_PREFIX = "Negative prompt:"
# A1111's own pattern for one "Key: value" pair (value plain or JSON-quoted).
_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_SIZE = re.compile(r"^\s*(\d+)\s*x\s*(\d+)\s*$")

# Our scheduler names <-> A1111 "Sampler" + "Schedule type".
_SPLIT = {name: (name[: -len(" Karras")], "Karras") if name.endswith(" Karras") else (name, "Automatic")
          for name in SCHEDULERS}


def split_scheduler(name: str) -> tuple[str, str]:
    """``"DPM++ 2M Karras"`` -> ``("DPM++ 2M", "Karras")``; ``"Euler a"`` -> ``("Euler a", "Automatic")``."""
    if name in _SPLIT:
        return _SPLIT[name]
    if name.endswith(" Karras"):
        return name[: -len(" Karras")], "Karras"
    return name, "Automatic"


def quote(value: Any) -> str:
    text = str(value)
    if any(ch in text for ch in ",:\n\r"):
        return json.dumps(text, ensure_ascii=False)
    return text


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def build_parameters(request: GenerationRequest, seed: int, fingerprint: dict[str, Any]) -> str:
    """The A1111 text for one image of ``request`` made with ``seed``."""
    model = fingerprint.get("model") if isinstance(fingerprint.get("model"), dict) else {}
    sampling = request.sampling
    sampler, schedule = split_scheduler(sampling.scheduler)
    pairs: list[tuple[str, Any]] = [
        ("Steps", sampling.steps), ("Sampler", sampler), ("Schedule type", schedule),
        ("CFG scale", _num(sampling.guidance)), ("Seed", seed), ("Size", f"{request.width}x{request.height}"),
    ]
    if model.get("hash"):
        pairs.append(("Model hash", model["hash"]))
    pairs.append(("Model", model.get("name") or request.model.id))
    vae = fingerprint.get("vae") if isinstance(fingerprint.get("vae"), dict) else {}
    if vae.get("hash"):
        pairs.append(("VAE hash", vae["hash"]))
    if request.model.vae:  # A1111 names a VAE by its file name
        pairs.append(("VAE", vae.get("name") or PurePath(request.model.vae).name))
    if sampling.variation_seed is not None and sampling.variation_strength > 0:
        pairs += [("Variation seed", sampling.variation_seed),
                  ("Variation seed strength", _num(sampling.variation_strength))]
    pairs += _edit_pairs(request)
    if sampling.clip_skip > 1:
        pairs.append(("Clip skip", sampling.clip_skip))
    loras = [lo for lo in fingerprint.get("loras") or [] if isinstance(lo, dict) and lo.get("hash")]
    if loras:  # A1111's key, which Civitai and others read to name the LoRAs used
        pairs.append(("Lora hashes", _named_hashes(loras)))
    embeddings = [e for e in fingerprint.get("embeddings") or [] if isinstance(e, dict) and e.get("hash")]
    if embeddings:
        pairs.append(("TI hashes", _named_hashes(embeddings)))
    pairs.append(("Version", f"t2i-studio {__version__}"))
    lines = [with_tags(request.prompt, request.model.adapters)]  # LoRAs given without a tag get one
    if request.negative_prompt:
        lines.append(f"{NEGATIVE_PREFIX} {request.negative_prompt}")
    lines.append(", ".join(f"{key}: {quote(value)}" for key, value in pairs))
    return "\n".join(lines)


def _named_hashes(entries: list[dict[str, Any]]) -> str:
    """``name: hash, name2: hash2``; A1111 drops the separators from the names."""
    return ", ".join(f"{re.sub('[:,]', '', str(e.get('name')))}: {e['hash']}" for e in entries)


_MASKED_CONTENT = {"original": "original", "fill": "fill", "latent_noise": "latent noise"}


def upscaler_label(upscaler: str) -> str:
    """How A1111 names an upscaler: "Latent", "Lanczos", or the model's file name without suffix."""
    if upscaler in (LATENT_UPSCALER, LANCZOS):
        return upscaler.capitalize()
    return PurePath(upscaler).stem


def _edit_pairs(request: GenerationRequest) -> list[tuple[str, Any]]:
    """A1111's keys for image inputs, hires fix and SD upscale (its script's own key names)."""
    images, mode = request.images, request.mode
    pairs: list[tuple[str, Any]] = []
    if mode in IMAGE_MODES:
        pairs.append(("Denoising strength", _num(images.strength)))
    if mode == "inpaint":
        pairs += [("Mask blur", images.mask_blur), ("Masked content", _MASKED_CONTENT[images.masked_content])]
        if images.inpaint_area == "masked":
            pairs += [("Inpaint area", "Only masked"), ("Masked area padding", images.padding)]
    if mode == "outpaint":
        pairs += [("Outpaint", "left {}, right {}, top {}, bottom {}".format(*images.outpaint)),
                  ("Outpaint fill", images.outpaint_fill)]
    for k, control in enumerate(images.controls):  # the key layout of A1111's ControlNet extension
        pairs.append((f"ControlNet {k}", f"Module: {control.preprocessor}, Model: {PurePath(control.model).name}, "
                      f"Weight: {_num(control.weight)}, {_thresholds(control)}Guidance Start: {_num(control.start)}, "
                      f"Guidance End: {_num(control.end)}"))
    pairs += _reference_pairs(images.references, len(images.controls))
    hires = request.hires
    if hires is not None:
        pairs.append(("Denoising strength", _num(hires.strength)))
        pairs.append(("Hires resize", f"{hires.width}x{hires.height}") if hires.width
                     else ("Hires upscale", _num(hires.scale)))
        if hires.steps:
            pairs.append(("Hires steps", hires.steps))
        pairs.append(("Hires upscaler", upscaler_label(hires.upscaler)))
    if mode == "sd_upscale" and request.upscale is not None:
        up = request.upscale
        pairs += [("SD upscale overlap", up.overlap), ("SD upscale upscaler", upscaler_label(up.upscaler))]
        pairs.append(("SD upscale size", f"{up.width}x{up.height}") if up.width
                     else ("SD upscale factor", _num(up.scale)))
    return pairs


def _thresholds(control: Control) -> str:
    """The extension's "Threshold A/B" (canny's low and high), said when they are not the defaults."""
    if control.preprocessor != "canny" or (control.canny_low, control.canny_high) == (Control.canny_low,
                                                                                    Control.canny_high):
        return ""
    return f"Threshold A: {control.canny_low}, Threshold B: {control.canny_high}, "


# our IP-Adapter modes by the names of the extension's (and ComfyUI IPAdapter Plus's) weight types
_WEIGHT_TYPES = {"style": "style transfer", "composition": "composition"}


def _reference_pairs(references: tuple[Reference, ...], first: int) -> list[tuple[str, str]]:
    """IP-Adapters as A1111's ControlNet extension records them, as units numbered after the
    ControlNets, with the keys it reads back; a style or composition mode in a key of its own."""
    pairs = []
    for k, reference in enumerate(references, start=first):
        pairs.append((f"ControlNet {k}", f"Module: ip-adapter-auto, Model: {PurePath(reference.model).stem}, "
                      f"Weight: {_num(reference.scale)}, Guidance Start: 0, Guidance End: 1"))
        if reference.mode in _WEIGHT_TYPES:
            pairs.append((f"ControlNet {k} weight type", _WEIGHT_TYPES[reference.mode]))
    return pairs


def hires_from_params(params: dict[str, str]) -> Hires | None:
    """A1111's hires keys back into a Hires part (None: no second pass, or one we cannot read)."""
    if "Hires upscale" not in params and "Hires resize" not in params:
        return None
    label = str(params.get("Hires upscaler", "Latent")).strip()
    upscaler = LATENT_UPSCALER if label.lower().startswith("latent") else \
        LANCZOS if label.lower() == "lanczos" else label
    match = _SIZE.match(str(params.get("Hires resize", "")))
    width, height = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    return Hires(scale=min(max(_float(params.get("Hires upscale"), 2.0), 1.0), 4.0), width=width, height=height,
                 upscaler=upscaler, steps=min(max(_int(params.get("Hires steps"), 0) or 0, 0), 500),
                 strength=min(max(_float(params.get("Denoising strength"), 0.5), 0.0), 1.0))


def parse_parameters(text: str) -> dict[str, Any]:
    """Split an A1111 text into ``{"prompt", "negative_prompt", "params": {key: value}}``."""
    lines = text.rstrip("\n").split("\n")
    params: dict[str, str] = {}
    if lines:
        last = lines[-1]
        found = _PARAM.findall(last)
        if len(found) >= 3 or (found and last.lstrip().startswith("Steps:")):
            lines = lines[:-1]
            for key, value in found:
                value = value.strip()
                if value.startswith('"') and value.endswith('"') and len(value) >= 2:
                    try:
                        value = json.loads(value)
                    except ValueError:
                        value = value[1:-1]
                params[key.strip()] = value
    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    target = prompt_lines
    for line in lines:
        if target is prompt_lines and line.startswith(NEGATIVE_PREFIX):
            target = negative_lines
            line = line[len(NEGATIVE_PREFIX):].lstrip(" ")
        target.append(line)
    return {"prompt": "\n".join(prompt_lines), "negative_prompt": "\n".join(negative_lines),
            "params": params}


def _int(value: Any, default: int | None = None) -> int | None:
    text = str(value).strip()
    try:
        return int(text)  # exact: a 20-digit seed must not pass through a float
    except ValueError:
        pass
    try:
        return int(float(text))
    except (OverflowError, ValueError):
        return default


def _float(value: Any, default: float) -> float:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return default


def fit_side(value: int | None, default: int = 512) -> int:
    """A side length valid for GenerationRequest: a multiple of 8 from 64 to MAX_SIDE."""
    if value is None or value <= 0:
        return default
    return max(64, min(MAX_SIDE, int(round(value / 8)) * 8))


def fields_to_request(prompt: str, negative: str, *, steps: Any = None, sampler: Any = None,
                      schedule: Any = None, cfg: Any = None, seed: Any = None, width: Any = None,
                      height: Any = None, model: Any = None, denoise: Any = None,
                      variation_seed: Any = None, variation_strength: Any = None, clip_skip: Any = None,
                      notes: list[str] | None = None) -> GenerationRequest:
    """A GenerationRequest from loosely typed fields of any app, clamped to what we accept; what
    could not be kept (a sampler we do not have) is said in ``notes``."""
    base = Sampling()
    seed_value = _int(seed)
    steps_value = _int(steps)
    var_seed = _int(variation_seed)
    var_strength = min(max(_float(variation_strength, 0.0), 0.0), 1.0) if var_seed is not None else 0.0
    match = map_sampler(str(sampler) if sampler else None, str(schedule) if schedule else None)
    if match.note and notes is not None:
        notes.append(match.note)
    sampling = Sampling(
        seed=seed_value % (MAX_SEED + 1) if seed_value is not None else 0,
        steps=min(max(steps_value, 1), 500) if steps_value is not None else base.steps,
        guidance=min(max(_float(cfg, base.guidance), 0.0), 50.0),
        scheduler=match.name or base.scheduler,
        variation_seed=var_seed % (MAX_SEED + 1) if var_seed is not None else None,
        variation_strength=var_strength,
        clip_skip=min(max(_int(clip_skip, 1) or 1, 1), 12),
    )
    # the strength is kept for "use as init"; without an init image the mode stays txt2img
    images = ImageInputs(strength=min(max(_float(denoise, ImageInputs.strength), 0.0), 1.0))
    return GenerationRequest(prompt=str(prompt or ""), negative_prompt=str(negative or ""),
                             width=fit_side(_int(width)), height=fit_side(_int(height)),
                             model=ModelRef(str(model or "")), sampling=sampling, images=images)


# How tools spell each key (lower case, letters only) -> the field it fills.
_KEY_SPELLINGS = {
    "steps": "steps", "numinferencesteps": "steps", "samplingsteps": "steps",
    "sampler": "sampler", "samplername": "sampler", "samplingmethod": "sampler",
    "scheduletype": "schedule", "scheduler": "schedule",
    "cfgscale": "cfg", "cfg": "cfg", "guidancescale": "cfg", "guidance": "cfg",
    "seed": "seed", "noiseseed": "seed", "size": "size", "width": "width", "height": "height",
    "model": "model", "modelname": "model", "checkpoint": "model",
    "denoisingstrength": "denoise", "strength": "denoise",
    "variationseed": "variation_seed", "variationseedstrength": "variation_strength",
    "clipskip": "clip_skip",
}
# Keys A1111 writes for a second pass we do not make: read, kept in the data, not reproduced.
_SECOND_PASS = ("Refiner",)


def known_fields(params: dict[str, str]) -> dict[str, str]:
    """The fields a parameter line fills, whatever the key's case or wording (``CFG Scale``,
    ``num_inference_steps``); the first spelling met wins."""
    out: dict[str, str] = {}
    for key, value in params.items():
        field = _KEY_SPELLINGS.get(re.sub(r"[^a-z]", "", key.lower()))
        if field and field not in out:
            out[field] = value
    return out


def parameters_to_request(text: str, notes: list[str] | None = None
                          ) -> tuple[GenerationRequest, int | None, dict[str, Any]]:
    """Parse A1111 text into (request, seed, parsed fields); see ``fields_to_request`` for ``notes``."""
    parsed = parse_parameters(text)
    f = known_fields(parsed["params"])
    width, height = f.get("width"), f.get("height")
    match = _SIZE.match(str(f.get("size", "")))
    if match:
        width, height = int(match.group(1)), int(match.group(2))
    request = fields_to_request(
        parsed["prompt"], parsed["negative_prompt"], steps=f.get("steps"), sampler=f.get("sampler"),
        schedule=f.get("schedule"), cfg=f.get("cfg"), seed=f.get("seed"), width=width, height=height,
        model=f.get("model"), denoise=f.get("denoise"), variation_seed=f.get("variation_seed"),
        variation_strength=f.get("variation_strength"), clip_skip=f.get("clip_skip"), notes=notes)
    vae = str(parsed["params"].get("VAE", "")).strip()
    if vae and vae not in ("None", "Automatic"):  # a file name: found in the VAE folder on reuse
        request = request.replace(model=request.model.replace(vae=vae))
    hires = hires_from_params(parsed["params"])
    if hires is not None:
        try:
            hires.validate(request.width, request.height)
            request = request.replace(hires=hires, images=ImageInputs())
        except ValueError as exc:
            if notes is not None:
                notes.append(f"The hires fix settings were not kept: {exc}")
    second = [k for k in _SECOND_PASS if k in parsed["params"]]
    if second and notes is not None:
        notes.append(f"Made with a second pass ({', '.join(second)}); reusing these settings makes the first.")
    return request, _int(f.get("seed")) if "seed" in f else None, parsed
