"""IP-Adapters for the diffusers engine: reference pictures (``ImageInputs.references``) read by a
CLIP image encoder steer the picture through diffusers' ``load_ip_adapter`` layers, one adapter per
reference so each has its own scale and mode. They stay loaded while requests name the same ones
and are unloaded (``unload_ip_adapter``) when they stop; the checks read only headers and configs.

The modes are InstantStyle's, as diffusers' ``set_ip_adapter_scale`` takes them per block: "style"
acts only in the first up block with attention layers, "composition" only in the last down block
with them; in SDXL only in that block's middle layer (``up_blocks.0.attentions.1``,
``down_blocks.2.attentions.1``), in SD 1.x/2.x in the whole block (``up_blocks.1``,
``down_blocks.2``, as InstantStyle's SD 1.5 script). The blocks are found in the loaded UNet, so a
UNet of another depth gets its own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from t2i_studio.core.engine import EngineError
from t2i_studio.core.image_io import load_image
from t2i_studio.core.project_errors import ImageReadError
from t2i_studio.core.requests import GenerationRequest, Reference
from t2i_studio.engines import checkpoints, devices

HUB_FILE = re.compile(r"^([A-Za-z0-9][\w.\-]*/[\w.\-]+)/(.+\.(?:safetensors|bin))$")  # owner/repo/path
FAMILIES = ("sd", "sdxl")  # diffusers' IPAdapterMixin pipelines (SD3 and FLUX take other adapters)
_WIDTHS = {768: "SD 1.x", 1024: "SD 2.x", 2048: "SDXL"}  # an adapter's cross-attention width: its family
_LAYOUT = ("h94/IP-Adapter keeps SD 1.5's adapters in models/ with their encoder in models/image_encoder, "
           "SDXL's in sdxl_models/")


@dataclass(frozen=True)
class AdapterFiles:
    weights: Path  # image_proj.* and ip_adapter.* tensors
    encoder: Path  # a CLIPVisionModelWithProjection folder


def locate(reference: Reference, allow_unsafe: bool = False, download: bool = False) -> AdapterFiles | None:
    """The files of ``reference``'s IP-Adapter; a hub file is fetched when ``download``, else taken
    from the cache (None: not cached, the run downloads it). ``EngineError`` when they are not there."""
    path = Path(reference.model).expanduser()
    hub = HUB_FILE.match(reference.model) if not reference.model.startswith((".", "/", "~")) else None
    if path.is_dir():
        weights = _weights_in(path)
    elif path.is_file():
        weights = path
    elif hub:
        found = _from_hub(hub.group(1), hub.group(2), not reference.encoder, download)
        if found is None:
            return None
        weights = found
    else:
        raise EngineError(f"IP-Adapter not found: {reference.model}",
                          hint="Give its .safetensors file, the folder holding it, or a hub file such as "
                               "h94/IP-Adapter/models/ip-adapter_sd15.safetensors.")
    checkpoints.check_checkpoint(weights, allow_unsafe)
    encoder = Path(reference.encoder).expanduser() if reference.encoder else weights.parent / "image_encoder"
    if not (encoder / "config.json").is_file():
        if hub and not download and not reference.encoder:
            return None  # the run downloads the repo's encoder with the adapter
        where = f"at {encoder}" if reference.encoder else f"beside it ({encoder})"
        raise EngineError(f"The IP-Adapter {weights.name} needs its CLIP image encoder, and there is none {where}.",
                          hint="Put the encoder's folder (config.json and weights) there as image_encoder/, or "
                               f"name it with --ip-encoder DIR (in the panel: Image encoder). {_LAYOUT}.")
    return AdapterFiles(weights.resolve(), encoder.resolve())


def _weights_in(folder: Path) -> Path:
    files = sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin") and p.is_file())
    for candidates in ([p for p in files if p.suffix == ".safetensors"], files):  # safetensors first
        if len(candidates) == 1:
            return candidates[0]
    if not files:
        raise EngineError(f"{folder} holds no IP-Adapter weights (.safetensors or .bin).",
                          hint="Give the adapter's file, or the folder that holds it.")
    raise EngineError(f"{folder} holds several weight files ({', '.join(p.name for p in files)}).",
                      hint="Give the IP-Adapter's file itself.")


def _from_hub(repo: str, name: str, with_encoder: bool, download: bool) -> Path | None:
    from huggingface_hub import hf_hub_download, snapshot_download, try_to_load_from_cache

    if not download:
        found = try_to_load_from_cache(repo, name)
        return Path(found) if isinstance(found, str) else None
    try:
        path = Path(hf_hub_download(repo, name))
        if with_encoder:  # the repo's encoder beside the adapter, as diffusers' load_ip_adapter looks for it
            snapshot_download(repo, allow_patterns=[f"{PurePosixPath(name).parent / 'image_encoder'}/*"])
    except Exception as exc:  # noqa: BLE001 - offline, missing file, auth: all the user's to act on
        raise EngineError(f"Cannot get the IP-Adapter {repo}/{name} from the Hugging Face hub "
                          f"({type(exc).__name__}).", hint="Check the file's path in the repository and your "
                          "network, or download the file and give its path.", details=str(exc)) from exc
    return path


# --- checks (headers and configs only) ---------------------------------------------------------

def check_references(request: GenerationRequest, family: str | None) -> None:
    """Each reference picture can be read; each IP-Adapter is there with its image encoder, fits it
    and is made for the model's family; the references share one encoder (a pipeline has one)."""
    from t2i_studio.engines.registry import readable_image

    references = request.images.references
    if not references:
        return
    if family not in (None, "unknown", *FAMILIES):
        raise ValueError("IP-Adapter reference pictures work with SD 1.x/2.x and SDXL models here: remove them, "
                         "or choose such a model.")
    if request.run.attention_slicing:  # its processors would take the place of IP-Adapter's
        raise ValueError("Attention slicing cannot be combined with IP-Adapter reference pictures: turn it off "
                         "(Advanced settings), or remove the references.")
    widths = _model_widths(request, family)
    encoders = set()
    for reference in references:
        readable_image(reference.image, "Reference")
        files = locate(reference, request.run.allow_unsafe_checkpoint)
        if files is None:
            continue
        encoders.add(files.encoder)
        shapes = _shapes(files.weights)
        if shapes is None:  # a pickle: nothing to read before loading it
            continue
        name = files.weights.name
        if not any(k.startswith("image_proj.") for k in shapes) or "ip_adapter.1.to_k_ip.weight" not in shapes:
            raise ValueError(f"{name} is not an IP-Adapter (it has no image_proj and ip_adapter weights).")
        width = shapes["ip_adapter.1.to_k_ip.weight"][1]
        if widths and width not in widths:
            raise ValueError(f"{name} is an IP-Adapter for {_kind({width})} models, and the chosen model is "
                             f"{_kind(widths)}: choose an IP-Adapter made for it ({_LAYOUT}).")
        _check_encoder(name, shapes, files.encoder)
    if len(encoders) > 1:
        raise ValueError(f"The reference pictures' IP-Adapters use different image encoders "
                         f"({', '.join(str(e) for e in sorted(encoders))}), and a model takes one: use "
                         "IP-Adapters made for the same encoder.")


