"""Upscalers: Lanczos, or a model file (ESRGAN, Real-ESRGAN, SwinIR … through spandrel) run tile by tile.

A model sees tiles of ``tile`` source pixels overlapping by ``overlap``; each tile's output is weighted
by linear ramps across the overlaps and the rows are turned to 8-bit as soon as no later tile touches
them, so memory follows the tile, not the picture, and a tiled result matches an untiled one. A model
smaller than the enlargement runs again (``core.print_sizes.model_passes``); Lanczos makes the exact
size. Importing this module loads neither torch nor spandrel: the registry's check uses it too.
"""

from __future__ import annotations

import enum
import importlib.util
import sys
import threading
import types
from dataclasses import dataclass
from functools import lru_cache
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any, Callable

from PIL import Image

from t2i_studio.core.engine import CancelToken, EngineError
from t2i_studio.core.image_io import MAX_PIXELS
from t2i_studio.core.print_sizes import estimate_upscale_bytes, model_passes, tile_spans
from t2i_studio.core.requests import LANCZOS, MAX_UPSCALE_SIDE, Upscale, UpscaleRequest
from t2i_studio.core.upscaler_library import EXTENSIONS, resolve_upscaler
from t2i_studio.engines import checkpoints

KNOWN = "ESRGAN, Real-ESRGAN, SwinIR, HAT, DAT, SPAN, OmniSR, …"
_LANCZOS = Image.Resampling.LANCZOS
_PURPOSES = {"Restoration": "restoration", "FaceSR": "face restoration", "Inpainting": "inpainting"}
# What spandrel's registry imports from torchvision, for LaMa and RestoreFormer (no upscalers).
_TORCHVISION_NAMES = ("torchvision", "torchvision.transforms", "torchvision.transforms.functional")
_import_lock = threading.Lock()
_cache_lock = threading.Lock()
_warm: dict[tuple, Loaded] = {}  # the one model kept loaded, by file (path, size, mtime) and device


@dataclass(frozen=True)
class Loaded:
    descriptor: Any  # spandrel's ImageModelDescriptor, on its device
    info: dict[str, Any]  # architecture, scale, ... (describe_upscaler)
    device: Any
    dtype: Any


def _needs_torchvision(*_args: Any, **_kwargs: Any) -> None:
    raise EngineError("This model needs torchvision, which is not installed: it is an inpainting or face "
                      "restoration model, not an upscaler.", hint=f"Choose an upscaler model ({KNOWN}).")


def _torchvision_stand_in() -> dict[str, types.ModuleType]:
    # A spec without a file or version: a library probing for torchvision meanwhile (another thread's
    # import of transformers) finds no installed package rather than an error.
    package, transforms, functional = (importlib.util.module_from_spec(ModuleSpec(name, None))
                                       for name in _TORCHVISION_NAMES)
    modes = enum.Enum("InterpolationMode", "NEAREST BILINEAR BICUBIC")
    functional.InterpolationMode = modes  # type: ignore[attr-defined]
    functional.rotate = functional.normalize = _needs_torchvision  # type: ignore[attr-defined]
    package.transforms, transforms.functional = transforms, functional  # type: ignore[attr-defined]
    return dict(zip(_TORCHVISION_NAMES, (package, transforms, functional)))


def import_spandrel() -> types.ModuleType:
    """spandrel, imported once. Without torchvision (the app needs none, and PyPI's build breaks beside
    a CPU torch) a stand-in answers its two imports only while spandrel loads, then leaves
    ``sys.modules`` again, so no other library takes torchvision for installed."""
    with _import_lock:
        if "spandrel" in sys.modules:
            return sys.modules["spandrel"]
        stand_in = _torchvision_stand_in() if importlib.util.find_spec("torchvision") is None else {}
        sys.modules.update(stand_in)
        try:
            import spandrel
        except ImportError as exc:
            raise EngineError(f"Model upscalers need spandrel and einops, which are not installed ({exc}).",
                              hint="Run `make run` again, or `pip install --no-deps spandrel einops`.") from exc
        except Exception as exc:  # noqa: BLE001 - a torchvision built for another torch fails this way
            raise EngineError(f"spandrel, which runs upscaler models, cannot be imported: {exc}",
                              hint="If torchvision is installed for another torch, uninstall it.") from exc
        finally:
            for name in stand_in:
                sys.modules.pop(name, None)
        return spandrel


# -- which file ------------------------------------------------------------------------------------

def check_upscaler(name: str, allow_unsafe: bool = False) -> Path | None:
    """The model file ``name`` means (None: Lanczos), there and safe to read; pickle files are
    refused unless ``allow_unsafe``."""
    resolved = resolve_upscaler(name)
    if resolved == LANCZOS:
        return None
    path = Path(resolved)
    if path.suffix.lower() not in EXTENSIONS:
        raise EngineError(f"{path.name} is not an upscaler model file.",
                          hint="Give a .safetensors upscaler (or, if you trust its source, a .pth file).")
    checkpoints.check_checkpoint(path, allow_unsafe)
    return path.resolve()


def oriented_size(path: str | Path) -> tuple[int, int]:
    """An image's size as shown (EXIF orientation applied), from its header."""
    with Image.open(path) as image:
        width, height = image.size
        turned = image.getexif().get(0x0112) in (5, 6, 7, 8)
    return (height, width) if turned else (width, height)


def _available_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def check_upscale_to(source_size: tuple[int, int], upscale: Upscale, allow_unsafe: bool = False) -> None:
    """An upscale of a ``source_size`` picture can run here: its upscaler is there and safe, the
    output within MAX_UPSCALE_SIDE, the memory it needs free (no weights are read)."""
    path = check_upscaler(upscale.upscaler, allow_unsafe)
    width, height = target = upscale.target(*source_size)
    if max(target) > MAX_UPSCALE_SIDE:
        raise ValueError(f"An upscale to {width}x{height} is over the limit of {MAX_UPSCALE_SIDE} pixels a "
                         "side: choose a smaller factor, a lower dpi or a smaller paper size.")
    if width * height > MAX_PIXELS:  # the one pixel limit every image the app opens is held to
        raise ValueError(f"An upscale to {width}x{height} ({width * height / 1e6:.0f} megapixels) is more than "
                         f"this app opens ({MAX_PIXELS / 1e6:.0f} megapixels): choose a smaller factor, a lower "
                         "dpi or a smaller paper size.")
    need = estimate_upscale_bytes(source_size, target, model=path is not None, tile=upscale.tile,
                                  overlap=upscale.overlap)
    free = _available_bytes()
    if need > free:
        raise ValueError(f"An upscale to {width}x{height} needs about {need / 1e9:.1f} GB of memory; this "
                         f"computer has {free / 1e9:.1f} GB free: choose a lower dpi or a smaller paper size.")


def check_upscale(request: Any) -> None:
    """The registry's check of an UpscaleRequest."""
    from t2i_studio.engines.registry import readable_image

    assert isinstance(request, UpscaleRequest)
    readable_image(request.source, "Source")
    check_upscale_to(oriented_size(request.source), request.upscale, request.run.allow_unsafe_checkpoint)


# -- loading ---------------------------------------------------------------------------------------