def _shapes(weights: Path) -> dict[str, list[int]] | None:
    if checkpoints.sniff(weights) != "safetensors":
        return None
    header = checkpoints.safetensors_header(weights)
    return {k: v["shape"] for k, v in header.items() if isinstance(v, dict) and "shape" in v}


def _check_encoder(name: str, shapes: dict[str, list[int]], encoder: Path) -> None:
    """A plain IP-Adapter takes the encoder's projected embedding, a "plus" one its hidden states."""
    try:
        config = json.loads((encoder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ValueError(f"{encoder} is not an image encoder folder (no readable config.json).") from None
    for key, field in (("image_proj.proj.weight", "projection_dim"), ("image_proj.proj_in.weight", "hidden_size")):
        if key in shapes and config.get(field) != shapes[key][1]:
            raise ValueError(f"The image encoder {encoder} gives {config.get(field)}-wide features, and the "
                             f"IP-Adapter {name} takes {shapes[key][1]}: use the encoder it was made with "
                             f"({_LAYOUT}).")


def _model_widths(request: GenerationRequest, family: str | None) -> set[int]:
    """The cross-attention widths the model may have: its UNet's, else its family's."""
    from t2i_studio.engines.registry import local_model

    _source, local = local_model(request)
    try:
        config = json.loads((local / "unet" / "config.json").read_text(encoding="utf-8")) if local else {}
    except (OSError, ValueError):
        config = {}
    if isinstance(config.get("cross_attention_dim"), int):
        return {config["cross_attention_dim"]}
    return {"sd": {768, 1024}, "sdxl": {2048}}.get(family or "", set())


def _kind(widths: set[int]) -> str:
    names = [_WIDTHS.get(w) for w in sorted(widths)]
    if all(names):
        return "/".join(str(n) for n in names)
    return f"{'/'.join(str(w) for w in sorted(widths))}-wide cross-attention"


# --- on a loaded pipeline -----------------------------------------------------------------------

def layer_scales(unet: Any, family: str | None, reference: Reference) -> float | dict[str, Any]:
    """``set_ip_adapter_scale``'s form of ``reference``'s mode and scale (see the module's docstring)."""
    if reference.mode == "full":
        return reference.scale
    side = "up" if reference.mode == "style" else "down"
    blocks = [(i, b) for i, b in enumerate(getattr(unet, f"{side}_blocks")) if hasattr(b, "attentions")]
    index, block = blocks[0] if reference.mode == "style" else blocks[-1]
    if family != "sdxl":
        return {side: {f"block_{index}": reference.scale}}
    layers = len(block.attentions)
    return {side: {f"block_{index}": [reference.scale if k == layers // 2 else 0.0 for k in range(layers)]}}


class ReferenceSet:
    """The IP-Adapters in one loaded pipeline and every pipeline made from it (they share its UNet;
    each is handed the image encoder), and the current request's pictures."""

    def __init__(self) -> None:
        self._key: tuple[tuple[str, str | None], ...] = ()
        self.images: list[Any] = []  # the reference pictures, one per adapter
        self.fingerprint: list[dict[str, Any]] = []

    def drop_unused(self, pipes: dict[str, Any], references: tuple[Reference, ...]) -> None:
        """Unload adapters the request does not name (before attention slicing swaps the layers)."""
        if self._key and self._key != _key(references):
            _unload(pipes)
            self.forget()

    def apply(self, pipes: dict[str, Any], request: GenerationRequest, offload: Any = None) -> None:
        """Load the request's adapters (unless in already) and set their scales; ``offload``: the
        device of a CPU-offloaded pipeline, whose hooks must take the encoder too."""
        references = request.images.references
        self.images = [_picture(r.image) for r in references]
        if not references:
            return
        main = pipes["txt2img"]
        if _key(references) != self._key:
            allow = request.run.allow_unsafe_checkpoint
            found = [locate(r, allow, download=True) for r in references]  # downloading: found, or it raised
            main.register_modules(image_encoder=_encoder(found[0].encoder, main, allow))
            try:
                main.load_ip_adapter([str(f.weights.parent) for f in found], subfolder=[""] * len(found),
                                     weight_name=[f.weights.name for f in found], image_encoder_folder=None)
            except Exception as exc:  # weights that do not fit this UNet: nothing half-loaded stays
                _unload(pipes)
                if devices.is_out_of_memory(exc):
                    raise
                raise EngineError(f"Could not load the IP-Adapter {found[0].weights.name}: "
                                  f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                                  hint="Use an IP-Adapter made for this model.", details=repr(exc)) from exc
            for pipe in pipes.values():
                pipe.register_modules(image_encoder=main.image_encoder, feature_extractor=main.feature_extractor)
            if offload is not None:
                main.enable_model_cpu_offload(device=offload)
            self._key = _key(references)
            self.fingerprint = [{"name": f.weights.stem, "hash": checkpoints.model_hash(f.weights),
                                 "encoder": str(f.encoder)} for f in found]
        family = checkpoints.family_from_class(type(main).__name__)
        main.set_ip_adapter_scale([layer_scales(main.unet, family, r) for r in references])

    def forget(self) -> None:
        self._key, self.images, self.fingerprint = (), [], []


def _key(references: tuple[Reference, ...]) -> tuple[tuple[str, str | None], ...]:
    return tuple((r.model, r.encoder) for r in references)


def _unload(pipes: dict[str, Any]) -> None:
    """The UNet's own attention layers back, and no image encoder in any pipeline."""
    pipes["txt2img"].unload_ip_adapter()
    for pipe in pipes.values():
        pipe.register_modules(image_encoder=None)


def _encoder(folder: Path, like: Any, allow_unsafe: bool) -> Any:
    from transformers import CLIPVisionModelWithProjection

    try:
        encoder = CLIPVisionModelWithProjection.from_pretrained(
            str(folder), dtype=like.dtype, local_files_only=True, use_safetensors=None if allow_unsafe else True)
    except (OSError, ValueError) as exc:
        raise EngineError(f"Could not load the image encoder {folder}: {str(exc).splitlines()[0]}",
                          hint="Use the encoder folder the IP-Adapter came with (config.json and "
                               "model.safetensors).", details=repr(exc)) from exc
    return encoder.to(like.device)


def _picture(path: str) -> Any:
    try:
        return load_image(path).convert("RGB")
    except ImageReadError as exc:
        raise EngineError(f"The reference picture cannot be read: {exc.user_message()}") from exc