def _read(path: Path, allow_unsafe: bool) -> Any:
    """spandrel's descriptor of the file, on the CPU; EngineError for anything but an upscaler."""
    spandrel = import_spandrel()
    kind = checkpoints.check_checkpoint(path, allow_unsafe)
    try:
        if kind == "safetensors":  # by its bytes, whatever its name
            from safetensors.torch import load_file

            state = spandrel.canonicalize_state_dict(load_file(str(path), device="cpu"))
        else:  # an allowed pickle, through spandrel's restricted unpickler
            state = spandrel.ModelLoader("cpu").load_state_dict_from_file(path)
        descriptor = spandrel.ModelLoader("cpu").load_from_state_dict(state)
    except spandrel.UnsupportedModelError:
        raise EngineError(f"{path.name} is not an upscaler model this app knows ({KNOWN}).",
                          hint="Upscaler files from OpenModelDB or the Real-ESRGAN releases work; "
                               "diffusion checkpoints and LoRAs do not.") from None
    except (RuntimeError, ValueError, KeyError, OSError) as exc:  # shapes that match no known layout
        raise EngineError(f"{path.name} cannot be loaded as an upscaler: {exc}",
                          hint=f"Give an upscaler model file ({KNOWN}).") from exc
    arch = descriptor.architecture.name
    if descriptor.purpose != "SR" or descriptor.scale < 2:
        what = _PURPOSES.get(descriptor.purpose, "1x")
        raise EngineError(f"{path.name} is a {arch} {what} model: it does not enlarge pictures.",
                          hint=f"Choose an upscaler model ({KNOWN}).")
    if descriptor.input_channels not in (1, 3) or descriptor.output_channels != descriptor.input_channels:
        raise EngineError(f"{path.name} takes {descriptor.input_channels}-channel pictures and makes "
                          f"{descriptor.output_channels}-channel ones; only RGB and grayscale upscalers "
                          "work here.")
    return descriptor


def _info(path: Path, descriptor: Any) -> dict[str, Any]:
    return {"name": path.stem, "path": str(path), "architecture": descriptor.architecture.name,
            "scale": int(descriptor.scale), "channels": int(descriptor.input_channels),
            "tags": list(descriptor.tags)}


def _file_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


@lru_cache(maxsize=64)
def _described(key: tuple[str, int, int], allow_unsafe: bool) -> dict[str, Any]:
    path = Path(key[0])
    return _info(path, _read(path, allow_unsafe))


def describe_upscaler(path: str | Path, allow_unsafe: bool = False) -> dict[str, Any]:
    """What an upscaler file is: ``{"name", "path", "architecture", "scale", "channels", "tags"}``
    (it is loaded on the CPU once; EngineError when it is no upscaler)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise EngineError(f"Upscaler file not found: {file}")
    return dict(_described(_file_key(file), allow_unsafe))


def _device(device: Any) -> Any:
    import torch

    from t2i_studio.engines import devices

    if device is None or (isinstance(device, str) and device in ("auto", "cpu", "cuda", "mps")):
        return devices.choose_device(device or "auto")
    return torch.device(device)


def load_upscaler(path: Path, device: Any = None, allow_unsafe: bool = False) -> Loaded:
    """The model in ``path`` on ``device``, kept warm until another one (or release_upscalers)."""
    import torch

    device = _device(device)
    key = (*_file_key(path), str(device))
    with _cache_lock:
        loaded = _warm.get(key)
        if loaded is None:
            _warm.clear()  # one model at a time: the last one stays
            descriptor = _read(path, allow_unsafe)
            half = device.type == "cuda" and descriptor.supports_half
            dtype = torch.float16 if half else torch.float32
            descriptor.to(device).to(dtype).eval()
            loaded = _warm[key] = Loaded(descriptor, _info(path, descriptor), device, dtype)
    return loaded


def release_upscalers() -> None:
    """Drop the warm model (its memory goes back when the caller frees the device)."""
    with _cache_lock:
        _warm.clear()


# -- running ---------------------------------------------------------------------------------------

def _blend_weights(spans: list[tuple[int, int]], scale: int) -> list[Any]:
    """Per tile, its output weight along one side: ramps across the overlaps, normalised so the
    tiles covering any pixel add up to 1."""
    import numpy as np

    weights = []
    for k, (start, end) in enumerate(spans):
        weight = np.ones((end - start) * scale, np.float32)
        if k > 0 and (rise := (spans[k - 1][1] - start) * scale) > 0:
            weight[:rise] = np.minimum(weight[:rise], (np.arange(rise) + 0.5) / rise)
        if k < len(spans) - 1 and (fall := (end - spans[k + 1][0]) * scale) > 0:
            weight[-fall:] = np.minimum(weight[-fall:], (np.arange(fall)[::-1] + 0.5) / fall)
        weights.append(weight)
    total = np.zeros(spans[-1][1] * scale, np.float32)
    for (start, end), weight in zip(spans, weights):
        total[start * scale:end * scale] += weight
    return [weight / total[start * scale:end * scale] for (start, end), weight in zip(spans, weights)]


def _run_tile(loaded: Loaded, pixels: Any) -> Any:
    import torch

    x = torch.from_numpy(pixels.copy()).permute(2, 0, 1).unsqueeze(0).to(loaded.device, loaded.dtype).div_(255)
    out = loaded.descriptor(x)
    return out[0].permute(1, 2, 0).float().cpu().numpy()


_FULL = 255 * 256  # a pixel's full scale in the 16-bit rows being blended: 8 bits more than the result


def _stitch(xs: list[tuple[int, int]], ys: list[tuple[int, int]], scale: int, channels: int,
            tile_at: Callable[[int, int], Any]) -> Image.Image:
    """The picture whose tile (i, j) covers ``xs[i]`` x ``ys[j]`` (times ``scale``): ``tile_at(i, j)``
    gives it as float HWC in 0..1, row by row. The weighted tiles add up in 16-bit fixed point (half
    the memory of float32, exact to a 256th of a level); rows no later tile reaches become 8-bit at once."""
    import numpy as np

    width, height = xs[-1][1] * scale, ys[-1][1] * scale
    wx, wy = _blend_weights(xs, scale), _blend_weights(ys, scale)
    out = np.empty((height, width, channels), np.uint8)  # 3 bytes a pixel; Pillow's copy takes 4 at the end
    rows = np.zeros((0, width, channels), np.uint16)  # blended rows from ``top`` down
    top = 0
    for j, (y0, y1) in enumerate(ys):
        if top + len(rows) < y1 * scale:
            grown = np.zeros((y1 * scale - top, width, channels), np.uint16)
            grown[:len(rows)] = rows
            rows = grown
        for i, (x0, x1) in enumerate(xs):
            piece = tile_at(i, j)
            piece *= (wy[j][:, None] * wx[i][None, :] * _FULL)[..., None]
            piece += 0.5  # the cast below truncates: this rounds
            rows[y0 * scale - top:y1 * scale - top, x0 * scale:x1 * scale] += piece.astype(np.uint16)
            del piece  # not alive through the next tile's run
        done = ys[j + 1][0] * scale if j + 1 < len(ys) else height
        band = rows[:done - top]
        band += 128
        band >>= 8
        out[top:done] = band
        rows, top = rows[done - top:].copy(), done
    del rows
    return Image.fromarray(out[..., 0] if channels == 1 else out, "L" if channels == 1 else "RGB")


def _model_pass(loaded: Loaded, image: Image.Image, tile: int, overlap: int,
                tile_done: Callable[[], None]) -> Image.Image:
    """One run of the model over ``image``, tile by tile, blended; ``tile_done()`` after each."""
    import numpy as np

    pixels = np.asarray(image, dtype=np.uint8)
    pixels = pixels[..., None] if pixels.ndim == 2 else pixels
    xs, ys = tile_spans(image.width, tile, overlap), tile_spans(image.height, tile, overlap)

    def tile_at(i: int, j: int) -> Any:
        out = _run_tile(loaded, pixels[ys[j][0]:ys[j][1], xs[i][0]:xs[i][1]])
        tile_done()
        return out

    return _stitch(xs, ys, loaded.info["scale"], pixels.shape[2], tile_at)


def tile_boxes(size: tuple[int, int], tile: tuple[int, int], overlap: int) -> list[tuple[int, int, int, int]]:
    """Crop boxes (left, top, right, bottom), row by row, of tiles exactly ``tile`` large overlapping
    by at least ``overlap``: the tiles SD upscale redraws (``size`` at least ``tile``)."""
    xs = tile_spans(size[0], tile[0], overlap, exact=True)
    ys = tile_spans(size[1], tile[1], overlap, exact=True)
    return [(x0, y0, x1, y1) for y0, y1 in ys for x0, x1 in xs]


def blend_tiles(tiles: list[Image.Image], boxes: list[tuple[int, int, int, int]],
                size: tuple[int, int]) -> Image.Image:
    """The ``size`` picture made of ``tiles`` at their ``tile_boxes``, blended across the overlaps
    the boxes make."""
    import numpy as np

    xs = sorted({(box[0], box[2]) for box in boxes})
    ys = sorted({(box[1], box[3]) for box in boxes})
    if (xs[-1][1], ys[-1][1]) != tuple(size) or len(tiles) != len(xs) * len(ys):
        raise ValueError(f"{len(tiles)} tiles in {len(xs)}x{len(ys)} boxes do not make a "
                         f"{size[0]}x{size[1]} picture.")

    def tile_at(i: int, j: int) -> Any:
        return np.asarray(tiles[j * len(xs) + i].convert("RGB"), np.float32) / 255

    return _stitch(xs, ys, 1, 3, tile_at)


def _split_alpha(image: Image.Image, channels: int) -> tuple[Image.Image, Image.Image | None]:
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        return rgba.convert("L" if channels == 1 else "RGB"), rgba.getchannel("A")
    return image.convert("L" if channels == 1 else "RGB"), None


def upscale_image(image: Image.Image, upscaler: str, target: tuple[int, int], *, tile: int = 512,
                  overlap: int = 32, device: Any = None, allow_unsafe: bool = False,
                  on_tile: Callable[[int, int], None] | None = None,
                  cancel: CancelToken | None = None) -> Image.Image:
    """``image`` enlarged to exactly ``target`` by ``upscaler`` (``lanczos``, a model file or a
    library name). ``on_tile(done, total)`` after each tile; ``cancel`` is checked before the first
    and after each (``core.engine.Cancelled``)."""
    if not (len(target) == 2 and all(0 < side <= MAX_UPSCALE_SIDE for side in target)):
        raise ValueError(f"An upscale's size must be two sides of 1 to {MAX_UPSCALE_SIDE} pixels, "
                         f"got {target!r}.")
    path = check_upscaler(upscaler, allow_unsafe)
    if path is None:
        if on_tile is not None:
            on_tile(1, 1)
        if image.mode in ("1", "P"):  # Pillow resizes these with nearest neighbour only
            image = image.convert("RGBA" if image.has_transparency_data else "RGB")
        return image.resize(target, _LANCZOS) if image.size != target else image.copy()
    loaded = load_upscaler(path, device, allow_unsafe)
    passes = model_passes(image.size, target, loaded.info["scale"])
    total = sum(len(tile_spans(w, tile, overlap)) * len(tile_spans(h, tile, overlap)) for w, h in passes)
    cancel = cancel or CancelToken()
    done = 0

    def tile_done() -> None:
        nonlocal done
        done += 1
        if on_tile is not None:
            on_tile(done, total)
        cancel.raise_if_cancelled()

    current, alpha = _split_alpha(image, loaded.info["channels"])
    try:
        cancel.raise_if_cancelled()
        for size in passes:
            if current.size != size:
                current = current.resize(size, _LANCZOS)
            current = _model_pass(loaded, current, tile, overlap, tile_done)
    except Exception as exc:
        from t2i_studio.engines import devices

        if not devices.is_out_of_memory(exc):
            raise
        devices.free_memory(loaded.device)
        raise EngineError(f"Out of memory upscaling to {target[0]}x{target[1]} on "
                          f"{devices.device_name(loaded.device)}.",
                          hint="Choose a smaller tile, a lower dpi or a smaller paper size.") from exc
    result = current if current.size == target else current.resize(target, _LANCZOS)
    if alpha is not None:
        result = result.convert("LA" if result.mode == "L" else "RGBA")
        result.putalpha(alpha.resize(target, _LANCZOS))
    return result
